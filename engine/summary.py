"""One notification per customer per cycle: the cycle's summary.

What happens to a customer's campaign (a session retired or replaced, a group paused, out of reach or
back) is written as an event the moment it happens, in the transaction of the change (``storage.events``),
by whoever finds it: the cycle, the dialogs scan before it opens, the pool's health checks and scans
between cycles. The rules the outbox keeps (``storage.events.deliverable``, ``control_bot.notify``):

* ``FOLDED`` kinds of a customer whose campaign is running are held, whether a cycle is open or not, and
  the next cycle's end folds every one still undelivered (those since the previous summary, however early
  they were written: before the cycle opened, between cycles) into one ``CYCLE_SUMMARY`` event, written in
  the transaction that closes the cycle: sent N of M, what failed, the held events as ``problems``. The
  bot says it in one message, or nothing when all went well and the customer did not ask to hear it
  (``users.notify_level``).
* ``AT_ONCE`` kinds need the customer now and are never held: the campaign stopped (``CAMPAIGN_STOPPED``;
  ``POST_INVALID``, which stops it), the plan's news (granted, revoked, expired, expiring), and the
  campaign resumed after a restart. A stop makes the campaign's held events due at once with it (they
  go in the same outbox pass, one message), and the cycle it ended still closes with its summary: a cycle
  the campaign stopped in is the one that may say two things, the stop and then how the cycle ended.
* A stopped campaign holds nothing: its events go at once.
* The hold has a limit tied to the campaign, so that neither an engine that stopped nor a very long
  cycle keeps events for ever: once the customer's oldest held event is older than the campaign's
  interval plus ``LONGEST_CYCLE`` (the next summary is due by then), all of them go out together, in one
  message, never one by one.

Admins' events (no customer) are never held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.states import EventKind
from storage import customers, events
from storage import ledger as ledger_rows
from storage.db import SyncConnection

__all__ = ["AT_ONCE", "FOLDED", "LONGEST_CYCLE", "close_cycle"]

FOLDED: tuple[EventKind, ...] = (
    EventKind.SESSION_DEAD,
    EventKind.SESSION_LIMITED,
    EventKind.SESSION_FROZEN,
    EventKind.SESSION_REPLACED,
    EventKind.NO_REPLACEMENT,
    EventKind.GROUP_PAUSED,
    EventKind.GROUP_UNREACHABLE,
    EventKind.GROUP_REACHABLE,
    EventKind.POST_UNUSABLE,  # issue 19 review: one post left out, the others go on
)
"""Customer events held while the campaign runs and told in the next cycle's summary: the campaign goes
on meanwhile (a replacement session, the other groups), the customer may act at leisure."""

AT_ONCE: frozenset[EventKind] = frozenset({
    EventKind.POST_INVALID,  # the campaign stopped: nothing is posted until the customer sets a post
    EventKind.CAMPAIGN_STOPPED,
    EventKind.CAMPAIGN_RESUMED,  # after a restart: not about a cycle
    EventKind.CAMPAIGN_STARTED,  # issue 20 part C: started through the integration API
    EventKind.PLAN_GRANTED,
    EventKind.PLAN_REVOKED,
    EventKind.PLAN_EXPIRED,
    EventKind.PLAN_EXPIRING,
    EventKind.CYCLE_SUMMARY,  # the summary itself
})
"""Customer events that go out at once, never held (``tests/test_notify_flows.py`` checks that every
customer kind is in exactly one of ``FOLDED`` and ``AT_ONCE``: a new kind is a decision, not a default)."""

FAILURES_SHOWN = 5
"""Failed groups a summary names (with why); the rest are counted."""

LONGEST_CYCLE = 6 * 3600.0
"""Seconds a cycle may take, for the hold: a customer's events are held at most the campaign's interval
plus this (the next summary is due by then) and then all go out together."""


def close_cycle(
    customer_id: int, cycle_no: int, end: float, next_at: float | None, *,
    unreachable: int, stopped: str | None,
) -> Callable[[SyncConnection], dict[str, Any]]:
    """The operation that closes the cycle and writes its summary (with every held event it folds, those
    written before the cycle opened included); returns the summary's payload."""

    def op(conn: SyncConnection) -> dict[str, Any]:
        customers.finish_cycle_sync(conn, customer_id, cycle_no, end, next_at)
        counts = ledger_rows.cycle_counts_sync(conn, customer_id, cycle_no)
        problems = events.fold_sync(conn, customer_id, FOLDED, end)
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
