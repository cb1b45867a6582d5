"""``/addpair`` outside a private chat: the message holds an API hash, so it is deleted and refused.

The admin routers only pass admins in a private chat, so a ``/addpair`` sent in a group used to be
ignored and its hash stayed there for every member to read. This router takes it from anybody in any
group: the message is deleted (the bot needs the right to delete there), the pair is never added, and the
sender is told in private (in the group, without the hash, when the private chat is not open).
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command
from aiogram.types import Message

from core.texts import pairs as pair_texts

logger = logging.getLogger(__name__)


async def on_addpair_in_group(message: Message) -> None:
    try:
        await message.delete()
        deleted = True
    except TelegramBadRequest as exc:
        logger.warning("could not delete an /addpair sent in a group: %s", exc.message)
        deleted = False
    text = pair_texts.addpair_in_group(deleted)
    if message.from_user is not None and message.bot is not None:
        try:
            await message.bot.send_message(message.from_user.id, text)
            return
        except (TelegramBadRequest, TelegramForbiddenError) as exc:  # no private chat with the sender
            logger.info("could not answer an /addpair from a group in private: %s", exc.message)
    await message.answer(text)


def setup() -> Router:
    router = Router(name="admin_group")
    router.message.register(on_addpair_in_group, Command("addpair"), F.chat.type != ChatType.PRIVATE)
    return router
