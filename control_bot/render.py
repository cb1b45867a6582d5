"""Showing a screen: a command gets a new message, a button press edits its own message in place.

Used by every router (customer and admin) so menus never flood the chat. A screen reachable both ways is
one handler taking ``Message | CallbackQuery``, registered for its command and its buttons by
``register_screen``; a report too long for one message goes out in several (``send_report``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from core.texts import customer as t
from core.texts.split import split_message

logger = logging.getLogger(__name__)

Screen = Callable[..., Awaitable[None]]
"""A handler whose first argument is ``Message | CallbackQuery``; the rest is workflow data by name."""


def register_screen(router: Router, screen: Screen, command: Filter | None, *buttons: Filter) -> None:
    """Make ``screen`` reachable from ``command`` (answered with a new message) and from each of
    ``buttons`` (its message edited in place): one handler, registered on both observers."""
    if command is not None:
        router.message.register(screen, command)
    for button in buttons:
        router.callback_query.register(screen, button)


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
                await answer_callback(event, toast or t.UP_TO_DATE())
                return
            logger.debug("cannot edit message %d (%s); sending a new one", message.message_id, exc.message)
            await message.answer(text, reply_markup=markup)
        await answer_callback(event, toast)
        return
    if event.bot is None:
        raise RuntimeError("callback query without a bot")
    await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
    await answer_callback(event, toast)


async def send_report(event: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A report as a reply to a command, or in place of the pressed button's message; what does not fit
    in one message follows in more messages (the keyboard goes on the last one)."""
    chunks = split_message(text)
    if len(chunks) == 1:
        await show(event, chunks[0], markup)
        return
    await show(event, chunks[0])
    target = event if isinstance(event, Message) else event.message
    if not isinstance(target, Message):
        return
    for i, chunk in enumerate(chunks[1:], start=2):
        await target.answer(chunk, reply_markup=markup if i == len(chunks) else None)
