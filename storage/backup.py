"""Consistent copies of SQLite files while their owner writes them, and the checks a restore makes.

The database is copied with SQLite's online backup API in one step: the copy is the last committed
state at one instant (a read transaction), and in WAL mode the service keeps writing meanwhile. A
Telethon ``.session`` file is SQLite too (rollback journal) and a running client writes to it, so it
is copied the same way rather than byte for byte (a torn copy of a page being written is possible
otherwise). Plain file I/O beside that is ``control_bot.backup``'s.

Synchronous: callers run these in a thread (``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from core.private_files import FILE_MODE
from storage.migrations import LATEST_VERSION

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0  # a writer holding its lock longer than this makes the copy fail (and be retried)


class SnapshotFailed(Exception):
    """SQLite could not copy a database (no database, damaged, locked past the busy timeout): its words."""


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` starts with SQLite's file header."""
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _open_existing(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    """A connection to a database that must exist (``mode=rw`` never creates one; ``ro`` for a copy
    nobody else writes). Closed on the way out."""
    mode = "ro" if read_only else "rw"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        yield conn
    finally:
        conn.close()


def snapshot(src: Path, dest: Path) -> None:
    """Copy the database ``src`` to the new file ``dest`` (0600, never overwriting) with the online
    backup API, all pages in one step: one consistent state, however busy the source is. Raises
    ``FileNotFoundError`` when ``src`` is gone (a session file moved meanwhile), ``SnapshotFailed``
    when it is no database or stayed locked."""
    if not src.is_file():
        raise FileNotFoundError(src)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    try:
        # rw, not ro: a read-only connection to a WAL database cannot always open its -shm; this one
        # only reads (query_only), and never creates a missing file (mode=rw).
        with _open_existing(src, read_only=False) as source:
            source.execute("PRAGMA query_only = ON")
            target = sqlite3.connect(dest)
            try:
                source.backup(target, pages=-1)
                # The copy stands alone: a plain rollback-journal file, no -wal beside it to lose.
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
        dest.chmod(FILE_MODE)
        with dest.open("rb+") as fh:
            os.fsync(fh.fileno())
    except sqlite3.Error as exc:
        dest.unlink(missing_ok=True)
        if not src.is_file():
            raise FileNotFoundError(src) from None
        raise SnapshotFailed(str(exc)) from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


def integrity_problems(path: Path, limit: int = 20) -> list[str]:
    """What ``PRAGMA integrity_check`` finds wrong with the database at ``path`` (at most ``limit``
    lines); empty when it is sound. A file that is no database is one problem."""
    try:
        with _open_existing(path, read_only=True) as conn:
            rows = conn.execute(f"PRAGMA integrity_check({int(limit)})").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def schema_version(path: Path) -> int:
    """The database's schema version (``PRAGMA user_version``: the last migration applied)."""
    with _open_existing(path, read_only=True) as conn:
        row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def newer_than_this_adbot(version: int) -> bool:
    """A schema this adbot cannot open (made by a newer adbot): restoring it would only fail at start."""
    return version > LATEST_VERSION


__all__ = [
    "LATEST_VERSION",
    "SQLITE_HEADER",
    "SnapshotFailed",
    "integrity_problems",
    "is_sqlite",
    "newer_than_this_adbot",
    "schema_version",
    "snapshot",
]
