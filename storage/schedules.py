"""The campaign's schedule (columns of ``customers``, migration "issue 19 part B") with the zone it is read
in (the customer's ``users.time_zone``; none: UTC)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import aiosqlite

from core.i18n import zone
from core.schedule import Schedule
from storage.db import execute, fetchall, fetchone

_SELECT = (
    "SELECT c.user_id, c.schedule_days, c.schedule_start, c.schedule_end, u.time_zone"
    " FROM customers c LEFT JOIN users u ON u.user_id = c.user_id"
)


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(row["schedule_days"], row["schedule_start"], row["schedule_end"], zone(row["time_zone"]))


async def get(conn: aiosqlite.Connection, customer_id: int) -> Schedule | None:
    """The customer's schedule; None when there is no such customer."""
    row = await fetchone(conn, _SELECT + " WHERE c.user_id = ?", (customer_id,))
    return None if row is None else _schedule(row)


async def of_customers(conn: aiosqlite.Connection, customer_ids: Iterable[int]) -> dict[int, Schedule]:
    """The schedules of these customers that are not "always" (one query: used at start-up)."""
    wanted = set(customer_ids)
    rows = await fetchall(
        conn, _SELECT + " WHERE c.schedule_days != 127 OR c.schedule_start != c.schedule_end"
    )
    return {row["user_id"]: _schedule(row) for row in rows if row["user_id"] in wanted}


async def set_schedule(conn: aiosqlite.Connection, customer_id: int, days: int, start: int, end: int) -> bool:
    """Store the days and the window (the zone is the person's own); False: no such customer."""
    return (
        await execute(
            conn,
            "UPDATE customers SET schedule_days = ?, schedule_start = ?, schedule_end = ? WHERE user_id = ?",
            (days, start, end, customer_id),
        )
        > 0
    )
