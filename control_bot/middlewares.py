"""Middlewares of the control bot.

* ``FloodControl`` sits on the bot's HTTP session, so every request passes it, whoever makes it
  (handlers, the outbox sender, start-up): it paces what lands in a chat (token buckets, per chat and
  overall) and honours ``429 retry_after`` a bounded number of times.
* ``ClearStateOnNewAction``: a command or a button press abandons a pending question (FSM state), so
  the answer to an old question is never read from a message meant as something else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.middlewares.base import BaseMiddleware
from aiogram.exceptions import TelegramRetryAfter
from aiogram.fsm.context import FSMContext
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, TelegramObject

logger = logging.getLogger(__name__)

# Methods that put something in front of a person; the rest (polling, getFile, answers to button
# presses, setMyCommands) are not what Telegram's per-chat limits are about.
_PACED_PREFIXES = ("send", "edit", "copy", "forward")


@dataclass(frozen=True)
class Pacing:
    """Telegram asks bots for about 1 message a second per chat and under 30 a second overall; a
    short burst is fine (a reply and a notification at once)."""

    per_chat_rate: float = 1.0
    per_chat_burst: float = 5.0
    global_rate: float = 25.0
    global_burst: float = 25.0
    max_retries: int = 3
    max_retry_after: float = 60.0


class TokenBucket:
    """``reserve()`` takes one token and says how long to wait for it; waiting callers queue up by
    going negative, so concurrent senders are spread out without a lock."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def reserve(self, now: float) -> float:
        self._refill(now)
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def idle(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


class Pacer:
    """Per-chat and overall token buckets (monotonic time: Telegram's limits are in real time)."""

    _PRUNE_AT = 5000

    def __init__(self, pacing: Pacing, clock: Callable[[], float] = time.monotonic) -> None:
        self.pacing = pacing
        self._clock = clock
        self._global = TokenBucket(pacing.global_rate, pacing.global_burst, clock())
        self._chats: dict[int | str, TokenBucket] = {}

    def delay_for(self, chat_id: int | str | None) -> float:
        """Reserve a slot for one message to ``chat_id`` (None: only the overall limit); returns the
        seconds to wait before sending it."""
        now = self._clock()
        delay = self._global.reserve(now)
        if chat_id is not None:
            bucket = self._chats.get(chat_id)
            if bucket is None:
                if len(self._chats) >= self._PRUNE_AT:
                    self._chats = {k: b for k, b in self._chats.items() if not b.idle(now)}
                bucket = self._chats[chat_id] = TokenBucket(self.pacing.per_chat_rate, self.pacing.per_chat_burst, now)
            delay = max(delay, bucket.reserve(now))
        return delay


class FloodControl(BaseRequestMiddleware):
    """Request middleware: pace, then send; on 429 wait ``retry_after`` and retry (bounded)."""

    def __init__(self, pacing: Pacing | None = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.pacing = pacing or Pacing()
        self.pacer = Pacer(self.pacing)
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__.lower()
        paced = name.startswith(_PACED_PREFIXES)
        retries = 0
        while True:
            if paced:
                delay = self.pacer.delay_for(getattr(method, "chat_id", None))
                if delay > 0:
                    await self._sleep(delay)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                retries += 1
                if retries > self.pacing.max_retries or exc.retry_after > self.pacing.max_retry_after:
                    logger.warning("%s: Telegram asked to wait %d s; giving up", name, exc.retry_after)
                    raise
                logger.warning(
                    "%s: Telegram asked to wait %d s (retry %d of %d)",
                    name,
                    exc.retry_after,
                    retries,
                    self.pacing.max_retries,
                )
                await self._sleep(exc.retry_after)


class ClearStateOnNewAction(BaseMiddleware):
    """Outer middleware (messages and callback queries): a ``/command`` or a button press clears the
    pending question first (``state_cleared`` tells the handler); the handler may then ask a new one."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        cleared = False
        if state is not None and _is_new_action(event) and await state.get_state() is not None:
            await state.clear()
            cleared = True
        data["state_cleared"] = cleared
        return await handler(event, data)


def _is_new_action(event: TelegramObject) -> bool:
    if isinstance(event, CallbackQuery):
        return True
    return isinstance(event, Message) and (event.text or "").startswith("/")
