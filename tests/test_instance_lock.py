"""One adbot per data dir (issue 17, point 3): ``adbot run`` and the writing CLI commands hold an
exclusive ``flock`` on ``data/adbot.lock``; a second one refuses with "already running (pid N)"."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from control_bot.cli import build_parser, main
from core.errors import AlreadyRunning
from sandbox.botapi import BotApiEmulator
from storage.instance_lock import LOCK_FILE, acquire_instance_lock, hold_instance_lock
from tests.process_harness import BOT_USERNAME, TOKEN, BotRunner, install

ROOT = Path(__file__).resolve().parent.parent
HASH = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def emu_bot() -> tuple[str, str]:
    return TOKEN, BOT_USERNAME


def test_a_second_lock_on_one_data_dir_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = acquire_instance_lock(data)
    try:
        with pytest.raises(AlreadyRunning) as refused:
            acquire_instance_lock(data)
        assert refused.value.pid == os.getpid()
        assert refused.value.user_message == f"already running (pid {os.getpid()})"
        assert (data / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        assert (data / LOCK_FILE).stat().st_mode & 0o777 == 0o600
    finally:
        first.release()
    # released (as the kernel does when the holder dies): the next one takes it
    with hold_instance_lock(data):
        pass


def test_writing_cli_commands_refuse_while_the_lock_is_held(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with hold_instance_lock(data):
        assert main(["grant", "42", "1", "1", "--config", config]) == 1
        assert main(["pairs", "add", "123", HASH, "--config", config]) == 1
        assert main(["pool", "import", str(tmp_path / "none.session"), "--config", config]) == 1
        assert main(["pool", "reconcile", "--config", config]) == 1
        err = capsys.readouterr().err.splitlines()
        assert err == [f"error: already running (pid {os.getpid()})"] * 4
        assert not (data / "adbot.sqlite3").exists()  # refused before the database was opened
        assert not (tmp_path / "sessions").exists()
        # reading needs no lock
        assert main(["pool", "status", "--config", config]) == 0
    assert main(["pairs", "add", "123", HASH, "--config", config]) == 0


# Commands that never write the data dir's database or pool: they run beside ``adbot run`` (WAL lets them
# read). ``check-config`` opens nothing; ``demo`` runs in a temporary data dir of its own.
READ_ONLY = {
    ("check-config",), ("customers",), ("health",), ("demo",),
    ("pool", "status"), ("pool", "joins"), ("pairs", "list"),
    ("backup",),  # reads with SQLite's online backup API (tests/test_backup_restore.py: beside the lock)
}
# Every other command writes, and takes the lock: the arguments it needs to get that far.
WRITING: dict[tuple[str, ...], list[str]] = {
    ("run",): [],
    ("migrate",): [],  # with migrations to run (no database yet); ``migrate --check`` only reads
    ("grant",): ["42", "1", "1"],
    ("revoke",): ["42"],
    ("pool", "import"): ["none.session"],
    ("pool", "reconcile"): [],
    ("pool", "join"): ["1", "@cats"],
    ("pool", "proxy"): ["1", "socks5://127.0.0.1:1080"],
    ("pairs", "add"): ["123", HASH],
    ("pairs", "remove"): ["123"],
    ("restore",): ["none.tar.gz"],
    ("prune",): [],
}


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command the CLI registers (its words: ``("pool", "import")``)."""
    declared = getattr(parser, "declared", None)  # a command's arguments are declared when it is used
    if callable(declared):
        declared()
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield path
    for group in groups:
        for name, sub in group.choices.items():
            yield from _commands(sub, (*path, name))


def test_every_registered_writing_cli_command_takes_the_lock(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command added to the CLI is either read-only (listed above) or refused while the lock is held."""
    registered = set(_commands(build_parser()))
    assert registered == READ_ONLY | set(WRITING), "a new command: list it as READ_ONLY or WRITING"
    data = tmp_path / "data"
    with hold_instance_lock(data):
        for words, args in sorted(WRITING.items()):
            assert main([*words, *args, "--config", config]) == 1, words
            assert capsys.readouterr().err.splitlines() == [f"error: already running (pid {os.getpid()})"], words
        assert sorted(p.name for p in data.iterdir()) == [LOCK_FILE]  # refused before the database was opened
        assert not (tmp_path / "sessions").exists()
        # issue 20: health while a service holds the lock but has no database yet: degraded, nothing created
        assert main(["health", "--config", config]) == 1
        assert "starting" in capsys.readouterr().err
        assert main(["migrate", "--check", "--config", config]) == 1  # migrations would run; nothing opened
        capsys.readouterr()
        assert sorted(p.name for p in data.iterdir()) == [LOCK_FILE]
        # reading needs no lock (the demo has its own test; a backup needs a database: its own test too)
        for words in sorted(READ_ONLY - {("demo",), ("backup",)}):
            assert main([*words, "--config", config]) == 0, (words, capsys.readouterr().err)


@pytest.mark.process
def test_a_second_adbot_run_on_one_data_dir_exits_already_running(config: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with hold_instance_lock(data):  # this test's process plays the first ``adbot run``
        proc = subprocess.run(
            [sys.executable, "-m", "control_bot", "--config", config],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"error: already running (pid {os.getpid()})"]
    # nothing was opened: no database, no sessions folder, no logs
    assert sorted(p.name for p in data.iterdir()) == [LOCK_FILE]
    assert not (tmp_path / "sessions").exists() and not (tmp_path / "logs").exists()


@pytest.mark.process(fork_server=True)
async def test_while_adbot_runs_a_second_run_and_writing_commands_are_refused(
    tmp_path: Path, emu: BotApiEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    inst = install(tmp_path, emu.base_url)
    config = str(inst.config)  # the commands run in a thread: they run their own event loop
    async with BotRunner(inst, emu) as runner:
        first = await runner.start()  # polling: the engine started, the lock is held
        second = await runner.start(ready=False)
        assert await second.wait(60.0) == 1, second.tail()
        assert second.tail().splitlines()[-1] == f"error: already running (pid {first.pid})"
        assert await asyncio.to_thread(main, ["pairs", "add", "123", HASH, "--config", config]) == 1
        assert capsys.readouterr().err.splitlines() == [f"error: already running (pid {first.pid})"]
        assert await asyncio.to_thread(main, ["pool", "status", "--config", config]) == 0  # reading needs no lock
        assert first.exit_code is None  # the first one runs on, untouched
        assert await first.terminate() == 0, first.tail()
    # its lock went with it
    assert await asyncio.to_thread(main, ["pairs", "add", "123", HASH, "--config", config]) == 0
