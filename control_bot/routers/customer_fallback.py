"""Last router: whatever no other handler took gets a short hint, and a stale or forged button press
gets an answer (so the client's spinner stops) and changes nothing."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from control_bot.filters import IsPrivate
from control_bot.render import answer_callback
from core.texts import customer as t


async def on_unknown_command(message: Message) -> None:
    await message.answer(t.UNKNOWN_COMMAND())


async def on_unknown_text(message: Message) -> None:
    await message.answer(t.UNKNOWN_TEXT())


async def on_unsupported(message: Message) -> None:
    await message.answer(t.UNSUPPORTED_MESSAGE())


async def on_stale_button(callback: CallbackQuery) -> None:
    await answer_callback(callback, t.STALE_BUTTON(), alert=True)


def setup() -> Router:
    router = Router(name="customer_fallback")
    router.message.filter(IsPrivate())
    router.message.register(on_unknown_command, F.text.startswith("/"))
    router.message.register(on_unknown_text, F.text)
    router.message.register(on_unsupported)
    # Any chat: a button press must always be answered, even one forged from a group.
    router.callback_query.register(on_stale_button)
    return router
