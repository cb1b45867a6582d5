"""The admin panel (/admin and its buttons) and the admin commands.

Every handler here sits behind ``IsAdmin`` (set on the router in ``control_bot.routers.admin``): for
anybody else the commands simply do not match and the customer side's fallback answers, exactly as
for any unknown command. Handlers parse, call ``control_bot.services.admin`` and render; a domain
error goes to the one error handler (``control_bot.errors``), which answers with its message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from control_bot import keyboards as kb
from control_bot.callbacks import AdminAction, admin_button
from control_bot.charts import send_service_chart
from control_bot.render import Screen, answer_callback, register_screen, send_report, show
from control_bot.services import admin
from core.clock import Clock
from core.config import Settings
from core.errors import InputError
from core.texts import admin as t
from core.texts import pairs as pair_texts
from engine.engine import Engine
from engine.outcomes import classify
from pool import pairs
from pool.health import check_sessions
from pool.quarantine import Quarantine
from pool.status import pool_status
from storage.db import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ctx:
    """What the screens need, taken from the workflow data."""

    db: Database
    settings: Settings
    engine: Engine
    clock: Clock
    idle_open: set[int]  # idle sessions open right now (discovery scans, checks): never opened twice


# --- screens (shared by commands and panel buttons) ----------------------------------------------------


async def pool_screen(ctx: Ctx) -> str:
    return t.pool_status(await pool_status(ctx.db))


async def pairs_screen(ctx: Ctx) -> str:
    return pair_texts.pairs_list(await pairs.list_pairs(ctx.db))


async def customers_screen(ctx: Ctx) -> str:
    now = ctx.clock.now()
    return t.customers_list(await admin.list_customers(ctx.db, now), now)


async def health_screen(ctx: Ctx) -> str:
    return t.health(await admin.health_report(ctx.db, ctx.engine, ctx.clock.now(), ctx.settings))


async def default_groups_screen(ctx: Ctx) -> str:
    return t.default_groups(await admin.default_groups(ctx.db))


async def check_sessions_screen(ctx: Ctx) -> str:
    # Dead and frozen ones are retired; quarantined ones go back to the pool only once their quarantine
    # is over and their probe succeeds (pool.health): this command never shortens a quarantine.
    results = await check_sessions(
        ctx.db,
        ctx.settings.paths.sessions_dir,
        ctx.engine.accounts.factory,
        ctx.clock.now(),
        classify=classify,
        connect_timeout=ctx.engine.config.connect_timeout,
        low_threshold=ctx.settings.bot.low_pool_threshold,
        held=ctx.idle_open,
        proxy_required=ctx.settings.pool.proxy_required,
        quarantine=Quarantine.from_settings(ctx.settings.pool),
        clock=ctx.clock,  # a wait a probe meets runs from its answer
        connect_rate=ctx.engine.accounts.connect_rate,  # probes' connects spread like every other (issue 22)
    )
    return t.check_sessions(results)


Report = Callable[[Ctx], Awaitable[str]]
# Each report: its command, its panel button, and how it is made.
REPORTS: tuple[tuple[str, AdminAction, Report], ...] = (
    ("pool", AdminAction.POOL, pool_screen),
    ("pairs", AdminAction.PAIRS, pairs_screen),
    ("customers", AdminAction.CUSTOMERS, customers_screen),
    ("health", AdminAction.HEALTH, health_screen),
    ("defaultgroups", AdminAction.DEFAULT_GROUPS, default_groups_screen),
    ("checksessions", AdminAction.CHECK_SESSIONS, check_sessions_screen),
)


# --- panel -------------------------------------------------------------------------------------------


async def on_panel(event: Message | CallbackQuery) -> None:
    await show(event, t.admin_panel(), kb.admin_panel())


def report_handler(action: AdminAction, report: Report) -> Screen:
    """The handler of one report, for its command (a reply) and its panel button (in place, with a way
    back to the panel)."""

    async def handler(
        event: Message | CallbackQuery,
        db: Database,
        settings: Settings,
        engine: Engine,
        clock: Clock,
        idle_open: set[int],
    ) -> None:
        if action is AdminAction.CHECK_SESSIONS:
            # Connecting every idle session takes a while: say so (and stop the client's spinner) first.
            if isinstance(event, Message):
                await event.answer(t.CHECK_SESSIONS_STARTED())
            else:
                await answer_callback(event, t.CHECK_SESSIONS_STARTED())
        text = await report(Ctx(db, settings, engine, clock, idle_open))
        await send_report(event, text, kb.admin_back() if isinstance(event, CallbackQuery) else None)
        if action is AdminAction.HEALTH and event.bot is not None and event.from_user is not None:
            await send_service_chart(event.bot, event.from_user.id, db, clock.now())  # issue 19: deliveries per day

    handler.__name__ = f"on_{action.name.lower()}"
    return handler


# --- changes -----------------------------------------------------------------------------------------


async def _delete_secret(message: Message) -> bool:
    """Delete the admin's message holding a secret; False when Telegram would not."""
    try:
        await message.delete()
    except TelegramBadRequest as exc:
        logger.warning("could not delete a message holding an API hash: %s", exc.message)
        return False
    return True


async def on_addpair(message: Message, command: CommandObject, db: Database, settings: Settings, clock: Clock) -> None:
    # The hash is a secret: the message goes first, whether or not the pair is accepted.
    deleted = await _delete_secret(message) if command.args else True
    api_id, api_hash = admin.split_args(command.args, 2, pair_texts.USAGE_ADDPAIR())
    pair = await pairs.add_pair(
        db, api_id, api_hash, capacity=settings.pool.max_sessions_per_pair, now=clock.now()
    )
    await message.answer(pair_texts.pair_added(pair, deleted))


async def on_delpair(message: Message, command: CommandObject, db: Database) -> None:
    words = (command.args or "").split()
    move = len(words) == 2 and words[1].lower() == "move"  # the admin's explicit choice to move its sessions
    (raw,) = admin.split_args(words[0] if move else command.args, 1, pair_texts.USAGE_DELPAIR())
    api_id = pairs.parse_api_id(raw)
    moved = await pairs.remove_pair(db, api_id, move=move)
    await message.answer(pair_texts.pair_removed(api_id, moved))


async def on_adddefaultgroups(message: Message, command: CommandObject, db: Database, clock: Clock) -> None:
    if not (command.args or "").strip():
        raise InputError(t.USAGE_ADD_DEFAULT_GROUPS())
    result = await admin.add_default_groups(db, command.args or "", clock.now())
    await send_report(message, t.default_groups_added(result))


def setup() -> Router:
    router = Router(name="admin_commands")
    register_screen(router, on_panel, Command("admin"), admin_button(AdminAction.PANEL))
    for name, action, report in REPORTS:
        register_screen(router, report_handler(action, report), Command(name), admin_button(action))
    router.message.register(on_addpair, Command("addpair"))
    router.message.register(on_delpair, Command("delpair"))
    router.message.register(on_adddefaultgroups, Command("adddefaultgroups"))
    return router
