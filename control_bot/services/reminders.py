"""Reminders before a plan ends: the customer 3 days and 1 day before, the admins one list a day.

Each reminder is an outbox event (``PLAN_EXPIRING`` for the customer, ``EXPIRING_PLANS`` for the admins)
and is remembered by the event itself: a customer's by the plan's ``expires_at`` and its threshold, so
an extension (a new ``expires_at``) arms both reminders again; the admins' list by its UTC day. A plan
that already has less than a day left when first seen gets only the 1-day reminder. The check runs every
ten minutes (``ReminderJob``, started with the outbox) reading the injected clock; ``remind`` is one pass
(tests call it directly on a virtual clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from core.clock import Clock
from core.states import EventKind
from storage import customers, events
from storage.db import Database

logger = logging.getLogger(__name__)

__all__ = ["ADMIN_WINDOW_DAYS", "REMIND_DAYS", "ReminderJob", "remind"]

DAY = 86_400.0
REMIND_DAYS = (3, 1)
"""Days before the end of a plan when its customer is reminded."""
ADMIN_WINDOW_DAYS = 3
"""The admins' daily list: plans that end within this many days."""
CHECK_EVERY = 600.0


def _threshold(left: float) -> int | None:
    """The reminder due for a plan with ``left`` seconds to go: the smallest threshold it is within."""
    due = [days for days in REMIND_DAYS if left <= days * DAY]
    return min(due) if due else None


async def remind(db: Database, now: float) -> int:
    """Write the reminders due now that were not written yet; returns how many events were written."""
    written = 0
    async with db.tx() as conn:
        window = max(max(REMIND_DAYS), ADMIN_WINDOW_DAYS) * DAY
        soon = await customers.expiring(conn, now, window)
        for customer in soon:
            days = _threshold(customer.plan_expires_at - now)
            if days is None:
                continue
            expires = customer.plan_expires_at
            if await events.was_written(conn, customer.user_id, EventKind.PLAN_EXPIRING, expires_at=expires,
                                        days_left=days):
                continue
            await events.add(conn, customer.user_id, EventKind.PLAN_EXPIRING, now, expires_at=expires, days_left=days,
                             sessions=customer.plan_sessions)
            written += 1
        plans: list[dict[str, Any]] = [
            {"customer_id": c.user_id, "expires_at": c.plan_expires_at, "sessions": c.plan_sessions}
            for c in soon
            if c.plan_expires_at - now <= ADMIN_WINDOW_DAYS * DAY
        ]
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        if plans and not await events.was_written(conn, None, EventKind.EXPIRING_PLANS, day=day):
            await events.add(conn, None, EventKind.EXPIRING_PLANS, now, day=day, plans=plans)
            written += 1
    return written


class ReminderJob:
    """Runs ``remind`` every ``every`` seconds of the clock; wakes the outbox when it wrote something."""

    def __init__(self, db: Database, clock: Clock, wake: Callable[[], None], every: float = CHECK_EVERY) -> None:
        self.db = db
        self.clock = clock
        self.wake = wake
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="plan-reminders")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                if await remind(self.db, self.clock.now()):
                    self.wake()
            except Exception:
                logger.exception("plan reminders: the check failed; tried again in %.0f s", self.every)
            # Real time between looks (as the join queue's loop): a virtual clock in tests is never moved
            # by this job; what is due is read from ``clock.now()``.
            await asyncio.sleep(self.every)
