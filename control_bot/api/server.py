"""One aiohttp application served on one address, started and stopped with the bot (``control_bot.app``):
the integration API and the metrics endpoint each get one (``serve_optional`` builds those the config
turns on). Port 0 takes a free port (tests); ``port`` says which."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from core.clock import Clock
from core.config import Settings
from engine.engine import Engine
from storage.db import Database

logger = logging.getLogger(__name__)


class HttpService:
    def __init__(self, name: str, app: web.Application, host: str, port: int) -> None:
        self.name = name
        self._app = app
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        # No access log: our middleware logs method, path and status (never a header, so never a key).
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        logger.info("%s listening on http://%s:%d", self.name, self._host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            logger.info("%s stopped", self.name)

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{self.name} is not started")
        return f"http://{self._host}:{self.port}"


def optional_services(
    settings: Settings, db: Database, engine: Engine, clock: Clock, wake: Callable[[], None]
) -> list[HttpService]:
    """The HTTP services the config turns on (none by default): the integration API, the metrics endpoint."""
    from control_bot.api.routes import build_api
    from control_bot.api.service import ApiContext
    from control_bot.metrics import build_metrics

    services: list[HttpService] = []
    if settings.api.enabled:
        app = build_api(ApiContext(settings, db, engine, clock, wake))
        services.append(HttpService("integration API", app, settings.api.host, settings.api.port))
    if settings.metrics.enabled:
        app = build_metrics(db, engine, clock)
        services.append(HttpService("metrics endpoint", app, settings.metrics.host, settings.metrics.port))
    return services
