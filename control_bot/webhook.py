"""Webhook mode (issue 20 part C; ``[bot] mode = "webhook"``): Telegram posts each update to
``webhook_url``, and aiogram's aiohttp integration (``SimpleRequestHandler``, ``setup_application``) feeds
it to the same Dispatcher polling would.

- The server listens on ``webhook_host:webhook_port`` at the URL's path (a reverse proxy with TLS usually
  sits in front: Telegram posts only to HTTPS on port 443, 80, 88 or 8443, except through a local Bot API
  server). A POST without the ``X-Telegram-Bot-Api-Secret-Token`` header equal to ``webhook_secret`` is
  refused (401) before aiogram parses it.
- Start: the app's startup hooks (engine, outbox...) run as the server starts, then the server listens, then
  ``setWebhook`` (with the secret and the update types the routers use); Telegram refusing it (an HTTP URL,
  another port) is a ``ConfigError`` naming ``bot.webhook_url``: one line, exit code 2. Telegram keeps the webhook and
  queues updates while the service is down, so a restart loses none; polling mode removes it
  (``leave_webhook``) since getUpdates is refused while one is set.
- Stop (SIGINT/SIGTERM, or ``stop()``): the server stops taking updates, handlers under way finish, then
  the shutdown hooks run (``control_bot.app``'s), then the bot's session closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from core.config import BotSettings
from core.errors import ConfigError
from core.texts.config import config_error

logger = logging.getLogger(__name__)


class _Handler(SimpleRequestHandler):
    """aiogram's handler, whose updates under way can be awaited at shutdown (aiogram 3.31 keeps them in
    ``_background_feed_update_tasks``; pinned version)."""

    def in_flight(self) -> set[asyncio.Task[Any]]:
        return {t for t in self._background_feed_update_tasks if not t.done()}


class WebhookServer:
    def __init__(self, bot: Bot, dp: Dispatcher, settings: BotSettings, *, handler_timeout: float = 10.0) -> None:
        self._bot = bot
        self._dp = dp
        self._settings = settings
        self._handler_timeout = handler_timeout
        self._stop = asyncio.Event()
        self._handler: _Handler | None = None
        self.port: int | None = None

    @property
    def path(self) -> str:
        return urlsplit(self._settings.webhook_url.strip()).path or "/"

    def stop(self) -> None:
        self._stop.set()

    def in_flight(self) -> set[asyncio.Task[Any]]:
        return set() if self._handler is None else self._handler.in_flight()

    async def _drain(self, _app: web.Application) -> None:
        running = self.in_flight()
        if running:
            _, pending = await asyncio.wait(running, timeout=self._handler_timeout)
            for task in pending:
                task.cancel()

    def _application(self) -> web.Application:
        app = web.Application()
        # aiohttp runs on_shutdown hooks in order: updates under way first, then the app's shutdown hooks
        # (setup_application), then the handler's own (it closes the bot's session).
        app.on_shutdown.append(self._drain)
        setup_application(app, self._dp, bot=self._bot)
        secret = self._settings.webhook_secret.get_secret_value()
        self._handler = _Handler(dispatcher=self._dp, bot=self._bot, secret_token=secret)
        self._handler.register(app, path=self.path)
        return app

    async def serve(self, *, handle_signals: bool = True) -> None:
        """Until ``stop()`` (or SIGINT/SIGTERM when ``handle_signals``)."""
        runner = web.AppRunner(self._application(), access_log=None, shutdown_timeout=5.0)
        await runner.setup()  # the startup hooks run here
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
        try:
            site = web.TCPSite(runner, self._settings.webhook_host, self._settings.webhook_port)
            await site.start()
            self.port = int(runner.addresses[0][1])
            try:
                await self._bot.set_webhook(
                    self._settings.webhook_url.strip(),
                    secret_token=self._settings.webhook_secret.get_secret_value(),
                    allowed_updates=self._dp.resolve_used_update_types(),
                    drop_pending_updates=False,
                )
            except TelegramBadRequest as exc:  # the URL or the secret: a config problem, said in one line
                raise ConfigError(config_error("bot.webhook_url", f"Telegram refused it: {exc.message}")) from None
            logger.info("webhook set; listening on %s:%d%s", self._settings.webhook_host, self.port, self.path)
            for sig in signals:
                loop.add_signal_handler(sig, self.stop)
            await self._stop.wait()
        finally:
            for sig in signals:
                with contextlib.suppress(ValueError, RuntimeError):
                    loop.remove_signal_handler(sig)
            await runner.cleanup()  # the shutdown hooks run here


async def leave_webhook(bot: Bot) -> None:
    """Polling mode: a webhook left by webhook mode would refuse every getUpdates (one call at start)."""
    await bot.delete_webhook(drop_pending_updates=False)
