"""End-to-end kit for the control bot: the real app (aiogram polling over HTTP) against the sandbox Bot
API emulator, with the simulated Telegram world, a virtual clock and an unscheduled engine.

    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)                    # a customer with a plan (storage, not the bot)
        await h.fill_pool(3)                    # sessions in the pool (generated files + intake)
        alice = h.user(ALICE, "Alice")
        reply = await alice.ask("/start")       # say + wait_reply
        await h.cycle(ALICE)                    # one engine cycle now (the scheduler is off; a lenient
                                                # world first learns the customer's groups)
        await h.deliver()                       # the outbox sends what the engine reported
        before = await h.snapshot(); ...; assert await h.snapshot() == before

Nothing sleeps for a guessed time: ``ask``/``press`` wait for the bot's reply, ``h.idle()`` for every
update to be handled (to assert the bot did *not* answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control_bot.app import App, create_app
from control_bot.i18n import AdbotI18n
from control_bot.logfiles import preserved_logging
from control_bot.middlewares import Pacing
from core.clock import FakeClock
from core.config import Settings, settings_from_dict
from core.i18n import Audience, reading
from engine.cycle import CycleReport
from pool.intake import import_files
from sandbox.botapi.models import AnsweredCallback, MessageView
from sandbox.botuser import WAIT_LIMIT, BotApiEmulator, BotUser, RunningBot
from sandbox.sessionfiles import make_session_bytes, new_auth_key
from sandbox.world import World
from storage import customers
from storage import groups as group_rows
from storage import pairs as pair_rows
from storage.customers import Customer
from storage.db import Database, fetchall

TOKEN = "123456789:AAE_sandbox-token-for-adbot-bot-tests_x"
BOT_USERNAME = "adbot_test_bot"
ADMIN_ID = 9000
START = 1_750_000_000.0
DAY = 86_400.0

# Fast pacing for tests (the real limits are unit-tested): a test is a quick back-and-forth in one chat.
TEST_PACING = Pacing(per_chat_rate=1000.0, per_chat_burst=1000.0, global_rate=1000.0, global_burst=1000.0)

_SNAPSHOT_TABLES = ("customers", "groups", "default_groups", "sessions", "sends", "stats", "group_stats", "events")


def make_settings(
    tmp_path: Path, api_base: str, *, admins: Sequence[int] = (ADMIN_ID,),
    sections: dict[str, dict[str, Any]] | None = None, **engine: Any,
) -> Settings:
    """Settings for a test: files under ``tmp_path``, simulated backend, no spacing between sends;
    ``sections``: more config sections or keys (``{"api": {...}}``, ``{"bot": {"mode": ...}}``)."""
    data: dict[str, Any] = {
        "bot": {"token": TOKEN, "api_base": api_base, "admins": list(admins), "low_pool_threshold": 0},
        "paths": {"data_dir": "data", "sessions_dir": "sessions", "logs_dir": "logs"},
        "engine": {
            "backend": "simulated",
            "cycle_interval": 300,
            "min_cycle_interval": 60,
            "max_cycle_interval": 86_400,
            "send_spacing": 0,
            "spacing_jitter": 0,
            # The daily send cap is counted but never reached unless a test sets it (tests/test_pacing.py).
            "daily_send_cap": 1_000_000,
            "warmup_days": 0,
            **engine,
        },
    }
    for name, keys in (sections or {}).items():
        data[name] = {**data.get(name, {}), **keys}
    return settings_from_dict(data, tmp_path)


@dataclass
class Harness:
    """A running control bot and the handles a test needs."""

    emu: BotApiEmulator
    app: App
    clock: FakeClock
    world: World
    running: RunningBot

    @property
    def db(self) -> Database:
        return self.app.db

    @property
    def settings(self) -> Settings:
        return self.app.settings

    def user(self, user_id: int, first_name: str, *, language_code: str | None = "en", **kwargs: Any) -> Player:
        """A user to play; ``language_code``: their Telegram app's language (what the bot negotiates)."""
        return Player(self.emu.user(user_id, first_name, language_code=language_code, **kwargs), self)

    async def idle(self, timeout: float = WAIT_LIMIT) -> None:
        """Every update handled and no handler still running."""
        await self.running.idle(timeout)

    # --- world set-up through storage and pool functions (the admin side is not under test here) ---

    async def grant(self, user_id: int, sessions: int = 1, days: float = 30) -> Customer:
        async with self.db.tx() as conn:
            return await customers.grant(
                conn, user_id, sessions, days, self.clock.now(), self.settings.engine.cycle_interval
            )

    async def add_pair(self, api_id: int = 2040, capacity: int = 7) -> None:
        async with self.db.tx() as conn:
            await pair_rows.add(conn, api_id, hashlib.md5(str(api_id).encode()).hexdigest(), capacity, self.clock.now())

    async def fill_pool(self, count: int, *, with_pair: bool = True) -> list[str]:
        """``count`` generated session files through the real intake; returns the world account keys."""
        if with_pair:
            async with self.db.read() as conn:
                have_pair = bool(await pair_rows.list_all(conn))
            if not have_pair:
                await self.add_pair()
        keys: list[str] = []
        files: list[tuple[str, bytes]] = []
        for i in range(count):
            key = new_auth_key()
            keys.append(hashlib.sha256(key).hexdigest())
            files.append((f"seller_{len(self.world.accounts) + i}.session", make_session_bytes(2, key)))
        results = await import_files(
            self.db,
            self.settings.paths.sessions_dir,
            files,
            max_bytes=self.settings.pool.max_upload_bytes,
            now=self.clock.now(),
        )
        assert all(r.accepted for r in results), results
        for key_sha in keys:
            self.world.add_account(key_sha)
        return keys

    async def cycle(self, user_id: int) -> CycleReport:
        """One engine cycle of the customer's campaign, now (virtual time). A lenient world first learns
        the customer's groups (every account a member, as it makes up any chat on first sight): the
        engine places a group only on sessions whose dialogs list it."""
        if self.world.lenient:
            async with self.db.read() as conn:
                self.world.open_groups(g.ref for g in await group_rows.list_for(conn, user_id))
        return await self.app.engine.run_cycle(user_id)

    async def deliver(self) -> int:
        """Deliver the outbox now; returns how many events were marked delivered."""
        return await self.app.outbox.deliver_pending()

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the campaign tables, for "nothing changed" assertions."""
        return {
            table: [tuple(r) for r in await self.rows(f"SELECT * FROM {table} ORDER BY rowid")]
            for table in _SNAPSHOT_TABLES
        }

    async def customer(self, user_id: int) -> Customer:
        async with self.db.read() as conn:
            found = await customers.get(conn, user_id)
        assert found is not None
        return found

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """What a test reads straight from the tables (storage's own functions are under test elsewhere)."""
        async with self.db.read() as conn:
            return await fetchall(conn, sql, params)


class Player:
    """A sandbox user with one-call actions that return the bot's answer."""

    def __init__(self, user: BotUser, harness: Harness) -> None:
        self.user = user
        self.h = harness

    @property
    def id(self) -> int:
        return self.user.id

    async def ask(self, text: str, timeout: float = WAIT_LIMIT) -> MessageView:
        await self.user.say(text)
        return await self.user.wait_reply(timeout)

    async def send_file(self, name: str, data: bytes, *, caption: str | None = None) -> MessageView:
        await self.user.send_document(name, data, caption=caption)
        return await self.user.wait_reply()

    async def press(self, label: str, timeout: float = WAIT_LIMIT) -> MessageView:
        """Press a button and return the message it produced (an edit in place, or a new one)."""
        await self.user.click(label)
        return await self.user.wait_reply(timeout)

    async def press_answer(self, label: str) -> AnsweredCallback:
        """Press a button and return only the callback answer (toast/alert)."""
        query = await self.user.click(label)
        return await self.user.wait_callback_answer(query)

    async def forge(self, message_id: int, data: str) -> AnsweredCallback:
        """A callback with arbitrary data on one of the bot's messages; returns the bot's answer."""
        query = await self.user.click_data(message_id, data)
        return await self.user.wait_callback_answer(query)

    def last_bot_message(self) -> MessageView:
        found = self.user.last_bot_message()
        assert found is not None
        return found

    def unread(self) -> list[MessageView]:
        return self.user.unread_replies()


@functools.cache
def catalogs() -> AdbotI18n:
    """The bot's catalogs, loaded once per test process."""
    return AdbotI18n()


@contextlib.contextmanager
def in_locale(code: str, tz: str | None = None) -> Iterator[Audience]:
    """Texts built in this block are what a reader of ``code`` gets: expected replies are rendered, not
    copied (``with in_locale("ru"): expected = st.settings_screen(...)``)."""
    with reading(code, tz, translator=catalogs()) as audience:
        yield audience


def labels(view: MessageView) -> list[str]:
    """Every inline button label of a message, rows flattened."""
    return [label for row in view.buttons for label in row]


@contextlib.asynccontextmanager
async def bot_harness(
    tmp_path: Path,
    *,
    admins: Sequence[int] = (ADMIN_ID,),
    world: World | None = None,
    logs: bool = True,
    users: Sequence[tuple[int, str]] | Sequence[tuple[int, str, str]] = (),
    clock: FakeClock | None = None,
    wait_profile: bool = True,
    before_start: Callable[[BotApiEmulator], None] | None = None,
    sections: dict[str, dict[str, Any]] | None = None,
    emulator: dict[str, Any] | None = None,
    **engine: Any,
) -> AsyncIterator[Harness]:
    """The whole control bot against the emulator; ``engine`` overrides ``[engine]`` settings.

    ``logs``: the service's log files (per customer, as ``adbot run`` writes them; no console) for the
    block. ``users`` (id, first name[, language code]) exist before the bot starts (to receive what it sends at
    start-up); pass the same ``tmp_path`` (and ``clock``) twice to restart the service on the same files.
    ``wait_profile``: the block starts once the bot's profile (set in the background) is set; False: at
    once, while it may still be under way. ``before_start``: called with the emulator before the bot
    starts (e.g. to inject errors into its start-up calls). ``sections``: more config (``make_settings``);
    ``emulator``: keyword arguments of the ``BotApiEmulator``."""
    own_clock = clock is None
    clock = clock if clock is not None else FakeClock(START, auto=True)
    world = world if world is not None else World(clock, lenient=True)
    async with BotApiEmulator(TOKEN, BOT_USERNAME, **(emulator or {})) as emu:
        for user_id, name, *language in users:
            emu.user(user_id, name, language_code=language[0] if language else "en")
        if before_start is not None:
            before_start(emu)
        try:
            with preserved_logging():
                app = await create_app(
                    make_settings(tmp_path, emu.base_url, admins=admins, sections=sections, **engine),
                    clock=clock,
                    factory=world,
                    pacing=TEST_PACING,
                    configure_logging=logs,
                    console_log=False,
                    outbox_poll_interval=0.05,
                    schedule=False,
                )
                async with app, app.running(polling_timeout=1):
                    assert app.polling_task is not None
                    if wait_profile and app.profile_task is not None:
                        await asyncio.wait_for(asyncio.shield(app.profile_task), 30)
                    running = RunningBot(app.bot, app.dp, emu, app.polling_task)
                    yield Harness(emu, app, clock, world, running)
        finally:
            if own_clock:
                await clock.aclose()
