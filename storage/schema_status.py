"""What ``adbot migrate --check`` reports: the schema version a database file is at, the latest this
adbot brings, and the migrations that would run, read without changing anything.

The file is opened read-only (``mode=ro``; a missing file is not created: every migration would run
at the first start) with the standard ``sqlite3`` module: one ``PRAGMA user_version``, no event loop.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from core.errors import AdbotError
from core.texts import cli as texts
from storage.migrations import LATEST_VERSION, MIGRATIONS

_OBJECT = re.compile(
    r"\b(CREATE|ALTER|DROP)\s+(?:UNIQUE\s+)?(TABLE|INDEX|TRIGGER|VIEW)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(\w+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Migration:
    """One migration as the check lists it: its number, the first comment line of its SQL (or None),
    and the schema objects it creates, alters or drops, as ('create', 'table', 'send_days')."""

    version: int
    note: str | None
    changes: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class SchemaStatus:
    path: Path
    exists: bool
    current: int  # 0 for a missing file
    latest: int

    @property
    def newer(self) -> bool:
        """The file was migrated by a newer adbot: this one refuses to open it."""
        return self.current > self.latest

    @property
    def behind(self) -> int:
        """Migrations this adbot would run on it (0: up to date, or newer)."""
        return max(0, self.latest - self.current)

    @property
    def pending(self) -> tuple[Migration, ...]:
        return tuple(describe(v) for v in range(self.current + 1, self.latest + 1))


def describe(version: int) -> Migration:
    """Migration ``version`` (1-based) as the check lists it."""
    sql = MIGRATIONS[version - 1]
    note = None
    for line in sql.splitlines():
        line = line.strip()
        if line.startswith("--"):
            note = line.lstrip("-").strip() or None
            break
        if line:
            break
    changes = tuple((verb.lower(), kind.lower(), name) for verb, kind, name in _OBJECT.findall(sql))
    return Migration(version, note, changes)


def schema_status(path: Path) -> SchemaStatus:
    """The schema version of the database at ``path``, read-only."""
    if not path.exists():
        return SchemaStatus(path, False, 0, LATEST_VERSION)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("PRAGMA user_version").fetchone()
    finally:
        conn.close()
    return SchemaStatus(path, True, int(row[0]) if row else 0, LATEST_VERSION)


class SchemaMismatch(AdbotError):
    """A database opened without migrating (a read-only command) is not at this adbot's schema version:
    behind (``adbot migrate`` brings it up, under the instance lock) or newer (a newer adbot migrated it).
    One line, never a traceback, and nothing is changed."""

    def __init__(self, current: int, latest: int) -> None:
        message = texts.schema_newer(current, latest) if current > latest else texts.schema_behind(latest - current)
        super().__init__(message)
        self.current = current
        self.latest = latest
