"""Issue 18 part D: a stranger's /start and /help, Request access, the admins' cards (each in that admin's
language), answering them, an admin's /start and an admin's stray file.

Over the Bot API emulator, in English and in Russian. Expected texts are rendered with ``in_locale`` (never
copied), plus a few literal Russian spot checks so a wrong catalog cannot pass by construction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from control_bot.callbacks import AccessCardCb, CardAction
from core.states import EventKind
from core.texts import admin as admin_texts
from core.texts import customer as customer_texts
from core.texts import onboarding as t
from core.texts.events import event_text
from sandbox.botapi.html import parse_html
from sandbox.botapi.models import MessageView
from tests.botkit import ADMIN_ID, DAY, Harness, Player, bot_harness, in_locale, labels

ADMIN_RU = 9001  # an admin whose Telegram speaks Russian
STRANGER = 4242
CONTACT = "@adbot_owner"
LANGUAGES = ("en", "ru")


def plain(html: str) -> str:
    """What a client shows of an HTML text."""
    return parse_html(html).text


def welcome(lang: str, name: str, contact: str | None = None) -> str:
    with in_locale(lang):
        text = t.welcome(name)
        return plain(f"{text}\n\n{t.contact_line(contact)}" if contact else text)


def card(lang: str, name: str, username: str | None, user_id: int, language_code: str | None) -> str:
    with in_locale(lang):
        return plain(t.access_card(name, username, user_id, t.language_name(language_code)))


def card_labels(lang: str, user_id: int, presets: list[tuple[int, int]]) -> list[str]:
    with in_locale(lang):
        return [*(t.plan_label(s, d) for s, d in presets), t.BTN_OTHER_PLAN(), t.BTN_DECLINE()]


def render(lang: str, text_fn: Callable[..., str], *args: object) -> str:
    """A text as a reader of ``lang`` sees it."""
    with in_locale(lang):
        return plain(text_fn(*args))


async def admins_met(h: Harness) -> tuple[Player, Player]:
    """Both admins opened the bot (so the bot knows their language)."""
    en_admin = h.user(ADMIN_ID, "Anna")
    ru_admin = h.user(ADMIN_RU, "Борис", language_code="ru")
    await en_admin.ask("/start")
    await ru_admin.ask("/start")
    await h.app.locales.drain()
    return en_admin, ru_admin


async def request_rows(h: Harness, user_id: int) -> list[tuple[object, ...]]:
    rows = await h.rows(
        "SELECT handled_by, outcome FROM access_requests WHERE user_id = ? ORDER BY id", (user_id,)
    )
    return [tuple(r) for r in rows]


# --- a stranger's /start and /help ------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_strangers_start_and_help_say_what_the_service_is_and_offer_access(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        stranger = h.user(STRANGER, "Mira", language_code=lang)
        start = await stranger.ask("/start")
        assert start.text == welcome(lang, "Mira")
        assert labels(start) == [render(lang, t.BTN_REQUEST_ACCESS)]
        with in_locale(lang):
            assert t.contact_line(CONTACT) not in start.text
        help_ = await stranger.ask("/help")
        assert help_.text == render(lang, t.help_not_customer)
        assert labels(help_) == [render(lang, t.BTN_REQUEST_ACCESS)]
        # any other command: no plan, and how to ask for one
        status = await stranger.ask("/status")
        assert status.text == render(lang, t.not_a_customer, STRANGER)
        if lang == "ru":
            assert start.text.startswith("👋 Здравствуйте, Mira!")
            assert labels(start) == ["🙋 Запросить доступ"]


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_contact_line_is_shown_when_configured(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        h.settings.bot.contact = CONTACT
        stranger = h.user(STRANGER, "Mira", language_code=lang)
        start = await stranger.ask("/start")
        assert start.text == welcome(lang, "Mira", CONTACT)
        help_ = await stranger.ask("/help")
        with in_locale(lang):
            assert help_.text == plain(f"{t.help_not_customer()}\n\n{t.contact_line(CONTACT)}")
        if lang == "ru":
            assert start.text.endswith("Есть вопросы? Пишите @adbot_owner.")


# --- requesting access and the admins' cards --------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_request_access_cards_every_admin_in_their_language_and_a_plan_button_grants(
    tmp_path: Path, lang: str
) -> None:
    async with bot_harness(tmp_path, admins=(ADMIN_ID, ADMIN_RU)) as h:
        presets = [tuple(p) for p in h.settings.bot.plan_presets]
        en_admin, ru_admin = await admins_met(h)
        stranger = h.user(STRANGER, "Mira", username="mira_k", last_name="K", language_code=lang)
        await stranger.ask("/start")
        told = await stranger.press(render(lang, t.BTN_REQUEST_ACCESS))
        assert told.text == render(lang, t.REQUEST_SENT)
        assert await request_rows(h, STRANGER) == [(None, None)]

        # every admin gets a card, in their own language: who asked, and one-tap plans
        en_card = await en_admin.user.wait_reply()
        ru_card = await ru_admin.user.wait_reply()
        assert en_card.text == card("en", "Mira K", "mira_k", STRANGER, lang)
        assert ru_card.text == card("ru", "Mira K", "mira_k", STRANGER, lang)
        assert labels(en_card) == card_labels("en", STRANGER, presets)
        assert labels(ru_card) == card_labels("ru", STRANGER, presets)
        assert "🙋 Запрос доступа" in ru_card.text and "❌ Отклонить" in labels(ru_card)
        expected_language = {"en": "Язык: английский", "ru": "Язык: русский"}[lang]
        assert expected_language in ru_card.text

        # the Russian admin grants the second preset
        sessions, days = presets[1]
        with in_locale("ru"):
            button = t.plan_label(sessions, days)
        done = await ru_admin.press(button)
        customer = await h.customer(STRANGER)
        assert (customer.plan_sessions, customer.plan_active(h.clock.now())) == (sessions, True)
        with in_locale("ru"):
            line = t.card_granted("Борис", button, customer.plan_expires_at)
        assert done.text == plain(f"{ru_card.html}\n\n{line}") and done.buttons == []
        assert await request_rows(h, STRANGER) == [(ADMIN_RU, "granted")]

        # the person is told their plan (the outbox's PLAN_GRANTED)
        notice = await stranger.user.wait_reply()
        assert notice.text.startswith("🎉")
        events = await h.rows("SELECT kind FROM events WHERE customer_id = ?", (STRANGER,))
        assert [r["kind"] for r in events] == [str(EventKind.PLAN_GRANTED)]

        # the other admin's card says so, in their language, and has no buttons left
        closed = await en_admin.user.wait_reply()
        assert closed.message_id == en_card.message_id and closed.buttons == []
        with in_locale("en"):
            en_line = t.card_granted("Борис", t.plan_label(sessions, days), customer.plan_expires_at)
        assert closed.text == plain(f"{en_card.html}\n\n{en_line}")
        # a press of its old button (a client that still shows it) grants nothing twice
        before = await h.customer(STRANGER)
        old_data = AccessCardCb(action=CardAction.GRANT, user_id=STRANGER, sessions=presets[0][0], days=presets[0][1])
        late = await en_admin.forge(en_card.message_id, old_data.pack())
        assert late.show_alert and late.text == render("en", t.CARD_ALREADY_ANSWERED)
        assert await h.customer(STRANGER) == before
        assert await request_rows(h, STRANGER) == [(ADMIN_RU, "granted")]

        # with a plan, /start is the customer's menu and Request access is gone
        menu = await stranger.ask("/start")
        assert render(lang, t.BTN_REQUEST_ACCESS) not in labels(menu)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_person_reads_their_grant_in_their_language(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Anna")
        stranger = h.user(STRANGER, "Mira", language_code=lang)
        await stranger.ask("/start")
        await stranger.press(render(lang, t.BTN_REQUEST_ACCESS))
        await admin.user.wait_reply()
        await admin.press(render("en", t.plan_label, *h.settings.bot.plan_presets[0]))
        notice = await stranger.user.wait_reply()
        row = (await h.rows("SELECT payload FROM events WHERE customer_id = ?", (STRANGER,)))[0]
        with in_locale(lang):
            expected = plain(event_text(EventKind.PLAN_GRANTED, json.loads(row["payload"]), for_admin=False))
        assert notice.text == expected


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_repeated_request_is_pending_and_decline_tells_the_person_politely(
    tmp_path: Path, lang: str
) -> None:
    async with bot_harness(tmp_path) as h:
        h.settings.bot.contact = CONTACT
        admin = h.user(ADMIN_ID, "Anna")
        stranger = h.user(STRANGER, "Mira", language_code=lang)
        await stranger.ask("/start")
        await stranger.press(render(lang, t.BTN_REQUEST_ACCESS))
        first_card = await admin.user.wait_reply()
        requested_at = (await h.rows("SELECT requested_at FROM access_requests"))[0]["requested_at"]

        # asking again: still pending, no second card
        await stranger.ask("/start")
        again = await stranger.press(render(lang, t.BTN_REQUEST_ACCESS))
        with in_locale(lang):
            assert again.text == plain(f"{t.request_pending(requested_at)}\n\n{t.contact_line(CONTACT)}")
        await h.idle()
        assert admin.unread() == []
        assert len(await request_rows(h, STRANGER)) == 1

        declined = await admin.press(render("en", t.BTN_DECLINE))
        assert declined.text == plain(f"{first_card.html}\n\n{render('en', t.card_declined, 'Anna')}")
        assert declined.buttons == []
        told = await stranger.user.wait_reply()
        with in_locale(lang):
            assert told.text == plain(f"{t.access_declined()}\n\n{t.contact_line(CONTACT)}")
        if lang == "ru":
            assert told.text.startswith("Спасибо за интерес.")
        assert await request_rows(h, STRANGER) == [(ADMIN_ID, "declined")]
        assert await h.rows("SELECT * FROM customers") == []

        # a declined person may not ask again at once (no new card: tests/test_access_races.py), but a day later
        declined_at = (await h.rows("SELECT handled_at FROM access_requests"))[0]["handled_at"]
        await stranger.ask("/start")
        refused = await stranger.press(render(lang, t.BTN_REQUEST_ACCESS))
        with in_locale(lang):
            assert refused.text == plain(f"{t.declined_recently(declined_at + DAY)}\n\n{t.contact_line(CONTACT)}")
        h.clock.set(declined_at + DAY)
        await stranger.ask("/start")
        sent = await stranger.press(render(lang, t.BTN_REQUEST_ACCESS))
        assert sent.text == plain(f"{render(lang, t.REQUEST_SENT)}\n\n{render(lang, t.contact_line, CONTACT)}")
        assert (await admin.user.wait_reply()).text == first_card.text


@pytest.mark.parametrize(("lang", "contact"), [("en", None), ("ru", None), ("en", CONTACT), ("ru", CONTACT)])
async def test_when_no_admin_can_be_reached_the_person_is_not_told_they_were(
    tmp_path: Path, lang: str, contact: str | None
) -> None:
    async with bot_harness(tmp_path, admins=(ADMIN_ID, ADMIN_RU)) as h:
        if contact:
            h.settings.bot.contact = contact
        blocked = h.user(ADMIN_ID, "Anna")
        await blocked.ask("/start")
        blocked.user.block_bot()
        h.user(ADMIN_RU, "Борис", language_code="ru", started=False)  # never opened the bot
        stranger = h.user(STRANGER, "Mira", language_code=lang)
        await stranger.ask("/start")
        reply = await stranger.press(render(lang, t.BTN_REQUEST_ACCESS))
        with in_locale(lang):
            after = t.contact_line(contact) if contact else t.TRY_LATER()
            assert reply.text == plain(f"{t.REQUEST_UNSENT()}\n{after}")
            assert t.REQUEST_SENT() not in reply.text
        assert labels(reply) == [render(lang, t.BTN_REQUEST_ACCESS)]
        # nothing is left open: asking again tries the admins again
        assert await request_rows(h, STRANGER) == [(0, "unsent")]
        h.emu.set_blocked(ADMIN_ID, False)
        again = await stranger.press(render(lang, t.BTN_REQUEST_ACCESS))
        assert again.text.startswith(render(lang, t.REQUEST_SENT))
        assert (await blocked.user.wait_reply()).text == card("en", "Mira", None, STRANGER, lang)


async def test_one_admin_reached_is_enough_to_say_so(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, admins=(ADMIN_ID, ADMIN_RU)) as h:
        h.user(ADMIN_ID, "Anna", started=False)
        ru_admin = h.user(ADMIN_RU, "Борис", language_code="ru")
        stranger = h.user(STRANGER, "Mira")
        await stranger.ask("/start")
        reply = await stranger.press(render("en", t.BTN_REQUEST_ACCESS))
        assert reply.text == render("en", t.REQUEST_SENT)
        # an admin the bot has never heard from gets the default language
        assert (await ru_admin.user.wait_reply()).text == card("en", "Mira", None, STRANGER, "en")


async def test_other_plan_and_a_plan_granted_meanwhile(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Anna")
        stranger = h.user(STRANGER, "Mira", language_code="ru")
        await stranger.ask("/start")
        await stranger.press(render("ru", t.BTN_REQUEST_ACCESS))
        the_card = await admin.user.wait_reply()
        other = await admin.press(render("en", t.BTN_OTHER_PLAN))
        assert other.text == render("en", t.other_plan, STRANGER)
        assert f"/grant {STRANGER} 2 60" in other.text
        assert await request_rows(h, STRANGER) == [(None, None)]

        # the person got a plan some other way: the card grants nothing and points to /grant
        granted = await h.grant(STRANGER, sessions=2, days=10)
        done = await admin.press(render("en", t.plan_label, *h.settings.bot.plan_presets[0]))
        line = render("en", t.card_has_plan, 2, granted.plan_expires_at, STRANGER)
        assert done.text == plain(f"{the_card.html}\n\n") + line
        assert await h.customer(STRANGER) == granted
        assert await request_rows(h, STRANGER) == [(ADMIN_ID, "has_plan")]
        # and the person, now a customer, is not offered access again
        menu = await stranger.ask("/start")
        assert render("ru", t.BTN_REQUEST_ACCESS) not in labels(menu)


async def test_a_customer_whose_plan_ended_can_ask_to_renew(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Anna", language_code="ru")
        await admin.ask("/start")
        await h.app.locales.drain()
        ended = await h.grant(STRANGER, sessions=1, days=1)
        h.clock.set(ended.plan_expires_at + 60)
        person = h.user(STRANGER, "Mira")
        start = await person.ask("/start")
        assert start.text == render("en", t.plan_ended_screen, ended.plan_expires_at)
        await person.press(render("en", t.BTN_REQUEST_ACCESS))
        the_card = await admin.user.wait_reply()
        with in_locale("ru"):
            expected = t.access_card("Mira", None, STRANGER, t.language_name("en"))
            expected += "\n" + t.card_plan_ended(ended.plan_expires_at)
        assert the_card.text == plain(expected)
        sessions, days = h.settings.bot.plan_presets[0]
        await admin.press(render("ru", t.plan_label, sessions, days))
        renewed = await h.customer(STRANGER)
        assert renewed.plan_active(h.clock.now()) and renewed.plan_sessions == sessions
        assert await request_rows(h, STRANGER) == [(ADMIN_ID, "granted")]


async def test_card_buttons_are_refused_to_anyone_but_an_admin(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Anna")
        stranger = h.user(STRANGER, "Mira")
        start = await stranger.ask("/start")
        await stranger.press(render("en", t.BTN_REQUEST_ACCESS))
        await admin.user.wait_reply()
        sessions, days = h.settings.bot.plan_presets[-1]
        forged = AccessCardCb(action=CardAction.GRANT, user_id=STRANGER, sessions=sessions, days=days).pack()
        answer = await stranger.forge(start.message_id, forged)
        assert answer.show_alert and answer.text == customer_texts.STALE_BUTTON()
        answer = await stranger.forge(
            start.message_id, AccessCardCb(action=CardAction.DECLINE, user_id=STRANGER).pack()
        )
        assert answer.text == customer_texts.STALE_BUTTON()
        # an admin's press with a plan that is not a preset changes nothing either
        not_preset = AccessCardCb(action=CardAction.GRANT, user_id=STRANGER, sessions=999, days=3650).pack()
        answer = await admin.forge(admin.last_bot_message().message_id, not_preset)
        assert answer.show_alert and answer.text == customer_texts.STALE_BUTTON()
        await h.idle()
        assert await h.rows("SELECT * FROM customers") == []
        assert await request_rows(h, STRANGER) == [(None, None)]


# --- admins ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_an_admins_start_is_the_admin_panel_never_the_customer_greeting(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Anna", language_code=lang)
        panel = await admin.ask("/start")
        assert panel.text == render(lang, admin_texts.admin_panel)
        assert render(lang, t.BTN_CUSTOMER_SIDE) not in labels(panel)
        assert render(lang, t.BTN_REQUEST_ACCESS) not in labels(panel)
        assert (await admin.ask("/help")).text == panel.text

        # with a plan of their own: the panel, and their campaign one tap away
        await h.grant(ADMIN_ID)
        panel = await admin.ask("/start")
        assert panel.text == render(lang, admin_texts.admin_panel)
        assert labels(panel)[-1] == render(lang, t.BTN_CUSTOMER_SIDE)
        menu = await admin.press(render(lang, t.BTN_CUSTOMER_SIDE))
        with in_locale(lang):
            assert customer_texts.BTN_RUN() in labels(menu)
        if lang == "ru":
            assert labels(panel)[-1] == "👤 Моя кампания"


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_an_admins_stray_file_gets_an_admin_answer(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Anna", language_code=lang)
        reply: MessageView = await admin.send_file("price list.pdf", b"%PDF-1.4")
        assert reply.text == render(lang, t.not_a_session_file, "price list.pdf")
        assert reply.text != render(lang, t.not_a_customer, ADMIN_ID)
        # a customer-admin answering /addgroups still has their .txt read as groups
        await h.grant(ADMIN_ID)
        await admin.ask("/addgroups")
        added = await admin.send_file("groups.txt", b"@some_group")
        assert "some_group" in added.text
        if lang == "ru":
            assert "не файл сессии" in reply.text
