"""The first thing ``adbot run`` does with the network: ask the Bot API who the bot is (``getMe``).

Two failures have to read clearly (issue 20), not as a 100-line traceback:

* the token is refused (401 Unauthorized; 404 Not Found is what the Bot API answers a malformed one):
  nothing will change by retrying, so start-up ends at once with one line naming ``bot.token``
  (``ConfigError``: exit code 2, and the systemd unit does not restart on it);
* Telegram cannot be reached (no network, DNS, a refused connection, a timeout, a 5xx): retried with
  backoff (1 s, doubling, at most ``MAX_DELAY``), one log line per attempt and no traceback, for as many
  attempts as ``[bot] startup_attempts`` allows (0: until it answers or the service is stopped); when
  they run out, ``BotApiUnreachable`` (one line, exit code 1: a supervisor restarts it later).

``adbot check-config --online`` asks the same question once (``check_token``).

No failure's text carries aiohttp's message: for a malformed URL it is the request URL, which holds the
token (``.../bot<TOKEN>/getMe``); a reason is the error's type and the OS's words, the host comes from
``api_host``. While the Bot API does not answer, ``control_bot.startup_phase`` records it for
``adbot health``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from control_bot.startup_phase import StartupPhase, clear_phase, write_phase
from core.errors import AdbotError, ConfigError
from core.texts import cli as texts

logger = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
OFFICIAL_API = "https://api.telegram.org"

Sleep = Callable[[float], Awaitable[None]]


class BotApiUnreachable(AdbotError):
    """The Bot API did not answer within the allowed attempts (the network, not the token)."""


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str | None


def api_host(api_base: str) -> str:
    """Where the bot talks to, for a log line: the scheme and host only (a local Bot API server's URL
    may carry credentials or a secret path; the token is never part of it)."""
    parts = urlsplit(api_base.strip() or OFFICIAL_API)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # refused by the config model; never a traceback here
        port = ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def _os_words(exc: BaseException) -> str:
    """The OS's words for a failed connection ("Connection refused"), never the exception's ``str`` (for
    aiohttp that may be the request URL, with the token in it)."""
    os_error = getattr(exc, "os_error", None) or (exc if isinstance(exc, OSError) else None)
    strerror = getattr(os_error, "strerror", None)
    return f"{type(exc).__name__}: {strerror}" if strerror else type(exc).__name__


def _unreachable_reason(exc: BaseException) -> str | None:
    """A short reason when ``exc`` means "Telegram could not be reached" (None: it means something else)."""
    if isinstance(exc, TelegramServerError):  # the Bot API's own description of a 5xx
        return exc.message.strip() or type(exc).__name__
    if isinstance(exc, TelegramNetworkError):  # aiogram's message is aiohttp's str(exc): maybe the URL
        cause = exc.__cause__
        return _os_words(cause) if cause is not None else type(exc).__name__
    if isinstance(exc, TimeoutError | OSError):
        return _os_words(exc)
    return None


async def check_token(bot: Bot, api_base: str) -> BotIdentity:
    """One ``getMe``: the bot's identity, ``ConfigError`` (``bot.token`` refused) or ``BotApiUnreachable``."""
    try:
        me = await bot.me()
    except (TelegramUnauthorizedError, TelegramNotFound) as exc:
        raise ConfigError(texts.token_refused(api_host(api_base), exc.message)) from None
    except Exception as exc:
        reason = _unreachable_reason(exc)
        if reason is None:
            raise
        raise BotApiUnreachable(texts.bot_api_unreachable(api_host(api_base), reason)) from None
    return BotIdentity(me.id, me.username)


async def wait_for_bot_api(
    bot: Bot,
    api_base: str,
    *,
    attempts: int = 0,
    sleep: Sleep = asyncio.sleep,
    phase_file: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> BotIdentity:
    """``check_token`` until the Bot API answers: each failed attempt is one log line (no traceback),
    the next one follows after 1, 2, 4 ... ``MAX_DELAY`` seconds. ``attempts`` 0: no limit.
    ``phase_file``: where ``adbot health`` learns that the service is still waiting (written after each
    failed attempt, removed when this ends: the bot answered, start-up gave up or was stopped; a stale one
    is removed first)."""
    attempt = 0
    delay = FIRST_DELAY
    since: float | None = None
    if phase_file is not None:
        clear_phase(phase_file)
    try:
        while True:
            attempt += 1
            try:
                return await check_token(bot, api_base)
            except BotApiUnreachable as exc:
                if since is None:
                    since = clock()
                if phase_file is not None:
                    write_phase(phase_file, StartupPhase(since, attempt, exc.user_message))
                if attempts and attempt >= attempts:
                    logger.error("%s", texts.startup_attempt(exc.user_message, attempt, attempts, None))
                    raise
                logger.warning("%s", texts.startup_attempt(exc.user_message, attempt, attempts, delay))
            await sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
    finally:  # answered, gave up, refused or stopped: no longer "waiting for the Bot API"
        if phase_file is not None:
            clear_phase(phase_file)
