"""The emulator's bot profile (descriptions, menus seen per scope and language) and reply keyboards with
request_chat / request_users buttons and the chat_shared / users_shared messages they produce."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    KeyboardButton,
    KeyboardButtonRequestChat,
    KeyboardButtonRequestUsers,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from control_bot.app import make_bot
from control_bot.bot_profile import set_profile
from control_bot.i18n import AdbotI18n, UserLocale
from core.clock import SystemClock
from core.texts import bot_profile as bp
from sandbox.botuser import BotApiEmulator, create_bot, running_bot
from storage.db import Database
from tests.botkit import BOT_USERNAME, TEST_PACING, TOKEN, in_locale, make_settings


@pytest.fixture
def emu_bot() -> tuple[str, str]:
    """The control bot's token: make_bot uses the settings' one."""
    return TOKEN, BOT_USERNAME


async def test_descriptions_and_menus_resolve_like_telegram(emu: BotApiEmulator) -> None:
    alice = emu.user(1, "Alice", language_code="ru")
    bob = emu.user(2, "Bob", language_code="de")
    carol = emu.user(3, "Carol", language_code=None)
    bot = create_bot(emu)
    try:
        await bot.set_my_description("default")
        await bot.set_my_description("русское", language_code="ru")
        await bot.set_my_short_description("short")
        assert (await bot.get_my_description(language_code="ru")).description == "русское"
        assert (await bot.get_my_short_description()).short_description == "short"
        with pytest.raises(TelegramBadRequest, match="BOT_DESCRIPTION_INVALID"):
            await bot.set_my_description("x" * 513)
        with pytest.raises(TelegramBadRequest, match="BOT_SHORT_DESCRIPTION_INVALID"):
            await bot.set_my_short_description("x" * 121)
        with pytest.raises(TelegramBadRequest, match="LANG_CODE_INVALID"):
            await bot.set_my_description("x", language_code="rus")
        assert emu.description_for("ru") == "русское" and emu.description_for("de") == "default"
        assert emu.short_description_for("ru") == "short"

        await bot.set_my_commands([BotCommand(command="a", description="default")])
        await bot.set_my_commands([BotCommand(command="a", description="ru")], language_code="ru")
        await bot.set_my_commands(
            [BotCommand(command="a", description="private")], scope=BotCommandScopeAllPrivateChats()
        )
        await bot.set_my_commands([BotCommand(command="a", description="bob")], scope=BotCommandScopeChat(chat_id=2))
        # a narrower scope beats a language; within a scope the user's language first, then none
        assert emu.commands_seen_by(alice.id) == [("a", "private")]
        assert emu.commands_seen_by(bob.id) == [("a", "bob")]
        await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
        assert emu.commands_seen_by(alice.id) == [("a", "ru")]
        assert emu.commands_seen_by(carol.id) == [("a", "default")]
    finally:
        await bot.session.close()


def _keyboard_dispatcher(errors: list[str]) -> Dispatcher:
    router = Router()

    @router.message(Command("pick"))
    async def pick(message: Message) -> None:
        markup = ReplyKeyboardMarkup(
            keyboard=[
                [
                    KeyboardButton(
                        text="Pick a group",
                        request_chat=KeyboardButtonRequestChat(
                            request_id=7, chat_is_channel=False, request_title=True
                        ),
                    ),
                    KeyboardButton(
                        text="Pick a person",
                        request_users=KeyboardButtonRequestUsers(request_id=8, user_is_bot=False, max_quantity=1),
                    ),
                ],
                [KeyboardButton(text="Done")],
            ],
            resize_keyboard=True,
        )
        await message.answer("pick one", reply_markup=markup)

    @router.message(Command("bad"))
    async def bad(message: Message, bot: Bot) -> None:
        try:
            await bot.send_message(
                -1001000000001,
                "no",
                reply_markup=ReplyKeyboardMarkup(
                    keyboard=[[KeyboardButton(text="x", request_users=KeyboardButtonRequestUsers(request_id=1))]]
                ),
            )
        except TelegramBadRequest as exc:
            errors.append(exc.message)
        await message.answer("bad done")

    @router.message(F.chat_shared)
    async def chat_shared(message: Message) -> None:
        assert message.chat_shared is not None
        shared = message.chat_shared
        await message.answer(f"chat {shared.request_id} {shared.chat_id} {shared.title}")

    @router.message(F.users_shared)
    async def users_shared(message: Message) -> None:
        assert message.users_shared is not None
        ids = [u.user_id for u in message.users_shared.users]
        await message.answer(f"users {message.users_shared.request_id} {ids}", reply_markup=ReplyKeyboardRemove())

    @router.message(F.text == "Done")
    async def done(message: Message) -> None:
        await message.answer("done")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


async def test_reply_keyboard_picks_chats_and_users(emu: BotApiEmulator) -> None:
    alice = emu.user(1, "Alice")
    emu.user(2, "Bob")
    group = emu.group_chat(title="Cats")
    errors: list[str] = []
    async with running_bot(emu, _keyboard_dispatcher(errors)):
        await alice.say("/pick")
        shown = await alice.wait_reply()
        assert shown.keyboard == [["Pick a group", "Pick a person"], ["Done"]]
        assert alice.keyboard() == shown.keyboard
        await alice.share_chat("Pick a group", group.id)
        assert (await alice.wait_reply()).text == f"chat 7 {group.id} Cats"
        with pytest.raises(ValueError, match="people"):
            await alice.share_users("Pick a person", [emu.bot_id])
        with pytest.raises(ValueError, match="1 to 1"):
            await alice.share_users("Pick a person", [1, 2])
        await alice.tap("Done")
        assert (await alice.wait_reply()).text == "done"
        await alice.share_users("Pick a person", [2])
        removed = await alice.wait_reply()
        assert removed.text == "users 8 [2]" and removed.removes_keyboard
        assert alice.keyboard() == []
        with pytest.raises(LookupError):
            await alice.share_users("Pick a person", [2])
        await alice.say("/bad")
        assert (await alice.wait_reply()).text == "bad done"
    assert errors == ["Bad Request: keyboard buttons requesting users or chats are allowed only in private chats"]


async def test_start_up_profile_survives_a_429(emu: BotApiEmulator, tmp_path: Path) -> None:
    """Telegram's flood limit at start-up: FloodControl waits it out and the profile is still set."""
    settings = make_settings(tmp_path, emu.base_url)
    bot = make_bot(settings, TEST_PACING)
    db = await Database.open(tmp_path / "a.sqlite3")
    try:
        i18n = AdbotI18n()
        emu.inject_retry_after("setMyDescription", 1)
        await set_profile(bot, settings, i18n, UserLocale(i18n, db, SystemClock()))
        with in_locale("en"):
            english = bp.BOT_DESCRIPTION()
        with in_locale("ru"):
            russian = bp.BOT_DESCRIPTION()
        assert emu.description_for("en") == english and emu.description_for("ru") == russian
        assert emu.description_for(None) == english
        errors = [c.error for c in emu.calls_of("setMyDescription")]
        assert errors[0] == "Too Many Requests: retry after 1" and errors[1:] == [None] * (len(errors) - 1)
    finally:
        await bot.session.close()
        await db.close()
