"""Reads for ``adbot health``'s verdict (``control_bot.cli.health``): what a monitor asks the database
beside the report the bot's /health shows."""

from __future__ import annotations

from storage.db import Connection, fetchone


async def overdue_campaigns(conn: Connection, before: float) -> int:
    """Running campaigns between two cycles whose next cycle was due before ``before`` (the engine
    should have started it by then). A cycle in progress is not counted: a long one is not a fault."""
    row = await fetchone(
        conn,
        "SELECT COUNT(*) FROM customers WHERE status = 'running' AND cycle_finished_at IS NOT NULL"
        " AND next_cycle_at IS NOT NULL AND next_cycle_at < ?",
        (before,),
    )
    return int(row[0]) if row else 0
