"""Joins an admin asked for: one row per (session, target) request, from 'queued' to how it ended.

The rows are the queue (it survives restarts) and the pacing's memory: when a session's last join
request went out (``tried_at``) and how many went out in a day are read from them. A flood wait on
joining is the session's 'join' wait (``storage.waits``), apart from its send cooldown: a wait on
``channels.joinChannel`` says nothing about sending (Telegram's waits are per method).

Statuses: ``queued`` (waiting for its time), ``joined``, ``already`` (was a member), ``pending`` (a
join request the chat's admins approve or not: never followed up), ``refused`` (Telegram said no:
too many channels, an expired invite, a private chat...), ``failed`` (the session could not ask: dead,
limited, its file gone, an unknown error).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import aiosqlite

from storage.db import execute, fetchall, fetchone

JoinStatus = Literal["queued", "joined", "already", "pending", "refused", "failed"]
FINAL_STATUSES: tuple[JoinStatus, ...] = ("joined", "already", "pending", "refused", "failed")


@dataclass(frozen=True)
class JoinRow:
    id: int
    session_id: int
    target: str  # '@name' or '+<hash>'
    title: str | None
    status: JoinStatus
    reason: str | None
    requested_by: int
    created_at: float
    due_at: float
    tried_at: float | None
    done_at: float | None


_COLUMNS = "id, session_id, target, title, status, reason, requested_by, created_at, due_at, tried_at, done_at"


def _row(row: sqlite3.Row) -> JoinRow:
    return JoinRow(
        id=int(row["id"]),
        session_id=int(row["session_id"]),
        target=row["target"],
        title=row["title"],
        status=cast(JoinStatus, row["status"]),
        reason=row["reason"],
        requested_by=int(row["requested_by"]),
        created_at=float(row["created_at"]),
        due_at=float(row["due_at"]),
        tried_at=None if row["tried_at"] is None else float(row["tried_at"]),
        done_at=None if row["done_at"] is None else float(row["done_at"]),
    )


async def add(
    conn: aiosqlite.Connection,
    session_id: int,
    target: str,
    *,
    title: str | None,
    requested_by: int,
    now: float,
    due_at: float,
) -> int:
    """Queue one join; returns its id."""
    row = await fetchone(
        conn,
        "INSERT INTO joins (session_id, target, title, requested_by, created_at, due_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (session_id, target, title, requested_by, now, due_at),
    )
    assert row is not None
    return int(row[0])


async def get(conn: aiosqlite.Connection, join_id: int) -> JoinRow | None:
    row = await fetchone(conn, f"SELECT {_COLUMNS} FROM joins WHERE id = ?", (join_id,))
    return _row(row) if row is not None else None


async def queued_for(conn: aiosqlite.Connection, session_id: int) -> list[JoinRow]:
    """The session's queued joins, in the order they run."""
    rows = await fetchall(
        conn,
        f"SELECT {_COLUMNS} FROM joins WHERE session_id = ? AND status = 'queued' ORDER BY due_at, id",
        (session_id,),
    )
    return [_row(r) for r in rows]


async def open_targets(conn: aiosqlite.Connection, session_ids: Sequence[int], target: str) -> set[int]:
    """Which of the sessions already have this target queued or waiting for approval."""
    if not session_ids:
        return set()
    marks = ", ".join("?" * len(session_ids))
    rows = await fetchall(
        conn,
        f"SELECT DISTINCT session_id FROM joins WHERE target = ? AND status IN ('queued', 'pending')"
        f" AND session_id IN ({marks})",
        (target, *session_ids),
    )
    return {int(r[0]) for r in rows}


async def due(conn: aiosqlite.Connection, now: float) -> list[JoinRow]:
    """The first queued join of each session whose time has come, the longest due first."""
    rows = await fetchall(
        conn,
        f"SELECT {_COLUMNS} FROM joins j WHERE status = 'queued' AND due_at <= ?"
        " AND id = (SELECT id FROM joins k WHERE k.session_id = j.session_id AND k.status = 'queued'"
        "           ORDER BY due_at, id LIMIT 1)"
        " ORDER BY due_at, id",
        (now,),
    )
    return [_row(r) for r in rows]


async def tries_since(conn: aiosqlite.Connection, session_id: int, since: float) -> list[float]:
    """When the session's join requests went out since ``since``, oldest first (the daily count)."""
    rows = await fetchall(
        conn,
        "SELECT tried_at FROM joins WHERE session_id = ? AND tried_at IS NOT NULL AND tried_at > ?"
        " ORDER BY tried_at",
        (session_id, since),
    )
    return [float(r[0]) for r in rows]


async def mark_tried(conn: aiosqlite.Connection, join_id: int, now: float) -> None:
    """The join's request is about to go out: it counts from now on, whatever its answer."""
    await execute(conn, "UPDATE joins SET tried_at = ? WHERE id = ?", (now, join_id))


async def finish(conn: aiosqlite.Connection, join_id: int, status: JoinStatus, reason: str | None, now: float) -> None:
    """How the join ended (a final status)."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"not a final status: {status!r}")
    await execute(
        conn,
        "UPDATE joins SET status = ?, reason = ?, done_at = ? WHERE id = ? AND status = 'queued'",
        (status, reason, now, join_id),
    )


async def finish_queued(
    conn: aiosqlite.Connection,
    status: JoinStatus,
    reason: str,
    now: float,
    *,
    session_id: int | None = None,
    target: str | None = None,
) -> int:
    """End every queued join of a session, or of a target, at once (a session that died or holds too
    many channels, an invite that expired); returns how many."""
    if status not in FINAL_STATUSES or (session_id is None) == (target is None):
        raise ValueError("one final status, for one session or one target")
    column, value = ("session_id", session_id) if session_id is not None else ("target", target)
    return await execute(
        conn,
        f"UPDATE joins SET status = ?, reason = ?, done_at = ? WHERE status = 'queued' AND {column} = ?",
        (status, reason, now, value),
    )


async def set_due(conn: aiosqlite.Connection, join_id: int, due_at: float, reason: str | None = None) -> None:
    """A queued join's new time (pacing, a flood wait); ``reason`` says why it waits (None: no reason)."""
    await execute(
        conn,
        "UPDATE joins SET due_at = ?, reason = ? WHERE id = ? AND status = 'queued'",
        (due_at, reason, join_id),
    )


async def recent(conn: aiosqlite.Connection, limit: int) -> list[JoinRow]:
    """The newest joins first."""
    rows = await fetchall(conn, f"SELECT {_COLUMNS} FROM joins ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
    return [_row(r) for r in rows]
