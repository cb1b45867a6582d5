"""Backups (issue 20 part B): made while cycles run they restore to a consistent database (integrity ok,
totals equal to the ledger they sit beside) with the same session files; made at rest they restore the
same rows and files exactly. A restore refuses a non-empty data dir or sessions folder and an archive
whose hashes, names or database do not hold, and writes nothing then. 0600 / 0700 everywhere."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import sqlite3
import stat
import tarfile
from pathlib import Path

import pytest

from control_bot.backup.archive import (
    DB_MEMBER,
    MANIFEST,
    BackupRefused,
    archive_name,
    check_backup,
    create_backup,
    restore_backup,
)
from control_bot.backup.daily import DAILY_PREFIX, daily_backups, prune_backups
from control_bot.cli import main
from core.private_files import write_private_file
from storage.db import Database
from storage.instance_lock import hold_instance_lock
from tests.engine_support import CID, fast_config, make_setup, running
from tests.pool_support import NOW

GROUPS = tuple(f"@group_{i:02d}" for i in range(20))


def dump(path: Path) -> list[str]:
    """Every row of every table (and the schema) of a SQLite file, as SQL text."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def tree(folder: Path) -> dict[str, str]:
    """Relative path -> content digest of each file under ``folder`` (SQLite files by their rows)."""
    found = {}
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(dirpath) / name
            if name.endswith(("-journal", "-wal", "-shm")) or name == "adbot.lock":
                continue
            if path.read_bytes()[:16] == b"SQLite format 3\x00":
                digest = hashlib.sha256("\n".join(dump(path)).encode()).hexdigest()
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[path.relative_to(folder).as_posix()] = digest
    return found


def modes(folder: Path) -> set[tuple[str, int]]:
    """(kind, mode) of everything under ``folder``, itself included."""
    found = {("dir", stat.S_IMODE(folder.stat().st_mode))}
    for dirpath, dirs, names in os.walk(folder):
        found |= {("dir", stat.S_IMODE((Path(dirpath) / d).stat().st_mode)) for d in dirs}
        found |= {("file", stat.S_IMODE((Path(dirpath) / n).stat().st_mode)) for n in names}
    return found


def consistent(db_file: Path) -> tuple[int, int]:
    """The restored database's integrity, and its totals against the ledger rows beside them (written in
    one transaction: a copy of one instant agrees). Returns (sent rows, cycles finished)."""
    conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        sent, failed = conn.execute(
            "SELECT COALESCE(SUM(outcome = 'sent'), 0), COALESCE(SUM(outcome = 'failed'), 0) FROM sends"
        ).fetchone()
        totals = conn.execute(
            "SELECT total_success, total_failures FROM stats WHERE customer_id = ?", (CID,)
        ).fetchone()
        assert (totals or (0, 0)) == (sent, failed)
        per_group = dict(conn.execute(
            "SELECT group_ref, SUM(outcome = 'sent') FROM sends WHERE outcome IN ('sent', 'failed') GROUP BY group_ref"
        ).fetchall())
        assert per_group == dict(conn.execute("SELECT group_ref, success FROM group_stats").fetchall())
        [[cycle_no, finished]] = conn.execute(
            "SELECT cycle_no, cycle_finished_at IS NOT NULL FROM customers"
        ).fetchall()
        return int(sent), max(0, int(cycle_no) - (0 if finished else 1))
    finally:
        conn.close()


def keep_media(data_dir: Path, content: bytes) -> str:
    name = hashlib.sha256(content).hexdigest()
    (data_dir / "media").mkdir(mode=0o700, exist_ok=True)
    write_private_file(data_dir / "media" / name, content)
    return name


