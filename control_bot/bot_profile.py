"""What Telegram shows of the bot, per language: command menus, description, short description.

At start-up (``set_profile``): for every available locale L, the customer menu, the description and the
short description with ``language_code=L`` (Telegram picks them by the person's app language), and once
without a language code in ``[bot] default_locale`` (Telegram's fallback). Admins get both menus in a
chat scope, in their stored language (a chat scope beats any language code, so it must already be in
theirs). /settings calls ``set_chat_menu`` when someone changes their language. A 429 is retried by
``FloodControl`` on the bot's session; any other refusal is logged and the rest goes on.

Each value is read first (``getMyCommands`` / ``getMyDescription`` / ``getMyShortDescription`` for that
scope and language) and set only when Telegram holds something else: a restart, or a restart loop, costs
reads only (the set methods are the ones Telegram rate-limits hard). The app runs ``set_profile`` in the
background after start-up (``control_bot.app``): polling never waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from control_bot.i18n import AdbotI18n, OnNewProfile, Profile, UserLocale
from core.config import Settings
from core.i18n import reading
from core.texts import bot_profile as texts

logger = logging.getLogger(__name__)

T = TypeVar("T")


def bot_commands(pairs: Sequence[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command=name, description=description) for name, description in pairs]


def merged_commands() -> list[BotCommand]:
    """Admins see both menus; a name on both lists is the admin's (their router answers first)."""
    merged = dict(texts.customer_commands())
    merged.update(texts.admin_commands())
    return bot_commands(list(merged.items()))


def _telegram_language(locale: str) -> str:
    """Telegram's language codes are two-letter ISO 639-1: ``pt_BR``'s menu is set for ``pt``."""
    return locale.split("_", 1)[0].lower()


async def _call(what: str, request: Awaitable[object]) -> bool:
    try:
        await request
    except TelegramAPIError as exc:
        logger.warning("%s failed: %s", what, exc)
        return False
    return True


async def _read(what: str, request: Awaitable[T]) -> T | None:
    """What Telegram holds now; None when it cannot be read (then it is set anyway)."""
    try:
        return await request
    except TelegramAPIError as exc:
        logger.info("%s failed: %s", what, exc)
        return None


def _pairs(commands: Sequence[BotCommand] | None) -> list[tuple[str, str]] | None:
    return None if commands is None else [(c.command, c.description) for c in commands]


async def _set_commands(
    bot: Bot, what: str, commands: list[BotCommand], scope: BotCommandScopeDefault | BotCommandScopeChat,
    language_code: str | None = None,
) -> bool:
    """``setMyCommands`` unless Telegram already holds exactly these for this scope and language."""
    current = await _read(f"getMyCommands {what}", bot.get_my_commands(scope=scope, language_code=language_code))
    if _pairs(current) == _pairs(commands):
        return True
    return await _call(f"setMyCommands {what}", bot.set_my_commands(commands, scope=scope, language_code=language_code))


async def set_language_profile(bot: Bot, i18n: AdbotI18n, locale: str, language_code: str | None) -> None:
    """Menu, description and short description in ``locale``; ``language_code`` None: the default ones."""
    with reading(locale, translator=i18n):
        commands = bot_commands(texts.customer_commands())
        description = texts.BOT_DESCRIPTION()
        short = texts.BOT_SHORT_DESCRIPTION()
    where = f"({language_code or 'default'})"
    await _set_commands(bot, where, commands, BotCommandScopeDefault(), language_code)
    held = await _read(f"getMyDescription {where}", bot.get_my_description(language_code=language_code))
    if held is None or held.description != description:
        await _call(f"setMyDescription {where}", bot.set_my_description(description, language_code=language_code))
    held_short = await _read(
        f"getMyShortDescription {where}", bot.get_my_short_description(language_code=language_code)
    )
    if held_short is None or held_short.short_description != short:
        await _call(
            f"setMyShortDescription {where}", bot.set_my_short_description(short, language_code=language_code)
        )


async def set_chat_menu(bot: Bot, i18n: AdbotI18n, chat_id: int, locale: str, *, admin: bool) -> bool:
    """One person's menu in their language, as a chat scope (beats Telegram's language choice)."""
    with reading(locale, translator=i18n):
        commands = merged_commands() if admin else bot_commands(texts.customer_commands())
    # An admin who never opened the bot has no chat yet: their menu comes next start.
    return await _set_commands(bot, f"for chat {chat_id}", commands, BotCommandScopeChat(chat_id=chat_id))


async def set_profile(bot: Bot, settings: Settings, i18n: AdbotI18n, locales: UserLocale) -> None:
    done: set[str] = set()
    for locale in i18n.available_locales:
        code = _telegram_language(locale)
        if code in done:
            continue
        done.add(code)
        await set_language_profile(bot, i18n, locale, code)
    await set_language_profile(bot, i18n, i18n.default_locale, None)
    for admin_id in settings.bot.admins:
        profile: Profile | None = await locales.reload(admin_id)
        await set_chat_menu(bot, i18n, admin_id, locales.locale_of(profile), admin=True)


def admin_menu_follower(bot: Bot, settings: Settings, i18n: AdbotI18n) -> OnNewProfile:
    """An admin's chat-scope menu follows their language when the bot first sees them or their Telegram
    language changes (a chat scope beats Telegram's own choice by language, so it must be theirs)."""

    async def follow(user_id: int, locale: str) -> None:
        if user_id in settings.bot.admins:
            await set_chat_menu(bot, i18n, user_id, locale, admin=True)

    return follow
