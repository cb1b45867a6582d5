"""The notification outbox: events that need a person, recorded in the same transaction as the change
that caused them and delivered by the control bot (so a crash never loses a notification)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from core.states import EventKind
from storage.db import execute, fetchall, fetchone


@dataclass(frozen=True)
class Event:
    id: int
    customer_id: int | None  # None: for the admins
    kind: EventKind
    payload: dict[str, Any]
    created_at: float


async def add(
    conn: aiosqlite.Connection, customer_id: int | None, kind: EventKind, now: float, /, **payload: Any
) -> None:
    """``customer_id`` None: for the admins (a payload may then name the customer it is about)."""
    await execute(
        conn,
        "INSERT INTO events (customer_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        (customer_id, str(kind), json.dumps(payload, ensure_ascii=False), now),
    )


async def add_many(
    conn: aiosqlite.Connection, customer_ids: Sequence[int], kind: EventKind, now: float, **payload: Any
) -> None:
    """The same event for many customers in one statement (start-up tells every campaign at once)."""
    text = json.dumps(payload, ensure_ascii=False)
    await conn.executemany(
        "INSERT INTO events (customer_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        [(uid, str(kind), text, now) for uid in customer_ids],
    )


def _row(row: sqlite3.Row) -> Event:
    return Event(row["id"], row["customer_id"], EventKind(row["kind"]), json.loads(row["payload"]), row["created_at"])


async def undelivered(conn: aiosqlite.Connection, limit: int = 100) -> list[Event]:
    rows = await fetchall(
        conn, "SELECT * FROM events WHERE delivered_at IS NULL ORDER BY id LIMIT ?", (limit,)
    )
    return [_row(r) for r in rows]


async def mark_delivered(conn: aiosqlite.Connection, ids: Sequence[int], now: float) -> None:
    await conn.executemany("UPDATE events SET delivered_at = ? WHERE id = ?", [(now, i) for i in ids])


async def any_of_kind(conn: aiosqlite.Connection, kind: EventKind) -> bool:
    return await fetchone(conn, "SELECT 1 FROM events WHERE kind = ? LIMIT 1", (str(kind),)) is not None


async def list_for(conn: aiosqlite.Connection, customer_id: int | None, limit: int = 50) -> list[Event]:
    if customer_id is None:
        rows = await fetchall(conn, "SELECT * FROM events WHERE customer_id IS NULL ORDER BY id DESC LIMIT ?", (limit,))
    else:
        rows = await fetchall(
            conn, "SELECT * FROM events WHERE customer_id = ? ORDER BY id DESC LIMIT ?", (customer_id, limit)
        )
    return [_row(r) for r in rows]


async def told_recently(
    conn: aiosqlite.Connection, kind: EventKind, customer_id: int, reason: str, *, since: float
) -> bool:
    """Whether an admins' event of ``kind`` about this customer (payload ``customer_id``) for this
    ``reason`` was recorded at or after ``since``: told once, not at every retry."""
    row = await fetchone(
        conn,
        "SELECT 1 FROM events WHERE kind = ? AND customer_id IS NULL AND created_at >= ?"
        " AND json_extract(payload, '$.customer_id') = ? AND json_extract(payload, '$.reason') = ? LIMIT 1",
        (str(kind), since, customer_id, reason),
    )
    return row is not None


# --- issue 18 part G: the cycle summary, held events, reminders -------------------------------------


def add_sync(conn: sqlite3.Connection, customer_id: int | None, kind: EventKind, now: float, **payload: Any) -> None:
    """``add`` on the ledger writer's plain connection (in a ``run_sync`` operation)."""
    conn.execute(
        "INSERT INTO events (customer_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        (customer_id, str(kind), json.dumps(payload, ensure_ascii=False), now),
    )


def fold_sync(
    conn: sqlite3.Connection, customer_id: int, kinds: Sequence[EventKind], now: float
) -> list[dict[str, Any]]:
    """Every undelivered event of the customer of ``kinds`` (those held since the previous summary, written
    before the cycle opened or between cycles included), as ``{"kind": ..., **payload}`` in order, marked
    delivered: they travel inside the cycle's summary."""
    marks = ", ".join("?" for _ in kinds)
    rows = conn.execute(
        f"SELECT id, kind, payload FROM events WHERE delivered_at IS NULL AND customer_id = ? AND kind IN ({marks})"
        " ORDER BY id",
        (customer_id, *(str(k) for k in kinds)),
    ).fetchall()
    if rows:
        conn.executemany("UPDATE events SET delivered_at = ? WHERE id = ?", [(now, r[0]) for r in rows])
    return [{**json.loads(r[2]), "kind": r[1]} for r in rows]


