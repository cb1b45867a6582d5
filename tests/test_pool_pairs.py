"""API pairs: input checks, capacity, removal, and the trigger backstop."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pool_support import NOW, add_customer, seed_sessions

from core.errors import InputError, NoPairCapacity, NotFound, PairInUse
from pool.assign import assign, revoke
from pool.pairs import add_pair, list_pairs, parse_api_hash, parse_api_id, remove_pair, sync_capacity
from pool.status import format_status, pool_status
from storage.db import Database, execute

HASH = "0123456789abcdef0123456789ABCDEF"


@pytest.mark.parametrize("bad", ["", "0", "-5", "abc", "1.5", "99999999999", " "])
def test_api_id_must_be_positive_int(bad: str) -> None:
    with pytest.raises(InputError, match="positive whole number"):
        parse_api_id(bad)


@pytest.mark.parametrize("bad", ["", "xyz", "0" * 31, "0" * 33, "g" * 32])
def test_api_hash_must_be_32_hex(bad: str) -> None:
    with pytest.raises(InputError, match="32 hexadecimal"):
        parse_api_hash(bad)


def test_valid_inputs_normalised() -> None:
    assert parse_api_id(" 2040 ") == 2040 and parse_api_hash(f" {HASH} ") == HASH.lower()


async def test_add_list_remove(db: Database, sdir: Path) -> None:
    pair = await add_pair(db, "2040", HASH, capacity=7, now=NOW)
    assert (pair.api_id, pair.capacity, pair.used) == (2040, 7, 0) and HASH.lower() not in repr(pair)
    with pytest.raises(InputError, match="already in the pool"):
        await add_pair(db, 2040, HASH, capacity=7, now=NOW)
    await add_customer(db, 10)
    await seed_sessions(db, sdir, 2)
    await assign(db, sdir, 10, 2, NOW)
    assert [(p.api_id, p.used) for p in await list_pairs(db)] == [(2040, 2)]
    with pytest.raises(PairInUse, match="used by 2 session"):
        await remove_pair(db, 2040)
    await revoke(db, sdir, 10, NOW)  # leaving the customer does not release it: the pair is their identity
    assert [(p.api_id, p.used) for p in await list_pairs(db)] == [(2040, 2)]
    with pytest.raises(PairInUse, match="used by 2 session"):
        await remove_pair(db, 2040)
    await add_pair(db, 2041, HASH, capacity=7, now=NOW)
    moved = await remove_pair(db, "2040", move=True)  # the admin's explicit choice: they move, all of them
    assert sorted(api_id for _sid, api_id in moved) == [2041, 2041]
    assert [(p.api_id, p.used) for p in await list_pairs(db)] == [(2041, 2)]
    with pytest.raises(NoPairCapacity, match="room for only 0"):  # nowhere to go: refused, nothing changed
        await remove_pair(db, 2041, move=True)
    assert [(p.api_id, p.used) for p in await list_pairs(db)] == [(2041, 2)]
    with pytest.raises(NotFound):
        await remove_pair(db, 2040)


async def test_sync_capacity(db: Database) -> None:
    await add_pair(db, 1, HASH, capacity=7, now=NOW)
    await add_pair(db, 2, HASH, capacity=3, now=NOW)
    assert await sync_capacity(db, 5) == 2
    assert await sync_capacity(db, 5) == 0
    assert [p.capacity for p in await list_pairs(db)] == [5, 5]


async def test_trigger_refuses_a_pair_beyond_capacity(db: Database, sdir: Path) -> None:
    """The backstop under the code: even a direct UPDATE cannot overfill a pair."""
    pair = await add_pair(db, 1, HASH, capacity=1, now=NOW)
    await add_customer(db, 10)
    await seed_sessions(db, sdir, 2)
    await assign(db, sdir, 10, 1, NOW)
    with pytest.raises(sqlite3.IntegrityError, match="api pair is full"):
        async with db.tx() as conn:
            await execute(conn, "UPDATE sessions SET pair_id = ? WHERE pair_id IS NULL", (pair.id,))


async def test_status_dict_and_text(db: Database, sdir: Path) -> None:
    await add_pair(db, 2040, HASH, capacity=2, now=NOW)
    await add_customer(db, 10)
    await seed_sessions(db, sdir, 3)
    await assign(db, sdir, 10, 2, NOW)
    status = await pool_status(db)
    assert status["sessions"] == {"unused": 1, "assigned": 2, "cooling": 0, "limited": 0, "dead": 0, "frozen": 0}
    assert status["waiting_for_pair"] == 1  # the third session: the pair (capacity 2) had no room for it
    assert status["pairs"] == [{"api_id": 2040, "used": 2, "capacity": 2, "full": True}]
    assert status["customers"] == [{"customer_id": 10, "assigned": 2, "cooling": 0, "total": 2}]
    text = format_status(status)
    assert "3 total, 1 free, 2 assigned" in text and "2040: 2/2 (full)" in text and "10: 2 sessions" in text
    assert "1 session wait for an API pair" in text
    assert HASH.lower() not in str(status)
