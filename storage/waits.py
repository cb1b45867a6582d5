"""Flood waits per (session, method class): ``method_waits``, one row each, persisted across restarts.

The classes are ``core.waits.MethodClass``. A wait is never shortened (a later, shorter one changes
nothing); rows whose time has passed mean nothing and are deleted by ``clear_expired``. The 'send'
class is also the session's ``cooldown_until`` and its 'cooling' state (``storage.sessions``): recording
a send wait here records both, and ``storage.sessions.record_cooldown`` writes this row too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import cast

import aiosqlite

from core.waits import MethodClass
from storage import sessions as session_rows
from storage.db import execute, fetchall, fetchone

__all__ = ["active", "clear_expired", "for_session", "for_sessions", "hold", "record", "until", "waiting"]

Waits = dict[MethodClass, float]


async def record(conn: aiosqlite.Connection, session_id: int, method: MethodClass, until: float, now: float) -> None:
    """No request of ``method``'s class from the session before ``until`` (never shortens a wait). A
    send wait is the session's cooldown too: an owned session becomes 'cooling'."""
    if method == "send":
        await session_rows.record_cooldown(conn, session_id, until, now)  # writes this table's row too
        return
    await execute(
        conn,
        "INSERT INTO method_waits (session_id, method, until) VALUES (?, ?, ?)"
        " ON CONFLICT (session_id, method) DO UPDATE SET until = MAX(until, excluded.until)",
        (session_id, method, until),
    )


async def until(conn: aiosqlite.Connection, session_id: int, method: MethodClass) -> float | None:
    """Until when the session's requests of the class wait (None: no wait recorded; maybe past)."""
    row = await fetchone(
        conn, "SELECT until FROM method_waits WHERE session_id = ? AND method = ?", (session_id, method)
    )
    return None if row is None else float(row[0])


async def hold(conn: aiosqlite.Connection, session_id: int, methods: Sequence[MethodClass]) -> float:
    """The latest wait of any of the classes (0.0 when none is recorded): no such request before it."""
    if not methods:
        return 0.0
    marks = ", ".join("?" * len(methods))
    row = await fetchone(
        conn,
        f"SELECT MAX(until) FROM method_waits WHERE session_id = ? AND method IN ({marks})",
        (session_id, *methods),
    )
    return 0.0 if row is None or row[0] is None else float(row[0])


async def for_session(conn: aiosqlite.Connection, session_id: int, now: float) -> Waits:
    """The session's waits still running at ``now``, by class."""
    rows = await fetchall(
        conn, "SELECT method, until FROM method_waits WHERE session_id = ? AND until > ?", (session_id, now)
    )
    return {cast(MethodClass, r[0]): float(r[1]) for r in rows}


async def for_sessions(conn: aiosqlite.Connection, session_ids: Collection[int], now: float) -> dict[int, Waits]:
    """The waits still running at ``now`` of these sessions (those without any are absent)."""
    if not session_ids:
        return {}
    marks = ", ".join("?" * len(session_ids))
    rows = await fetchall(
        conn,
        f"SELECT session_id, method, until FROM method_waits WHERE until > ? AND session_id IN ({marks})",
        (now, *session_ids),
    )
    found: dict[int, Waits] = {}
    for r in rows:
        found.setdefault(int(r[0]), {})[cast(MethodClass, r[1])] = float(r[2])
    return found


async def active(conn: aiosqlite.Connection, now: float) -> dict[int, Waits]:
    """Every wait still running at ``now``, by session and class (what the engine loads at start-up)."""
    rows = await fetchall(conn, "SELECT session_id, method, until FROM method_waits WHERE until > ?", (now,))
    found: dict[int, Waits] = {}
    for r in rows:
        found.setdefault(int(r[0]), {})[cast(MethodClass, r[1])] = float(r[2])
    return found


async def waiting(conn: aiosqlite.Connection, method: MethodClass, now: float) -> dict[int, float]:
    """Sessions whose requests of the class wait now, and until when."""
    rows = await fetchall(
        conn,
        "SELECT session_id, until FROM method_waits WHERE method = ? AND until > ? ORDER BY session_id",
        (method, now),
    )
    return {int(r[0]): float(r[1]) for r in rows}


async def clear_expired(conn: aiosqlite.Connection, now: float) -> int:
    """Delete the waits that are over (the send class's is cleared with the cooldown, which also ends
    the 'cooling' state: ``storage.sessions.clear_cooldown``); returns how many went."""
    return await execute(conn, "DELETE FROM method_waits WHERE until <= ? AND method != 'send'", (now,))
