"""Issue 18 part A1: the reader's language and zone, /settings, menus and descriptions per language.

Expected texts are rendered with ``in_locale`` (never copied), plus a few literal Russian spot checks
so a wrong catalog cannot pass by construction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram.types import User

from control_bot.i18n import AdbotI18n, UserLocale, negotiate
from control_bot.services.settings import offset_label, parse_zone
from core.clock import SystemClock
from core.states import NotifyLevel
from core.texts import bot_profile as bp
from core.texts import settings as st
from storage import users
from storage.db import Database
from tests.botkit import ADMIN_ID, START, bot_harness, in_locale, labels

ALICE = 501  # Russian Telegram
BOB = 502  # English Telegram
OLGA = 503  # Ukrainian Telegram: no catalog


def _screen(locale: str, zone: str = "UTC", level: NotifyLevel = NotifyLevel.PROBLEMS) -> str:
    with in_locale(locale):
        return st.settings_screen(st.language_name(locale), zone, offset_label(zone, START), level)


def _customer_menu(locale: str) -> list[tuple[str, str]]:
    with in_locale(locale):
        return list(bp.customer_commands())


def _admin_menu(locale: str) -> list[tuple[str, str]]:
    with in_locale(locale):
        merged = dict(bp.customer_commands())
        merged.update(bp.admin_commands())
    return list(merged.items())


# --- units ------------------------------------------------------------------------------------------


def test_negotiation() -> None:
    available = ("en", "pt_BR", "pt", "ru")
    assert negotiate("ru", available, "en") == "ru"
    assert negotiate("ru-RU", available, "en") == "ru"
    assert negotiate("pt-br", available, "en") == "pt_BR"
    assert negotiate("pt-pt", available, "en") == "pt"
    assert negotiate("uk", available, "en") == "en"
    assert negotiate(None, available, "ru") == "ru"
    assert negotiate("", available, "en") == "en"


def test_catalogs_have_russian() -> None:
    i18n = AdbotI18n()
    assert i18n.available_locales[0] == "en" and "ru" in i18n.available_locales
    with in_locale("ru"):
        assert st.BTN_LANGUAGE() == "🌐 Язык"
        assert dict(bp.customer_commands())["start"] == "Главное меню"
    with in_locale("en"):
        assert st.BTN_LANGUAGE() == "🌐 Language"
    assert st.BTN_LANGUAGE() == "🌐 Language"  # outside any scope: the source text
    assert st.language_name("ru") == "Русский" and st.language_name("en") == "English"


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("UTC+3", "Etc/GMT-3"),
        ("utc -5", "Etc/GMT+5"),
        ("+14", "Etc/GMT-14"),
        ("GMT+0", "UTC"),
        ("UTC", "UTC"),
        ("+5:30", "Asia/Kolkata"),
        ("europe/moscow", "Europe/Moscow"),
        ("America/New York", "America/New_York"),
        ("Moscow", "Europe/Moscow"),
        ("UTC+15", None),
        ("-13", None),
        ("Mars/Olympus", None),
        ("", None),
        ("+5:10", None),
    ],
)
def test_parse_zone(typed: str, zone: str | None) -> None:
    assert parse_zone(typed) == zone


def test_offset_label() -> None:
    assert offset_label("Etc/GMT-3", START) == "UTC+3"
    assert offset_label("UTC", START) == "UTC"
    assert offset_label("Asia/Kolkata", START) == "UTC+5:30"
    assert offset_label("Etc/GMT+5", START) == "UTC-5"


def test_descriptions_fit_telegram_in_every_language() -> None:
    for locale in AdbotI18n().available_locales:
        with in_locale(locale):
            assert 0 < len(bp.BOT_DESCRIPTION()) <= bp.DESCRIPTION_LIMIT
            assert 0 < len(bp.BOT_SHORT_DESCRIPTION()) <= bp.SHORT_DESCRIPTION_LIMIT
            for name, description in (*bp.customer_commands(), *bp.admin_commands()):
                assert 1 <= len(description) <= 256, (locale, name)
            for level in NotifyLevel:
                assert len(st.level_button(level)) <= 24
            for label in (st.BTN_LANGUAGE(), st.BTN_ZONE(), st.BTN_NOTIFICATIONS(), st.BTN_ZONE_OTHER()):
                assert len(label) <= 24


# --- over the emulator ------------------------------------------------------------------------------


async def test_profile_per_language_at_start(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        with in_locale("ru"):
            ru_description, ru_short = bp.BOT_DESCRIPTION(), bp.BOT_SHORT_DESCRIPTION()
        with in_locale("en"):
            en_description, en_short = bp.BOT_DESCRIPTION(), bp.BOT_SHORT_DESCRIPTION()
        assert h.emu.description_for("ru") == ru_description != en_description
        assert h.emu.short_description_for("ru") == ru_short
        assert "Telegram" in ru_short and "рекламу" in ru_short
        assert h.emu.description_for("en") == en_description
        assert h.emu.description_for("uk") == en_description  # Telegram's fallback: the default one
        assert h.emu.short_description_for(None) == en_short
        assert h.emu.commands_for(language_code="ru") == _customer_menu("ru")
        assert h.emu.commands == _customer_menu("en")  # the default scope, no language: English as before


async def test_russian_user_gets_russian_settings_and_menu(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        alice = h.user(ALICE, "Алиса", language_code="ru-RU", username="Alice_R")
        reply = await alice.ask("/settings")
        assert reply.html == _screen("ru")
        assert "Настройки" in reply.text and "Язык: Русский" in reply.text
        with in_locale("ru"):
            assert labels(reply)[:3] == [st.BTN_LANGUAGE(), st.BTN_ZONE(), st.BTN_NOTIFICATIONS()]
        assert h.emu.commands_seen_by(ALICE) == _customer_menu("ru")
        assert ("start", "Главное меню") in h.emu.commands_seen_by(ALICE)
        await h.app.locales.drain()  # the row is written beside the update, never in its way
        async with h.db.read() as conn:
            row = await users.get(conn, ALICE)
        assert row is not None
        assert (row.username, row.first_name, row.language_code, row.locale) == ("alice_r", "Алиса", "ru-RU", None)


async def test_unknown_language_reads_english(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        olga = h.user(OLGA, "Olga", language_code="uk")
        reply = await olga.ask("/settings")
        assert reply.html == _screen("en")
        assert "Language: English" in reply.text
        assert h.emu.commands_seen_by(OLGA) == _customer_menu("en")


async def test_switching_language_changes_the_next_reply_and_the_menu(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        bob = h.user(BOB, "Bob", language_code="en")
        await bob.ask("/settings")
        with in_locale("en"):
            pick = await bob.press(st.BTN_LANGUAGE())
        assert labels(pick)[:2] == ["✅ English", "Русский"]
        switched = await bob.press("Русский")
        assert switched.html == _screen("ru")
        assert h.emu.commands_seen_by(BOB) == _customer_menu("ru")  # a chat scope: beats his app's English
        again = await bob.ask("/settings")
        assert again.html == _screen("ru")
        async with h.db.read() as conn:
            assert await users.audience(conn, BOB) == ("ru", None)
        # and back
        with in_locale("ru"):
            await bob.press(st.BTN_LANGUAGE())
        back = await bob.press("English")
        assert back.html == _screen("en")
        assert h.emu.commands_seen_by(BOB) == _customer_menu("en")


async def test_time_zone_typed_and_picked_and_notification_level(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        alice = h.user(ALICE, "Алиса", language_code="ru")
        await alice.ask("/settings")
        with in_locale("ru"):
            await alice.press(st.BTN_ZONE())
            ask = await alice.press(st.BTN_ZONE_OTHER())
            assert ask.html == st.ASK_ZONE()
            refused = await alice.ask("Mars/Olympus")
            assert refused.html == st.bad_zone("Mars/Olympus")
        done = await alice.ask("UTC+3")
        assert done.html == _screen("ru", "Etc/GMT-3")
        assert "UTC+3" in done.text
        async with h.db.read() as conn:
            assert await users.audience(conn, ALICE) == ("ru", "Etc/GMT-3")
        # a picked zone, and UTC stores no zone
        with in_locale("ru"):
            await alice.press(st.BTN_ZONE())
        picked = await alice.press(st.zone_label("Europe/Berlin", offset_label("Europe/Berlin", START)))
        assert picked.html == _screen("ru", "Europe/Berlin")
        with in_locale("ru"):
            await alice.press(st.BTN_ZONE())
            await alice.press("UTC")
            await alice.press(st.BTN_NOTIFICATIONS())
            chosen = await alice.press(st.level_button(NotifyLevel.ALL))
        assert chosen.html == _screen("ru", "UTC", NotifyLevel.ALL)
        async with h.db.read() as conn:
            row = await users.get(conn, ALICE)
        assert row is not None and row.time_zone is None and row.notify_level is NotifyLevel.ALL


async def test_forged_settings_buttons_change_nothing(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        bob = h.user(BOB, "Bob")
        screen = await bob.ask("/settings")
        for data in ("st:lang:xx", "st:zone:Mars/Olympus", "st:zone:utc+3", "st:level:loud"):
            answer = await bob.forge(screen.message_id, data)
            assert answer.show_alert and answer.text == st.STALE_CHOICE()
        await h.app.locales.drain()  # Bob's row is written beside his first update, never in its way
        async with h.db.read() as conn:
            row = await users.get(conn, BOB)
        assert row is not None and (row.locale, row.time_zone, row.notify_level) == (None, None, NotifyLevel.PROBLEMS)


async def test_admin_with_russian_telegram_gets_a_russian_admin_menu(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Админ", language_code="ru")
        assert h.emu.commands_seen_by(ADMIN_ID) == _admin_menu("en")  # never seen yet: the default language
        await admin.ask("/settings")
        assert h.emu.commands_seen_by(ADMIN_ID) == _admin_menu("ru")
        assert ("admin", "Панель администратора") in h.emu.commands_seen_by(ADMIN_ID)
    # after a restart the stored language is used from the start
    async with bot_harness(tmp_path) as h:
        h.user(ADMIN_ID, "Админ", language_code="ru")
        assert h.emu.commands_for({"type": "chat", "chat_id": ADMIN_ID}) == _admin_menu("ru")


async def test_profile_is_written_only_when_new_or_changed(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    seen: list[tuple[int, str]] = []

    async def record(user_id: int, locale: str) -> None:
        seen.append((user_id, locale))

    try:
        mw = UserLocale(AdbotI18n(), db, SystemClock(), on_new_profile=record, cache_size=1)
        alice = User(id=5, is_bot=False, first_name="Alice", language_code="ru", username="Al")
        assert mw.locale_of(await mw.profile(alice)) == "ru"
        await mw.drain()
        await mw.profile(alice)  # cached
        await mw.profile(User(id=6, is_bot=False, first_name="Bob"))  # pushes Alice out of the cache
        await mw.drain()
        await mw.profile(alice)  # read again: unchanged, nothing written
        assert seen == [(5, "ru"), (6, "en")]
        await mw.profile(alice.model_copy(update={"language_code": "uk"}))
        await mw.drain()
        assert seen == [(5, "ru"), (6, "en"), (5, "en")]
        async with db.read() as conn:
            row = await users.get(conn, 5)
        assert row is not None and (row.username, row.language_code) == ("al", "uk")
        async with db.tx() as conn:
            await users.set_locale(conn, 5, "ru")
        profile = await mw.reload(5)
        assert mw.locale_of(profile) == "ru"
    finally:
        await db.close()
