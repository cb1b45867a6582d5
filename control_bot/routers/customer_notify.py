"""The buttons under notifications: cycle summary Details / Stop / Fix (issue 18 part G).

Each answers with a new message (the notification stays as it was): Details the customer's latest log
lines, Stop the campaign, Fix the groups screen. A customer-only action: the services check the plan.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from control_bot import keyboards as kb
from control_bot.callbacks import NotifyAction, notify_button
from control_bot.filters import IsPrivate
from control_bot.render import answer_callback
from control_bot.routers.common import sender_id
from control_bot.routers.customer_groups import groups_screen
from control_bot.routers.customer_stats import logs_screen
from control_bot.services import campaign
from control_bot.services.campaign import CampaignEngine
from core.clock import Clock
from core.config import Settings
from core.texts import customer as t
from storage.db import Database


async def _reply(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=markup)
    await answer_callback(callback)


async def on_details(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    await _reply(callback, *await logs_screen(db, settings, sender_id(callback), clock.now()))


async def on_stop(callback: CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock) -> None:
    stopped = await campaign.stop_campaign(db, engine, sender_id(callback), clock.now())
    await _reply(callback, t.STOPPED() if stopped else t.NOT_RUNNING(), kb.status(False))


async def on_fix_groups(callback: CallbackQuery, db: Database, clock: Clock) -> None:
    await _reply(callback, *await groups_screen(db, sender_id(callback), 0, clock.now()))


def setup() -> Router:
    router = Router(name="customer_notify")
    router.callback_query.filter(IsPrivate())
    router.callback_query.register(on_details, notify_button(NotifyAction.DETAILS))
    router.callback_query.register(on_stop, notify_button(NotifyAction.STOP))
    router.callback_query.register(on_fix_groups, notify_button(NotifyAction.FIX_GROUPS))
    return router
