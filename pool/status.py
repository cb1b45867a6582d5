"""The pool at a glance, for ``adbot pool status`` and the admins' status view in the bot."""

from __future__ import annotations

from typing import Any

from core.texts import admin as texts
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Database


async def pool_status(db: Database) -> dict[str, Any]:
    """Plain data (JSON-ready): sessions per state, API pair usage, sessions per customer. No secrets."""
    async with db.read() as conn:
        states = await session_rows.count_by_state(conn)
        pairs = await pair_rows.list_all(conn)
        owners = await session_rows.count_by_owner(conn)
        waiting = await session_rows.count_without_identity(conn)
    return {
        "sessions": states,
        "total": sum(states.values()),
        "free": states["unused"],
        "pairs": [
            {"api_id": p.api_id, "used": p.used, "capacity": p.capacity, "full": p.full} for p in pairs
        ],
        "pair_slots_free": sum(max(0, p.capacity - p.used) for p in pairs),
        "waiting_for_pair": waiting,  # live sessions no pair had room for: never used until one is added
        "customers": [
            {
                "customer_id": cid,
                "assigned": counts.get("assigned", 0),
                "cooling": counts.get("cooling", 0),
                "total": sum(counts.values()),
            }
            for cid, counts in sorted(owners.items())
        ],
    }


def format_status(status: dict[str, Any]) -> str:
    """Plain text (no markup) for a terminal or a chat message."""
    return texts.pool_status_plain(status)