async def test_backups_while_cycles_run_restore_consistent_and_at_rest_exactly(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS)
    data_dir = db.path.parent
    keep_media(data_dir, b"\x89PNG own post photo" * 1000)
    engine = s.engine(fast_config(send_spacing=2.0, spacing_jitter=0.0))
    await running(s, engine)  # assigns the sessions: their files move to assigned/<customer>/
    out = tmp_path / "backups"
    made: list[Path] = []
    cycles_done = asyncio.Event()

    async def keep_backing_up() -> None:
        while not cycles_done.is_set() or len(made) < 2:
            dest = out / f"run-{len(made)}.tar.gz"
            await asyncio.to_thread(create_backup, data_dir, s.sessions_dir, dest)
            made.append(dest)

    backing_up = asyncio.create_task(keep_backing_up())
    for cycle_no in range(1, 6):
        s.clock.set(NOW + 300 * (cycle_no - 1))
        assert (await engine.run_cycle(CID)).sent == len(GROUPS)
    cycles_done.set()
    await backing_up
    await engine.shutdown()
    assert len(made) >= 2
    for i, archive in enumerate(made):
        target = tmp_path / f"restored-{i}"
        manifest = restore_backup(archive, target / "data", target / "sessions")
        sent, cycles = consistent(target / "data" / "adbot.sqlite3")
        assert sent >= cycles * len(GROUPS)  # whole cycles, and whatever of the next one had committed
        assert manifest.sessions == 3 and manifest.media == 1
        # the same session files (a file moved meanwhile is found again by name)
        assert sorted(Path(p).name for p in tree(target / "sessions")) == sorted(
            Path(p).name for p in tree(s.sessions_dir)
        )
    # at rest: the same rows, the same files, exactly
    final = out / "at-rest.tar.gz"
    create_backup(data_dir, s.sessions_dir, final)
    target = tmp_path / "restored-final"
    restore_backup(final, target / "data", target / "sessions")
    assert dump(target / "data" / "adbot.sqlite3") == dump(db.path)
    assert tree(target / "sessions") == tree(s.sessions_dir)
    assert tree(target / "data") == tree(data_dir)
    assert consistent(target / "data" / "adbot.sqlite3") == (5 * len(GROUPS), 5)
    assert modes(target / "data") | modes(target / "sessions") == {("dir", 0o700), ("file", 0o600)}
    assert stat.S_IMODE(final.stat().st_mode) == 0o600 and stat.S_IMODE(out.stat().st_mode) == 0o700
    # and the restored data dir opens as adbot's database
    restored = await Database.open(target / "data" / "adbot.sqlite3")
    await restored.close()
    assert s.world.violations == []


async def make_backup(db: Database, tmp_path: Path) -> tuple[Path, Path]:
    """A small backup of the test's data dir and one session file; (archive, sessions folder)."""
    sessions = tmp_path / "sessions"
    (sessions / "unused").mkdir(parents=True)
    write_private_file(sessions / "unused" / "s1.session", b"not sqlite, kept as bytes")
    keep_media(db.path.parent, b"media bytes")
    archive = tmp_path / "b.tar.gz"
    create_backup(db.path.parent, sessions, archive)
    return archive, sessions


