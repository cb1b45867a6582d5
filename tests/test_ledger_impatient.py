"""A person's write through the engine's ledger fails fast while the database cannot be written, whatever
the ledger keeps meanwhile (review of issue 17, point 9a): with a full batch of patient writes kept
(2,000 in the app, 3 here) it used to find no room in the retried batch and wait as long as the lock was
held, so the bot's "try again" never came."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from core.errors import StorageBusy
from engine.ledger import Ledger
from storage.db import Connection, Database, execute, fetchone

BUSY_TIMEOUT_MS = 50


async def _insert(conn: Connection) -> int:
    return await execute(conn, "INSERT INTO scratch (x) VALUES (1)")


async def test_a_persons_write_fails_fast_while_a_full_batch_of_writes_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path, busy_timeout_ms=BUSY_TIMEOUT_MS)
    async with db.tx() as conn:
        await execute(conn, "CREATE TABLE scratch (x INTEGER)")
    ledger = Ledger(db, max_batch=3, first_backoff=0.01, max_backoff=0.05)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        kept = [asyncio.ensure_future(ledger.run(_insert)) for _ in range(5)]  # more than a batch
        while not ledger.busy:
            await asyncio.sleep(0.01)
        # the wait_for only keeps a regression from hanging the suite; it is no timing assertion
        with pytest.raises(StorageBusy):
            await asyncio.wait_for(ledger.run(_insert, patient=False), 60)
        assert not any(write.done() for write in kept)  # still kept, in memory
        other.execute("ROLLBACK")
        assert await asyncio.wait_for(asyncio.gather(*kept), 60) == [1] * 5
        async with db.read() as conn:
            row = await fetchone(conn, "SELECT COUNT(*) FROM scratch")
        assert row is not None and row[0] == 5  # the person's write was not written later either
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        await ledger.close()
        await db.close()
