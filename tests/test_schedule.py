"""Quiet hours (issue 19): the schedule's arithmetic in the customer's zone, and the engine holding a
cycle that comes due outside it (no request made) until the window opens."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from botkit import in_locale

from core.schedule import EVERY_DAY, WEEKDAYS, Schedule, parse_hours
from core.texts import schedule as texts
from storage import customers, schedules, users
from storage.db import Database
from tests.engine_support import CID, make_setup, running
from tests.pool_support import NOW

HOUR = 3600.0
DAY = 86_400.0


def _at(text: str, zone: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_now_is_friday_8_utc() -> None:
    # The engine tests below count from here.
    assert datetime.fromtimestamp(NOW, UTC).isoformat() == "2027-01-15T08:00:00+00:00"


def test_always_allows_everything_and_a_window_opens_at_its_start() -> None:
    assert Schedule().always and Schedule().next_open(NOW) == NOW
    nine_to_nine = Schedule(EVERY_DAY, 9 * 60, 21 * 60)
    assert nine_to_nine.next_open(_at("2027-01-15T08:00")) == _at("2027-01-15T09:00")
    assert nine_to_nine.allows(_at("2027-01-15T09:00")) and nine_to_nine.allows(_at("2027-01-15T20:59"))
    # The end is not in the window: at 21:00 the next opening is tomorrow's.
    assert nine_to_nine.next_open(_at("2027-01-15T21:00")) == _at("2027-01-16T09:00")


def test_days_of_the_week_and_a_window_across_midnight() -> None:
    weekdays = Schedule(WEEKDAYS, 9 * 60, 18 * 60)
    # Friday 18:30 -> Monday 09:00
    assert weekdays.next_open(_at("2027-01-15T18:30")) == _at("2027-01-18T09:00")
    night = Schedule(1 << 4, 22 * 60, 6 * 60)  # Friday 22:00 to Saturday 06:00
    assert night.allows(_at("2027-01-16T05:59"))  # Saturday early morning: still Friday's window
    assert night.next_open(_at("2027-01-16T06:00")) == _at("2027-01-22T22:00")
    assert not night.allows(_at("2027-01-15T21:59"))


def test_the_window_follows_the_wall_clock_across_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    morning = Schedule(EVERY_DAY, 9 * 60, 10 * 60, berlin)
    # 29 March 2026 the clocks go forward: 09:00 is 07:00 UTC after, 08:00 UTC before.
    assert morning.next_open(_at("2026-03-28T10:30", "Europe/Berlin")) == _at("2026-03-29T09:00", "Europe/Berlin")
    assert morning.next_open(_at("2026-03-28T10:30", "Europe/Berlin")) == _at("2026-03-29T07:00")
    assert morning.next_open(_at("2026-03-27T10:30", "Europe/Berlin")) == _at("2026-03-28T08:00")


def test_a_schedule_needs_a_day_and_minutes_in_range() -> None:
    with pytest.raises(ValueError):
        Schedule(0, 0, 0)
    with pytest.raises(ValueError):
        Schedule(EVERY_DAY, 24 * 60, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00-21:00", (540, 1260)), ("9-21", (540, 1260)), ("22:30 – 06:00", (1350, 360)),
     ("00:00-24:00", (0, 0)), ("25:00-26:00", None), ("09:60-10:00", None), ("nine to five", None), ("", None)],
)
def test_typed_hours(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_hours(text) == expected


def test_days_in_words_in_both_languages() -> None:
    with in_locale("en"):
        assert texts.days_text(WEEKDAYS) == "Mon–Fri"
        assert texts.days_text(EVERY_DAY) == "every day"
        assert texts.days_text(0b1010101) == "Mon, Wed, Fri, Sun"
        assert texts.hours_text(1320, 360) == "22:00–06:00 (to the next day)"
    with in_locale("ru"):
        assert texts.days_text(WEEKDAYS) == "Пн–Пт"
        assert texts.days_text(0b1100000) == "Сб, Вс"
        assert texts.schedule_line(WEEKDAYS, 540, 1260) == "Расписание: Пн–Пт, 09:00–21:00"


async def _schedule(db: Database, days: int, start: int, end: int, zone: str | None = None) -> None:
    async with db.tx() as conn:
        await schedules.set_schedule(conn, CID, days, start, end)
        if zone is not None:
            await users.touch(conn, CID, None, "Alice", "en", NOW)
            await users.set_time_zone(conn, CID, zone)


async def test_a_campaign_started_in_quiet_hours_waits_for_the_window(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    await _schedule(db, EVERY_DAY, 9 * 60, 21 * 60)
    engine = s.engine()
    await running(s, engine)
    assert engine.next_run_at(CID) == NOW + HOUR
    assert (await s.customer()).next_cycle_at == NOW + HOUR

    before = s.world.request_count()
    report = await engine.run_cycle(CID)  # the job fired early (e.g. an old trigger): nothing is asked
    assert (report.ran, report.reason, report.next_cycle_at) == (False, "quiet_hours", NOW + HOUR)
    assert s.world.request_count() == before and (await s.customer()).cycle_no == 0

    s.clock.set(NOW + HOUR)
    report = await engine.run_cycle(CID)
    assert (report.cycle_no, report.sent) == (1, 10)
    assert report.next_cycle_at == NOW + HOUR + 300  # inside the window: the interval as usual


async def test_a_cycle_due_after_the_window_moves_to_the_next_day_in_the_customers_zone(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path)
    # 11:00-11:05 in Moscow (UTC+3) is 08:00-08:05 UTC: the first cycle runs now, the second waits a day.
    await _schedule(db, EVERY_DAY, 11 * 60, 11 * 60 + 5, zone="Europe/Moscow")
    engine = s.engine()
    await running(s, engine)
    assert engine.next_run_at(CID) == NOW
    report = await engine.run_cycle(CID)
    assert report.sent == 10
    assert report.next_cycle_at == NOW + DAY
    assert (await s.customer()).next_cycle_at == NOW + DAY
    assert s.world.violations == []


async def test_only_some_days_and_a_restart_in_quiet_hours(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    await _schedule(db, 1, 0, 0)  # Mondays only, all day; now is a Friday
    engine = s.engine()
    await running(s, engine)
    monday = NOW + 2 * DAY + 16 * HOUR
    assert engine.next_run_at(CID) == monday
    await engine.shutdown()

    # A restart on Saturday resumes the campaign, still waiting for Monday.
    s.clock.set(NOW + DAY)
    again = s.engine()
    await again.start()
    assert again.next_run_at(CID) == monday
    assert (await again.run_cycle(CID)).reason == "quiet_hours"
    async with db.read() as conn:
        assert (await customers.get(conn, CID)) is not None
    s.clock.set(monday)
    assert (await again.run_cycle(CID)).sent == 10
    await again.shutdown()


async def test_changing_the_schedule_of_a_running_campaign_moves_its_next_cycle(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 10
    assert engine.next_run_at(CID) == NOW + 300
    await _schedule(db, EVERY_DAY, 12 * 60, 13 * 60)
    await engine.reschedule(CID)
    assert engine.next_run_at(CID) == NOW + 4 * HOUR
    await _schedule(db, EVERY_DAY, 0, 0)
    await engine.reschedule(CID)
    assert engine.next_run_at(CID) == NOW + 300


async def test_the_real_scheduler_defers_a_job_and_keeps_its_interval() -> None:
    import time

    from engine.scheduler import CampaignScheduler

    async def run(customer_id: int) -> None:
        raise AssertionError("the job must not fire in this test")

    scheduler = CampaignScheduler(run)
    scheduler.start()
    try:
        now = time.time()
        scheduler.schedule(CID, 300, now + 1000)
        scheduler.defer(CID, now + 5000)
        assert scheduler.next_run_at(CID) == pytest.approx(now + 5000, abs=0.01)
        assert scheduler._scheduler is not None
        job = scheduler._scheduler.get_job(f"campaign:{CID}")
        assert job is not None and job.trigger.interval.total_seconds() == 300
        scheduler.defer(CID + 1, now)  # a campaign without a job: nothing to move, no error
        assert scheduler.scheduled() == [CID]
    finally:
        scheduler.shutdown()