async def deliverable(
    conn: aiosqlite.Connection, now: float, held: Sequence[EventKind], allowance: float, limit: int = 100
) -> list[Event]:
    """Undelivered events, oldest first, except the events of ``held`` kinds of a customer whose campaign
    is running (a cycle open or not: they go out folded into the next summary). The hold ends for all of a
    customer's held events at once when the oldest of them is older than the campaign's interval plus
    ``allowance`` (the next summary was due by then): they then go out together, never one by one."""
    marks = ", ".join("?" for _ in held)
    kinds = tuple(str(k) for k in held)
    rows = await fetchall(
        conn,
        "WITH oldest AS (SELECT customer_id, MIN(created_at) AS since FROM events"
        f"  WHERE delivered_at IS NULL AND customer_id IS NOT NULL AND kind IN ({marks}) GROUP BY customer_id)"
        " SELECT e.* FROM events e LEFT JOIN customers c ON c.user_id = e.customer_id"
        " LEFT JOIN oldest o ON o.customer_id = e.customer_id"
        " WHERE e.delivered_at IS NULL AND NOT ("
        f"  e.customer_id IS NOT NULL AND e.kind IN ({marks}) AND c.status = 'running'"
        "   AND o.since >= ? - c.interval_s - ?"
        " ) ORDER BY e.id LIMIT ?",
        (*kinds, *kinds, now, allowance, limit),
    )
    return [_row(r) for r in rows]


async def was_written(
    conn: aiosqlite.Connection, customer_id: int | None, kind: EventKind, **match: float | int | str
) -> bool:
    """Whether an event of ``kind`` for this customer (None: the admins) with these payload values exists:
    what a reminder remembers (one per plan expiry and threshold; one admin list a day)."""
    where = "".join(f" AND json_extract(payload, '$.{name}') = ?" for name in match)
    who = "customer_id IS NULL" if customer_id is None else "customer_id = ?"
    params: tuple[object, ...] = ((str(kind),) if customer_id is None else (str(kind), customer_id))
    row = await fetchone(
        conn, f"SELECT 1 FROM events WHERE kind = ? AND {who}{where} LIMIT 1", (*params, *match.values())
    )
    return row is not None


async def latest(conn: aiosqlite.Connection, customer_id: int, kind: EventKind) -> Event | None:
    """The customer's newest event of ``kind`` (e.g. the last cycle's summary, for /status)."""
    row = await fetchone(
        conn, "SELECT * FROM events WHERE customer_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
        (customer_id, str(kind)),
    )
    return _row(row) if row is not None else None


# --- retention (``control_bot.retention``): delivered events past the period go -------------------------

REMEMBERED_KINDS: tuple[EventKind, ...] = (
    EventKind.CYCLE_SUMMARY,  # ``latest``: /status shows the last cycle's summary, however old
    EventKind.PLAN_EXPIRING,  # ``was_written``: one reminder per plan expiry and threshold
    EventKind.EXPIRING_PLANS,  # ``was_written``: one admins' list a day
    EventKind.SESSIONS_SHORT,  # ``told_recently``: told once, not at every retry
)
"""Kinds code reads back as memory: the newest of each (customer, kind) stays whatever its age. (The
readers look back at most a plan's reminder window or a few hours, well inside any retention period, but
the newest one costs nothing and is what ``latest`` answers.)"""

_PRUNABLE = (
    "FROM events WHERE delivered_at IS NOT NULL AND created_at < ? AND id NOT IN"
    f" (SELECT MAX(id) FROM events WHERE kind IN ({', '.join('?' * len(REMEMBERED_KINDS))})"
    " GROUP BY customer_id, kind)"
)
_REMEMBERED = tuple(str(k) for k in REMEMBERED_KINDS)


async def prune_delivered(conn: aiosqlite.Connection, before: float, limit: int) -> int:
    """Delete up to ``limit`` of the oldest delivered events created before ``before``, but the newest
    of each (customer, kind) of ``REMEMBERED_KINDS``; undelivered ones always stay. Returns how many went."""
    cursor = await conn.execute(
        f"DELETE FROM events WHERE id IN (SELECT id {_PRUNABLE} ORDER BY id LIMIT ?)",
        (before, *_REMEMBERED, limit),
    )
    return cursor.rowcount


async def count_prunable(conn: aiosqlite.Connection, before: float) -> int:
    """How many events ``prune_delivered`` would delete (with no limit)."""
    row = await fetchone(conn, f"SELECT COUNT(*) {_PRUNABLE}", (before, *_REMEMBERED))
    return int(row[0]) if row else 0
