"""Figures of a period: how many sends were delivered, failed, in doubt or skipped, in total, per day and
per group, for one customer or (``customer_id=None``) the whole service.

Two sources add up to every figure: the live ledger rows (``sends``, counted by ``finished_at``) and the
per-day aggregates of rows the retention job folded and deleted (``send_days``, issue 20 part B: a row is
in exactly one of the two, never both). A live row is placed by its exact time; an aggregate only by its
UTC day, so a period's bounds apply to aggregates by whole UTC days (``utc_day``): folded rows are older
than the retention period (90 days by default), far behind today, 7 and 30 days.

Counted rows have ended: a send still in flight ('pending') has no ``finished_at`` and counts nowhere.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.db import Connection, fetchall, fetchone

__all__ = [
    "Counts",
    "LastDelivery",
    "day_counts",
    "first_activity",
    "group_counts",
    "last_deliveries",
    "pruned_day_counts",
    "totals",
    "utc_day",
]


@dataclass(frozen=True)
class Counts:
    """Sends by how they ended: ``delivered`` is the ledger's 'sent'."""

    delivered: int = 0
    failed: int = 0
    in_doubt: int = 0
    skipped: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.delivered + other.delivered,
            self.failed + other.failed,
            self.in_doubt + other.in_doubt,
            self.skipped + other.skipped,
        )

    @property
    def tried(self) -> int:
        """Sends that reached Telegram and ended (delivered, failed or in doubt)."""
        return self.delivered + self.failed + self.in_doubt


@dataclass(frozen=True)
class LastDelivery:
    at: float
    message_id: int | None


