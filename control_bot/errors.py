"""The one place where an exception from a handler becomes a reply.

* a domain error (``core.errors.AdbotError``) is the user's to read: its ``user_message``;
* ``StorageBusy``: "try again";
* Telegram refusing to talk to the user (blocked the bot, rate limit past our retries): logged, no reply;
* anything else is our bug: ``logger.exception`` and a polite generic reply.

The process never dies of a handler error: the handler returns True, so aiogram counts it handled.
"""

from __future__ import annotations

import logging

from aiogram import Dispatcher, Router
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from control_bot.render import answer_callback
from core.errors import AdbotError, StorageBusy
from core.texts import errors as t
from core.texts.fmt import esc

logger = logging.getLogger(__name__)


def reply_for(exc: BaseException) -> str | None:
    """The HTML reply for an exception, or None when the user should not be answered at all."""
    if isinstance(exc, StorageBusy):
        return t.TRY_AGAIN()
    if isinstance(exc, AdbotError):
        return esc(exc.user_message)
    if isinstance(exc, TelegramForbiddenError | TelegramRetryAfter):
        return None
    return t.GENERIC_ERROR()


async def on_error(event: ErrorEvent) -> bool:
    exc = event.exception
    update = event.update
    if isinstance(exc, AdbotError):
        logger.info("update %d refused: %s: %s", update.update_id, type(exc).__name__, exc.user_message)
    elif isinstance(exc, TelegramForbiddenError | TelegramRetryAfter):
        logger.warning("update %d: cannot reply: %s", update.update_id, exc)
    else:
        logger.error("update %d: handler failed", update.update_id, exc_info=exc)
    text = reply_for(exc)
    if text is None:
        return True
    try:
        await _reply(update.message or update.edited_message, update.callback_query, text)
    except Exception:
        logger.warning("update %d: could not send the error reply", update.update_id, exc_info=True)
    return True


async def _reply(message: Message | None, callback: CallbackQuery | None, text: str) -> None:
    if callback is not None:
        # A short alert on the button press; a long explanation also goes to the chat.
        plain = _plain(text)
        await answer_callback(callback, plain, alert=True)
        if len(plain) > 200 and isinstance(callback.message, Message):
            await callback.message.answer(text)
        return
    if message is not None:
        await message.answer(text)


def _plain(html_text: str) -> str:
    """Callback answers are plain text: undo the escaping of an HTML reply (no tags are used there)."""
    return html_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def setup(target: Dispatcher | Router) -> None:
    target.errors.register(on_error)
