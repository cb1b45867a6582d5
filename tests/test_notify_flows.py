"""Notifications that respect attention (issue 18 part G): one summary per cycle with its buttons, silence
on routine success unless asked for, plan reminders before the end, the customer's log in words."""

from __future__ import annotations

import re
from pathlib import Path

from botkit import ADMIN_ID, Harness, Player, bot_harness, in_locale, labels

from control_bot.services.reminders import remind
from core.states import EventKind, NotifyLevel
from core.texts import customer as t
from core.texts import events as et
from core.texts.events import summary_needs_reader
from core.texts.fmt import fmt_time
from engine.summary import FOLDED, HOLD_MAX, close_cycle
from storage import customers, events, users
from storage.db import Database

ALICE = 1001
DAY = 86_400.0


async def _level(h: Harness, user_id: int, level: NotifyLevel) -> None:
    async with h.db.tx() as conn:
        await users.touch(conn, user_id, None, "Alice", "en", h.clock.now())
        await users.set_notify_level(conn, user_id, level)


async def _campaign(h: Harness, *groups: str) -> None:
    await h.grant(ALICE)
    await h.fill_pool(1)
    alice = h.user(ALICE, "Alice")
    await alice.ask("/post https://t.me/adschannel/1")
    await alice.ask("/addgroups " + " ".join(groups))
    await alice.ask("/run")


async def _kinds(h: Harness, user_id: int | None) -> list[EventKind]:
    async with h.db.read() as conn:
        return [e.kind for e in reversed(await events.list_for(conn, user_id, limit=500))]


async def test_one_summary_per_cycle_with_what_needs_the_customer_and_its_buttons(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, group_failure_limit=1) as h:
        h.world.add_group("readonly_group")
        h.world.add_fault(kind="error", error="ChatRestrictedError", group="@readonly_group", times=0)
        await _campaign(h, "@readonly_group", "@open_group")
        alice = h.user(ALICE, "Alice")
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()

        [summary] = alice.unread()  # one message for the cycle: the pause is inside it
        assert "Cycle 1: the post reached 1 of 2 groups." in summary.text
        assert "1 post failed.\n• @readonly_group: the group is restricted" in summary.text
        assert "Group @readonly_group was paused" in summary.text and "the group is restricted" in summary.text
        assert "Next cycle:" in summary.text
        assert labels(summary) == [et.BTN_DETAILS(), et.BTN_STOP_CAMPAIGN(), et.BTN_FIX_GROUPS()]
        # The paused event went out inside the summary, not on its own.
        assert (await _kinds(h, ALICE)).count(EventKind.CYCLE_SUMMARY) == 1

        details = await alice.press(et.BTN_DETAILS())
        assert "posted to @open_group" in details.text and "Error" not in details.text
        assert summary.message_id != details.message_id  # a new message: the summary stays
        fix = await alice.press(et.BTN_FIX_GROUPS())
        assert "@readonly_group" in fix.text and "paused" in fix.text
        stop = await alice.press(et.BTN_STOP_CAMPAIGN())
        assert "Campaign stopped" in stop.text
        assert (await h.customer(ALICE)).status == "stopped"


