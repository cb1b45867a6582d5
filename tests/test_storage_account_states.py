"""The migration that lets a session be 'frozen' and keeps its quarantine and freeze on its row: an old
file upgrades in place, keeps every row and column, and still refuses a state nobody knows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from storage import sessions as session_rows
from storage.db import Database, fetchall, fetchone, migrate
from storage.migrations import LATEST_VERSION, MIGRATIONS

NOW = 1_800_000_000.0
# Found by what it adds, not by its number (migrations are renumbered when branches merge).
MINE = next(n for n, script in enumerate(MIGRATIONS, 1) if "frozen_appeal_url" in script)


async def _columns(conn: aiosqlite.Connection) -> list[str]:
    return [r[1] for r in await fetchall(conn, "PRAGMA table_info(sessions)")]


async def test_an_old_file_upgrades_in_place_and_a_session_can_be_frozen(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=MINE - 1) == MINE - 1
        before = await _columns(conn)
        await conn.execute(
            "INSERT INTO sessions (file_name, auth_key_sha, dc_id, state, folder, added_at, state_changed_at,"
            " state_reason) VALUES ('s1.session', 'sha1', 2, 'limited', 'limited', ?, ?, 'PeerFloodError')",
            (NOW, NOW),
        )
    db = await Database.open(path)
    try:
        async with db.read() as conn:
            after = await _columns(conn)
            row = await session_rows.get(conn, 1)
            check = await fetchone(conn, "PRAGMA integrity_check")
        assert after[: len(before)] == before  # every column stays, in place
        assert {"quarantine_count", "quarantine_until", "frozen_since", "frozen_until", "frozen_appeal_url",
                "status_checked_at"} <= set(after)
        assert check is not None and check[0] == "ok"
        assert row is not None
        # already in quarantine: the default minimum from when it was limited
        assert (row.state, row.state_reason, row.quarantine_count, row.quarantine_until) == (
            "limited", "PeerFloodError", 1, NOW + 86_400)
        async with db.tx() as conn:
            await session_rows.retire(conn, 1, "frozen", "frozen", "FrozenMethodInvalidError", NOW)
            await session_rows.record_frozen(conn, 1, since=NOW - 5, until=NOW + 99, appeal_url="https://t.me/x",
                                             now=NOW)
        async with db.read() as conn:  # the other connection (the reader) sees the new state too
            row = await session_rows.get(conn, 1)
            counts = await session_rows.count_by_state(conn)
        assert row is not None and (row.state, row.frozen_since, row.frozen_appeal_url) == (
            "frozen", NOW - 5, "https://t.me/x")
        assert counts["frozen"] == 1
        with pytest.raises(sqlite3.IntegrityError):
            async with db.tx() as conn:
                await conn.execute("UPDATE sessions SET state = 'melted' WHERE id = 1")
    finally:
        await db.close()
    # A connection opened afterwards reads the same schema from the file.
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        sql = await fetchone(conn, "SELECT sql FROM sqlite_master WHERE name = 'sessions'")
        assert sql is not None and "'frozen'" in sql[0]
        assert await migrate(conn) == LATEST_VERSION


async def test_a_quarantine_is_never_shortened_by_storage(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    try:
        async with db.tx() as conn:
            sid = await session_rows.insert(conn, file_name="s.session", auth_key_sha="k", dc_id=2,
                                            folder="unused", now=NOW)
            await session_rows.retire(conn, sid, "limited", "limited", "PeerFloodError", NOW)
            await session_rows.start_quarantine(conn, sid, 1, NOW + 100)
            await session_rows.start_quarantine(conn, sid, 1, NOW + 50)  # a shorter one does not replace it
            assert not await session_rows.release_quarantined(conn, sid, "unused", NOW + 99)
            assert await session_rows.quarantined(conn) == [(sid, NOW + 100)]
            assert await session_rows.release_quarantined(conn, sid, "unused", NOW + 100)
            assert await session_rows.quarantined(conn) == []
    finally:
        await db.close()
