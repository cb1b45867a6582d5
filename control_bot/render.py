"""Showing a screen: a command gets a new message, a button press edits its own message in place.

Used by every router (customer and admin) so menus never flood the chat.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from control_bot import texts as t

logger = logging.getLogger(__name__)

MAX_TEXT = 4096


def is_not_modified(exc: TelegramBadRequest) -> bool:
    # aiogram has no class of its own for this answer; its wording is stable Bot API text.
    return "message is not modified" in exc.message


async def answer_callback(callback: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (stops the client's spinner); a query that is too old is ignored."""
    try:
        await callback.answer(text[:200] if text else None, show_alert=alert)
    except TelegramBadRequest as exc:
        logger.debug("callback answer refused: %s", exc.message)


async def show(
    event: Message | CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    toast: str | None = None,
) -> None:
    """Reply to a command with a new message, or edit the pressed button's message in place.

    Editing to the same content is answered with "up to date"; a message that cannot be edited (too
    old, deleted, a document) gets a fresh message instead."""
    if isinstance(event, Message):
        await event.answer(text, reply_markup=markup)
        return
    message = event.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            if is_not_modified(exc):
                await answer_callback(event, toast or t.UP_TO_DATE)
                return
            logger.debug("cannot edit message %d (%s); sending a new one", message.message_id, exc.message)
            await message.answer(text, reply_markup=markup)
        await answer_callback(event, toast)
        return
    if event.bot is None:
        raise RuntimeError("callback query without a bot")
    await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
    await answer_callback(event, toast)
