"""A customer's send attempts for ``/export``, one page at a time (keyset pagination in time order).

A page is read in one round trip to the reader's thread and holds at most ``limit`` plain tuples: an
export of a million rows never has more than one page in memory, and other readers (another customer's
/status) get the reader connection between two pages. The next page starts after the last row's
``(finished_at, id)``, which is unique and follows the index ``sends_by_customer_time`` (customer_id,
finished_at, rowid): each page is one index range, however deep into the export it is.

Rows are the attempts that ended (``finished_at`` set): one still in flight ('pending') is not one yet.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from storage.db import Connection, in_thread

__all__ = ["ExportRow", "Position", "export_page"]


class ExportRow(NamedTuple):
    id: int
    finished_at: float
    group_ref: str
    session_id: int | None
    outcome: str  # the ledger's: 'sent', 'failed', 'in_doubt', 'waiting', 'skipped'
    message_id: int | None


class Position(NamedTuple):
    """Where the previous page ended: its last row's time and id."""

    finished_at: float
    id: int


_PAGE_SQL = (
    "SELECT id, finished_at, group_ref, session_id, outcome, message_id FROM sends"
    " WHERE customer_id = ? AND finished_at >= ? AND finished_at < ?"
    " AND NOT (finished_at = ? AND id <= ?)"
    " ORDER BY finished_at, id LIMIT ?"
)


async def export_page(
    conn: Connection, customer_id: int, since: float, until: float, after: Position | None, limit: int
) -> list[ExportRow]:
    """Up to ``limit`` of the customer's attempts that ended in [since, until), after ``after`` (None:
    from the start), oldest first."""
    lower = since if after is None else max(since, after.finished_at)
    last_at, last_id = (since - 1.0, 0) if after is None else (after.finished_at, after.id)
    params = (customer_id, lower, until, last_at, last_id, limit)

    def run(raw: sqlite3.Connection) -> list[ExportRow]:
        cur = raw.cursor()
        cur.row_factory = None  # plain tuples: a million Row objects cost twice the time
        try:
            return [ExportRow._make(r) for r in cur.execute(_PAGE_SQL, params)]
        finally:
            cur.close()

    return await in_thread(conn, run)
