"""Storage failures (review of issue 17, points 1 and 8): a full database disk stays a full disk all the way
up, and one classifier (``storage.db.failure_kind``) tells intake and the engine what a failure is.

A full disk is made real with ``PRAGMA max_page_count`` (SQLite then fails a write that needs a new page
with SQLITE_FULL, as when the filesystem has no room), not simulated by raising an exception."""

from __future__ import annotations

import asyncio
import errno
import sqlite3
from pathlib import Path

import pytest
from pool_support import NOW, assert_pool_consistent, files_on_disk

import pool.staging
from core.errors import StorageBusy
from core.texts import intake as texts
from engine.ledger import Ledger
from pool import identity
from pool.intake import import_files
from sandbox.sessionfiles import make_session_bytes
from storage import sessions as session_rows
from storage.db import (
    Connection,
    Database,
    StorageFailure,
    execute,
    failure_kind,
    fetchone,
    in_thread,
    unavailable,
)

BLOB = 100 * 1024  # far more than three pages
MAX = 1024 * 1024


async def _set_max_pages(db: Database, extra: int | None) -> None:
    """Cap the database at its current size plus ``extra`` pages (None: lift the cap)."""

    def cap(raw: sqlite3.Connection) -> None:
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        limit = 1 << 30 if extra is None else pages + extra
        raw.execute(f"PRAGMA max_page_count = {limit}")

    await in_thread(db.writer, cap)


async def _scratch_table(db: Database) -> None:
    async with db.tx() as conn:
        await execute(conn, "CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")


async def _insert_blob(conn: Connection) -> int:
    return await execute(conn, "INSERT INTO scratch (body) VALUES (?)", (b"\x01" * BLOB,))


async def test_a_full_disk_inside_a_transaction_raises_the_full_disk_not_a_failed_rollback(db: Database) -> None:
    await _scratch_table(db)
    await _set_max_pages(db, 3)
    with pytest.raises(sqlite3.Error) as raised:
        async with db.tx() as conn:
            await _insert_blob(conn)
    assert raised.value.sqlite_errorcode == sqlite3.SQLITE_FULL, raised.value
    assert failure_kind(raised.value) is StorageFailure.DISK_FULL
    assert unavailable(raised.value)
    assert not db.writer.in_transaction
    # the writer is usable as before once there is room
    await _set_max_pages(db, None)
    async with db.tx() as conn:
        assert await _insert_blob(conn) == 1


async def test_the_ledger_keeps_a_write_the_full_disk_refused_and_completes_it_once_there_is_room(
    db: Database,
) -> None:
    await _scratch_table(db)
    await _set_max_pages(db, 3)
    ledger = Ledger(db, first_backoff=0.01, max_backoff=0.05)
    try:
        kept = asyncio.ensure_future(ledger.run(_insert_blob))
        while not ledger.busy:  # kept in memory, not failed
            assert not kept.done(), kept
            await asyncio.sleep(0.01)
        assert ledger.busy_spells == 1
        # a person's write fails with the full disk, it is not kept
        with pytest.raises(sqlite3.Error) as raised:
            await ledger.run(_insert_blob, patient=False)
        assert failure_kind(raised.value) is StorageFailure.DISK_FULL
        await _set_max_pages(db, None)  # room is made
        assert await asyncio.wait_for(kept, 30) == 1
        async with db.read() as conn:
            row = await fetchone(conn, "SELECT COUNT(*) FROM scratch")
        assert row is not None and row[0] == 1
    finally:
        await ledger.close()


