"""Issue 18 part B: what a customer reads, in Russian and in English, over the Bot API emulator.

A customer whose Telegram speaks Russian gets Russian from /start on: the menu and its buttons, /help,
run and stop and their refusals, the interval ("2 мин 30 с"), errors, lengths counted as people count
characters (an emoji is one), and the Russian command menu. The same flows in English. Expected texts
are rendered with ``in_locale`` (never copied), plus literal Russian spot checks so a wrong catalog
cannot pass by construction.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from control_bot.services.groups import MAX_GROUPS_PER_CUSTOMER
from core.texts import customer as t
from core.texts import errors as et
from core.texts import post as post_texts
from core.texts import split
from core.texts.bot_profile import customer_commands
from core.texts.fmt import esc
from tests.botkit import Harness, Player, bot_harness, in_locale, labels

CUSTOMER = 601
NAME = {"ru": "Ольга", "en": "Olga"}
# Emoji as people see them: a waving hand with a skin tone, a family joined by zero-width joiners, a flag.
POST = "Привет 👋🏽 мир 👨‍👩‍👧 и 🇷🇺"
POST_CHARACTERS = 18  # "Привет " 7, the hand 1, " мир " 5, the family 1, " и " 3, the flag 1


async def _customer(h: Harness, code: str, sessions: int = 1) -> Player:
    await h.grant(CUSTOMER, sessions=sessions)
    return h.user(CUSTOMER, NAME[code], language_code=code)


async def _menu_expected(h: Harness, code: str) -> str:
    c = await h.customer(CUSTOMER)
    async with h.db.read() as conn:
        from storage import groups

        own = await groups.list_for(conn, CUSTOMER)
    with in_locale(code):
        return t.main_menu(
            first_name=NAME[code],
            running=c.status == "running",
            stop_reason=c.stop_reason,
            next_run_at=None,
            plan_sessions=c.plan_sessions,
            plan_expires_at=c.plan_expires_at,
            post_kind=c.post_kind,
            post_link=c.post_link,
            post_text=c.post_text,
            groups_total=len(own),
            groups_paused=sum(1 for g in own if not g.active),
            interval_s=c.interval_s,
            now=h.clock.now(),
        )


def test_characters_are_counted_as_people_count_them() -> None:
    assert split.char_count(POST) == POST_CHARACTERS and len(POST) > POST_CHARACTERS
    assert split.char_count("é") == 1 and split.char_count("1️⃣") == 1
    assert split.clip("👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧", 2) == "👨‍👩‍👧👨‍👩‍👧…"  # never cut inside an emoji
    assert split.utf16_len(POST) > split.char_count(POST)


@pytest.mark.parametrize("code", ["ru", "en"])
def test_lengths_say_characters_and_how_much_to_cut(code: str) -> None:
    long = "😀" * 2100  # 2,100 characters, 4,200 UTF-16 units: 104 over Telegram's 4,096
    with in_locale(code):
        text = split.too_long_words(long)
    if code == "ru":
        assert text == (
            "В тексте 2\xa0100 символов, а в одно сообщение Telegram помещается не больше 4\xa0096; большинство "
            "эмодзи считаются за два. Сократите его примерно на 104 символа."
        )
        with in_locale("ru"):
            assert split.length_words("👍🏽") == "1 символ" and split.length_words("ab") == "2 символа"
            assert split.length_words("abcde") == "5 символов"
    else:
        assert text == (
            "The text has 2,100 characters, and one Telegram message holds at most 4,096; most emoji count as "
            "two. Shorten it by about 104 characters."
        )
        with in_locale("en"):
            assert split.length_words("👍🏽") == "1 character"
    with in_locale(code):
        assert "Сократите" not in split.too_long_words("short") and "Shorten" not in split.too_long_words("short")


@pytest.mark.parametrize("code", ["ru", "en"])
async def test_a_customer_reads_their_language_from_start_on(tmp_path: Path, code: str) -> None:
    async with bot_harness(tmp_path) as h:
        olga = await _customer(h, code, sessions=2)

        # The command menu Telegram shows them is in their language.
        with in_locale(code):
            assert h.emu.commands_seen_by(CUSTOMER) == list(customer_commands())

        menu = await olga.ask("/start")
        assert menu.html == await _menu_expected(h, code)
        with in_locale(code):
            for label in (t.BTN_RUN(), t.BTN_STATUS(), t.BTN_POST(), t.BTN_GROUPS(), t.BTN_INTERVAL(), t.BTN_HELP()):
                assert label in labels(menu)

        help_ = await olga.ask("/help")
        bounds = h.settings.engine
        with in_locale(code):
            assert help_.html == t.help_text(
                bounds.min_cycle_interval, bounds.max_cycle_interval, MAX_GROUPS_PER_CUSTOMER
            )
            for command, _description in customer_commands():
                assert f"/{command}" in help_.text

        # run and stop refused, in words that say what to do
        refused = await olga.ask("/run")
        with in_locale(code):
            assert refused.html == esc(t.run_not_ready([t.RUN_NEEDS_POST(), t.RUN_NEEDS_GROUPS()]))
            assert (await olga.ask("/stop")).html == t.NOT_RUNNING()

        # the interval as a duration: 2.5 minutes is "2 min 30 s", never rounded
        set_ = await olga.ask("/interval 2.5")
        with in_locale(code):
            assert set_.html == t.interval_set(150, False)
            assert (await olga.ask("/interval 0.5")).html == esc(t.interval_out_of_bounds(30, 60, 86_400))
            assert (await olga.ask("/interval soon")).html == esc(t.interval_not_number("soon", 60, 86_400))
            assert (await olga.ask("/frobnicate")).html == t.UNKNOWN_COMMAND()

        # a text post with emoji: its length as people count it
        await olga.user.say(f"/post {POST}")
        preview, _saved = await olga.user.wait_replies(2)  # the post as groups see it, then what was saved
        assert preview.text == POST
        await olga.ask("/addgroups @cats_group")
        menu = await olga.ask("/start")
        assert menu.html == await _menu_expected(h, code)
        with in_locale(code):
            assert post_texts.post_summary("text", None, POST) in menu.html

        # no free session: an error in their language, and what happens next
        no_sessions = await olga.ask("/run")
        with in_locale(code):
            assert no_sessions.html == esc(t.run_no_sessions(2, 0))

        # one session of two: the campaign starts short and says so
        await h.fill_pool(1)
        started = await olga.ask("/run")
        c = await h.customer(CUSTOMER)
        with in_locale(code):
            assert started.html == t.run_started(1, 1, c.interval_s, h.clock.now(), h.clock.now(), short=1)
            assert (await olga.ask("/run")).html == t.ALREADY_RUNNING()
            assert (await olga.ask("/stop")).html == t.STOPPED()

        if code == "ru":
            assert menu.text.startswith("Привет, Ольга! Это ваша рекламная кампания.")
            assert f"Пост: текст «{POST}» ({POST_CHARACTERS} символов)" in menu.text
            assert "Интервал: раз в 2 мин 30 с" in menu.text and "Тариф: 2 сессии до " in menu.text
            assert set_.text == "✅ Интервал задан: раз в 2 мин 30 с."
            assert "/settings: язык, часовой пояс" in help_.text
            assert refused.text == (
                "Кампанию пока нельзя запустить:\n"
                "• Задайте пост командой /post.\n"
                "• Добавьте группы командой /addgroups."
            )
            assert no_sessions.text.startswith("Кампанию пока нельзя запустить: вашему тарифу нужны ещё 2 сессии")
            assert started.text.startswith(
                "▶ Кампания запущена: 1 сессия. Посты уходят в 1 активную группу раз в 2 мин 30 с."
            )
            assert "⏱ Интервал" in labels(menu)
            assert dict(h.emu.commands_seen_by(CUSTOMER))["settings"] == "Язык, часовой пояс, уведомления"
        else:
            assert f"Post: a text «{POST}» ({POST_CHARACTERS} characters)" in menu.text
            assert set_.text == "✅ Interval set: every 2 min 30 s."
            assert "/settings: your language" in help_.text
            assert started.text.startswith(
                "▶ Campaign started with 1 session. It posts in 1 active group every 2 min 30 s."
            )
            assert "admin has been told" in started.text


def test_generic_errors_read_in_the_readers_language() -> None:
    with in_locale("ru"):
        assert et.GENERIC_ERROR() == "Извините, у нас что-то пошло не так. Попробуйте ещё раз чуть позже."
        assert et.TRY_AGAIN().startswith("Сервис сейчас занят")
        assert et.not_enough_sessions(5, 2) == "Нужно 5 сессий, а в пуле сессий свободно только 2."
        assert "adbot" not in et.pending_sessions(1, 0)  # the operator's terminal is English; the bot says /addpair
    with in_locale("en"):
        assert et.not_enough_sessions(1, 0) == "1 session is needed and the pool has none free."
        assert et.pending_sessions(2, 1) == (
            "2 unused sessions wait for an API pair. Every API pair is full (1 pair). "
            "Add an API pair with 'adbot pairs add' or /addpair."
        )
