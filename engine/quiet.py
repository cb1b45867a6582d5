"""Quiet hours: when each running campaign's cycles may start (``core.schedule``), cached so that a cycle's
start is checked without a database read. Loaded when a campaign starts or resumes and when its schedule,
interval or time zone changes (``Engine.reschedule``)."""

from __future__ import annotations

from collections.abc import Iterable

from core.schedule import Schedule
from storage import schedules
from storage.db import Connection


class QuietHours:
    def __init__(self) -> None:
        self._by_customer: dict[int, Schedule] = {}  # only campaigns with quiet time

    def set(self, customer_id: int, schedule: Schedule | None) -> None:
        if schedule is None or schedule.always:
            self._by_customer.pop(customer_id, None)
        else:
            self._by_customer[customer_id] = schedule

    async def load(self, conn: Connection, customer_id: int) -> None:
        self.set(customer_id, await schedules.get(conn, customer_id))

    async def load_many(self, conn: Connection, customer_ids: Iterable[int]) -> None:
        for customer_id, schedule in (await schedules.of_customers(conn, customer_ids)).items():
            self.set(customer_id, schedule)

    def open_at(self, customer_id: int, at: float) -> float:
        """``at`` when a cycle of the campaign may start then, else when its window next opens."""
        schedule = self._by_customer.get(customer_id)
        return at if schedule is None else schedule.next_open(at)
