"""Notifications that respect attention (issue 18 part G): one summary per cycle with its buttons, silence
on routine success unless asked for, plan reminders before the end, the customer's log in words."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from botkit import ADMIN_ID, Harness, Player, bot_harness, in_locale, labels

from control_bot.services.reminders import remind
from core.states import EventKind, NotifyLevel
from core.texts import customer as t
from core.texts import events as et
from core.texts.events import summary_needs_reader
from core.texts.fmt import fmt_time
from engine.summary import AT_ONCE, FOLDED, LONGEST_CYCLE, close_cycle
from pool import lifecycle
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


async def test_a_running_campaign_holds_its_events_for_the_next_summary_and_never_for_ever(db: Database) -> None:
    now = 1_800_000_000.0
    interval = 300
    async with db.tx() as conn:
        await customers.grant(conn, ALICE, 1, 30, now - 100, interval)
        await customers.set_status(conn, ALICE, "running", now - 100)
        # Written before the cycle opens (the dialogs scan at its start) and between cycles: held all the same.
        await events.add(conn, ALICE, EventKind.SESSION_DEAD, now - 50, session_id=1, reason="AuthKeyUnregisteredError")
    cycle_no = await db.transact_sync(lambda conn: customers.begin_cycle_sync(conn, ALICE, now))
    async with db.tx() as conn:
        await events.add(conn, ALICE, EventKind.GROUP_PAUSED, now + 1, group="@x", reason="failures:3:X")
        await events.add(conn, ALICE, EventKind.PLAN_GRANTED, now + 1, sessions=1)  # plan news: not held
        await events.add(conn, None, EventKind.POOL_LOW, now + 1, free=1, threshold=5)  # admins': not held
    async with db.read() as conn:
        kinds = [e.kind for e in await events.deliverable(conn, now + 2, FOLDED, LONGEST_CYCLE)]
        assert kinds == [EventKind.PLAN_GRANTED, EventKind.POOL_LOW]
        # An engine that stopped (or a cycle longer than any should be) keeps them at most the campaign's
        # interval plus LONGEST_CYCLE after the oldest of them; then they go out all together, not one by one.
        limit = now - 50 + interval + LONGEST_CYCLE
        assert [e.kind for e in await events.deliverable(conn, limit, FOLDED, LONGEST_CYCLE)] == kinds
        late = [e.kind for e in await events.deliverable(conn, limit + 1, FOLDED, LONGEST_CYCLE)]
        assert EventKind.SESSION_DEAD in late and EventKind.GROUP_PAUSED in late
    await db.transact_sync(close_cycle(ALICE, cycle_no, now + 10, now + 300, unreachable=0, stopped=None))
    async with db.read() as conn:
        pending = await events.deliverable(conn, now + 11, FOLDED, LONGEST_CYCLE)
    [summary] = [e for e in pending if e.kind is EventKind.CYCLE_SUMMARY]
    assert not {EventKind.SESSION_DEAD, EventKind.GROUP_PAUSED} & {e.kind for e in pending}  # inside the summary
    assert [p["kind"] for p in summary.payload["problems"]] == ["session_dead", "group_paused"]
    assert summary.payload["cycle_no"] == cycle_no and summary.payload["next_at"] == now + 300


async def test_urgent_kinds_and_a_stopped_campaigns_events_are_never_held(db: Database) -> None:
    now = 1_800_000_000.0
    async with db.tx() as conn:
        await customers.grant(conn, ALICE, 1, 30, now, 300)
        await customers.set_status(conn, ALICE, "running", now)
    await db.transact_sync(lambda conn: customers.begin_cycle_sync(conn, ALICE, now))
    urgent = [EventKind.POST_INVALID, EventKind.CAMPAIGN_STOPPED, EventKind.PLAN_EXPIRED, EventKind.PLAN_REVOKED]
    async with db.tx() as conn:
        await events.add(conn, ALICE, EventKind.GROUP_PAUSED, now + 1, group="@x", reason="failures:3:X")
        for kind in urgent:
            await events.add(conn, ALICE, kind, now + 2, reason="x")
    async with db.read() as conn:
        assert [e.kind for e in await events.deliverable(conn, now + 3, FOLDED, LONGEST_CYCLE)] == urgent
    async with db.tx() as conn:  # the campaign stopped (its cycle not closed yet): what it held goes now
        await customers.set_status(conn, ALICE, "stopped", now + 3, reason="post_invalid")
    async with db.read() as conn:
        released = await events.deliverable(conn, now + 3, FOLDED, LONGEST_CYCLE)
    assert EventKind.GROUP_PAUSED in [e.kind for e in released]


def test_every_customer_kind_is_decided_held_or_at_once() -> None:
    admins_only = {EventKind.POOL_LOW, EventKind.PAIR_FULL, EventKind.EXPIRING_PLANS, EventKind.SESSIONS_SHORT,
                   EventKind.BACKUP_FAILED}
    assert not set(FOLDED) & AT_ONCE
    assert set(FOLDED) | AT_ONCE | admins_only == set(EventKind)
    # What needs the customer now: a stop (a broken post stops the campaign) and the plan's end.
    assert {EventKind.POST_INVALID, EventKind.CAMPAIGN_STOPPED, EventKind.PLAN_EXPIRED,
            EventKind.PLAN_REVOKED} <= AT_ONCE


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


# --- at most one message per customer per cycle, wherever its events come from --------------------------


async def _speaker(h: Harness, lang: str) -> Player:
    if lang == "ru":
        return await _russian(h, "UTC")
    alice = h.user(ALICE, "Alice")
    await alice.ask("/start")
    return alice


async def _running(h: Harness, alice: Player, *groups: str, pool: int = 2) -> int:
    """Alice's campaign running on one session (``pool - 1`` spare in the pool); returns her session."""
    await h.grant(ALICE)
    await h.fill_pool(pool)
    await alice.ask("/post https://t.me/adschannel/1")
    await alice.ask("/addgroups " + " ".join(groups))
    await alice.ask("/run")
    [row] = await h.rows("SELECT id FROM sessions WHERE owner_id = ?", (ALICE,))
    return int(row[0])


