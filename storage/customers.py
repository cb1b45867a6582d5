"""Customers: their plan (sessions, expiry) and their one campaign (posts, rotation, copy mode, interval,
status, cycle).

The campaign's posts are rows of ``storage.posts``; a ``Customer`` carries its first post's fields
(``post_*``, what the one-post screens and /status show) and how many posts it has (``post_count``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from core.states import CampaignStatus
from storage import posts
from storage.db import execute, fetchall, fetchone

DAY = 86_400.0


@dataclass(frozen=True)
class Customer:
    user_id: int
    plan_sessions: int
    plan_expires_at: float
    created_at: float
    post_kind: str | None
    post_link: str | None
    post_peer: str | None
    post_msg_id: int | None
    post_text: str | None
    post_entities: list[dict[str, Any]]
    drop_author: bool
    interval_s: int
    status: CampaignStatus
    stop_reason: str | None
    cycle_no: int
    cycle_started_at: float | None
    cycle_finished_at: float | None
    next_cycle_at: float | None
    updated_at: float
    post_media: int = 0  # items of the first post's own media (``storage.post_media``); 0: none
    post_count: int = 0  # the campaign's posts (``storage.posts``)
    rotation: str = "order"  # which post a cycle carries: 'order' | 'random' | 'fixed' (``storage.posts``)
    drop_media_captions: bool = False  # forwards without their media captions (only with ``drop_author``)
    cycle_post_id: int | None = None  # the post the open (or last) cycle carries (``engine.rotation``)

    def plan_active(self, now: float) -> bool:
        return self.plan_sessions > 0 and self.plan_expires_at > now

    @property
    def has_post(self) -> bool:
        return self.post_count > 0

    @property
    def cycle_in_progress(self) -> bool:
        return self.cycle_started_at is not None and self.cycle_finished_at is None


def _row(row: sqlite3.Row) -> Customer:
    return Customer(
        user_id=row["user_id"],
        plan_sessions=row["plan_sessions"],
        plan_expires_at=row["plan_expires_at"],
        created_at=row["created_at"],
        post_kind=row["post_kind"],
        post_link=row["post_link"],
        post_peer=row["post_peer"],
        post_msg_id=row["post_msg_id"],
        post_text=row["post_text"],
        post_entities=json.loads(row["post_entities"]) if row["post_entities"] else [],
        drop_author=bool(row["drop_author"]),
        interval_s=row["interval_s"],
        status=row["status"],
        stop_reason=row["stop_reason"],
        cycle_no=row["cycle_no"],
        cycle_started_at=row["cycle_started_at"],
        cycle_finished_at=row["cycle_finished_at"],
        next_cycle_at=row["next_cycle_at"],
        updated_at=row["updated_at"],
        post_media=row["post_media"],
        post_count=row["post_count"],
        rotation=row["rotation"],
        drop_media_captions=bool(row["drop_media_captions"]),
        cycle_post_id=row["cycle_post_id"],
    )


def with_post(
    customer: Customer, *, kind: str, link: str | None = None, peer: str | None = None, msg_id: int | None = None,
    text: str | None = None, entities: Sequence[dict[str, Any]] = (), media: int = 0,
) -> Customer:
    """The customer as the one-post code reads it (``post_*``), carrying this post: the engine sends one of
    several posts through it, a preview of one of them reuses the /post router's."""
    return replace(
        customer, post_kind=kind, post_link=link, post_peer=peer, post_msg_id=msg_id, post_text=text,
        post_entities=[dict(e) for e in entities], post_media=media,
    )


# The customer's row with its first post's fields (storage.posts) under their former column names.
_SELECT = (
    "SELECT c.*, p.kind AS post_kind, p.link AS post_link, p.peer AS post_peer, p.msg_id AS post_msg_id,"
    " p.text AS post_text, p.entities AS post_entities, COALESCE(p.media, 0) AS post_media,"
    " (SELECT COUNT(*) FROM posts WHERE customer_id = c.user_id) AS post_count"
    " FROM customers c LEFT JOIN posts p ON p.id = (SELECT id FROM posts WHERE customer_id = c.user_id"
    " ORDER BY position, id LIMIT 1)"
)


async def get(conn: aiosqlite.Connection, user_id: int) -> Customer | None:
    row = await fetchone(conn, f"{_SELECT} WHERE c.user_id = ?", (user_id,))
    return _row(row) if row else None


async def list_all(conn: aiosqlite.Connection) -> list[Customer]:
    return [_row(r) for r in await fetchall(conn, f"{_SELECT} ORDER BY c.user_id")]


