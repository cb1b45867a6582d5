"""One SQLite database file, opened through aiosqlite with two connections.

* the writer: every change goes through ``Database.tx()``, which holds an ``asyncio.Lock`` and runs
  ``BEGIN IMMEDIATE`` ... ``COMMIT``. The lock matters: on a shared connection another coroutine's
  statement would silently join (and be rolled back with) an open transaction.
* the reader: autocommit SELECTs through ``Database.read()``. WAL lets it read the last committed state
  while a write transaction is open, so the bot stays responsive during long writes.

Other processes (the CLI while the bot runs) are serialised by SQLite itself with ``busy_timeout``;
a lock held longer than that surfaces as ``StorageBusy``.

The WAL is kept bounded (``WalPolicy``, ``[storage]``; issue 22). SQLite checkpoints by itself (PASSIVE)
once the WAL holds ``wal_autocheckpoint`` pages, but a passive checkpoint never waits for a reader, so
under steady writes with reads in between it may never reach the WAL's end, and the WAL file is reused,
never shrunk: it keeps its largest size for good. So ``journal_size_limit`` truncates it back after each
checkpoint that reset it, and every ``check_every`` commits the writer looks at the WAL's size; past
``max_bytes`` it runs one TRUNCATE checkpoint right after its commit (still holding the write lock: no
write waits behind it but the ones that would anyway; readers finish their statement first).
"""

from __future__ import annotations

import asyncio
import enum
import errno
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from core.errors import StorageBusy
from core.private_files import FILE_MODE, make_private_dir, make_private_file
from storage.migrations import LATEST_VERSION, MIGRATIONS
from storage.schema_status import SchemaMismatch

logger = logging.getLogger(__name__)

Connection = aiosqlite.Connection  # what modules outside storage name a connection by (they never import aiosqlite)
Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")
SyncConnection = sqlite3.Connection  # the writer's plain connection, inside its own thread (``in_thread``)


class StorageFailure(enum.Enum):
    """What kind of storage failure an exception is (``failure_kind``): the one classification intake
    (a file's result) and the engine (keep the write, or fail it) both use."""

    DISK_FULL = "disk_full"  # no room: a full disk, a quota, the process's file size limit
    BUSY = "busy"  # another connection holds the lock (past busy_timeout)
    IO = "io"  # any other I/O failure of the database file (read error, cannot open it)
    OTHER = "other"  # any other SQLite error: the write itself is wrong (a constraint, a bug, corruption)

    @property
    def unavailable(self) -> bool:
        """The database cannot be written *now*; the same write may succeed unchanged later."""
        return self is not StorageFailure.OTHER


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""No space, over quota, or over the process's file size limit (RLIMIT_FSIZE, Python ignores SIGXFSZ)."""

# SQLite says SQLITE_FULL only for ENOSPC; a write() failing with EDQUOT or EFBIG is SQLITE_IOERR_WRITE
# (os_unix.c unixWrite), and a -shm that cannot grow is SQLITE_IOERR_SHMSIZE: all "no room" to a person.
_DISK_FULL_CODES = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR_WRITE, sqlite3.SQLITE_IOERR_SHMSIZE})
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_PROTOCOL})
_IO_CODES = frozenset({sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN})


def failure_kind(exc: BaseException) -> StorageFailure | None:
    """The kind of storage failure ``exc`` is; None when it is none (a network error, a bug...).

    Extended result codes are compared whole first (``IOERR_WRITE`` is a full disk to us), then by their
    primary code (``& 0xFF``). An OSError counts only when it says the disk is full (staging a file):
    any other OSError is no storage failure here (Telethon's network errors are OSErrors too)."""
    if isinstance(exc, StorageBusy):
        return StorageFailure.BUSY
    if isinstance(exc, OSError):
        return StorageFailure.DISK_FULL if exc.errno in DISK_FULL_ERRNOS else None
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):  # raised without a code (sqlite3 itself, an older Python): its text
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StorageFailure.BUSY
        if "disk is full" in text:
            return StorageFailure.DISK_FULL
        return StorageFailure.OTHER
    if code in _DISK_FULL_CODES or code & 0xFF == sqlite3.SQLITE_FULL:
        return StorageFailure.DISK_FULL
    if code & 0xFF in _BUSY_CODES:
        return StorageFailure.BUSY
    if code & 0xFF in _IO_CODES:
        return StorageFailure.IO
    return StorageFailure.OTHER


