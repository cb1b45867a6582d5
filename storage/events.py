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
