"""Slow mode: a group lets a member post once per window (10, 30, 60, 300, 900 or 3600 s).

Telegram's SLOWMODE_WAIT says how long is *left*; with when we last posted there it gives the window,
which is remembered on the group so that the engine never sends into it again (a post that goes through
opens the next window: ``storage.ledger``).
"""

from __future__ import annotations

from storage import groups
from storage import ledger as ledger_rows
from storage.db import Connection
from storage.groups import Group
from storage.ledger import Op

__all__ = ["SLOW_MODE_SLACK", "SLOW_MODE_WINDOWS", "record_slowmode", "slow_mode_window"]

# The slow-mode windows Telegram offers; a measured window is rounded up to one of them.
SLOW_MODE_WINDOWS = (10, 30, 60, 300, 900, 3600)
SLOW_MODE_SLACK = 2.0


def slow_mode_window(remaining: int, since_last_post: float | None) -> int:
    """The group's window, from SLOWMODE_WAIT (time *left*) and how long ago we last posted there."""
    seen = remaining + max(0.0, since_last_post or 0.0)
    for window in SLOW_MODE_WINDOWS:
        if window + SLOW_MODE_SLACK >= seen:  # the wait is rounded up to whole seconds
            return window
    return int(seen + 0.999)


def record_slowmode(customer_id: int, group: Group, remaining: int, now: float) -> Op:
    """The group's window and when it ends, written with the send's outcome; the op returns the window."""

    async def op(conn: Connection) -> int:
        last = await ledger_rows.last_sent_at(conn, customer_id, group.ref)
        window = slow_mode_window(remaining, now - last if last is not None else None)
        await groups.set_slowmode(conn, group.id, window, now + remaining)
        return window

    return op
