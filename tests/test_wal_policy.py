"""Issue 22: the SQLite WAL is kept bounded (``storage.db.WalPolicy``, ``[storage]`` in the config)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.config import Settings
from storage.db import MB, Database, WalPolicy

FILLER = b"x" * 8000  # two pages a row


async def _fill(db: Database, rows: int) -> None:
    for _ in range(rows):
        async with db.tx() as conn:
            await conn.execute("INSERT INTO filler (data) VALUES (?)", (FILLER,))


async def _open(tmp_path: Path, policy: WalPolicy) -> Database:
    db = await Database.open(tmp_path / "wal.sqlite3", busy_timeout_ms=50, wal=policy)
    async with db.tx() as conn:
        await conn.execute("CREATE TABLE filler (data BLOB)")
    return db


async def test_the_policy_is_set_on_the_writer(tmp_path: Path) -> None:
    db = await _open(tmp_path, WalPolicy(autocheckpoint_pages=321, max_bytes=3 * MB))
    try:
        async with db.tx() as conn:
            pages = await (await conn.execute("PRAGMA wal_autocheckpoint")).fetchone()
            limit = await (await conn.execute("PRAGMA journal_size_limit")).fetchone()
        assert pages is not None and pages[0] == 321
        assert limit is not None and limit[0] == 3 * MB
    finally:
        await db.close()


async def test_a_wal_a_long_reader_let_grow_is_truncated_once_the_reader_is_done(tmp_path: Path) -> None:
    policy = WalPolicy(autocheckpoint_pages=100, max_bytes=256 * 1024, check_every=10)
    db = await _open(tmp_path, policy)
    reader = sqlite3.connect(db.path, isolation_level=None)
    try:
        # A read transaction holds its snapshot: no checkpoint may pass it, so the WAL only grows.
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM filler").fetchone()
        await _fill(db, 100)
        grown = db.wal_bytes()
        assert grown > 4 * policy.max_bytes
        assert db.checkpoints >= 1  # tried (past its bound) and kept from finishing by the reader
        reader.execute("COMMIT")

        await _fill(db, policy.check_every)  # the next look at the WAL's size after the reader is gone

        assert db.wal_bytes() <= policy.max_bytes
        assert db.wal_peak > 4 * policy.max_bytes  # what the looks saw while the reader held it
        async with db.read() as conn:
            count = await (await conn.execute("SELECT COUNT(*) FROM filler")).fetchone()
        assert count is not None and count[0] == 100 + policy.check_every  # nothing lost on the way
    finally:
        reader.close()
        await db.close()


async def test_without_a_stuck_reader_the_wal_stays_near_its_checkpoint_size(tmp_path: Path) -> None:
    policy = WalPolicy(autocheckpoint_pages=100, max_bytes=256 * 1024, check_every=10)
    db = await _open(tmp_path, policy)
    try:
        peak = 0
        for _ in range(30):
            await _fill(db, 10)
            peak = max(peak, db.wal_bytes())
        # SQLite's own checkpoint resets it after 100 pages; journal_size_limit cuts it back to the bound
        assert peak <= policy.max_bytes + 4 * 4096 * 4
        assert db.wal_bytes() <= policy.max_bytes
    finally:
        await db.close()


async def test_checkpoint_on_demand_says_what_it_did(tmp_path: Path) -> None:
    db = await _open(tmp_path, WalPolicy())
    try:
        await _fill(db, 5)
        done = await db.checkpoint("TRUNCATE")
        assert not done.busy and db.wal_bytes() == 0
    finally:
        await db.close()


def test_the_config_section_has_the_policys_defaults() -> None:
    storage = Settings().storage
    assert (storage.wal_autocheckpoint_pages, storage.wal_max_mb) == (1000, 64)
    assert WalPolicy().max_bytes == storage.wal_max_mb * MB


def test_the_wal_benchmark_runs_both_policies_and_writes_every_send_twice() -> None:
    from benchmarks import bench_wal

    results = bench_wal.main(["--campaigns", "4", "--groups", "5", "--cycles", "2", "--concurrency", "10"])
    assert [r["policy"] for r in results] == ["sqlite defaults", "policy (max 8 MB)"]
    for r in results:
        assert r["sends"] == 4 * 5 * 2
        # intent and outcome of every send, in group commits: never more transactions than writes
        assert r["writes_per_tx"] * r["transactions"] >= 2 * r["sends"] - 1e-9
        assert r["transactions"] <= 2 * r["sends"]
