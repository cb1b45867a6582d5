"""The pool's share of a customer's ``stats`` row: the sessions of theirs that died.

(The engine's counters in the same row, sends and failures, are written with the sends in
``storage.ledger``.)
"""

from __future__ import annotations

import aiosqlite

from storage.db import execute


async def count_banned_session(conn: aiosqlite.Connection, customer_id: int) -> None:
    """One more of the customer's sessions died (creating their stats row if they have none yet)."""
    await execute(conn, "INSERT OR IGNORE INTO stats (customer_id) VALUES (?)", (customer_id,))
    await execute(conn, "UPDATE stats SET banned_sessions = banned_sessions + 1 WHERE customer_id = ?", (customer_id,))