def _is_busy(exc: BaseException) -> bool:
    return failure_kind(exc) is StorageFailure.BUSY


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is the database being unavailable for writing just now (``StorageBusy``: locked
    past ``busy_timeout``; a full disk; an I/O error) rather than a wrong write. Callers outside storage
    use it to tell a storage failure, which blames nobody and is retried, from everything else."""
    kind = failure_kind(exc)
    return kind is not None and kind.unavailable


def unavailable_reason(exc: BaseException) -> str:
    """What SQLite said, for a log line ("database is locked", "database or disk is full")."""
    cause = exc.__cause__ if isinstance(exc, StorageBusy) and exc.__cause__ is not None else exc
    return str(cause)


async def _configure(conn: aiosqlite.Connection, busy_timeout_ms: int) -> None:
    conn.row_factory = sqlite3.Row
    await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    await conn.execute("PRAGMA foreign_keys = ON")
    # NORMAL in WAL mode is durable against a process crash (SIGKILL); only an OS crash can lose
    # the last transactions, and it never corrupts the file.
    await conn.execute("PRAGMA synchronous = NORMAL")


MB = 1024 * 1024


@dataclass(frozen=True)
class WalPolicy:
    """How the WAL is kept bounded (see the module doc); ``[storage]`` in the config."""

    autocheckpoint_pages: int = 1000  # SQLite's own PASSIVE checkpoint after a commit past this many pages
    max_bytes: int = 64 * MB  # journal_size_limit, and the size past which a TRUNCATE checkpoint runs
    check_every: int = 200  # commits between two looks at the WAL file's size (one stat() each)
    patience_ms: int = 100  # how long the policy's checkpoint waits for readers (the writer waits with it)


@dataclass(frozen=True)
class Checkpoint:
    """What one ``PRAGMA wal_checkpoint`` said: whether a reader kept it from finishing, the WAL's pages
    and how many of them reached the database."""

    busy: bool
    wal_pages: int
    checkpointed: int


class Database:
    """The adbot database: migrations, a serialised writer and a concurrent reader."""

    def __init__(self, path: Path, busy_timeout_ms: int = 5000, wal: WalPolicy | None = None) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.wal = wal or WalPolicy()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.commits = 0  # write transactions committed through this object
        self.checkpoints = 0  # TRUNCATE checkpoints the policy ran
        self.wal_peak = 0  # the largest WAL size (bytes) the policy's looks saw

    @classmethod
    async def open(
        cls, path: Path, busy_timeout_ms: int = 5000, wal: WalPolicy | None = None, *, migrate: bool = True
    ) -> Database:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date.

        ``migrate`` False (read-only commands: a monitor's ``adbot health`` must not migrate a database
        an older ``adbot run`` still uses, nor before the operator's ``adbot migrate``): a schema not at
        this adbot's version raises ``SchemaMismatch`` (nothing changed)."""
        db = cls(path, busy_timeout_ms, wal)
        # The database holds API hashes and who owns which session: owner-only from whichever command
        # opens it first (a CLI command before the first ``adbot run`` included). SQLite gives the
        # -wal and -shm files the database file's mode, so creating the database 0600 covers them;
        # any left from an older version are tightened here. An existing parent folder is left as it
        # is (it may be anything the caller chose); ``adbot run`` tightens the data dir itself.
        if not path.parent.exists():
            make_private_dir(path.parent)
        make_private_file(path)
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                companion.chmod(FILE_MODE)
        db._writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _configure(db._writer, busy_timeout_ms)
            await db._writer.execute("PRAGMA journal_mode = WAL")
            await db._writer.execute(f"PRAGMA wal_autocheckpoint = {int(db.wal.autocheckpoint_pages)}")
            await db._writer.execute(f"PRAGMA journal_size_limit = {int(db.wal.max_bytes)}")
            if migrate:
                await _migrate_schema(db._writer)
            else:
                current = await user_version(db._writer)
                if current != LATEST_VERSION:
                    raise SchemaMismatch(current, LATEST_VERSION)
            db._reader = await aiosqlite.connect(path, isolation_level=None)
            await _configure(db._reader, busy_timeout_ms)
            await db._reader.execute("PRAGMA query_only = ON")
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("database is closed")
        return self._writer

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[aiosqlite.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction on the writer; commits on success, rolls back on error."""
        async with self._write_lock:
            conn = self.writer
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    raise StorageBusy() from exc
                raise
            try:
                yield conn
            except BaseException:
                await _rollback(conn)
                raise
            try:
                await conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                await _rollback(conn)
                if _is_busy(exc):
                    raise StorageBusy() from exc
                raise
            await self._committed()

    @property
    def wal_path(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    def wal_bytes(self) -> int:
        """The WAL file's size now (0 when there is none)."""
        try:
            return self.wal_path.stat().st_size
        except FileNotFoundError:
            return 0

    async def _committed(self) -> None:
        """After a commit, under the write lock: every ``check_every`` commits, bound the WAL."""
        self.commits += 1
        if self.commits % self.wal.check_every:
            return
        size = self.wal_bytes()
        self.wal_peak = max(self.wal_peak, size)
        if size > self.wal.max_bytes:
            done = await self._checkpoint("TRUNCATE", patience_ms=self.wal.patience_ms)
            self.checkpoints += 1
            logger.debug("WAL at %.1f MB: checkpointed (%s)", size / MB, done)

    async def checkpoint(self, mode: str = "TRUNCATE") -> Checkpoint:
        """Run one checkpoint now (PASSIVE, FULL, RESTART or TRUNCATE), serialised with the writes."""
        async with self._write_lock:
            return await self._checkpoint(mode)

    async def _checkpoint(self, mode: str, patience_ms: int | None = None) -> Checkpoint:
        """``patience_ms``: how long it may wait for readers (a TRUNCATE waits for every reader to reach
        the latest snapshot, with the writer's busy_timeout otherwise); a reader still busy then leaves it
        done in part (``busy``), and the next look tries again."""
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(f"not a checkpoint mode: {mode!r}")
        wait = self.busy_timeout_ms if patience_ms is None else patience_ms

        def run(raw: sqlite3.Connection) -> Any:
            raw.execute(f"PRAGMA busy_timeout = {int(wait)}")
            try:
                return raw.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            finally:
                raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")

        with _busy_as_storage_busy():
            row = await in_thread(self.writer, run)
        busy, pages, done = (int(v) for v in row) if row is not None else (0, 0, 0)
        return Checkpoint(bool(busy), pages, done)

    async def transact_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the writer's plain sqlite3 connection, in that connection's own thread, inside
        ``BEGIN IMMEDIATE ... COMMIT`` (rolled back if it raises): a whole transaction in one round trip
        to the thread, where ``tx()`` makes one per statement. ``fn`` must not block or touch the loop.

        Serialised with ``tx()``."""
        async with self._write_lock:
            conn = self.writer

            def transaction(raw: sqlite3.Connection) -> T:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    value = fn(raw)
                    raw.execute("COMMIT")
                except BaseException:
                    if raw.in_transaction:
                        raw.execute("ROLLBACK")
                    raise
                return value

            with _busy_as_storage_busy():
                value = await in_thread(conn, transaction)
            await self._committed()
            return value

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """The reader connection (autocommit, query only): the last committed state."""
        if self._reader is None:
            raise RuntimeError("database is closed")
        yield self._reader


async def _rollback(conn: aiosqlite.Connection) -> None:
    """Roll back what is still open. On SQLITE_FULL, IOERR or NOMEM SQLite may have rolled the whole
    transaction back itself: a ROLLBACK then fails ("no transaction is active") and would replace the
    error that says why (a full disk) with one that says nothing."""
    if conn.in_transaction:
        await conn.execute("ROLLBACK")


def in_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
    """``fn(raw connection)`` in the connection's own thread: one round trip, where aiosqlite's cursor
    API makes three (execute, fetch, close), each a hop to the thread and back through the event loop.
    A reply to a customer does a handful of reads; under a busy engine every hop waits its turn in the
    loop. ``fn`` must not block or touch the loop. Uses aiosqlite's private ``_execute`` (pinned 0.22)."""
    run = cast(Callable[..., Awaitable[T]], conn._execute)
    return run(lambda: fn(conn._conn))


@contextmanager
def _busy_as_storage_busy() -> Iterator[None]:
    """SQLite's "locked"/"busy" (another process held the lock past busy_timeout) as ``StorageBusy``."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if _is_busy(exc):
            raise StorageBusy() from exc
        raise


def _statement(
    conn: aiosqlite.Connection, sql: str, params: Params, take: Callable[[sqlite3.Cursor], T]
) -> Awaitable[T]:
    """One statement and what ``take`` reads from its cursor, in one round trip."""

    def run(raw: sqlite3.Connection) -> T:
        cur = raw.execute(sql, params)
        try:
            return take(cur)
        finally:
            cur.close()

    return in_thread(conn, run)


async def fetchall(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    with _busy_as_storage_busy():
        return await _statement(conn, sql, params, sqlite3.Cursor.fetchall)


async def fetchone(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> sqlite3.Row | None:
    with _busy_as_storage_busy():
        row: sqlite3.Row | None = await _statement(conn, sql, params, sqlite3.Cursor.fetchone)
        return row


async def execute(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> int:
    """Run one statement; returns the number of changed rows."""
    with _busy_as_storage_busy():
        return await _statement(conn, sql, params, lambda cur: cur.rowcount)


@asynccontextmanager
async def savepoint(conn: aiosqlite.Connection, name: str) -> AsyncIterator[None]:
    """A nested step inside the caller's transaction: an ordinary error raised in the block undoes only
    the block's changes (``ROLLBACK TO``) and propagates; the enclosing transaction stays open.

    A BaseException (cancellation) skips that: the enclosing ``tx()`` rolls everything back anyway."""
    if not name.isidentifier():
        raise ValueError(f"not a savepoint name: {name!r}")
    await execute(conn, f"SAVEPOINT {name}")
    try:
        yield
    except Exception:
        await execute(conn, f"ROLLBACK TO {name}")
        await execute(conn, f"RELEASE {name}")
        raise
    await execute(conn, f"RELEASE {name}")


async def executemany(conn: aiosqlite.Connection, sql: str, rows: Iterable[Params]) -> None:
    with _busy_as_storage_busy():
        await conn.executemany(sql, rows)


async def user_version(conn: aiosqlite.Connection) -> int:
    row = await fetchone(conn, "PRAGMA user_version")
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, target: int = LATEST_VERSION) -> int:
    """Apply the pending migrations up to ``target``, each in its own transaction; returns the version."""
    current = await user_version(conn)
    if current > LATEST_VERSION:
        raise RuntimeError(
            f"database schema version {current} is newer than this adbot ({LATEST_VERSION}); upgrade adbot"
        )
    for version in range(current + 1, target + 1):
        script = MIGRATIONS[version - 1]
        try:
            await conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        logger.info("database migrated to schema version %d", version)
    return await user_version(conn)


_migrate_schema = migrate  # ``Database.open``'s ``migrate`` flag hides the function's name there