def rewrite(archive: Path, dest: Path, change: dict[str, bytes | None], extra: dict[str, bytes] | None = None) -> None:
    """A copy of ``archive`` with members replaced (``None``: left out) and ``extra`` ones added."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(dest, "w:gz") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name in change:
                if change[member.name] is None:
                    continue
                data = change[member.name]  # type: ignore[assignment]
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def manifest_of(archive: Path) -> dict[str, object]:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr, no-any-return]


def refused_and_untouched(archive: Path, target: Path, words: str) -> None:
    with pytest.raises(BackupRefused) as caught:
        restore_backup(archive, target / "data", target / "sessions")
    assert words in caught.value.user_message
    assert not any(p.is_file() for p in target.rglob("*")), "a refused restore wrote something"


async def test_restore_refuses_a_non_empty_data_dir_or_sessions_folder(db: Database, tmp_path: Path) -> None:
    archive, _ = await make_backup(db, tmp_path)
    target = tmp_path / "t"
    (target / "data").mkdir(parents=True)
    (target / "data" / "old.sqlite3").write_bytes(b"something")
    with pytest.raises(BackupRefused, match="is not empty"):
        restore_backup(archive, target / "data", target / "sessions")
    assert [p.name for p in (target / "data").iterdir()] == ["old.sqlite3"]
    other = tmp_path / "u"
    (other / "sessions" / "unused").mkdir(parents=True)
    (other / "sessions" / "unused" / "x.session").write_bytes(b"a session")
    with pytest.raises(BackupRefused, match="is not empty"):
        restore_backup(archive, other / "data", other / "sessions")
    assert not (other / "data").exists()
    # empty folders, the repository's README and a stale lock file hold nothing: restored
    fine = tmp_path / "v"
    (fine / "sessions" / "unused").mkdir(parents=True)
    (fine / "sessions" / "README.md").write_text("sessions live here\n", encoding="utf-8")
    (fine / "data").mkdir()
    (fine / "data" / "adbot.lock").write_text("123\n", encoding="utf-8")
    manifest = restore_backup(archive, fine / "data", fine / "sessions")
    assert manifest.sessions == 1
    assert (fine / "sessions" / "unused" / "s1.session").read_bytes().startswith(b"not sqlite")


async def test_restore_refuses_a_damaged_archive_and_writes_nothing(db: Database, tmp_path: Path) -> None:
    archive, _ = await make_backup(db, tmp_path)
    assert check_backup(archive).sessions == 1
    bad = tmp_path / "bad.tar.gz"
    # a file whose bytes changed: its sha256 no longer matches
    rewrite(archive, bad, {"sessions/unused/s1.session": b"not sqlite, kept as bytez"})
    refused_and_untouched(bad, tmp_path / "t1", "does not match its sha256")
    # a file left out, a file the manifest does not list, a name no backup holds
    rewrite(archive, bad, {"sessions/unused/s1.session": None})
    refused_and_untouched(bad, tmp_path / "t2", "disagree")
    rewrite(archive, bad, {}, {"sessions/unused/s2.session": b"smuggled"})
    refused_and_untouched(bad, tmp_path / "t3", "disagree")
    rewrite(archive, bad, {}, {"sessions/../../escape": b"x"})
    refused_and_untouched(bad, tmp_path / "t4", "which no adbot backup holds")
    assert not (tmp_path / "escape").exists()
    # no manifest; a truncated archive; not an archive at all
    rewrite(archive, bad, {MANIFEST: None})
    refused_and_untouched(bad, tmp_path / "t5", "no manifest")
    bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused_and_untouched(bad, tmp_path / "t6", "could not be unpacked")
    bad.write_bytes(b"hello")
    refused_and_untouched(bad, tmp_path / "t7", "could not be unpacked")
    # a damaged database whose manifest was made to agree: the integrity check refuses it
    with tarfile.open(archive, "r:gz") as tar:
        db_bytes = bytearray(tar.extractfile(DB_MEMBER).read())  # type: ignore[union-attr]
    page = 4096
    db_bytes[page * 2 : page * 2 + 200] = b"\xff" * 200  # a b-tree page's header and cells
    manifest = manifest_of(archive)
    for entry in manifest["files"]:  # type: ignore[attr-defined]
        if entry["name"] == DB_MEMBER:
            entry["sha256"] = hashlib.sha256(bytes(db_bytes)).hexdigest()
    rewrite(archive, bad, {DB_MEMBER: bytes(db_bytes), MANIFEST: json.dumps(manifest).encode()})
    refused_and_untouched(bad, tmp_path / "t8", "damaged")
    # a schema newer than this adbot's
    manifest = manifest_of(archive)
    manifest["schema_version"] = 10_000
    rewrite(archive, bad, {MANIFEST: json.dumps(manifest).encode()})
    refused_and_untouched(bad, tmp_path / "t9", "schema version")


async def test_backup_refuses_to_overwrite_and_leaves_no_partial_file(db: Database, tmp_path: Path) -> None:
    archive, sessions = await make_backup(db, tmp_path)
    size = archive.stat().st_size
    with pytest.raises(BackupRefused, match="exists already"):
        create_backup(db.path.parent, sessions, archive)
    assert archive.stat().st_size == size
    with pytest.raises(BackupRefused, match="no database"):
        create_backup(tmp_path / "nowhere", sessions, tmp_path / "other.tar.gz")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith((".partial", ".tar.gz"))) == ["b.tar.gz"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".adbot-backup-")]  # staging removed


def test_daily_backups_keep_the_newest_and_never_an_operators_own(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    daily = [folder / archive_name(NOW + day * 86_400, DAILY_PREFIX) for day in range(5)]
    own = folder / archive_name(NOW - 86_400)
    for path in [*daily, own]:
        path.write_bytes(b"x")
    crashed = folder / (archive_name(NOW + 10, DAILY_PREFIX) + ".partial")
    crashed.write_bytes(b"x")
    assert daily_backups(folder) == daily
    deleted = prune_backups(folder, keep=2)
    assert sorted(deleted) == sorted([*daily[:3], crashed])
    assert sorted(p.name for p in folder.iterdir()) == sorted([own.name, daily[3].name, daily[4].name])


@pytest.mark.usefixtures("restore_logging")
async def test_the_service_makes_its_daily_backup_and_prunes(db: Database, tmp_path: Path) -> None:
    from control_bot.backup.daily import daily_backup
    from core.config import settings_from_dict

    await make_backup(db, tmp_path)
    settings = settings_from_dict({"backup": {"enabled": True, "keep": 1}}, tmp_path)
    first = await daily_backup(settings, NOW)
    second = await daily_backup(settings, NOW + 86_400)
    assert daily_backups(tmp_path / "backups") == [second.path] and not first.path.exists()
    assert check_backup(second.path).media == 1


async def test_the_command_line_backs_up_checks_and_restores(
    db: Database, tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_backup(db, tmp_path)
    await db.close()  # the CLI opens its own connections
    with hold_instance_lock(tmp_path / "data"):  # as a running adbot holds it: a backup reads beside it
        assert main(["backup", "--config", config]) == 0
    [archive] = (tmp_path / "backups").iterdir()
    assert "backup written" in capsys.readouterr().out
    assert main(["backup", "--json", "--config", config, str(tmp_path / "mine.tar.gz")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["manifest"]["schema_version"] >= 1 and Path(report["path"]).name == "mine.tar.gz"
    assert main(["restore", "--check", str(archive)]) == 0
    assert "backup ok" in capsys.readouterr().out
    assert main(["restore", "--config", config, str(archive)]) == 1  # the data dir holds the database
    assert "is not empty" in capsys.readouterr().err
    elsewhere = tmp_path / "new"
    elsewhere.mkdir()
    other = elsewhere / "config.toml"
    other.write_text(Path(config).read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["restore", "--config", str(other), str(archive)]) == 0
    assert tree(elsewhere / "data") == tree(tmp_path / "data")
    assert tree(elsewhere / "sessions") == tree(tmp_path / "sessions")


async def test_the_running_service_runs_its_daily_jobs_and_stops_them(tmp_path: Path) -> None:
    from botkit import TOKEN, make_settings

    from control_bot.app import create_app
    from sandbox.botuser import BotApiEmulator

    def daily_tasks() -> set[str]:
        return {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("daily-") and not t.done()}

    async with BotApiEmulator(TOKEN, "adbot_test_bot") as emu:
        settings = make_settings(tmp_path, emu.base_url)
        settings = settings.model_copy(update={"backup": settings.backup.model_copy(update={"enabled": True})})
        app = await create_app(settings, configure_logging=False, schedule=False)
        async with app, app.running():
            assert daily_tasks() == {"daily-retention", "daily-backup"}
        assert daily_tasks() == set()


async def test_a_session_file_moved_while_the_backup_runs_is_found_by_its_name(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An assignment moves a file from unused/ to assigned/<customer>/ between the listing and its copy:
    it is stored where it was found (start-up reconciliation moves it where its row says)."""
    from control_bot.backup import archive as archive_module
    from storage import backup as storage_backup

    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=2)
    [first, *_] = sorted((s.sessions_dir / "unused").iterdir())
    moved_to = s.sessions_dir / "assigned" / str(CID) / first.name
    real = storage_backup.is_sqlite
    moves: list[Path] = []

    def moving(path: Path) -> bool:
        if path == first and not moves:
            moved_to.parent.mkdir(parents=True, mode=0o700)
            first.rename(moved_to)
            moves.append(moved_to)
        return real(path)

    monkeypatch.setattr(archive_module.sqlite_backup, "is_sqlite", moving)
    archive = tmp_path / "moving.tar.gz"
    manifest = create_backup(db.path.parent, s.sessions_dir, archive).manifest
    assert moves == [moved_to]
    names = {f.name for f in manifest.files}
    assert f"sessions/assigned/{CID}/{first.name}" in names and f"sessions/unused/{first.name}" not in names
    assert manifest.sessions == 2
    target = tmp_path / "r"
    restore_backup(archive, target / "data", target / "sessions")
    assert tree(target / "sessions") == tree(s.sessions_dir)
