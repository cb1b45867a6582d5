"""Counters in a customer's ``stats`` row written outside a send: the sessions of theirs that died (the
pool) and flood waits before any send (the engine: connecting, resolving). The counters of sends
themselves are written with the sends, in ``storage.ledger``.
"""

from __future__ import annotations

import aiosqlite

from storage.db import execute


async def count_banned_session(conn: aiosqlite.Connection, customer_id: int) -> None:
    """One more of the customer's sessions died (creating their stats row if they have none yet)."""
    await execute(
        conn,
        "INSERT INTO stats (customer_id, banned_sessions) VALUES (?, 1) ON CONFLICT (customer_id)"
        " DO UPDATE SET banned_sessions = banned_sessions + 1",
        (customer_id,),
    )


async def count_flood_wait(conn: aiosqlite.Connection, customer_id: int) -> None:
    """A flood wait outside any send (connecting, resolving) in the customer's statistics."""
    await execute(
        conn,
        "INSERT INTO stats (customer_id, total_flood_waits) VALUES (?, 1) ON CONFLICT (customer_id)"
        " DO UPDATE SET total_flood_waits = total_flood_waits + 1",
        (customer_id,),
    )
