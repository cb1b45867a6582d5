"""Wiring: settings -> database, engine, bot and dispatcher, and the hooks that start and stop them.

No globals: the long-lived objects travel as the Dispatcher's workflow data (``settings``, ``db``,
``engine``, ``clock``, ``outbox``, ``redactor``, ``idle_open``, ``joins``) and reach handlers by parameter name.

Lifecycle (``Dispatcher.start_polling`` owns signals and runs the hooks):

1. ``create_app``: folders (0700), logging, the database (opened, schema migrated), the engine and its
   account factory (``control_bot.backends``), the bot (HTML parse mode, ``FloodControl`` on its
   session), routers;
2. ``dp.startup``: engine start (it schedules the running campaigns), the join queue's loop, outbox
   sender, the pool's membership discovery (idle sessions' dialogs read every few minutes when due),
   and, in the background (workflow data ``profile_task``: polling never waits for its ~10 calls and
   their flood waits), the bot's profile per language (menus, descriptions: ``control_bot.bot_profile``);
3. polling ... until SIGINT/SIGTERM (``run``) or ``stop()`` (tests, the demo);
4. ``dp.shutdown``: running handlers finish, the profile task is cancelled, discovery stops (its scans
   under way close their ports), the engine shuts down gracefully (in-flight sends first, then its
   scheduler), the outbox makes a last delivery pass;
5. ``App.close``: bot session, then the database, last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from control_bot import errors
from control_bot.api.server import HttpService, optional_services
from control_bot.backends import make_factory
from control_bot.bot_profile import admin_menu_follower, set_profile
from control_bot.housekeeping import Housekeeping
from control_bot.i18n import AdbotI18n, UserLocale
from control_bot.logfiles import RedactingFilter, flush_logging, setup_logging
from control_bot.middlewares import FloodControl, Pacing
from control_bot.notify import OutboxSender
from control_bot.routers import setup_routers
from control_bot.services.reminders import ReminderJob
from control_bot.startup import wait_for_bot_api
from control_bot.startup_phase import phase_path
from control_bot.webhook import WebhookServer, leave_webhook
from core.clock import Clock, SystemClock
from core.config import Settings
from core.connect_rate import ConnectRate
from core.i18n import SOURCE_LOCALE
from core.ports import AccountFactory
from core.private_files import DIR_MODE
from engine.engine import Engine
from engine.outcomes import classify
from pool.discovery import PoolDiscovery
from pool.joins import JoinPacing, JoinRunner
from pool.layout import ensure_layout
from pool.quarantine import Quarantine
from pool.startup import prepare_pool
from pool.supply import PoolSupply
from storage.db import Database, WalPolicy

logger = logging.getLogger(__name__)



def make_bot(settings: Settings, pacing: Pacing | None = None) -> Bot:
    api_base = settings.bot.api_base.strip()
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else AiohttpSession()
    session.middleware(FloodControl(pacing))
    return Bot(
        settings.bot.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def private_dirs(settings: Settings) -> None:
    """data, sessions and logs hold secrets: owner-only folders (existing ones are tightened too)."""
    for folder in (settings.paths.data_dir, settings.paths.sessions_dir, settings.paths.logs_dir):
        folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        folder.chmod(DIR_MODE)
    ensure_layout(settings.paths.sessions_dir)


PROFILE_TASK = "profile_task"  # workflow data key of the background profile setup


@dataclass
class App:
    """Everything one running control bot holds; build it with ``create_app``. As an async context
    manager it closes on the way out."""

    settings: Settings
    bot: Bot
    dp: Dispatcher
    db: Database
    engine: Engine
    clock: Clock
    outbox: OutboxSender
    factory: AccountFactory
    i18n: AdbotI18n
    locales: UserLocale
    redactor: RedactingFilter | None = None
    discovery: PoolDiscovery | None = None  # None: idle sessions' dialogs are not read on a schedule
    joins: JoinRunner | None = None
    join_poll_interval: float | None = 60.0  # seconds between looks at the join queue; None: never
    handler_timeout: float = 10.0
    http: list[HttpService] = field(default_factory=list)  # issue 20 part C: the API and metrics, when enabled
    webhook: WebhookServer | None = None  # issue 20 part C: serving in webhook mode
    started: asyncio.Event = field(default_factory=asyncio.Event)
    _engine_started: bool = False
    _polling: asyncio.Task[None] | None = None
    _join_task: asyncio.Task[None] | None = None
    _closed: bool = False

    @property
    def polling_task(self) -> asyncio.Task[None] | None:
        """The task ``running()`` polls in (None outside the block)."""
        return self._polling

    # --- hooks ------------------------------------------------------------------------------------

    async def _on_startup(self) -> None:
        await self.engine.start()
        self._engine_started = True
        for service in self.http:  # issue 20 part C
            await service.start()
        if self.joins is not None and self.join_poll_interval is not None:
            self._join_task = asyncio.create_task(self._join_loop(self.joins, self.join_poll_interval), name="joins")
        self.outbox.start()
        self.outbox.wake()
        if self.discovery is not None:
            self.discovery.start()
        self.dp[PROFILE_TASK] = asyncio.create_task(self._set_profile(), name="bot-profile")
        self.started.set()
        logger.info("control bot started (backend %s)", self.settings.engine.backend)

    @property
    def profile_task(self) -> asyncio.Task[None] | None:
        """The start-up's profile setup (None before start-up and after shutdown)."""
        task: asyncio.Task[None] | None = self.dp.workflow_data.get(PROFILE_TASK)
        return task

    async def _set_profile(self) -> None:
        try:
            await set_profile(self.bot, self.settings, self.i18n, self.locales)
        except Exception as exc:  # the profile is cosmetic: never let it take the bot down
            logger.warning("setting the bot's profile failed: %s: %s", type(exc).__name__, exc)

    async def _on_shutdown(self) -> None:
        await self._wait_handlers()
        await self.locales.drain()
        await self._stop_services()
        logger.info("control bot stopped")

    async def _wait_handlers(self) -> None:
        # aiogram 3.31 keeps running handler tasks in this private set (pinned version): let them
        # finish before the engine and the database they use go away.
        tasks: set[asyncio.Task[Any]] = getattr(self.dp, "_handle_update_tasks", set())
        running = [task for task in tasks if not task.done()]
        if running:
            _, pending = await asyncio.wait(running, timeout=self.handler_timeout)
            for task in pending:
                task.cancel()
            if pending:
                logger.warning("%d handler(s) cancelled at shutdown", len(pending))
                await asyncio.wait(pending)

    async def _join_loop(self, joins: JoinRunner, interval: float) -> None:
        """The admins' queued joins, each run when its time comes (``pool.joins``). Real time between
        looks: the queue's own times say when a join may go."""
        while True:
            await asyncio.sleep(interval)
            try:
                await joins.run_due()
            except Exception:
                logger.exception("running the queued joins failed")

    async def _stop_services(self) -> None:
        for service in self.http:  # issue 20 part C: no API call arrives while the rest stops
            await service.stop()
        profile = self.dp.workflow_data.pop(PROFILE_TASK, None)
        if isinstance(profile, asyncio.Task):
            profile.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await profile
        # Joins first: a customer's session joins through the engine.
        task, self._join_task = self._join_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.discovery is not None:
            await self.discovery.stop()
        if self._engine_started:
            self._engine_started = False
            try:
                await self.engine.shutdown()
            except Exception:
                logger.exception("engine shutdown failed")
        await self.outbox.stop()

    # --- running ----------------------------------------------------------------------------------

    async def __aenter__(self) -> App:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def serve(self, *, handle_signals: bool = True, polling_timeout: int = 10) -> None:
        """Poll until stopped (SIGINT/SIGTERM when ``handle_signals``); the hooks run inside."""
        try:
            if self.settings.bot.mode == "webhook":  # issue 20 part C
                self.webhook = WebhookServer(self.bot, self.dp, self.settings.bot, handler_timeout=self.handler_timeout)
                await self.webhook.serve(handle_signals=handle_signals)
            else:
                await leave_webhook(self.bot)
                await self.dp.start_polling(
                    self.bot, handle_signals=handle_signals, polling_timeout=polling_timeout, close_bot_session=False
                )
        finally:
            # A failing startup hook never reaches dp.shutdown: stop whatever did start.
            await self._stop_services()

    @contextlib.asynccontextmanager
    async def running(self, *, polling_timeout: int = 1, startup_timeout: float = 10.0) -> AsyncIterator[App]:
        """Polling and the engine for the duration of the block (tests, the demo)."""
        self.started.clear()
        task = asyncio.create_task(self.serve(handle_signals=False, polling_timeout=polling_timeout), name="polling")
        self._polling = task
        started = asyncio.create_task(self.started.wait())
        try:
            await asyncio.wait({task, started}, timeout=startup_timeout, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # startup failed: raise what it failed with
                raise RuntimeError("polling stopped during startup")
            if not self.started.is_set():
                raise TimeoutError(f"the bot did not start within {startup_timeout:g} s")
        except BaseException:
            started.cancel()
            await self._stop_polling(task, reraise=False)
            raise
        try:
            yield self
        finally:
            await self._stop_polling(task)

    async def _stop_polling(self, task: asyncio.Task[None], *, reraise: bool = True) -> None:
        """Stop polling and wait for it; what polling died of is raised (unless already failing)."""
        try:
            if not task.done() and self.webhook is not None:  # issue 20 part C
                self.webhook.stop()
            elif not task.done():
                try:
                    await self.dp.stop_polling()
                except RuntimeError:  # polling had not taken its lock yet
                    task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                if reraise:
                    raise
        finally:
            self._polling = None

    async def close(self) -> None:
        """Release everything; the database goes last. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self._stop_services()
        await self.bot.session.close()
        close_factory = getattr(self.factory, "close", None)
        if callable(close_factory):
            close_factory()
        await self.db.close()
        await asyncio.to_thread(flush_logging)  # every record logged until now is in its file


async def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    factory: AccountFactory | None = None,
    pacing: Pacing | None = None,
    configure_logging: bool = True,
    console_log: bool = True,
    log_secrets: Sequence[str] = (),
    outbox_poll_interval: float = 5.0,
    join_poll_interval: float | None = 60.0,
    schedule: bool = True,
    discover: bool | None = None,
) -> App:
    """Build the whole service from settings: the one way ``adbot run``, the demo, the tests and the
    benchmarks get one. They pass a FakeClock, their own sandbox world and a faster pacing;
    ``configure_logging=False`` leaves the root logger to the caller, ``console_log=False`` keeps the
    log files without the console, ``log_secrets`` are redacted besides the bot token;
    ``schedule=False`` leaves the timing of cycles to the caller (``app.engine.run_cycle``),
    ``join_poll_interval=None`` that of the admins' queued joins (``app.joins.run_due``);
    ``discover`` runs the pool's periodic dialogs scans of idle sessions (default: as ``schedule``).

    ``async with app, app.running(): ...`` polls for the block and closes the app after it."""
    private_dirs(settings)
    redactor = None
    if configure_logging:
        secrets = [settings.bot.token.get_secret_value(), *log_secrets]
        secrets += [settings.bot.webhook_secret.get_secret_value(), *(k.get_secret_value() for k in settings.api.keys)]
        paths = settings.paths
        redactor = setup_logging(
            paths.logs_dir, level=logging.getLevelName(paths.log_level), secrets=secrets, console=console_log,
            max_bytes=int(paths.log_max_mb * 1024 * 1024), backups=paths.log_backups,
        )
    clock = clock or SystemClock()
    wal = WalPolicy(settings.storage.wal_autocheckpoint_pages, settings.storage.wal_max_mb * 1024 * 1024)
    db = await Database.open(settings.db_path, wal=wal)
    try:
        factory = factory or make_factory(settings, clock, db)
        # reconcile logs each of its findings itself (once)
        await prepare_pool(
            db, settings.paths.sessions_dir, max_sessions_per_pair=settings.pool.max_sessions_per_pair,
            ipv6=settings.pool.ipv6,
        )
        bot = make_bot(settings, pacing)
        outbox = OutboxSender(bot, db, settings.bot.admins, now=clock.now, poll_interval=outbox_poll_interval)
        low = settings.bot.low_pool_threshold
        quarantine = Quarantine.from_settings(settings.pool)
        connect_rate = ConnectRate(clock, settings.engine.connects_per_second)  # one for engine and pool scans
        discovery = PoolDiscovery(
            db, settings.paths.sessions_dir, factory, classify, clock, settings.engine, low_threshold=low,
            proxy_required=settings.pool.proxy_required,
            quarantine=quarantine,
            connect_rate=connect_rate,
        )
        engine = Engine(
            db,
            factory,
            # Sessions open for a scan are never granted meanwhile: one live client per session.
            PoolSupply(
                db,
                settings.paths.sessions_dir,
                low_threshold=low,
                held=discovery.scanning,
                proxy_required=settings.pool.proxy_required,
                quarantine=quarantine,
            ),
            clock,
            settings.engine,
            notify=outbox.wake,
            schedule=schedule,
            status_check_interval=settings.pool.frozen_check_hours * 3600,
            connect_rate=connect_rate,
        )
        joins = JoinRunner(
            db,
            settings.paths.sessions_dir,
            factory,
            classify,
            clock,
            JoinPacing.from_settings(settings.pool),
            live=engine,  # a customer's session joins through the engine's live client
            connect_timeout=settings.engine.connect_timeout,
            request_timeout=settings.engine.send_timeout,
            low_threshold=settings.bot.low_pool_threshold,
            held=discovery.scanning,  # an idle session is never open twice (scan, check, join)
            proxy_required=settings.pool.proxy_required,
            quarantine=quarantine,
            connect_rate=connect_rate,  # an idle session's join connects in its turn, as every other connect
        )
        dp = Dispatcher(
            settings=settings,
            db=db,
            engine=engine,
            clock=clock,
            outbox=outbox,
            redactor=redactor,
            idle_open=discovery.scanning,  # what the admins' session check holds too
            joins=joins,
        )
        i18n = make_i18n(settings)
        outbox.attach(i18n, i18n.negotiate, ReminderJob(db, clock, outbox.wake))  # issue 18 part G
        locales = UserLocale(i18n, db, clock, on_new_profile=admin_menu_follower(bot, settings, i18n))
        locales.setup(dp)  # every observer, errors included: even an error reply is in the reader's language
        errors.setup(dp)
        dp.include_routers(*setup_routers(settings))
        app = App(
            settings, bot, dp, db, engine, clock, outbox, factory, i18n, locales, redactor,
            discovery=discovery if (schedule if discover is None else discover) else None,
            joins=joins,
            join_poll_interval=join_poll_interval,
            http=optional_services(settings, db, engine, clock, outbox.wake),
        )
        housekeeping = Housekeeping(settings, db, clock)  # issue 20 part B: daily retention and backups
        dp.startup.register(housekeeping.start)
        dp.shutdown.register(housekeeping.stop)
        dp.startup.register(app._on_startup)
        dp.shutdown.register(app._on_shutdown)
    except BaseException:
        await db.close()
        raise
    return app


def make_i18n(settings: Settings) -> AdbotI18n:
    """The catalogs; a ``default_locale`` without one falls back to the source language (logged)."""
    i18n = AdbotI18n()
    wanted = settings.bot.default_locale
    if wanted in i18n.available_locales:
        i18n.default_locale = wanted
    else:
        logger.warning("[bot] default_locale %r has no catalog; using %r", wanted, SOURCE_LOCALE)
    return i18n


def raise_open_file_limit(ceiling: int = 1 << 20) -> tuple[int, int]:
    """Lift the soft limit on open files to the hard one (at most ``ceiling``); (before, after).

    Every connected Telegram client holds a socket and its session database open: 1,000 campaigns x 3
    sessions need some 6,000 descriptors, where many systems start a process with a soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = ceiling if hard == resource.RLIM_INFINITY else min(hard, ceiling)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft, soft
        return soft, target
    return soft, soft


async def _serve(settings: Settings) -> int:
    before, after = raise_open_file_limit()
    app = await create_app(settings)
    logger.info("open-file limit: %d (was %d)", after, before)
    async with app:
        # issue 20: the token and the network are checked before anything starts (control_bot.startup)
        me = await wait_for_bot_api(
            app.bot, settings.bot.api_base, attempts=settings.bot.startup_attempts,
            phase_file=phase_path(settings.paths.data_dir),
        )
        logger.info("bot @%s (id %d) answers", me.username, me.id)
        await app.serve(handle_signals=True)
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # as the default action's exit status, with the exit handlers run


def run(settings: Settings) -> int:
    """``adbot run``: the control bot and the engine until SIGINT/SIGTERM; 0 on a clean stop.

    A SIGTERM before polling starts (``wait_for_bot_api`` can retry for minutes, ``systemctl stop`` comes
    meanwhile) or after it ended exits through ``SystemExit``, so ``logging.shutdown`` writes every queued
    line (``control_bot.logwriter``); the default action would drop them. Polling installs its own
    handler over this one (a graceful stop)."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        return asyncio.run(_serve(settings))
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = ["App", "create_app", "make_bot", "make_i18n", "raise_open_file_limit", "run"]
