"""Who may use which handlers.

Access to the customer side is decided by the services (a plan is data, checked where it is used);
these filters decide the cheap, structural things: admin or not, private chat or not.
"""

from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, Message, User

from core.config import Settings

# Telegram sends messages of anonymous group admins as this user (@GroupAnonymousBot): it stands for
# "some admin of that group", never for a person, so it can never be one of our admins.
ANONYMOUS_ADMIN_ID = 1087968824


def _private_chat_of(event: Message | CallbackQuery) -> bool:
    if isinstance(event, CallbackQuery):
        message = event.message
        # An inaccessible (too old) message still carries its chat.
        return message is not None and message.chat.type == ChatType.PRIVATE
    return event.chat.type == ChatType.PRIVATE


def is_admin_user(user: User | None, settings: Settings) -> bool:
    return user is not None and user.id != ANONYMOUS_ADMIN_ID and user.id in settings.bot.admins


class IsAdmin(BaseFilter):
    """The sender is one of ``settings.bot.admins``, writing in a private chat with the bot."""

    async def __call__(self, event: Message | CallbackQuery, settings: Settings) -> bool:
        return is_admin_user(event.from_user, settings) and _private_chat_of(event)


class IsPrivate(BaseFilter):
    """A private chat with a real sender (groups and channels never reach the customer side)."""

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        return event.from_user is not None and _private_chat_of(event)