def _replaced(lang: str) -> str:
    with in_locale(lang):
        return et.event_text(EventKind.SESSION_REPLACED, {}, for_admin=False)


def _cycle_head(lang: str, cycle_no: int) -> str:
    return f"Цикл {cycle_no}:" if lang == "ru" else f"Cycle {cycle_no}:"


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_dead_session_found_by_the_scan_before_the_cycle_opens_is_in_its_summary(
    tmp_path: Path, lang: str
) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await _speaker(h, lang)
        victim = await _running(h, alice, "@cats_group", "@dogs_group")
        h.world.add_fault(kind="dead", method="dialogs", session=victim, times=0)
        report = await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        assert report.cycle_no == 1
        [summary] = [m.text for m in alice.unread()]  # one message: the retirement and the replacement inside
        assert summary.startswith("📋") and _cycle_head(lang, 1) in summary and _replaced(lang) in summary
        dead = "Одна из ваших сессий перестала работать" if lang == "ru" else "One of your sessions stopped working"
        assert dead in summary
        assert EventKind.SESSION_DEAD in await _kinds(h, ALICE)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_an_event_between_cycles_of_a_running_campaign_arrives_in_the_next_summary(
    tmp_path: Path, lang: str
) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await _speaker(h, lang)
        session = await _running(h, alice, "@cats_group")
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        assert alice.unread() == []  # routine success: nothing said

        await h.clock.advance(100)  # between cycles the pool finds her session dead and replaces it
        await lifecycle.retire(h.db, h.settings.paths.sessions_dir, session, "dead", "AuthKeyUnregisteredError",
                               h.clock.now())
        h.app.outbox.wake()
        await h.deliver()
        await h.idle()
        assert alice.unread() == []  # held for the next summary

        await h.clock.advance(200)
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        [summary] = [m.text for m in alice.unread()]
        assert summary.startswith("📋") and _cycle_head(lang, 2) in summary and _replaced(lang) in summary


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_two_hour_cycle_sends_one_message(tmp_path: Path, lang: str) -> None:
    # One session, an hour between sends: the cycle runs two hours; the first and the last group are
    # paused, two hours apart, while the outbox looks every ten minutes.
    async with bot_harness(tmp_path, group_failure_limit=1, send_spacing=3600) as h:
        for name in ("first_bad", "last_bad"):
            h.world.add_group(name)
            h.world.add_fault(kind="error", error="ChatRestrictedError", group=f"@{name}", times=0)
        alice = await _speaker(h, lang)
        await _running(h, alice, "@first_bad", "@middle_ok", "@last_bad", pool=1)
        start = h.clock.now()
        cycle = asyncio.create_task(h.cycle(ALICE))
        looks = 0
        while not cycle.done():
            await h.clock.sleep(600)
            await h.deliver()
            looks += 1
        report = await cycle
        await h.deliver()
        await h.idle()
        # The outbox looked many times while the cycle held its events (12 on an idle machine; the clock
        # advances by itself when every task sleeps, so under load a look can be skipped past): still one
        # message for the cycle.
        assert (report.finished_at or 0) - start >= 2 * 3600 and looks >= 6
        [summary] = [m.text for m in alice.unread()]
        assert summary.startswith("📋") and "@first_bad" in summary and "@last_bad" in summary
        assert (await _kinds(h, ALICE)).count(EventKind.GROUP_PAUSED) == 2


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_at_level_all_with_several_admins_the_customer_gets_one_message_per_cycle(
    tmp_path: Path, lang: str
) -> None:
    second_id = ADMIN_ID + 1
    async with bot_harness(tmp_path, admins=(ADMIN_ID, second_id), users=[(second_id, "Second")]) as h:
        admin, second = h.user(ADMIN_ID, "Admin"), h.user(second_id, "Second")
        await admin.ask("/start")
        alice = await _speaker(h, lang)
        async with h.db.tx() as conn:
            await users.set_notify_level(conn, ALICE, NotifyLevel.ALL)
        victim = await _running(h, alice, "@cats_group", "@dogs_group")
        h.world.add_fault(kind="dead", method="dialogs", session=victim, times=0)
        seen = 0
        for cycle_no in (1, 2, 3):
            await h.cycle(ALICE)
            await h.deliver()
            await h.idle()
            got = [m.text for m in alice.unread()]
            [summary] = got[seen:]  # this cycle's one message
            seen = len(got)
            assert summary.startswith("📋") and _cycle_head(lang, cycle_no) in summary
            assert (_replaced(lang) in summary) == (cycle_no == 1)
            await h.clock.advance(300)
        # The admins were told of the dead session, each of them.
        assert any("is dead" in m.text for m in admin.unread())
        assert any("is dead" in m.text for m in second.unread())


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_plan_ending_goes_at_once_with_what_was_held(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await _speaker(h, lang)
        session = await _running(h, alice, "@cats_group")
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        await lifecycle.retire(h.db, h.settings.paths.sessions_dir, session, "dead", "AuthKeyUnregisteredError",
                               h.clock.now())
        await h.deliver()
        assert alice.unread() == []  # held: the campaign runs
        await h.clock.advance(DAY * 31)  # the plan ended: the next cycle stops the campaign instead
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        with in_locale(lang):
            expired = et.event_text(EventKind.PLAN_EXPIRED, {}, for_admin=False)
        [told] = [m.text for m in alice.unread()]  # at once, and what was held with it, in one message
        assert expired in told and _replaced(lang) in told
        assert (await h.customer(ALICE)).status == "stopped"


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_broken_post_is_told_at_once_not_held_for_the_summary(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        h.world.add_channel("real_channel", posts=[1])
        alice = await _speaker(h, lang)
        await h.grant(ALICE)
        await h.fill_pool(1)
        await alice.ask("/post https://t.me/real_channel/99")
        await alice.ask("/addgroups @some_group")
        await alice.ask("/run")
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        async with h.db.read() as conn:
            found = await events.list_for(conn, ALICE)
        [invalid] = [e for e in found if e.kind is EventKind.POST_INVALID]
        [summary] = [e for e in found if e.kind is EventKind.CYCLE_SUMMARY]
        assert summary.payload["problems"] == []  # it went on its own, not inside the summary
        assert invalid.created_at <= summary.created_at
        texts = [m.text for m in alice.unread()]
        gone = "больше нельзя отправить" if lang == "ru" else "can no longer be sent"
        assert [t for t in texts if gone in t and not t.startswith("📋")]
