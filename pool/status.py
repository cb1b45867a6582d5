"""The pool at a glance, for ``adbot pool status`` and the admins' status view in the bot."""

from __future__ import annotations

from typing import Any

from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Database


async def pool_status(db: Database) -> dict[str, Any]:
    """Plain data (JSON-ready): sessions per state, API pair usage, sessions per customer. No secrets."""
    async with db.read() as conn:
        states = await session_rows.count_by_state(conn)
        pairs = await pair_rows.list_all(conn)
        owners = await session_rows.count_by_owner(conn)
    return {
        "sessions": states,
        "total": sum(states.values()),
        "free": states["unused"],
        "pairs": [
            {"api_id": p.api_id, "used": p.used, "capacity": p.capacity, "full": p.full} for p in pairs
        ],
        "pair_slots_free": sum(max(0, p.capacity - p.used) for p in pairs),
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
    s = status["sessions"]
    lines = [
        f"Sessions: {status['total']} total, {s['unused']} free, {s['assigned']} assigned,"
        f" {s['cooling']} cooling, {s['limited']} limited, {s['dead']} dead",
    ]
    if status["pairs"]:
        lines.append(f"API pairs ({status['pair_slots_free']} free slot(s)):")
        lines += [
            f"  {p['api_id']}: {p['used']}/{p['capacity']}" + (" (full)" if p["full"] else "")
            for p in status["pairs"]
        ]
    else:
        lines.append("API pairs: none (add one with 'adbot pairs add API_ID API_HASH')")
    if status["customers"]:
        lines.append("Customers:")
        lines += [
            f"  {c['customer_id']}: {c['total']} session(s)" + (f", {c['cooling']} cooling" if c["cooling"] else "")
            for c in status["customers"]
        ]
    return "\n".join(lines)
