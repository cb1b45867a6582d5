"""The bot's profile at start-up: set in the background (polling never waits for it, a flood wait on it
holds up nothing, shutdown cancels it), and only what Telegram does not hold already is set (a restart
costs reads only)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from control_bot import app as app_module
from control_bot.app import make_bot
from control_bot.bot_profile import set_profile
from control_bot.i18n import AdbotI18n, UserLocale
from core.clock import SystemClock
from core.texts import bot_profile as bp
from core.texts import onboarding as t
from sandbox.botapi.html import parse_html
from sandbox.botuser import BotApiEmulator
from storage.db import Database
from tests.botkit import ADMIN_ID, BOT_USERNAME, TEST_PACING, TOKEN, bot_harness, in_locale, make_settings

STRANGER = 4242
SETS = ("setMyCommands", "setMyDescription", "setMyShortDescription")
GETS = ("getMyCommands", "getMyDescription", "getMyShortDescription")


@pytest.fixture
def emu_bot() -> tuple[str, str]:
    return TOKEN, BOT_USERNAME


def _calls(emu: BotApiEmulator, methods: tuple[str, ...]) -> int:
    return sum(len(emu.calls_of(m)) for m in methods)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_bot_answers_while_its_profile_waits_out_a_flood_limit(tmp_path: Path, lang: str) -> None:
    def flood(emu: BotApiEmulator) -> None:
        emu.inject_retry_after("setMyCommands", 50)  # FloodControl waits 50 s before its retry

    began = time.monotonic()
    async with bot_harness(tmp_path, wait_profile=False, before_start=flood) as h:
        stranger = h.user(STRANGER, "Mira", language_code=lang)
        start = await stranger.ask("/start")
        with in_locale(lang):
            assert start.text == parse_html(t.welcome("Mira")).text
        task = h.app.profile_task
        assert task is not None and not task.done()  # still waiting out the 429
        assert [c.error for c in h.emu.calls_of("setMyCommands")] == ["Too Many Requests: retry after 50"]
        assert h.emu.calls_of("setMyDescription") == []
    assert task.cancelled()  # shutdown cancelled it rather than waiting 50 s
    assert time.monotonic() - began < 30


async def test_a_failing_profile_setup_is_logged_and_the_bot_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("network down")

    monkeypatch.setattr(app_module, "set_profile", broken)
    async with bot_harness(tmp_path) as h:
        task = h.app.profile_task
        assert task is not None and task.done() and task.exception() is None
        start = await h.user(STRANGER, "Mira").ask("/start")
        assert start.text == parse_html(t.welcome("Mira")).text


async def test_a_second_start_reads_the_profile_and_sets_nothing(emu: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, emu.base_url)
    emu.user(ADMIN_ID, "Anna")  # the admin's chat scope menu too
    bot = make_bot(settings, TEST_PACING)
    db = await Database.open(tmp_path / "a.sqlite3")
    try:
        i18n = AdbotI18n()
        locales = UserLocale(i18n, db, SystemClock())
        await set_profile(bot, settings, i18n, locales)
        first_sets = _calls(emu, SETS)
        assert first_sets >= 7  # per language and the default: menu, description, short; the admin's menu
        with in_locale("ru"):
            assert emu.description_for("ru") == bp.BOT_DESCRIPTION()

        reads = _calls(emu, GETS)
        await set_profile(bot, settings, i18n, locales)  # a restart: nothing changed
        assert _calls(emu, SETS) == first_sets
        assert _calls(emu, GETS) - reads == first_sets  # one read per value instead

        # something else changed it (another deployment, an older version): only that one is set again
        await bot.set_my_description("old words", language_code="ru")
        before = _calls(emu, SETS)
        await set_profile(bot, settings, i18n, locales)
        assert [c.params.get("language_code") for c in emu.calls_of("setMyDescription")[-1:]] == ["ru"]
        assert _calls(emu, SETS) - before == 1
        with in_locale("ru"):
            assert emu.description_for("ru") == bp.BOT_DESCRIPTION()
    finally:
        await bot.session.close()
        await db.close()
