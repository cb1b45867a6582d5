"""/start (the main menu), /help, /cancel and the menu's Home/Help/Cancel buttons."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from control_bot import keyboards as kb
from control_bot.callbacks import MenuAction, menu_button
from control_bot.filters import IsPrivate, is_admin_user
from control_bot.middlewares import ClearStateOnNewAction
from control_bot.render import register_screen, show
from control_bot.routers.common import first_name, interval_bounds, main_menu_screen, sender_id
from control_bot.services import campaign
from control_bot.services import groups as group_service
from control_bot.services.campaign import CampaignEngine
from core.clock import Clock
from core.config import Settings
from core.errors import AccessDenied
from core.texts import customer as t
from core.texts import onboarding as onboarding_texts
from storage.db import Database


async def on_menu(
    event: Message | CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings
) -> None:
    """/start, the Menu button and Cancel (the middleware already dropped the pending question)."""
    user_id = sender_id(event)
    try:
        text, markup = await main_menu_screen(db, engine, user_id, first_name(event), clock.now())
    except AccessDenied:
        if is_admin_user(event.from_user, settings) and await campaign.get_customer(db, user_id) is None:
            await show(event, onboarding_texts.admin_not_customer(user_id))
            return
        raise
    await show(event, text, markup)


async def on_help(event: Message | CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    user_id = sender_id(event)
    customer = await campaign.get_customer(db, user_id)
    if customer is None or not customer.plan_active(clock.now()):
        text = onboarding_texts.help_not_customer(user_id)
    else:
        bounds = interval_bounds(settings)
        text = t.help_text(bounds.min_s, bounds.max_s, group_service.MAX_GROUPS_PER_CUSTOMER)
    await show(event, text, kb.back_to_menu() if customer is not None else None)


async def on_cancel(message: Message, state_cleared: bool = False) -> None:
    # ClearStateOnNewAction already dropped the pending question: this reply only says so.
    await message.answer(t.CANCELLED() if state_cleared else t.NOTHING_TO_CANCEL(), reply_markup=kb.back_to_menu())


def setup() -> Router:
    router = Router(name="customer_menu")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    # The first customer router sees every update the admin routers left: one place to drop a
    # pending question when the user moves on.
    router.message.outer_middleware(ClearStateOnNewAction())
    router.callback_query.outer_middleware(ClearStateOnNewAction())
    register_screen(router, on_menu, CommandStart(), menu_button(MenuAction.HOME), menu_button(MenuAction.CANCEL))
    register_screen(router, on_help, Command("help"), menu_button(MenuAction.HELP))
    router.message.register(on_cancel, Command("cancel"))
    return router
