"""The admins' reach screens: /reach <user_id> (or a customer picked from the panel's Reach button) lists
the customer's unreachable groups with the pool sessions in them; a button swaps a free member session
in for one of theirs, another has the customer's sessions join a public group none of them is in
(queued and paced like /join: never automatic).

Behind ``IsAdmin`` like every admin router (``control_bot.routers.admin``): a non-admin's press or
forged data matches nothing here and gets the stale-button answer. Every id in a button is checked
again when pressed (``services.admin_reach``).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from control_bot import keyboards as kb
from control_bot.callbacks import AdminAction, ReachCb, ReachJoinCb, ReachSwapCb, admin_button
from control_bot.render import register_screen, send_report, show
from control_bot.services import admin, admin_reach, joins
from control_bot.services.ids import is_id, parse_id
from core.clock import Clock
from core.config import Settings
from core.errors import AdbotError
from core.join_targets import parse_join_target
from core.texts import admin as admin_texts
from core.texts import joins as join_texts
from core.texts import reach as t
from engine.engine import Engine
from storage.db import Database


async def reach_screen(db: Database, customer_id: int, now: float) -> tuple[str, InlineKeyboardMarkup]:
    report = await admin_reach.reach_report(db, customer_id, now)
    offers = [(o.take, o.give, o.groups) for o in report.offers]
    return t.reach_report(report), kb.reach(customer_id, offers, admin_reach.join_offers(report))


async def on_picker(event: Message | CallbackQuery, db: Database, clock: Clock) -> None:
    lines = await admin_reach.customers_with_plans(db, clock.now())
    shown = min(len(lines), kb.REACH_PICKER_MAX)
    await show(event, t.reach_picker(lines, shown), kb.reach_picker([(c.user_id, c.running) for c in lines]))


async def on_reach(
    event: Message | CallbackQuery,
    db: Database,
    clock: Clock,
    command: CommandObject | None = None,
    callback_data: ReachCb | None = None,
) -> None:
    """/reach <user_id>, or a customer's button (the picker's, or Refresh)."""
    if callback_data is not None:
        customer_id = callback_data.customer_id
    else:
        (raw,) = admin.split_args(command.args if command else None, 1, t.USAGE_REACH)
        customer_id = parse_id(raw, admin_texts.not_a_user_id)
    text, markup = await reach_screen(db, customer_id, clock.now())
    await show(event, text, markup)


async def on_swap(
    callback: CallbackQuery, callback_data: ReachSwapCb, db: Database, settings: Settings, engine: Engine, clock: Clock
) -> None:
    cid, give, take = callback_data.customer_id, callback_data.give, callback_data.take
    try:
        await admin_reach.swap_session(db, engine, settings.paths.sessions_dir, cid, give, take, clock.now())
    except AdbotError:
        # A stale button: the screen shows how things are now, and the error handler says why not.
        await _refresh(callback, db, cid, clock)
        raise
    text, markup = await reach_screen(db, cid, clock.now())
    await show(callback, text, markup, toast=t.swapped(take, give))


async def on_join(
    callback: CallbackQuery, callback_data: ReachJoinCb, db: Database, settings: Settings, clock: Clock
) -> None:
    """The customer's sessions queue a join of one of their public groups, paced like /join."""
    cid = callback_data.customer_id
    ref = await admin_reach.group_to_join(db, cid, callback_data.group_id)
    session_ids = await joins.choose_sessions(db, joins.SessionChoice(customer_id=cid))
    now = clock.now()
    admin_id = callback.from_user.id
    result = await joins.queue(
        db, session_ids, parse_join_target(ref), requested_by=admin_id, now=now, pacing=joins.pacing(settings)
    )
    text = join_texts.joins_queued(
        ref, None, result.queued, gap_minutes=settings.pool.join_min_gap_minutes,
        daily_cap=settings.pool.join_daily_cap, now=now,
    )
    await send_report(callback, text, kb.admin_back())


async def _refresh(callback: CallbackQuery, db: Database, customer_id: int, clock: Clock) -> None:
    if not is_id(customer_id) or not isinstance(callback.message, Message):
        return
    try:
        text, markup = await reach_screen(db, customer_id, clock.now())
    except AdbotError:
        return
    try:
        await callback.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest:
        pass  # unchanged, or too old to edit: the error's answer is what matters


def setup() -> Router:
    router = Router(name="admin_reach")
    register_screen(router, on_picker, None, admin_button(AdminAction.REACH))
    register_screen(router, on_reach, Command("reach"), ReachCb.filter())
    router.callback_query.register(on_swap, ReachSwapCb.filter())
    router.callback_query.register(on_join, ReachJoinCb.filter())
    return router