async def test_intake_on_a_full_database_disk_says_disk_full_and_leaves_nothing(db: Database, sdir: Path) -> None:
    await import_files(db, sdir, [("first.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    await _set_max_pages(db, 0)
    refused = None
    for i in range(200):  # rows fill the pages there are; the one that needs a new page is refused
        [result] = await import_files(db, sdir, [(f"f{i}.session", make_session_bytes())], max_bytes=MAX, now=NOW)
        if not result.accepted:
            refused = (i, result)
            break
    assert refused is not None, "the database never filled up"
    i, result = refused
    assert result.reason == texts.DISK_FULL()
    async with db.read() as conn:
        rows = await session_rows.list_all(conn)
    assert f"f{i}" not in {r.source_name for r in rows}
    assert sorted(files_on_disk(sdir)) == sorted(("unused", r.file_name) for r in rows)
    assert not list((sdir / pool.staging.STAGING).iterdir())
    await assert_pool_consistent(db, sdir)
    await _set_max_pages(db, None)
    [again] = await import_files(db, sdir, [("again.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    assert again.accepted, again


async def test_intake_says_disk_full_when_the_full_disk_rolled_its_transaction_back(
    db: Database, sdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite rolls the whole transaction back itself when a statement without a statement journal meets
    a full disk (a plain insert): the file's result still says the disk is full."""
    await _scratch_table(db)
    real = identity.note_if_full
    calls = 0

    async def and_a_big_write(conn: Connection, *args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        await real(conn, *args, **kwargs)  # type: ignore[arg-type]
        if calls == 1:
            await _insert_blob(conn)  # a step of the transaction that needs pages there are not

    monkeypatch.setattr(identity, "note_if_full", and_a_big_write)
    await _set_max_pages(db, 3)
    files = [("a.session", make_session_bytes()), ("b.session", make_session_bytes())]
    results = await import_files(db, sdir, files, max_bytes=MAX, now=NOW)
    assert [(r.accepted, r.reason) for r in results] == [(False, texts.DISK_FULL()), (True, None)]
    async with db.read() as conn:
        assert [r.source_name for r in await session_rows.list_all(conn)] == ["b"]
    assert not list((sdir / pool.staging.STAGING).iterdir())
    await assert_pool_consistent(db, sdir)


def _sqlite_error(code: int, text: str = "x") -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorcode = code
    return exc


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_sqlite_error(sqlite3.SQLITE_FULL), StorageFailure.DISK_FULL),
        # EDQUOT / EFBIG on the database file: SQLite says IOERR_WRITE
        (_sqlite_error(sqlite3.SQLITE_IOERR_WRITE), StorageFailure.DISK_FULL),
        (_sqlite_error(sqlite3.SQLITE_IOERR_SHMSIZE), StorageFailure.DISK_FULL),
        (OSError(errno.ENOSPC, "No space left on device"), StorageFailure.DISK_FULL),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), StorageFailure.DISK_FULL),
        (OSError(errno.EFBIG, "File too large"), StorageFailure.DISK_FULL),
        (StorageBusy(), StorageFailure.BUSY),
        (_sqlite_error(sqlite3.SQLITE_BUSY), StorageFailure.BUSY),
        (_sqlite_error(sqlite3.SQLITE_LOCKED_SHAREDCACHE), StorageFailure.BUSY),
        (sqlite3.OperationalError("database is locked"), StorageFailure.BUSY),
        (_sqlite_error(sqlite3.SQLITE_IOERR_READ), StorageFailure.IO),
        (_sqlite_error(sqlite3.SQLITE_CANTOPEN), StorageFailure.IO),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), StorageFailure.OTHER),
        (_sqlite_error(sqlite3.SQLITE_CORRUPT), StorageFailure.OTHER),
        (OSError(errno.EIO, "Input/output error"), None),
        (ConnectionResetError(), None),
        (ValueError("no"), None),
    ],
)
def test_one_classifier_for_storage_failures(exc: BaseException, kind: StorageFailure | None) -> None:
    assert failure_kind(exc) is kind
    assert unavailable(exc) == (kind is not None and kind is not StorageFailure.OTHER)


async def test_a_lock_met_inside_a_transaction_is_storage_busy(tmp_path: Path) -> None:
    """A statement inside a transaction that meets another connection's lock is ``StorageBusy`` too (not
    only BEGIN and COMMIT): the bot says "try again" for it."""
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path, busy_timeout_ms=50)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageBusy):
            await execute(db.writer, "CREATE TABLE t (x)")  # autocommit: its own write lock
    finally:
        other.execute("ROLLBACK")
        other.close()
        await db.close()


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (_sqlite_error(sqlite3.SQLITE_IOERR_WRITE, "disk I/O error"), texts.DISK_FULL()),  # EDQUOT/EFBIG on the db
        (_sqlite_error(sqlite3.SQLITE_LOCKED, "database table is locked"), texts.DATABASE_BUSY()),
        (_sqlite_error(sqlite3.SQLITE_IOERR_READ, "disk I/O error"), texts.DATABASE_FAILED()),
    ],
)
async def test_intake_reads_a_database_failure_as_the_engine_does(
    db: Database, sdir: Path, monkeypatch: pytest.MonkeyPatch, exc: sqlite3.Error, reason: str
) -> None:
    """What the engine keeps as "the disk is full" or "busy" intake reports as such (one classifier)."""
    real = identity.for_new_session
    seen = 0

    async def fails_once(*args: object, **kwargs: object) -> object:
        nonlocal seen
        seen += 1
        if seen == 1:
            raise exc
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(identity, "for_new_session", fails_once)
    files = [("a.session", make_session_bytes()), ("b.session", make_session_bytes())]
    results = await import_files(db, sdir, files, max_bytes=MAX, now=NOW)
    assert [(r.accepted, r.reason) for r in results] == [(False, reason), (True, None)]
    assert unavailable(exc)
    await assert_pool_consistent(db, sdir)
