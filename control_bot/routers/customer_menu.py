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
from control_bot.routers import onboarding
from control_bot.routers.common import first_name, interval_bounds, main_menu_screen, sender_id
from control_bot.services import campaign
from control_bot.services import groups as group_service
from control_bot.services.campaign import CampaignEngine
from core.clock import Clock
from core.config import Settings
from core.errors import AccessDenied
from core.texts import customer as t
from storage.db import Database


async def on_menu(
    event: Message | CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings
) -> None:
    """/start, the Menu button and Cancel (the middleware already dropped the pending question).

    An admin's /start is the admin panel (with their own campaign one tap away when they have a plan);
    someone without an active plan gets what the service is and the Request access button."""
    user_id = sender_id(event)
    now = clock.now()
    customer = await campaign.get_customer(db, user_id)
    active = customer is not None and customer.plan_active(now)
    if is_admin_user(event.from_user, settings) and (isinstance(event, Message) or not active):
        await show(event, *onboarding.admin_screen(active))
        return
    if not active:
        await show(event, *onboarding.stranger_screen(settings, first_name(event), customer, now))
        return
    try:
        text, markup = await main_menu_screen(db, engine, user_id, first_name(event), now)
    except AccessDenied:  # the plan ended between the two reads
        await show(event, *onboarding.stranger_screen(settings, first_name(event), customer, now))
        return
    await show(event, text, markup)


async def on_help(event: Message | CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    user_id = sender_id(event)
    customer = await campaign.get_customer(db, user_id)
    if customer is None or not customer.plan_active(clock.now()):
        if is_admin_user(event.from_user, settings):
            await show(event, *onboarding.admin_screen(False))
        else:
            await show(event, *onboarding.stranger_help(settings))
        return
    bounds = interval_bounds(settings)
    text = t.help_text(bounds.min_s, bounds.max_s, group_service.MAX_GROUPS_PER_CUSTOMER)
    await show(event, text, kb.back_to_menu())


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