async def list_running(conn: aiosqlite.Connection) -> list[Customer]:
    rows = await fetchall(conn, f"{_SELECT} WHERE c.status = 'running' ORDER BY c.user_id")
    return [_row(r) for r in rows]


@dataclass(frozen=True)
class CycleTimes:
    running_campaigns: int
    last_started_at: float | None
    last_finished_at: float | None


async def cycle_times(conn: aiosqlite.Connection) -> CycleTimes:
    """How many campaigns run and when the latest cycle of any of them started and finished."""
    row = await fetchone(
        conn,
        "SELECT COALESCE(SUM(status = 'running'), 0), MAX(cycle_started_at), MAX(cycle_finished_at) FROM customers",
    )
    assert row is not None
    return CycleTimes(int(row[0]), row[1], row[2])


async def grant(
    conn: aiosqlite.Connection, user_id: int, sessions: int, days: float, now: float, default_interval: int
) -> Customer:
    """Create a customer or extend their plan: ``days`` are added to what is left (or to now)."""
    current = await get(conn, user_id)
    if current is None:
        await execute(
            conn,
            "INSERT INTO customers (user_id, plan_sessions, plan_expires_at, created_at, interval_s, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, sessions, now + days * DAY, now, default_interval, now),
        )
        await execute(conn, "INSERT OR IGNORE INTO stats (customer_id) VALUES (?)", (user_id,))
    else:
        base = max(now, current.plan_expires_at)
        await execute(
            conn,
            "UPDATE customers SET plan_sessions = ?, plan_expires_at = ?, updated_at = ? WHERE user_id = ?",
            (sessions, base + days * DAY, now, user_id),
        )
    granted = await get(conn, user_id)
    assert granted is not None
    return granted


async def end_plan(conn: aiosqlite.Connection, user_id: int, now: float, reason: str) -> None:
    """Revoke: the plan ends now and the campaign stops (data is kept)."""
    await execute(
        conn,
        "UPDATE customers SET plan_expires_at = MIN(plan_expires_at, ?), status = 'stopped',"
        " stop_reason = ?, next_cycle_at = NULL, updated_at = ? WHERE user_id = ?",
        (now, reason, now, user_id),
    )


async def set_post_link(
    conn: aiosqlite.Connection, user_id: int, link: str, peer: str, msg_id: int, drop_author: bool, now: float
) -> None:
    """The campaign's posts become this one channel's post (the /post flow)."""
    await posts.remove_all(conn, user_id)
    await posts.add_link(conn, user_id, link, peer, msg_id, now)
    await execute(
        conn, "UPDATE customers SET drop_author = ?, updated_at = ? WHERE user_id = ?", (int(drop_author), now, user_id)
    )


async def set_drop_author(conn: aiosqlite.Connection, user_id: int, drop_author: bool, now: float) -> None:
    """Whether channel posts are forwarded without their "Forwarded from" header (the preview's toggle);
    with the header, captions are kept too (Telegram drops captions only without it)."""
    await execute(
        conn,
        "UPDATE customers SET drop_author = ?, drop_media_captions = drop_media_captions AND ?, updated_at = ?"
        " WHERE user_id = ?",
        (int(drop_author), int(drop_author), now, user_id),
    )


async def set_copy_mode(
    conn: aiosqlite.Connection, user_id: int, drop_author: bool, drop_media_captions: bool, now: float
) -> None:
    """How channel posts are forwarded: with the header, without it, or without it and their captions."""
    await execute(
        conn, "UPDATE customers SET drop_author = ?, drop_media_captions = ?, updated_at = ? WHERE user_id = ?",
        (int(drop_author), int(drop_media_captions), now, user_id),
    )


async def set_rotation(conn: aiosqlite.Connection, user_id: int, rotation: str, now: float) -> None:
    """Which post a cycle carries (``posts.ROTATIONS``; the table's CHECK refuses anything else)."""
    await execute(
        conn, "UPDATE customers SET rotation = ?, updated_at = ? WHERE user_id = ?", (rotation, now, user_id)
    )


async def set_post_text(
    conn: aiosqlite.Connection, user_id: int, text: str, entities: Sequence[dict[str, Any]], now: float,
    *, media: int = 0,
) -> None:
    """The campaign's posts become this one own content (its ``media`` rows: ``post_media.set_own_post``)."""
    await posts.remove_all(conn, user_id)
    await posts.add_own(conn, user_id, text, entities, media, now)
    await execute(conn, "UPDATE customers SET updated_at = ? WHERE user_id = ?", (now, user_id))


