"""A dialogs scan through real Telethon killed mid-way: the session file and its journal.

The sandbox world never touches session files, but Telethon does: every getDialogs page's chats go into
the session's ``entities`` table, in a transaction Telethon commits only when it saves or closes the
session, so while a scan runs the session file has a rollback journal beside it (``<name>-journal``,
holding original pages of a file with an auth key). ``tests/scan_child.py`` runs the engine's adapter on
a pool session file (only the network sender is the offline fake) and is killed with SIGKILL while its
third page is asked for. What must hold: the auth key and the file are intact, the journal is as
private as its session file, start-up reconciliation takes it for the session's side file (not an odd
file), a move of the session takes it along, and the next scan (a new process) reads every page and
leaves the file whole with every chat stored.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from pool.assign import assign
from pool.reconcile import reconcile
from storage import sessions as session_rows
from storage.db import Database
from storage.sessionfile import auth_key_sha_of_file
from tests.pool_support import NOW, add_customer, add_pair, seed_sessions

pytestmark = pytest.mark.process

CHATS = 250  # three pages of the main list, then the archive
FIRST = -1003000000000  # the marked id of tests.fake_dialogs.supergroups' first chat (the others' are lower)
ROOT = Path(__file__).resolve().parent.parent


async def _child(path: Path, hang_at: int) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADBOT_")}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.scan_child", str(path), str(CHATS), str(hang_at),
        cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
    )


async def _lines_until(proc: asyncio.subprocess.Process, last: str) -> list[str]:
    assert proc.stdout is not None
    seen: list[str] = []
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode().strip()
        assert line, f"the child ended before {last!r}: {seen}"
        seen.append(line)
        if line.startswith(last):
            return seen


def _read_only(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_a_real_telethon_scan_killed_mid_way_leaves_the_session_whole(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001)
    await add_customer(db, 10, plan=1)
    [sid] = await seed_sessions(db, sdir, 1)
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
    assert row is not None
    file = sdir / "unused" / row.file_name
    journal = file.with_name(file.name + "-journal")

    proc = await _child(file, hang_at=3)
    try:
        assert await _lines_until(proc, "page 3") == ["connected", "page 1", "page 2", "page 3"]
    finally:
        proc.send_signal(signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL

    # Two pages' chats were in Telethon's open transaction: the journal is there, as private as the file.
    assert journal.is_file(), "no journal: the kill did not land inside Telethon's entities transaction"
    assert stat.S_IMODE(journal.stat().st_mode) == stat.S_IMODE(file.stat().st_mode) == 0o600
    assert auth_key_sha_of_file(file) == row.auth_key_sha  # the key is whole
    assert _read_only(file, "PRAGMA integrity_check") == [("ok",)]
    assert _read_only(file, "SELECT dc_id FROM sessions") == [(2,)]
    # The cut scan's chats died with the process (the hashes the engine posts with live in our own
    # memberships table, written only for a whole read).
    assert _read_only(file, f"SELECT COUNT(*) FROM entities WHERE id <= {FIRST}") == [(0,)]

    # The next start: the journal is the session's side file (nothing odd), and goes where the session goes.
    report = await reconcile(db, sdir)
    assert report.clean, report.lines()
    [owned] = await assign(db, sdir, 10, 1, NOW)
    assert owned == sid
    moved = sdir / "assigned" / "10" / row.file_name
    assert moved.with_name(moved.name + "-journal").is_file() and not journal.exists()

    # The next scan (a new process, the session's new place) reads every page and closes the file whole.
    proc = await _child(moved, hang_at=0)
    lines = await _lines_until(proc, "read")
    assert await proc.wait() == 0
    assert lines[-1] == f"read {CHATS}" and lines.count("page 4") == 1, lines
    assert not moved.with_name(moved.name + "-journal").exists()
    assert auth_key_sha_of_file(moved) == row.auth_key_sha
    assert _read_only(moved, f"SELECT COUNT(*) FROM entities WHERE id <= {FIRST}") == [(CHATS,)]
    assert _read_only(moved, "PRAGMA integrity_check") == [("ok",)]
    assert (await reconcile(db, sdir)).clean
