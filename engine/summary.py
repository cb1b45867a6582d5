"""One notification per customer per cycle: the cycle's summary.

What happens to a customer's campaign during a cycle (a session retired or replaced, a group paused or
out of reach, the post unusable, the campaign stopped) is written as events the moment it happens, in
the transaction of the change (``storage.events``), as before; but the outbox holds a customer's events of
``FOLDED`` kinds while that customer's cycle runs (``storage.events.deliverable``), and the cycle's end
folds them into one ``CYCLE_SUMMARY`` event, written in the same transaction that closes the cycle: how
many groups got the post (sent N of M), what failed, and the held events as ``problems``. The bot says
the summary in one message, or nothing when all went well and the customer did not ask to hear it
(``users.notify_level``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.states import EventKind
from storage import customers, events
from storage import ledger as ledger_rows
from storage.db import SyncConnection

__all__ = ["FOLDED", "HOLD_MAX", "close_cycle"]

FOLDED: tuple[EventKind, ...] = (
    EventKind.SESSION_DEAD,
    EventKind.SESSION_LIMITED,
    EventKind.SESSION_FROZEN,
    EventKind.SESSION_REPLACED,
    EventKind.NO_REPLACEMENT,
    EventKind.GROUP_PAUSED,
    EventKind.GROUP_UNREACHABLE,
    EventKind.GROUP_REACHABLE,
    EventKind.POST_INVALID,
    EventKind.CAMPAIGN_STOPPED,
)
"""Customer events a running cycle holds for its summary (plan changes and reminders go out at once)."""

FAILURES_SHOWN = 5
"""Failed groups a summary names (with why); the rest are counted."""

HOLD_MAX = 3600.0
"""Seconds an event is held at most: a cycle left open (the engine stopped) must not keep it for ever."""


def close_cycle(
    customer_id: int, cycle_no: int, started_at: float, end: float, next_at: float | None, *,
    unreachable: int, stopped: str | None,
) -> Callable[[SyncConnection], dict[str, Any]]:
    """The operation that closes the cycle and writes its summary (with the events it folds); returns
    the summary's payload."""

    def op(conn: SyncConnection) -> dict[str, Any]:
        customers.finish_cycle_sync(conn, customer_id, cycle_no, end, next_at)
        counts = ledger_rows.cycle_counts_sync(conn, customer_id, cycle_no)
        problems = events.fold_sync(conn, customer_id, FOLDED, started_at, end)
        payload: dict[str, Any] = {
            "cycle_no": cycle_no,
            "total": sum(counts.values()) + unreachable,
            "sent": counts.get("sent", 0),
            "failed": counts.get("failed", 0),
            "waiting": counts.get("waiting", 0),
            "skipped": counts.get("skipped", 0),
            "in_doubt": counts.get("in_doubt", 0) + counts.get("pending", 0),
            "unreachable": unreachable,
            "stopped": stopped,
            "next_at": next_at,
            "problems": problems,
            "failures": [
                {"group": group, "error": error}
                for group, error in ledger_rows.cycle_failures_sync(conn, customer_id, cycle_no, FAILURES_SHOWN)
            ],
        }
        events.add_sync(conn, customer_id, EventKind.CYCLE_SUMMARY, end, **payload)
        return payload

    return op