async def set_interval(conn: aiosqlite.Connection, user_id: int, seconds: int, now: float) -> None:
    await execute(
        conn, "UPDATE customers SET interval_s = ?, updated_at = ? WHERE user_id = ?", (seconds, now, user_id)
    )


async def set_status(
    conn: aiosqlite.Connection,
    user_id: int,
    status: CampaignStatus,
    now: float,
    reason: str | None = None,
    next_cycle_at: float | None = None,
) -> None:
    await execute(
        conn,
        "UPDATE customers SET status = ?, stop_reason = ?, next_cycle_at = ?, updated_at = ? WHERE user_id = ?",
        (status, reason, next_cycle_at, now, user_id),
    )


async def set_next_cycle_at(conn: aiosqlite.Connection, user_id: int, at: float | None) -> None:
    """When the running campaign's next cycle is due (the interval changed)."""
    await execute(conn, "UPDATE customers SET next_cycle_at = ? WHERE user_id = ?", (at, user_id))


_BEGIN_CYCLE_SQL = (
    "UPDATE customers SET cycle_no = cycle_no + 1, cycle_started_at = ?, cycle_finished_at = NULL,"
    " cycle_post_id = ?, updated_at = ? WHERE user_id = ? RETURNING cycle_no"
)
_FINISH_CYCLE_SQL = (
    "UPDATE customers SET cycle_finished_at = ?, next_cycle_at = ?, updated_at = ?"
    " WHERE user_id = ? AND cycle_no = ?"
)


async def finish_cycle(
    conn: aiosqlite.Connection, user_id: int, cycle_no: int, now: float, next_cycle_at: float | None
) -> None:
    await execute(conn, _FINISH_CYCLE_SQL, (now, next_cycle_at, now, user_id, cycle_no))


# The same two writes on the plain sqlite3 connection, for the engine's group commit (``engine.ledger``
# runs them in the writer's own thread, many campaigns in one round trip).


def begin_cycle_sync(conn: sqlite3.Connection, user_id: int, now: float, post_id: int | None = None) -> int:
    """Open the next cycle, carrying ``post_id`` (``engine.rotation``: what a resumed cycle carries again)."""
    rows = conn.execute(_BEGIN_CYCLE_SQL, (now, post_id, now, user_id)).fetchall()  # run to completion
    if not rows:
        raise LookupError(f"no customer {user_id}")
    return int(rows[0][0])


def finish_cycle_sync(
    conn: sqlite3.Connection, user_id: int, cycle_no: int, now: float, next_cycle_at: float | None
) -> None:
    conn.execute(_FINISH_CYCLE_SQL, (now, next_cycle_at, now, user_id, cycle_no))


async def stop_all_running(conn: aiosqlite.Connection, now: float, reason: str) -> list[int]:
    """Stop every running campaign at once (start-up with ``on_restart = "stop"``): an open cycle is
    closed and its 'pending' sends become 'in_doubt', as one stop each would do. Returns who stopped."""
    await execute(
        conn,
        "UPDATE sends SET outcome = 'in_doubt', error = 'interrupted', finished_at = ? WHERE outcome = 'pending'"
        " AND EXISTS (SELECT 1 FROM customers c WHERE c.user_id = sends.customer_id AND c.status = 'running'"
        " AND c.cycle_no = sends.cycle_no AND c.cycle_started_at IS NOT NULL AND c.cycle_finished_at IS NULL)",
        (now,),
    )
    rows = await fetchall(
        conn,
        "UPDATE customers SET cycle_finished_at = CASE WHEN cycle_started_at IS NOT NULL"
        " AND cycle_finished_at IS NULL THEN ? ELSE cycle_finished_at END, status = 'stopped', stop_reason = ?,"
        " next_cycle_at = NULL, updated_at = ? WHERE status = 'running' RETURNING user_id",
        (now, reason, now),
    )
    return sorted(int(r[0]) for r in rows)


async def expiring(conn: aiosqlite.Connection, now: float, within: float) -> list[Customer]:
    """Customers whose plan is active now and ends within ``within`` seconds, soonest first (reminders)."""
    rows = await fetchall(
        conn,
        f"{_SELECT} WHERE c.plan_sessions > 0 AND c.plan_expires_at > ? AND c.plan_expires_at <= ?"
        " ORDER BY c.plan_expires_at, c.user_id",
        (now, now + within),
    )
    return [_row(r) for r in rows]
