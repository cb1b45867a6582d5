"""Issue 18 part H end to end, in English and Russian: /grant by id, @username or the user picker,
before -> after and its confirmation, downgrade warnings, /revoke, forged and stale confirmations, and
the admins really told when a campaign is short of sessions. The real app against the Bot API emulator
(tests/botkit.py); expected texts are rendered in the reader's language (``in_locale``), with a few
literal Russian spot checks so a wrong catalog cannot pass by construction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botkit import ADMIN_ID, Harness, Player, bot_harness, in_locale, labels

from control_bot.services import admin as admin_service
from control_bot.services import plans
from control_bot.services.plans import Person, PlanChange, PlanState
from core.states import EventKind
from core.texts import events as event_texts
from core.texts import plans as t
from pool.assign import SHORT_TOLD_AGAIN_AFTER
from storage import sessions as session_rows

CUSTOMER = 1001
DAY = 86_400.0
LANGS = pytest.mark.parametrize("lang", ["en", "ru"])


async def _owned(h: Harness, user_id: int) -> int:
    async with h.db.read() as conn:
        return len(await session_rows.list_for_owner(conn, user_id))


async def _people(h: Harness, lang: str) -> tuple[Player, Player]:
    """The admin and Alice, both with a Telegram app in ``lang``; Alice has started the bot."""
    admin = h.user(ADMIN_ID, "Admin", language_code=lang)
    alice = h.user(CUSTOMER, "Alice", username="Alice_Shop", language_code=lang)
    await alice.ask("/start")
    return admin, alice


@LANGS
async def test_a_new_plan_by_username_is_made_at_once(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin, alice = await _people(h, lang)
        reply = await admin.ask("/grant @alice_shop 2 30")  # any case, with or without the @
        assert labels(reply) == []  # nothing to confirm: there was no plan
        customer = await h.customer(CUSTOMER)
        assert customer.plan_sessions == 2
        granted_at = customer.plan_expires_at - 30 * DAY
        who = Person(CUSTOMER, "alice_shop", "Alice", lang)
        change = PlanChange(who, "grant", None, PlanState(2, customer.plan_expires_at, True), 30, 0, 0, 2, 0, False,
                            granted_at)
        with in_locale(lang):
            expected = t.plan_applied(plans.Applied(change, grant=admin_service.GrantResult(customer, True, 30)))
        assert reply.html == expected
        if lang == "ru":
            assert reply.text.startswith("✅ Тариф создан для Alice (@alice_shop, ID 1001): 2 сессии до")
            assert "+30 дней)." in reply.text and reply.text.endswith("Клиент получит уведомление.")
        else:
            assert reply.text.startswith("✅ Plan created for Alice (@alice_shop, id 1001): 2 sessions until")
            assert "+30 days)." in reply.text
        assert await alice.user.wait_reply()  # PLAN_GRANTED through the outbox

        unknown = await admin.ask("/grant @nobody_here 1 1")
        with in_locale(lang):
            assert unknown.text == t.never_started("nobody_here")
        if lang == "ru":
            assert unknown.text.startswith("Пользователь @nobody_here ещё не запускал бота")
        huge = await admin.ask(f"/grant {2**63} 1 1")
        with in_locale(lang):
            assert huge.text == t.not_a_person(str(2**63))
        assert str(2**63 - 1) not in huge.text


@LANGS
async def test_a_smaller_plan_warns_and_returns_sessions_only_once_confirmed(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin, alice = await _people(h, lang)
        await h.fill_pool(4)
        await h.grant(CUSTOMER, sessions=3)
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats @dogs")
        await alice.ask("/run")
        await h.cycle(CUSTOMER)
        assert await _owned(h, CUSTOMER) == 3
        before = await h.customer(CUSTOMER)

        shown = await admin.ask(f"/grant {CUSTOMER} 1 30")
        change = PlanChange(
            Person(CUSTOMER, "alice_shop", "Alice", lang), "grant",
            PlanState(3, before.plan_expires_at, True), PlanState(1, before.plan_expires_at + 30 * DAY, True),
            30, 3, 2, 0, 1, True, h.clock.now(),
        )
        with in_locale(lang):
            assert shown.html == t.plan_change(change)
            assert labels(shown) == [t.BTN_CONFIRM(), t.BTN_CANCEL()]
            confirm, cancel, cancelled_text = t.BTN_CONFIRM(), t.BTN_CANCEL(), t.PLAN_CANCELLED()
        if lang == "ru":
            assert "Было: 3 сессии до" in shown.text and "Станет: 1 сессия до" in shown.text
            assert "⚠ Меньше сессий: 2 вернутся в пул сессий." in shown.text
            assert labels(shown) == ["✅ Подтвердить", "✖ Отмена"]
        else:
            assert "⚠ Fewer sessions: 2 would be returned to the pool." in shown.text
        assert await _owned(h, CUSTOMER) == 3 and (await h.customer(CUSTOMER)).plan_sessions == 3

        cancelled = await admin.press(cancel)
        assert cancelled.message_id == shown.message_id and cancelled.text == cancelled_text
        assert (await h.customer(CUSTOMER)).plan_sessions == 3

        shown = await admin.ask(f"/grant {CUSTOMER} 1 30")
        done = await admin.press(confirm)
        assert done.message_id == shown.message_id
        with in_locale(lang):
            returned = t.plan_applied(plans.Applied(change, returned=2)).split("\n")[1]
        assert returned in done.text.split("\n")
        if lang == "ru":
            assert done.text.startswith("✅ Тариф продлён для Alice")
            assert "2 сессии вернулись в пул сессий." in done.text
        else:
            assert done.text.startswith("✅ Plan extended for Alice")
            assert "2 sessions went back to the pool." in done.text
        assert await _owned(h, CUSTOMER) == 1 and (await h.customer(CUSTOMER)).plan_sessions == 1
        async with h.db.read() as conn:
            assert (await session_rows.count_by_state(conn))["unused"] == 3
        report = await h.cycle(CUSTOMER)  # the campaign goes on with the session it kept
        assert report.sent > 0


@LANGS
async def test_the_user_picker_then_a_plan_button_then_confirm(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin, alice = await _people(h, lang)
        usage = await admin.ask("/grant")
        with in_locale(lang):
            assert usage.text == t.USAGE_GRANT()
            pick = t.BTN_PICK_PERSON()
        markup = usage.reply_markup or {}
        [[button]] = markup["keyboard"]
        assert button["text"] == pick
        assert button["request_users"]["user_is_bot"] is False and button["request_users"]["max_quantity"] == 1
        if lang == "ru":
            assert pick == "👤 Выбрать человека" and usage.text.startswith("Формат: /grant КТО СЕССИИ ДНИ")

        await admin.user.share_users(pick, [CUSTOMER])
        offer = await admin.user.wait_reply()
        who = Person(CUSTOMER, "alice_shop", "Alice", lang)
        presets = h.settings.bot.plan_presets
        with in_locale(lang):
            assert offer.html == t.choose_plan(who)
            preset_labels = [t.BTN_PLAN_PRESET(s, d) for s, d in presets]
            confirm = t.BTN_CONFIRM()
        assert labels(offer) == preset_labels
        if lang == "ru":
            assert preset_labels[0] == "1 сессия · 30 дней"

        shown = await admin.press(preset_labels[-1])
        assert shown.message_id == offer.message_id  # a plan button always shows before -> after first
        sessions, days = presets[-1]
        assert await h.rows("SELECT 1 FROM customers") == []
        done = await admin.press(confirm)
        assert done.message_id == offer.message_id
        customer = await h.customer(CUSTOMER)
        assert customer.plan_sessions == sessions
        # The screen as it was: no plan before; the pool is empty, so the campaign would run short.
        change = PlanChange(who, "grant", None, PlanState(sessions, customer.plan_expires_at, True), days, 0, 0,
                            sessions, 0, False, customer.plan_expires_at - days * DAY)
        with in_locale(lang):
            lines = t.plan_change(change).split("\n")
            assert t.person(who) in done.html
        shown_lines = shown.html.split("\n")
        assert len(shown_lines) == len(lines) == 5
        assert [shown_lines[i] for i in (0, 1, 3, 4)] == [lines[i] for i in (0, 1, 3, 4)]  # 2: "after", its minute
        if lang == "ru":
            assert shown.text.startswith(
                "📝 Тариф для Alice (@alice_shop, ID 1001)\nБыло: тарифа нет\nСтанет: 3 сессии до"
            )
            assert "⚠ В пуле сейчас нет свободных сессий" in shown.text
        assert await alice.user.wait_reply()  # told through the outbox


@LANGS
async def test_revoke_by_username_is_confirmed(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin, alice = await _people(h, lang)
        await h.grant(CUSTOMER, sessions=2)
        shown = await admin.ask("/revoke @Alice_Shop")
        with in_locale(lang):
            assert shown.html.startswith(t.plan_change(
                PlanChange(Person(CUSTOMER, "alice_shop", "Alice", lang), "revoke",
                           PlanState(2, (await h.customer(CUSTOMER)).plan_expires_at, True),
                           PlanState(0, h.clock.now(), False), 0, 0, 0, 0, 0, False, h.clock.now())
            ).split("\n")[0])
            confirm = t.BTN_CONFIRM()
        if lang == "ru":
            assert shown.text.startswith("🛑 Завершить тариф: Alice (@alice_shop, ID 1001)")
        assert (await h.customer(CUSTOMER)).plan_active(h.clock.now())
        await admin.press(confirm)
        assert not (await h.customer(CUSTOMER)).plan_active(h.clock.now())
        assert await alice.user.wait_reply()  # PLAN_REVOKED through the outbox


@LANGS
async def test_forged_used_and_stale_confirmations_change_nothing(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin", language_code=lang)
        await h.grant(CUSTOMER, sessions=2)
        before = await h.snapshot()
        shown = await admin.ask(f"/grant {CUSTOMER} 5 10")
        with in_locale(lang):
            gone, confirm = t.PROPOSAL_GONE(), t.BTN_CONFIRM()
        forged = await admin.forge(shown.message_id, "hp:ok:AAAAAAAAAAAA")
        assert forged.text == gone
        assert await h.snapshot() == before
        button = shown.button(confirm)
        assert button is not None
        await admin.press(confirm)
        confirmed = await h.customer(CUSTOMER)
        assert confirmed.plan_sessions == 5
        again = await admin.forge(shown.message_id, str(button["callback_data"]))  # a second tap
        assert again.text == gone
        assert await h.customer(CUSTOMER) == confirmed
        # A plan button with forged numbers is refused like a typed /grant.
        refused = await admin.forge(shown.message_id, f"hg:{CUSTOMER}:500:1")
        assert refused.text is not None and "100" in refused.text
        assert await h.customer(CUSTOMER) == confirmed
        if lang == "ru":
            assert gone.startswith("Это подтверждение больше не действует")


async def test_a_short_campaign_really_tells_the_admins(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")
        await h.fill_pool(1)
        await h.grant(CUSTOMER, sessions=3)
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats")
        started = await alice.ask("/run")
        assert "admin has been told" in started.text
        rows = await h.rows("SELECT customer_id, payload, delivered_at FROM events WHERE kind = ?",
                            (str(EventKind.SESSIONS_SHORT),))
        assert len(rows) == 1 and rows[0]["customer_id"] is None
        assert json.loads(rows[0]["payload"]) == {"customer_id": CUSTOMER, "wanted": 3, "free": 1,
                                                  "reason": "no_sessions"}
        await h.deliver()
        told = await admin.user.wait_reply()
        assert told.from_bot
        rows = await h.rows("SELECT delivered_at FROM events WHERE kind = ?", (str(EventKind.SESSIONS_SHORT),))
        assert rows[0]["delivered_at"] is not None

        # The campaign runs short; each cycle tops it up. Not a message per cycle: once for a while.
        await h.cycle(CUSTOMER)
        assert len(await h.rows("SELECT 1 FROM events WHERE kind = ?", (str(EventKind.SESSIONS_SHORT),))) == 1
        await h.clock.advance(SHORT_TOLD_AGAIN_AFTER + 60)
        await h.cycle(CUSTOMER)
        again = await h.rows("SELECT payload FROM events WHERE kind = ? ORDER BY id", (str(EventKind.SESSIONS_SHORT),))
        assert len(again) == 2 and json.loads(again[1]["payload"]) == {
            "customer_id": CUSTOMER, "wanted": 2, "free": 0, "reason": "no_sessions"
        }


async def test_the_customer_is_told_in_their_own_language(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin", language_code="en")
        alice = h.user(CUSTOMER, "Alice", language_code="ru")
        await alice.ask("/start")
        await admin.ask(f"/grant {CUSTOMER} 2 30")
        told = await alice.user.wait_reply()
        customer = await h.customer(CUSTOMER)
        with in_locale("ru"):
            expected = event_texts.event_text(
                EventKind.PLAN_GRANTED,
                {"sessions": 2, "days": 30, "expires_at": customer.plan_expires_at, "extended": False},
                for_admin=False,
            )
        assert told.html == expected and told.text != ""
        assert "тариф" in told.text.lower()