async def test_routine_success_is_silent_at_problems_and_said_at_all(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await _campaign(h, "@cats_group", "@dogs_group")
        alice = h.user(ALICE, "Alice")
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        assert alice.unread() == []  # default level 'problems': nothing went wrong, nothing said
        assert EventKind.CYCLE_SUMMARY in await _kinds(h, ALICE)

        await _level(h, ALICE, NotifyLevel.ALL)
        await h.clock.advance(300)
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        [summary] = alice.unread()
        assert "Cycle 2: the post reached 2 of 2 groups." in summary.text
        assert "failed" not in summary.text


async def test_level_off_leaves_only_the_plan_news(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, group_failure_limit=1) as h:
        h.world.add_group("readonly_group")
        h.world.add_fault(kind="error", error="ChatRestrictedError", group="@readonly_group", times=0)
        await _campaign(h, "@readonly_group")
        await _level(h, ALICE, NotifyLevel.OFF)
        alice = h.user(ALICE, "Alice")
        await h.cycle(ALICE)
        await h.clock.advance(DAY * 28)
        await remind(h.db, h.clock.now())
        await h.deliver()
        await h.idle()
        [reminder] = alice.unread()
        assert "Your plan ends in 3 days" in reminder.text


async def test_reminders_at_3_and_1_days_once_each_and_again_after_an_extension(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE, days=5)
        alice = h.user(ALICE, "Alice")
        admin = h.user(ADMIN_ID, "Admin")
        assert await remind(h.db, h.clock.now()) == 0  # 5 days left: nothing yet

        await h.clock.advance(DAY * 2.5)  # 2.5 days left
        assert await remind(h.db, h.clock.now()) == 2  # the customer's 3-day reminder, the admins' list
        assert await remind(h.db, h.clock.now()) == 0  # remembered
        await h.deliver()
        await h.idle()
        [three] = [m for m in alice.unread() if "plan ends" in m.text]
        assert "Your plan ends in 3 days" in three.text and "Ask the admin to extend it" in three.text
        [listed] = [m for m in admin.unread() if "ends within 3 days" in m.text or "end within 3 days" in m.text]
        assert "1 plan ends within 3 days" in listed.text and f"<code>{ALICE}</code>" in listed.html

        await h.clock.advance(DAY * 1.75)  # 0.75 days left, the next day
        assert await remind(h.db, h.clock.now()) == 2  # the 1-day reminder, the next day's list
        assert await remind(h.db, h.clock.now()) == 0
        await h.deliver()
        await h.idle()
        [one] = [m for m in alice.unread() if "Your plan ends in 1 day," in m.text]
        assert "Ask the admin to extend it" in one.text
        assert len([m for m in admin.unread() if "1 plan ends within 3 days" in m.text]) == 2  # one a day

        await h.grant(ALICE, days=2)  # extended: 2.75 days left, a new expiry
        assert await remind(h.db, h.clock.now()) == 1  # its 3-day reminder again (the day's list was sent)
        async with h.db.read() as conn:
            told = [e for e in await events.list_for(conn, ALICE) if e.kind is EventKind.PLAN_EXPIRING]
        assert sorted(e.payload["days_left"] for e in told) == [1, 3, 3]


async def test_reminder_for_a_plan_granted_with_hours_left_is_the_1_day_one_only(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE, days=0.5)
        assert await remind(h.db, h.clock.now()) == 2
        async with h.db.read() as conn:
            [told] = [e for e in await events.list_for(conn, ALICE) if e.kind is EventKind.PLAN_EXPIRING]
        assert told.payload["days_left"] == 1


async def test_events_of_a_running_cycle_are_held_until_its_summary_and_never_for_ever(db: Database) -> None:
    now = 1_800_000_000.0
    async with db.tx() as conn:
        await customers.grant(conn, ALICE, 1, 30, now, 300)
        await customers.set_status(conn, ALICE, "running", now)
    cycle_no = await db.transact_sync(lambda conn: customers.begin_cycle_sync(conn, ALICE, now))
    async with db.tx() as conn:
        await events.add(conn, ALICE, EventKind.GROUP_PAUSED, now + 1, group="@x", reason="failures:3:X")
        await events.add(conn, ALICE, EventKind.PLAN_GRANTED, now + 1, sessions=1)  # plan news: not held
        await events.add(conn, None, EventKind.POOL_LOW, now + 1, free=1, threshold=5)  # admins': not held
    async with db.read() as conn:
        kinds = [e.kind for e in await events.deliverable(conn, now + 2, FOLDED, HOLD_MAX)]
        assert kinds == [EventKind.PLAN_GRANTED, EventKind.POOL_LOW]
        # A cycle left open (the engine stopped) keeps them at most HOLD_MAX.
        late = [e.kind for e in await events.deliverable(conn, now + 2 + HOLD_MAX, FOLDED, HOLD_MAX)]
        assert EventKind.GROUP_PAUSED in late
    await db.transact_sync(close_cycle(ALICE, cycle_no, now, now + 10, now + 300, unreachable=0, stopped=None))
    async with db.read() as conn:
        pending = await events.deliverable(conn, now + 11, FOLDED, HOLD_MAX)
    [summary] = [e for e in pending if e.kind is EventKind.CYCLE_SUMMARY]
    assert EventKind.GROUP_PAUSED not in [e.kind for e in pending]  # it travels inside the summary
    assert [p["kind"] for p in summary.payload["problems"]] == ["group_paused"]
    assert summary.payload["cycle_no"] == cycle_no and summary.payload["next_at"] == now + 300


async def test_logs_and_the_day_file_say_what_happened_in_words(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        h.world.add_group("admins_only")
        h.world.add_fault(kind="error", error="ChatAdminRequiredError", group="@admins_only", times=0)
        await _campaign(h, "@admins_only", "@open_group")
        alice = h.user(ALICE, "Alice")
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        await alice.ask("/interval 2.5")

        logs = await alice.ask("/logs")
        assert "posted to @open_group" in logs.text
        assert "@admins_only refuses posts from session" in logs.text and "only admins may post there" in logs.text
        assert "Cycle 1 done: sent 1, failed 1" in logs.text
        assert "Interval set to 2 min 30 s." in logs.text
        assert not re.search(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+Error|\{\"key\"", logs.text)
        document = await alice.press(t.BTN_LOG_FILE())
        assert document.document is not None
        content = document.document.data.decode()
        assert "posted to @open_group" in content and "ChatAdminRequiredError" not in content
        assert '{"key"' not in content


# --- in Russian -----------------------------------------------------------------------------------------


async def _russian(h: Harness, zone: str | None = "Europe/Moscow") -> Player:
    """Alice with a Russian Telegram app and a time zone chosen (as /settings stores it)."""
    alice = h.user(ALICE, "Алиса", language_code="ru")
    await alice.ask("/start")  # she is seen: her row and language
    async with h.db.tx() as conn:
        await users.set_time_zone(conn, ALICE, zone)
    await h.app.locales.reload(ALICE)
    return alice


async def test_ru_one_summary_per_cycle_with_buttons_in_russian(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, group_failure_limit=1) as h:
        h.world.add_group("readonly_group")
        h.world.add_fault(kind="error", error="ChatRestrictedError", group="@readonly_group", times=0)
        alice = await _russian(h)
        await h.grant(ALICE)
        await h.fill_pool(1)
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @readonly_group @open_group")
        await alice.ask("/run")
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()

        [summary] = [m for m in alice.unread() if "📋" in m.text]
        assert "Цикл 1: пост дошёл до 1 из 2 групп." in summary.text  # literal: a wrong catalog cannot pass
        assert "1 пост не отправлен." in summary.text and "группа ограничена" in summary.text
        assert "UTC+3" in summary.text  # the next cycle in her zone
        with in_locale("ru", "Europe/Moscow"):
            assert labels(summary) == [et.BTN_DETAILS(), et.BTN_STOP_CAMPAIGN(), et.BTN_FIX_GROUPS()]
            assert labels(summary) == ["📜 Подробнее", "⏹ Остановить", "🛠 Исправить группы"]
            details = await alice.press(et.BTN_DETAILS())
        assert "Сессия #" in details.text and "отправила пост в @open_group" in details.text
        assert "Error" not in details.text and "Europe/Moscow" in details.text


async def test_ru_status_shows_the_last_and_next_cycle_in_her_zone(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await _russian(h, "Europe/Moscow")
        await h.grant(ALICE)
        await h.fill_pool(1)
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @cats_group @dogs_group")
        await alice.ask("/run")
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        assert [m for m in alice.unread() if "📋" in m.text] == []  # routine success: silent

        status = await alice.ask("/status")
        finished = (await h.customer(ALICE)).cycle_finished_at
        next_at = h.app.engine.next_run_at(ALICE)
        assert finished is not None and next_at is not None
        with in_locale("ru", "Europe/Moscow"):
            assert f"Последний цикл: №1, {fmt_time(finished)}: пост дошёл до 2 из 2 групп" in status.text
            assert f"Следующий цикл: {fmt_time(next_at)}" in status.text
        assert "UTC+3" in status.text and "Состояние" in status.text


async def test_ru_reminder_and_the_admins_list_in_each_ones_language(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await _russian(h, None)
        admin = h.user(ADMIN_ID, "Admin")  # English
        await admin.ask("/start")
        await h.grant(ALICE, days=2)
        assert await remind(h.db, h.clock.now()) == 2
        await h.deliver()
        await h.idle()
        [reminder] = [m for m in alice.unread() if "⏳" in m.text]
        assert "Ваш тариф заканчивается через 3 дня" in reminder.text
        [listed] = [m for m in admin.unread() if "⏳" in m.text]
        assert "1 plan ends within 3 days" in listed.text


async def test_ru_logs_are_in_russian(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await _russian(h, "UTC")
        await h.grant(ALICE)
        await h.fill_pool(1)
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @cats_group")
        await alice.ask("/run")
        await h.cycle(ALICE)
        logs = await alice.ask("/logs")
        assert "Последние строки журнала" in logs.text
        assert "отправила пост в @cats_group" in logs.text and "Цикл 1 завершён: отправлено 1" in logs.text
        with in_locale("ru"):
            document = await alice.press(t.BTN_LOG_FILE())
        assert document.document is not None
        assert "отправила пост в @cats_group" in document.document.data.decode()


def test_a_summary_of_a_stop_the_customer_asked_for_needs_no_message() -> None:
    base = {"cycle_no": 3, "total": 2, "sent": 2, "failed": 0, "problems": []}
    assert not summary_needs_reader({**base, "stopped": "by_customer"})
    assert summary_needs_reader({**base, "stopped": "plan_expired"})
    assert summary_needs_reader({**base, "failed": 1, "stopped": None})
    assert not summary_needs_reader({**base, "in_doubt": 1, "stopped": None})
    text = et.event_text(EventKind.CYCLE_SUMMARY, {**base, "stopped": "plan_expired"}, for_admin=False)
    assert "Your campaign was stopped: your plan expired." in text and "Next cycle" not in text
