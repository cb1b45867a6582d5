"""File modes from every entry point (issue 17, point 6): the data, sessions and logs folders are 0700,
the database (with its -wal and -shm) and the session files 0600, whichever command created them first,
under the usual umask 022 (a CLI command before the first ``adbot run`` made them 0755 and 0644)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from control_bot.cli import main
from sandbox.sessionfiles import make_session_file
from storage.db import Database


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def database_files(data: Path) -> list[Path]:
    return sorted(data.glob("adbot.sqlite3*"))


@pytest.mark.usefixtures("umask_022")
@pytest.mark.parametrize("first", [["pool", "status"], ["pairs", "add", "123", "0123456789abcdef0123456789abcdef"]])
def test_a_cli_command_before_the_first_run_creates_owner_only_files(
    config: str, tmp_path: Path, first: list[str]
) -> None:
    assert main([*first, "--config", config]) == 0
    data = tmp_path / "data"
    assert mode(data) == 0o700
    files = database_files(data)
    assert tmp_path / "data" / "adbot.sqlite3" in files
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


@pytest.mark.usefixtures("umask_022")
def test_pool_import_first_creates_owner_only_sessions(config: str, tmp_path: Path) -> None:
    up = tmp_path / "upload"
    up.mkdir()
    make_session_file(up / "a.session")
    assert main(["pool", "import", str(up / "a.session"), "--config", config]) == 0
    assert mode(tmp_path / "data") == 0o700
    sessions = tmp_path / "sessions"
    assert mode(sessions) == 0o700
    stored = [p for p in sessions.rglob("*") if p.is_file()]
    assert stored and all(mode(p) == 0o600 for p in stored)
    assert all(mode(p) == 0o700 for p in sessions.rglob("*") if p.is_dir())
    assert all(mode(f) == 0o600 for f in database_files(tmp_path / "data"))


@pytest.mark.usefixtures("umask_022")
async def test_database_open_creates_its_folder_and_files_owner_only(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "fresh" / "adbot.sqlite3")
    try:
        async with db.tx() as conn:
            await conn.execute("CREATE TABLE t (x)")  # a write, so the -wal exists
        files = database_files(tmp_path / "fresh")
        assert {f.name for f in files} >= {"adbot.sqlite3", "adbot.sqlite3-wal", "adbot.sqlite3-shm"}
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(tmp_path / "fresh") == 0o700
    finally:
        await db.close()


@pytest.mark.usefixtures("umask_022")
async def test_database_open_tightens_a_database_left_0644(tmp_path: Path) -> None:
    path = tmp_path / "adbot.sqlite3"
    db = await Database.open(path)
    await db.close()
    path.chmod(0o644)
    db = await Database.open(path)
    try:
        assert mode(path) == 0o600
    finally:
        await db.close()
