"""Foundation storage: migrations, transactions, constraints."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from core.errors import StorageBusy
from storage import customers, events
from storage.db import Database, fetchall, fetchone, migrate, user_version
from storage.migrations import LATEST_VERSION

NOW = 1_800_000_000.0


async def _read_all(db: Database, sql: str) -> list[sqlite3.Row]:
    """Rows as the reader connection sees them: the last committed state."""
    async with db.read() as conn:
        return await fetchall(conn, sql)


async def _read_one(db: Database, sql: str) -> sqlite3.Row | None:
    async with db.read() as conn:
        return await fetchone(conn, sql)


async def _tables(conn: aiosqlite.Connection) -> set[str]:
    rows = await fetchall(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r[0] for r in rows}


async def test_migrates_empty_database_to_latest(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    try:
        async with db.read() as conn:
            assert await user_version(conn) == LATEST_VERSION
            assert {"customers", "sessions", "api_pairs", "groups", "sends", "stats", "events"} <= await _tables(conn)
            mode = await fetchone(conn, "PRAGMA journal_mode")
            assert mode is not None and mode[0] == "wal"
            fk = await fetchone(conn, "PRAGMA foreign_keys")
            assert fk is not None and fk[0] == 1
    finally:
        await db.close()


async def test_upgrades_in_place_from_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=LATEST_VERSION - 1) == LATEST_VERSION - 1
        await conn.execute(
            "INSERT INTO customers (user_id, plan_sessions, plan_expires_at, created_at, interval_s, updated_at)"
            " VALUES (42, 2, ?, ?, 300, ?)",
            (NOW + 86400, NOW, NOW),
        )
    db = await Database.open(path)
    try:
        async with db.read() as conn:
            assert await user_version(conn) == LATEST_VERSION
            customer = await customers.get(conn, 42)
        assert customer is not None and customer.plan_sessions == 2
        async with db.tx() as conn:  # the newer tables are usable on the upgraded file
            await events.add(conn, 42, events.EventKind.PLAN_GRANTED, NOW, days=1)
        async with db.read() as conn:
            assert [e.kind for e in await events.undelivered(conn)] == [events.EventKind.PLAN_GRANTED]
    finally:
        await db.close()


async def test_refuses_a_database_from_a_newer_adbot(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        await Database.open(path)


async def _seed_pool(db: Database, n_sessions: int, n_customers: int) -> None:
    async with db.tx() as conn:
        for uid in range(1, n_customers + 1):
            await customers.grant(conn, uid, 3, 30, NOW, 300)
        for i in range(n_sessions):
            await conn.execute(
                "INSERT INTO sessions (file_name, auth_key_sha, dc_id, folder, added_at, state_changed_at)"
                " VALUES (?, ?, 2, 'unused', ?, ?)",
                (f"s{i}.session", f"sha{i}", NOW, NOW),
            )


async def _claim(db: Database, customer: int, n: int) -> list[int]:
    async with db.tx() as conn:
        rows = await fetchall(
            conn,
            "UPDATE sessions SET state = 'assigned', owner_id = ? WHERE id IN"
            " (SELECT id FROM sessions WHERE state = 'unused' ORDER BY id LIMIT ?) RETURNING id",
            (customer, n),
        )
        if len(rows) < n:
            raise LookupError("not enough")
        return [r[0] for r in rows]


async def test_concurrent_writers_under_begin_immediate_do_not_double_assign(tmp_path: Path) -> None:
    """Twenty claimers on separate connections (as separate processes would be) race for 30 sessions."""
    path = tmp_path / "race.sqlite3"
    setup = await Database.open(path)
    await _seed_pool(setup, 30, 20)
    handles = [await Database.open(path, busy_timeout_ms=10_000) for _ in range(20)]
    try:
        results = await asyncio.gather(
            *(_claim(h, uid, 3) for uid, h in enumerate(handles, start=1)), return_exceptions=True
        )
        won = [r for r in results if isinstance(r, list)]
        lost = [r for r in results if not isinstance(r, list)]
        assert all(isinstance(r, LookupError) for r in lost), lost
        assert len(won) == 10  # 30 sessions / 3 each; the others are refused, never half-served
        claimed = [sid for ids in won for sid in ids]
        assert len(claimed) == len(set(claimed)) == 30
        rows = await _read_all(setup, "SELECT owner_id, COUNT(*) FROM sessions GROUP BY owner_id")
        assert all(count == 3 for owner, count in rows if owner is not None)
    finally:
        for h in handles:
            await h.close()
        await setup.close()


async def test_same_connection_transactions_are_serialised(db: Database) -> None:
    await _seed_pool(db, 6, 3)
    results = await asyncio.gather(*(_claim(db, uid, 2) for uid in (1, 2, 3)))
    assert sorted(sid for ids in results for sid in ids) == list(range(1, 7))


async def test_a_session_cannot_get_a_second_owner(db: Database) -> None:
    await _seed_pool(db, 1, 2)
    await _claim(db, 1, 1)
    with pytest.raises(sqlite3.IntegrityError, match="another customer"):
        async with db.tx() as conn:
            await conn.execute("UPDATE sessions SET owner_id = 2 WHERE id = 1")
    row = await _read_one(db, "SELECT owner_id FROM sessions WHERE id = 1")
    assert row is not None and row[0] == 1


async def test_owner_and_state_must_agree(db: Database) -> None:
    await _seed_pool(db, 1, 1)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.tx() as conn:
            await conn.execute("UPDATE sessions SET state = 'assigned' WHERE id = 1")  # no owner


async def test_pair_capacity_is_a_constraint(db: Database) -> None:
    await _seed_pool(db, 3, 1)
    async with db.tx() as conn:
        await conn.execute("INSERT INTO api_pairs (api_id, api_hash, capacity, created_at) VALUES (1, 'h', 2, 0)")
        await conn.execute("UPDATE sessions SET pair_id = 1 WHERE id IN (1, 2)")
    with pytest.raises(sqlite3.IntegrityError, match="full"):
        async with db.tx() as conn:
            await conn.execute("UPDATE sessions SET pair_id = 1 WHERE id = 3")


async def test_one_ledger_row_per_campaign_cycle_group(db: Database) -> None:
    await _seed_pool(db, 1, 1)
    insert = (
        "INSERT INTO sends (customer_id, cycle_no, group_ref, session_id, outcome, random_id, started_at)"
        " VALUES (1, 7, '@group', 1, 'pending', 99, 0)"
    )
    async with db.tx() as conn:
        await conn.execute(insert)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        async with db.tx() as conn:
            await conn.execute(insert)
    rows = await _read_all(db, "SELECT COUNT(*) FROM sends")
    assert rows[0][0] == 1


async def test_failed_transaction_rolls_back_everything(db: Database) -> None:
    with pytest.raises(ZeroDivisionError):
        async with db.tx() as conn:
            await customers.grant(conn, 5, 1, 1, NOW, 300)
            _ = 1 / 0
    assert await _read_one(db, "SELECT * FROM customers WHERE user_id = 5") is None


async def test_reader_sees_committed_state_while_a_write_is_open(db: Database) -> None:
    async with db.tx() as conn:
        await customers.grant(conn, 9, 1, 1, NOW, 300)
    async with db.tx() as conn:
        await conn.execute("UPDATE customers SET plan_sessions = 4 WHERE user_id = 9")
        row = await _read_one(db, "SELECT plan_sessions FROM customers WHERE user_id = 9")
        assert row is not None and row[0] == 1  # not blocked, and not the uncommitted value
    row = await _read_one(db, "SELECT plan_sessions FROM customers WHERE user_id = 9")
    assert row is not None and row[0] == 4


async def test_a_lock_held_elsewhere_surfaces_as_storage_busy(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    db = await Database.open(path, busy_timeout_ms=50)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageBusy) as info:
            async with db.tx():
                pass
        assert "try again" in info.value.user_message
    finally:
        other.execute("ROLLBACK")
        other.close()
        await db.close()
