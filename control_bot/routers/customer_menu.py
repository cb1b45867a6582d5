"""/start (the main menu), /help, /cancel and the menu's Home/Help/Cancel buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from control_bot import keyboards as kb
from control_bot import texts as t
from control_bot.callbacks import MenuAction, MenuCb
from control_bot.filters import IsPrivate, is_admin_user
from control_bot.middlewares import ClearStateOnNewAction
from control_bot.render import show
from control_bot.routers.common import first_name, interval_bounds, main_menu_screen, sender_id
from control_bot.services import campaign
from control_bot.services.campaign import CampaignEngine
from core.clock import Clock
from core.config import Settings
from core.errors import AccessDenied
from storage.db import Database


async def _menu(
    event: Message | CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings
) -> None:
    user_id = sender_id(event)
    try:
        text, markup = await main_menu_screen(db, engine, user_id, first_name(event), clock.now())
    except AccessDenied:
        if is_admin_user(event.from_user, settings) and await campaign.get_customer(db, user_id) is None:
            await show(event, t.admin_not_customer(user_id))
            return
        raise
    await show(event, text, markup)


async def on_start(message: Message, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings) -> None:
    await _menu(message, db, engine, clock, settings)


async def on_home(
    callback: CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings
) -> None:
    await _menu(callback, db, engine, clock, settings)


async def _help(event: Message | CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    user_id = sender_id(event)
    customer = await campaign.get_customer(db, user_id)
    if customer is None or not customer.plan_active(clock.now()):
        text = t.help_not_customer(user_id)
    else:
        bounds = interval_bounds(settings)
        text = t.help_text(bounds.min_s, bounds.max_s, campaign.MAX_GROUPS_PER_CUSTOMER)
    await show(event, text, kb.back_to_menu() if customer is not None else None)


async def on_help(message: Message, db: Database, clock: Clock, settings: Settings) -> None:
    await _help(message, db, clock, settings)


async def on_help_button(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    await _help(callback, db, clock, settings)


async def on_cancel(message: Message, state_cleared: bool = False) -> None:
    # ClearStateOnNewAction already dropped the pending question: this reply only says so.
    await message.answer(t.CANCELLED if state_cleared else t.NOTHING_TO_CANCEL, reply_markup=kb.back_to_menu())


async def on_cancel_button(
    callback: CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings
) -> None:
    await _menu(callback, db, engine, clock, settings)


def setup() -> Router:
    router = Router(name="customer_menu")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    # The first customer router sees every update the admin routers left: one place to drop a
    # pending question when the user moves on.
    router.message.outer_middleware(ClearStateOnNewAction())
    router.callback_query.outer_middleware(ClearStateOnNewAction())
    router.message.register(on_start, CommandStart())
    router.message.register(on_help, Command("help"))
    router.message.register(on_cancel, Command("cancel"))
    router.callback_query.register(on_home, MenuCb.filter(F.action == MenuAction.HOME))
    router.callback_query.register(on_help_button, MenuCb.filter(F.action == MenuAction.HELP))
    router.callback_query.register(on_cancel_button, MenuCb.filter(F.action == MenuAction.CANCEL))
    return router
