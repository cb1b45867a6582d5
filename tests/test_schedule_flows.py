"""/schedule end to end over the Bot API emulator (issue 19): days and hours by buttons and typed, refusals
that change nothing, /status showing the schedule and the next send time, in English and Russian."""

from __future__ import annotations

from pathlib import Path

from botkit import Harness, bot_harness, in_locale, labels

from core.schedule import EVERY_DAY, WEEKDAYS
from core.texts import customer as t
from core.texts import schedule as texts
from core.texts import settings as st
from core.texts.fmt import fmt_time
from sandbox.botapi.html import parse_html
from storage import schedules

ALICE = 1001
BORIS = 1002


def _plain(html: str) -> str:
    return parse_html(html).text


async def _customer(h: Harness, user_id: int) -> None:
    await h.grant(user_id)
    await h.fill_pool(1)


async def _stored(h: Harness, user_id: int) -> tuple[int, int, int]:
    async with h.db.read() as conn:
        schedule = await schedules.get(conn, user_id)
    assert schedule is not None
    return schedule.days, schedule.start, schedule.end


async def test_days_and_hours_by_buttons_and_typed_with_refusals(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await _customer(h, ALICE)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/start")
        screen = await alice.press(t.BTN_SCHEDULE())
        now = h.clock.now()
        with in_locale("en"):
            assert screen.text == _plain(texts.screen(EVERY_DAY, 0, 0, "UTC", False, None, now))
            assert texts.btn_day(5, True) in labels(screen) and texts.BTN_OTHER_HOURS() in labels(screen)
            saturday_on, saturday_off = texts.btn_day(5, True), texts.btn_day(5, False)

        screen = await alice.press(saturday_on)
        assert "Mon–Fri, Sun" in screen.text and saturday_off in labels(screen)
        assert await _stored(h, ALICE) == (EVERY_DAY & ~(1 << 5), 0, 0)

        screen = await alice.press("09:00–21:00")
        assert "Cycles start on Mon–Fri, Sun, 09:00–21:00 (UTC)" in screen.text

        asked = await alice.press(texts.BTN_OTHER_HOURS())
        assert asked.text == _plain(texts.ASK_HOURS())
        before = await h.snapshot()
        refused = await alice.ask("from nine")
        assert refused.text == texts.bad_hours("from nine")
        assert await h.snapshot() == before  # nothing changed, the question stays open
        saved = await alice.ask("22:00-06:00")
        assert "Cycles start on Mon–Fri, Sun, 22:00–06:00 (to the next day) (UTC)" in saved.text
        assert await _stored(h, ALICE) == (EVERY_DAY & ~(1 << 5), 22 * 60, 6 * 60)
        await alice.press(texts.BTN_WEEKDAYS())
        assert await _stored(h, ALICE) == (WEEKDAYS, 22 * 60, 6 * 60)
        status = await alice.ask("/status")
        assert "Schedule: Mon–Fri, 22:00–06:00 (to the next day)" in status.text

        # The last day on stays on: an alert, nothing changed.
        async with h.db.tx() as conn:
            await schedules.set_schedule(conn, ALICE, 1, 0, 0)
        screen = await alice.ask("/schedule")
        before = await h.snapshot()
        with in_locale("en"):
            answer = await alice.press_answer(texts.btn_day(0, True))
            assert answer.show_alert and answer.text == texts.NO_DAYS()
        assert await h.snapshot() == before
        # A forged hours button (start past midnight) changes nothing either.
        forged = await alice.forge(screen.message_id, f"sch:hours:{1440 * 1440 + 5}")
        assert not forged.show_alert
        assert await h.snapshot() == before

        done = await alice.press(texts.BTN_DONE())
        assert done.text == texts.saved(1, 0, 0, False)


async def test_a_running_campaign_waits_for_its_hours_and_status_says_when(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await _customer(h, ALICE)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @cats_group")
        await alice.ask("/run")
        await alice.ask("/schedule")
        await alice.press(texts.BTN_OTHER_HOURS())
        saved = await alice.ask("09:00-12:00")
        assert "Cycles start on every day, 09:00–12:00 (UTC)" in saved.text
        monday_9 = 1_750_000_000.0 - (15 * 3600 + 6 * 60 + 40) + 86_400 + 9 * 3600
        assert h.app.engine.next_run_at(ALICE) == monday_9
        report = await h.cycle(ALICE)  # due now by the old plan: it waits, nothing is sent
        assert report.reason == "quiet_hours" and h.world.deliveries == []
        status = await alice.ask("/status")
        with in_locale("en"):
            assert f"Next cycle: {fmt_time(monday_9)}" in status.text
            assert "Schedule: every day, 09:00–12:00" in status.text
        # Moving to UTC+3 in /settings moves the window with it: 09:00 there is 06:00 UTC.
        await alice.ask("/settings")
        await alice.press(st.BTN_ZONE())
        await alice.press(st.BTN_ZONE_OTHER())
        await alice.ask("Europe/Moscow")
        assert h.app.engine.next_run_at(ALICE) == monday_9 - 3 * 3600
        h.clock.set(monday_9 - 3 * 3600)
        report = await h.cycle(ALICE)
        assert report.sent == 1


async def test_in_russian(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await _customer(h, BORIS)
        boris = h.user(BORIS, "Борис", language_code="ru")
        screen = await boris.ask("/schedule")
        now = h.clock.now()
        with in_locale("ru"):
            assert screen.text == _plain(texts.screen(EVERY_DAY, 0, 0, "UTC", False, None, now))
            assert "Расписание" in screen.text and texts.btn_day(0, True) == "✅ Пн"
            other = texts.BTN_OTHER_HOURS()
        await boris.press(other)
        refused = await boris.ask("утром")
        with in_locale("ru"):
            assert refused.text == texts.bad_hours("утром")
        saved = await boris.ask("10:00-18:00")
        assert "Циклы начинаются: каждый день, 10:00–18:00 (UTC)." in saved.text
        status = await boris.ask("/status")
        assert "Расписание: каждый день, 10:00–18:00" in status.text
