"""What the Prometheus endpoint reads at scrape time (``control_bot.metrics``): a few aggregate queries, each
over a small table or an indexed range, so a scrape costs the send path nothing."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.db import fetchall, fetchone


@dataclass(frozen=True)
class Totals:
    """Since the service began (``stats``: never pruned, so these only grow)."""

    sent: int
    failed: int
    flood_waits: int


async def totals(conn: aiosqlite.Connection) -> Totals:
    row = await fetchone(
        conn,
        "SELECT COALESCE(SUM(total_success), 0), COALESCE(SUM(total_failures), 0),"
        " COALESCE(SUM(total_flood_waits), 0) FROM stats",
    )
    assert row is not None
    return Totals(int(row[0]), int(row[1]), int(row[2]))


async def failures_since(conn: aiosqlite.Connection, since: float) -> dict[str, int]:
    """Failed sends finished since ``since`` per classified error name (``sends_by_time`` range)."""
    rows = await fetchall(
        conn,
        "SELECT COALESCE(error, 'unknown'), COUNT(*) FROM sends WHERE finished_at >= ? AND outcome = 'failed'"
        " GROUP BY 1",
        (since,),
    )
    return {str(r[0]): int(r[1]) for r in rows}


async def waiting_sessions(conn: aiosqlite.Connection, now: float) -> dict[str, int]:
    """Sessions inside a flood wait now, per method class."""
    rows = await fetchall(
        conn, "SELECT method, COUNT(*) FROM method_waits WHERE until > ? GROUP BY method", (now,)
    )
    return {str(r[0]): int(r[1]) for r in rows}


@dataclass(frozen=True)
class Lag:
    overdue: int  # running campaigns whose next cycle is due and has not started
    max_lag: float  # how late the most overdue one is (seconds; 0 when none)


async def cycle_lag(conn: aiosqlite.Connection, now: float) -> Lag:
    row = await fetchone(
        conn,
        "SELECT COUNT(*), COALESCE(MAX(? - next_cycle_at), 0) FROM customers"
        " WHERE status = 'running' AND next_cycle_at IS NOT NULL AND next_cycle_at < ?"
        " AND (cycle_started_at IS NULL OR cycle_finished_at IS NOT NULL)",
        (now, now),
    )
    assert row is not None
    return Lag(int(row[0]), float(row[1]))
