"""Uploads under a full disk and under SIGKILL (issue 17 point 5), with the real ``adbot pool import``.

* RLIMIT_FSIZE (Python ignores SIGXFSZ, so a write past the limit fails with EFBIG) makes every session
  file too big to write: each file gets the disk-full reason, the batch goes on, the exit status is the
  CLI's "some files were rejected" (1), and nothing is left behind.
* The acceptance test: 100 mixed files (good sessions, truncated ones, wrong schemas, duplicates, zips,
  sidecars, junk) imported by a real process that is SIGKILLed at random moments (seeded:
  ``ADBOT_UPLOAD_SEED``; more kills with ``ADBOT_UPLOAD_KILLS``), each kill followed by the start-up
  cleanup (``adbot pool reconcile``) and an audit: every pool file has a row and every row its file, the
  staging folder is empty, no file the process could write outside ``sessions/`` holds an auth key, every
  pool key is a good file's key.
  A final run without a kill leaves exactly the good files' keys in the pool.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.texts import cli as cli_texts
from core.texts import intake as texts
from pool.staging import STAGING
from sandbox.sessionfiles import make_session_bytes, make_sidecar, new_auth_key

REPO = Path(__file__).resolve().parents[1]
CLI = "import sys; from control_bot.cli import main; sys.exit(main(sys.argv[1:]))"
SEED = 1717
FSIZE_LIMIT = 20_000  # below a session file (28,672 bytes), above anything else the import writes


def _install(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A config whose every path is under ``tmp_path/run``; the environment with a private TMPDIR."""
    run = tmp_path / "run"
    (tmp_path / "tmp").mkdir()
    run.mkdir()
    config = run / "config.toml"
    config.write_text(
        '[bot]\ntoken = "123:abc"\nadmins = [1]\n\n'
        '[paths]\ndata_dir = "data"\nsessions_dir = "sessions"\nlogs_dir = "logs"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path / "tmp")}
    return config, env


def _cli(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", CLI, *args, "--config", str(config)]


def _truncated(rng: random.Random, key: bytes) -> bytes:
    data = make_session_bytes(rng.randint(1, 5), key)
    cut = rng.randrange(100, len(data))
    return data[: cut + 1 if cut % 4096 == 0 else cut]


def _wrong_schema(key: bytes) -> bytes:
    conn = sqlite3.connect(":memory:")
    conn.execute("create table sessions (dc_id integer primary key, auth_key blob)")
    conn.execute("insert into sessions values (2, ?)", (key,))
    conn.commit()
    data = conn.serialize()
    conn.close()
    return data


@dataclass
class Inputs:
    paths: list[Path] = field(default_factory=list)
    good: set[bytes] = field(default_factory=set)  # keys that must end up in the pool
    bad: set[bytes] = field(default_factory=set)  # keys that must never be stored


def _make_inputs(folder: Path, rng: random.Random) -> Inputs:
    """100 files: 55 good sessions, 10 duplicates of them, 10 truncated, 10 wrong schemas, 5 zips (3 good
    sessions and 1 truncated each), 5 sidecars of good sessions, 5 unsupported files."""
    folder.mkdir()
    out = Inputs()

    def put(name: str, data: bytes) -> None:
        path = folder / name
        path.write_bytes(data)
        out.paths.append(path)

    goods: list[bytes] = []
    for i in range(55):
        key = new_auth_key()
        out.good.add(key)
        goods.append(make_session_bytes(rng.randint(1, 5), key))
        put(f"g{i:02d}.session", goods[-1])
    for i in range(10):
        put(f"d{i:02d}.session", goods[rng.randrange(len(goods))])
    for i in range(10):
        key = new_auth_key()
        out.bad.add(key)
        put(f"t{i:02d}.session", _truncated(rng, key))
    for i in range(10):
        key = new_auth_key()
        out.bad.add(key)
        put(f"w{i:02d}.session", _wrong_schema(key))
    for i in range(5):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for j in range(3):
                key = new_auth_key()
                out.good.add(key)
                zf.writestr(f"z{i}_{j}.session", make_session_bytes(rng.randint(1, 5), key))
            key = new_auth_key()
            out.bad.add(key)
            zf.writestr(f"z{i}_t.session", _truncated(rng, key))
        put(f"z{i}.zip", buf.getvalue())
    for i in range(5):
        put(f"g{i:02d}.json", json.dumps(make_sidecar(api_id=3001 + i)).encode())
    for i in range(5):
        put(f"notes{i}.txt", b"not a session")
    assert len(out.paths) == 100
    rng.shuffle(out.paths)
    return out


def _rows(db_path: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(db_path)
    try:
        return {(r[0], r[1]) for r in conn.execute("SELECT folder, file_name FROM sessions")}
    finally:
        conn.close()


def _files(root: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    found = []
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if Path(dirpath, d) not in skip]
        found += [Path(dirpath, n) for n in names]
    return found


@dataclass
class Audit:
    pool_keys: set[bytes]
    tmp_leaks: list[str]  # files under TMPDIR holding an auth key


def _audit(tmp_path: Path, inputs: Inputs) -> Audit:
    """The invariants that hold after every kill and its start-up cleanup (see the module doc)."""
    sessions = tmp_path / "run" / "sessions"
    keys = inputs.good | inputs.bad
    assert not os.listdir(sessions / STAGING), "the staging folder is not empty"
    on_disk = {(p.parent.relative_to(sessions).as_posix(), p.name) for p in _files(sessions)}
    assert on_disk == _rows(tmp_path / "run" / "data" / "adbot.sqlite3"), "pool files and rows differ"
    pool_keys: set[bytes] = set()
    for folder, name in on_disk:
        data = (sessions / folder / name).read_bytes()
        held = {k for k in keys if k in data}
        assert len(held) == 1 and held <= inputs.good, f"{folder}/{name} holds no good key"
        pool_keys |= held
    tmp = tmp_path / "tmp"
    leaks: list[str] = []
    for path in _files(tmp_path, skip=(tmp_path / "inputs", sessions)):
        data = path.read_bytes()
        if any(k in data for k in keys):
            assert path.is_relative_to(tmp), f"an auth key outside sessions/: {path}"
            leaks.append(path.relative_to(tmp_path).as_posix())
    return Audit(pool_keys, leaks)


_SETTLED = re.compile(r"interrupted uploads: (\d+) completed .*?, (\d+) removed")


def _reconcile(config: Path, env: dict[str, str], cwd: Path) -> tuple[int, int]:
    """The start-up cleanup; returns (completed, removed) interrupted uploads."""
    done = subprocess.run(_cli(config, "pool", "reconcile"), env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    match = _SETTLED.search(done.stdout)
    return (int(match[1]), int(match[2])) if match else (0, 0)


@pytest.mark.process
def test_kill_9_during_100_uploads(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("ADBOT_UPLOAD_SEED", SEED)))
    config, env = _install(tmp_path)
    cwd = config.parent
    inputs = _make_inputs(tmp_path / "inputs", rng)
    command = _cli(config, "pool", "import", *map(str, inputs.paths))
    unused = cwd / "sessions" / "unused"
    kills = int(os.environ.get("ADBOT_UPLOAD_KILLS", "5"))
    mid_run = completed = removed = 0
    leaks: set[str] = set()
    for _ in range(kills):
        before = len(os.listdir(unused)) if unused.is_dir() else 0
        # Killed once 1-12 more files reached the pool (or the import ended short of that), or, once every
        # good file is in (nothing more can reach the pool), at a random moment. The files reaching the
        # pool are the event waited for, not a time: on a loaded machine the interpreter alone can take
        # longer to start than any deadline, and a kill before the import began would test nothing.
        target = min(before + rng.randint(1, 12), len(inputs.good))
        pause = rng.uniform(0.2, 1.5)
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            if before < len(inputs.good):
                while proc.poll() is None and (not unused.is_dir() or len(os.listdir(unused)) < target):
                    time.sleep(0.002)
            else:
                time.sleep(pause)
            time.sleep(rng.uniform(0, 0.015))  # anywhere in the next file's validate, stage, link, COMMIT
            mid_run += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            _out, err = proc.communicate(timeout=60)
        assert proc.returncode in (-signal.SIGKILL, 1), err.decode()
        settled = _reconcile(config, env, cwd)  # the restart's cleanup
        completed += settled[0]
        removed += settled[1]
        audit = _audit(tmp_path, inputs)
        leaks |= set(audit.tmp_leaks)
    final = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert final.returncode == 1, final.stderr  # the bad files are rejected
    assert "Traceback" not in final.stderr
    assert _reconcile(config, env, cwd) == (0, 0)
    audit = _audit(tmp_path, inputs)
    leaks |= set(audit.tmp_leaks)
    print(f"upload kills: {kills} SIGKILLs ({mid_run} during the import), {len(inputs.paths)} files,"
          f" {len(inputs.good)} good keys; leftovers settled: {completed} completed, {removed} removed;"
          f" pool {len(audit.pool_keys)} keys; files with a key under TMPDIR: {len(leaks)}")
    assert mid_run >= 1
    assert audit.pool_keys == inputs.good
    left = os.listdir(tmp_path / "tmp")  # anything at all, a key or not
    assert not leaks, f"auth keys under TMPDIR: {sorted(leaks)}"
    assert not left, f"left under TMPDIR: {left}"


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


@pytest.mark.process
def test_file_size_limit_during_import_is_disk_full_per_file(tmp_path: Path) -> None:
    config, env = _install(tmp_path)
    cwd = config.parent
    files = [tmp_path / "a.session", tmp_path / "b.session", tmp_path / "c.session"]
    files[0].write_bytes(make_session_bytes(2))
    files[1].write_bytes(make_session_bytes(4))
    files[2].write_bytes(make_session_bytes(2)[:5000])  # truncated: refused for that, whatever the disk
    first = tmp_path / "first.session"
    first.write_bytes(make_session_bytes(1))
    run = subprocess.run(_cli(config, "pool", "import", str(first)), env=env, cwd=cwd, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    db_path = cwd / "data" / "adbot.sqlite3"
    # SQLite's shared-memory index (-shm) takes 32 KiB, more than the limit allows a process to create:
    # a reader holding the database open keeps it there, as the running bot does.
    holder = sqlite3.connect(db_path)
    try:
        holder.execute("SELECT COUNT(*) FROM sessions").fetchall()
        done = subprocess.run(_cli(config, "pool", "import", *map(str, files)), env=env, cwd=cwd,
                              capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size)
    finally:
        holder.close()
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert cli_texts.import_rejected("a.session", texts.DISK_FULL()) in lines
    assert cli_texts.import_rejected("b.session", texts.DISK_FULL()) in lines
    assert any(line.startswith(cli_texts.import_rejected("c.session", "truncated")) for line in lines)
    assert cli_texts.import_summary(0, 3) in lines
    sessions = cwd / "sessions"
    assert len(_rows(db_path)) == 1
    assert [p.name for p in _files(sessions)] == [p.name for p in _files(sessions / "unused")]
    assert len(os.listdir(sessions / "unused")) == 1
    assert not os.listdir(tmp_path / "tmp")
    # Space again: the same files go in.
    again = subprocess.run(_cli(config, "pool", "import", *map(str, files[:2])), env=env, cwd=cwd,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(_rows(db_path)) == 3
