"""The campaign's schedule (``core.schedule``): read it, change its days and hours. A running campaign's
next cycle moves at once (``engine.reschedule``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from control_bot.services.campaign import CampaignEngine, require_customer
from core.errors import InputError
from core.schedule import EVERY_DAY, WEEKDAYS, Schedule, hhmm, parse_hours
from core.texts import schedule as texts
from storage import schedules
from storage.db import Database

logger = logging.getLogger(__name__)

HOUR_PRESETS = ((9 * 60, 21 * 60), (8 * 60, 23 * 60), (10 * 60, 20 * 60))
DAY_PRESETS = (EVERY_DAY, WEEKDAYS)


@dataclass(frozen=True)
class ScheduleView:
    schedule: Schedule
    zone: str  # the IANA name the window is read in
    running: bool
    next_run_at: float | None


async def view(db: Database, engine: CampaignEngine, user_id: int, now: float) -> ScheduleView:
    customer = await require_customer(db, user_id, now)
    async with db.read() as conn:
        schedule = await schedules.get(conn, user_id)
    assert schedule is not None  # require_customer found the row
    running = customer.status == "running"
    return ScheduleView(schedule, schedule.zone.key, running, engine.next_run_at(user_id) if running else None)


async def current(db: Database, user_id: int) -> Schedule | None:
    """The customer's schedule (None: no such customer), for /status."""
    async with db.read() as conn:
        return await schedules.get(conn, user_id)


async def _store(db: Database, engine: CampaignEngine, user_id: int, days: int, start: int, end: int,
                 now: float) -> ScheduleView:
    await require_customer(db, user_id, now)
    async with db.tx() as conn:
        await schedules.set_schedule(conn, user_id, days, start, end)
    await engine.reschedule(user_id)  # loads the new schedule; moves the next cycle when running
    logger.info("customer %d: schedule days=%s hours=%s-%s", user_id, format(days, "07b"), hhmm(start), hhmm(end))
    return await view(db, engine, user_id, now)


async def toggle_day(db: Database, engine: CampaignEngine, user_id: int, weekday: int, now: float) -> ScheduleView:
    """Switch one day on or off; the last day on stays on (a schedule with no day never posts)."""
    if not 0 <= weekday <= 6:
        raise InputError(texts.NO_DAYS())
    current = (await view(db, engine, user_id, now)).schedule
    days = current.days ^ (1 << weekday)
    if days == 0:
        raise InputError(texts.NO_DAYS())
    return await _store(db, engine, user_id, days, current.start, current.end, now)


async def set_days(db: Database, engine: CampaignEngine, user_id: int, days: int, now: float) -> ScheduleView:
    if days not in DAY_PRESETS:
        raise InputError(texts.NO_DAYS())
    current = (await view(db, engine, user_id, now)).schedule
    return await _store(db, engine, user_id, days, current.start, current.end, now)


async def set_hours(db: Database, engine: CampaignEngine, user_id: int, start: int, end: int,
                    now: float) -> ScheduleView:
    current = (await view(db, engine, user_id, now)).schedule
    return await _store(db, engine, user_id, current.days, start, end, now)


def parse_typed_hours(text: str) -> tuple[int, int]:
    """A typed window; a clear refusal otherwise."""
    hours = parse_hours(text)
    if hours is None:
        raise InputError(texts.bad_hours(text))
    return hours
