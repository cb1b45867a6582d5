"""Plan changes an admin was shown and has not confirmed yet (``control_bot.services.plans``).

A proposal is the change (grant or revoke, sessions, days) and the plan it was computed from; its token
rides in the Confirm button. It is short-lived and single use: ``take`` removes it, so a second tap, a
forged token, another admin's token or an old one finds nothing. The plan it was computed from is kept
so a change made meanwhile (another admin, the same admin twice) is refused rather than applied blind.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import aiosqlite

from storage.db import execute, fetchone

_COLUMNS = "token, admin_id, user_id, kind, sessions, days, before_sessions, before_expires_at, created_at"


@dataclass(frozen=True)
class StoredProposal:
    token: str
    admin_id: int  # only this admin may confirm it
    user_id: int
    kind: str  # 'grant' | 'revoke'
    sessions: int  # the new plan's sessions (0 for a revoke)
    days: int  # days added (0 for a revoke)
    before_sessions: int | None  # the plan it was computed from; None: not a customer then
    before_expires_at: float | None
    created_at: float


def _row(row: sqlite3.Row) -> StoredProposal:
    return StoredProposal(
        token=row["token"],
        admin_id=row["admin_id"],
        user_id=row["user_id"],
        kind=row["kind"],
        sessions=row["sessions"],
        days=row["days"],
        before_sessions=row["before_sessions"],
        before_expires_at=row["before_expires_at"],
        created_at=row["created_at"],
    )


async def put(conn: aiosqlite.Connection, proposal: StoredProposal) -> None:
    await execute(
        conn,
        f"INSERT INTO plan_proposals ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            proposal.token,
            proposal.admin_id,
            proposal.user_id,
            proposal.kind,
            proposal.sessions,
            proposal.days,
            proposal.before_sessions,
            proposal.before_expires_at,
            proposal.created_at,
        ),
    )


async def find(conn: aiosqlite.Connection, token: str, admin_id: int, *, since: float) -> StoredProposal | None:
    """The admin's proposal with this token made at or after ``since`` (older ones are stale)."""
    row = await fetchone(
        conn,
        f"SELECT {_COLUMNS} FROM plan_proposals WHERE token = ? AND admin_id = ? AND created_at >= ?",
        (token, admin_id, since),
    )
    return _row(row) if row is not None else None


async def take(conn: aiosqlite.Connection, token: str, admin_id: int, *, since: float) -> StoredProposal | None:
    """Remove and return the admin's proposal (at or after ``since``): it can be used once."""
    found = await find(conn, token, admin_id, since=since)
    if found is not None:
        await execute(conn, "DELETE FROM plan_proposals WHERE token = ?", (token,))
    return found


async def drop(conn: aiosqlite.Connection, token: str, admin_id: int) -> bool:
    """Cancel: False when there was no such proposal of this admin's."""
    return await execute(conn, "DELETE FROM plan_proposals WHERE token = ? AND admin_id = ?", (token, admin_id)) > 0


async def drop_older_than(conn: aiosqlite.Connection, before: float) -> int:
    """Forget stale proposals (each new one sweeps them: the table stays small)."""
    return await execute(conn, "DELETE FROM plan_proposals WHERE created_at < ?", (before,))
