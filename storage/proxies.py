"""Per-session proxies (``session_proxies``): the proxy a session connects through, who set it, and its
last check. No row: the session connects directly. ``spec`` holds the proxy's credentials (a secret,
like an API hash): read it only to connect or check; show ``ProxySpec.masked()``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from core.proxy import ProxySpec, parse_proxy
from storage.db import Connection, execute, fetchall, fetchone

SIDECAR = "sidecar"
CLI = "cli"


def by_admin(user_id: int) -> str:
    """``set_by`` of a proxy an admin set in the bot."""
    return f"admin:{user_id}"


@dataclass(frozen=True)
class ProxyRow:
    session_id: int
    spec: ProxySpec
    set_by: str
    set_at: float
    checked_at: float | None
    check_error: str | None  # None: the last check reached Telegram (or it was never checked)


def _row(row: sqlite3.Row) -> ProxyRow:
    return ProxyRow(
        session_id=row["session_id"],
        spec=parse_proxy(row["spec"]),
        set_by=row["set_by"],
        set_at=row["set_at"],
        checked_at=row["checked_at"],
        check_error=row["check_error"],
    )


async def get(conn: Connection, session_id: int) -> ProxyRow | None:
    row = await fetchone(conn, "SELECT * FROM session_proxies WHERE session_id = ?", (session_id,))
    return _row(row) if row else None


async def list_all(conn: Connection) -> dict[int, ProxyRow]:
    rows = await fetchall(conn, "SELECT * FROM session_proxies ORDER BY session_id")
    return {r["session_id"]: _row(r) for r in rows}


async def put(
    conn: Connection,
    session_id: int,
    spec: ProxySpec,
    *,
    set_by: str,
    now: float,
    checked_at: float | None = None,
    check_error: str | None = None,
) -> None:
    """Set (or replace) the session's proxy, with the check that was made before (if any)."""
    await execute(
        conn,
        "INSERT INTO session_proxies (session_id, spec, set_by, set_at, checked_at, check_error)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET spec = excluded.spec,"
        " set_by = excluded.set_by, set_at = excluded.set_at, checked_at = excluded.checked_at,"
        " check_error = excluded.check_error",
        (session_id, spec.url(), set_by, now, checked_at, check_error),
    )


async def clear(conn: Connection, session_id: int) -> bool:
    """The session connects directly from now on; False when it had no proxy."""
    return await execute(conn, "DELETE FROM session_proxies WHERE session_id = ?", (session_id,)) > 0


async def record_check(conn: Connection, session_id: int, now: float, error: str | None) -> None:
    """The outcome of a check of the session's current proxy (``error`` None: it reached Telegram)."""
    await execute(
        conn,
        "UPDATE session_proxies SET checked_at = ?, check_error = ? WHERE session_id = ?",
        (now, error, session_id),
    )
