"""Whether a session's account has Telegram Premium (``sessions.premium``): its own posts keep custom emoji
only then. Learnt from the account's self user where it is already read (``core.ports.AccountInfo``), never
by a request of its own; NULL until then."""

from __future__ import annotations

import aiosqlite

from storage.db import execute, fetchall

__all__ = ["for_owner", "record"]


async def record(conn: aiosqlite.Connection, session_id: int, premium: bool) -> bool:
    """The account's Premium as its self user said; False when the row already said so (no change)."""
    changed = await execute(
        conn, "UPDATE sessions SET premium = ? WHERE id = ? AND premium IS NOT ?", (int(premium), session_id,
                                                                                     int(premium)),
    )
    return changed > 0


async def for_owner(conn: aiosqlite.Connection, owner_id: int) -> dict[int, bool | None]:
    """Each of the customer's sessions: True / False as last learnt, None when not known yet."""
    rows = await fetchall(conn, "SELECT id, premium FROM sessions WHERE owner_id = ? ORDER BY id", (owner_id,))
    return {int(r[0]): None if r[1] is None else bool(r[1]) for r in rows}