def utc_day(ts: float) -> str:
    """The UTC day of a time, as ``send_days.day`` holds it."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


_LIVE_SUMS = (
    "COALESCE(SUM(outcome = 'sent'), 0), COALESCE(SUM(outcome = 'failed'), 0),"
    " COALESCE(SUM(outcome = 'in_doubt'), 0), COALESCE(SUM(outcome = 'skipped'), 0)"
)
# The outcomes of the partial index ``sends_undelivered_by_group``: a query names them exactly so that
# SQLite uses it.
_UNDELIVERED = "outcome IN ('failed', 'in_doubt', 'skipped', 'waiting')"
_LIVE_OTHER_SUMS = (
    "COALESCE(SUM(outcome = 'failed'), 0), COALESCE(SUM(outcome = 'in_doubt'), 0),"
    " COALESCE(SUM(outcome = 'skipped'), 0)"
)
_PRUNED_SUMS = (
    "COALESCE(SUM(delivered), 0), COALESCE(SUM(failed), 0), COALESCE(SUM(in_doubt), 0), COALESCE(SUM(skipped), 0)"
)


def _counts(row: sqlite3.Row | None, start: int = 0) -> Counts:
    if row is None:
        return Counts()
    return Counts(*(int(row[start + i] or 0) for i in range(4)))


def _live_where(customer_id: int | None, since: float | None, until: float | None) -> tuple[str, list[object]]:
    """The WHERE of live rows ended in [since, until) (an open bound: unbounded)."""
    clauses = ["finished_at IS NOT NULL"]
    params: list[object] = []
    if customer_id is not None:
        clauses.append("customer_id = ?")
        params.append(customer_id)
    if since is not None:
        clauses.append("finished_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("finished_at < ?")
        params.append(until)
    return " AND ".join(clauses), params


def _pruned_where(
    customer_id: int | None, since: float | None, until: float | None
) -> tuple[str, list[object]]:
    """The WHERE of aggregates whose UTC day overlaps [since, until)."""
    clauses = ["1 = 1"]
    params: list[object] = []
    if customer_id is not None:
        clauses.append("customer_id = ?")
        params.append(customer_id)
    if since is not None:
        clauses.append("day >= ?")
        params.append(utc_day(since))
    if until is not None:
        clauses.append("day <= ?")
        params.append(utc_day(until))
    return " AND ".join(clauses), params


async def totals(conn: Connection, customer_id: int | None, since: float | None, until: float | None) -> Counts:
    """Everything that ended in [since, until): live rows plus folded aggregates."""
    where, params = _live_where(customer_id, since, until)
    live = await fetchone(conn, f"SELECT {_LIVE_SUMS} FROM sends WHERE {where}", params)
    where, params = _pruned_where(customer_id, since, until)
    pruned = await fetchone(conn, f"SELECT {_PRUNED_SUMS} FROM send_days WHERE {where}", params)
    return _counts(live) + _counts(pruned)


async def day_counts(
    conn: Connection, customer_id: int | None, since: float, until: float, offset: int
) -> dict[str, Counts]:
    """Live rows ended in [since, until) per local day, for a stretch of time over which the reader's
    zone is ``offset`` seconds from UTC throughout (the caller splits a period at its zone's changes)."""
    where, params = _live_where(customer_id, since, until)
    rows = await fetchall(
        conn,
        f"SELECT date(finished_at + ?, 'unixepoch') AS day, {_LIVE_SUMS} FROM sends WHERE {where} GROUP BY day",
        [offset, *params],
    )
    return {str(r[0]): _counts(r, 1) for r in rows}


async def pruned_day_counts(
    conn: Connection, customer_id: int | None, since: float | None, until: float | None
) -> dict[str, Counts]:
    """Folded aggregates per UTC day overlapping [since, until)."""
    where, params = _pruned_where(customer_id, since, until)
    rows = await fetchall(
        conn, f"SELECT day, {_PRUNED_SUMS} FROM send_days WHERE {where} GROUP BY day", params
    )
    return {str(r[0]): _counts(r, 1) for r in rows}


async def group_counts(
    conn: Connection, customer_id: int, refs: Sequence[str], since: float | None, until: float | None
) -> dict[str, Counts]:
    """Per group of ``refs`` (a page of them): its sends ended in [since, until), live plus folded. A seek
    per group in each of ``sends_delivered_by_group`` and ``sends_undelivered_by_group``, so a page costs
    the same however many sends the customer's other groups have."""
    found: dict[str, Counts] = {}
    for ref in refs:
        where, params = _live_where(customer_id, since, until)
        delivered = await fetchone(
            conn, f"SELECT COUNT(*) FROM sends WHERE group_ref = ? AND outcome = 'sent' AND {where}", [ref, *params]
        )
        others = await fetchone(
            conn,
            f"SELECT 0, {_LIVE_OTHER_SUMS} FROM sends WHERE group_ref = ? AND {_UNDELIVERED} AND {where}",
            [ref, *params],
        )
        live = Counts(0 if delivered is None else int(delivered[0])) + _counts(others)
        where, params = _pruned_where(customer_id, since, until)
        pruned = await fetchone(
            conn, f"SELECT {_PRUNED_SUMS} FROM send_days WHERE group_ref = ? AND {where}", [ref, *params]
        )
        found[ref] = live + _counts(pruned)
    return found


async def last_deliveries(conn: Connection, customer_id: int, refs: Sequence[str]) -> dict[str, LastDelivery]:
    """Per group of ``refs``: its latest delivery still in the ledger (time and the new message's id).
    A group with none is absent."""
    found: dict[str, LastDelivery] = {}
    for ref in refs:
        row = await fetchone(
            conn,
            "SELECT finished_at, message_id FROM sends WHERE customer_id = ? AND group_ref = ? AND outcome = 'sent'"
            " AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
            (customer_id, ref),
        )
        if row is not None:
            found[ref] = LastDelivery(float(row[0]), None if row[1] is None else int(row[1]))
    return found


async def first_activity(conn: Connection, customer_id: int | None) -> float | None:
    """When the earliest counted send ended (a folded day: that day's UTC midnight); None: none yet."""
    where, params = _live_where(customer_id, None, None)
    live = await fetchone(conn, f"SELECT MIN(finished_at) FROM sends WHERE {where}", params)
    where, params = _pruned_where(customer_id, None, None)
    pruned = await fetchone(conn, f"SELECT MIN(day) FROM send_days WHERE {where}", params)
    found: list[float] = []
    if live is not None and live[0] is not None:
        found.append(float(live[0]))
    if pruned is not None and pruned[0] is not None:
        found.append(datetime.strptime(str(pruned[0]), "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    return min(found) if found else None
