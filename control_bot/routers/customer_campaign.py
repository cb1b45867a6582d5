"""/interval, /run, /stop and /status (with its refresh button)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from control_bot import keyboards as kb
from control_bot.callbacks import IntervalCb, MenuAction, menu_button
from control_bot.filters import IsPrivate
from control_bot.render import register_screen, show
from control_bot.routers.common import command_args, interval_bounds, sender_id
from control_bot.services import campaign
from control_bot.services import schedule as schedule_service
from control_bot.services.campaign import CampaignEngine
from core.clock import Clock
from core.config import Settings
from core.texts import customer as t
from core.texts import schedule as schedule_texts
from core.texts import status as status_texts
from storage.db import Database


class IntervalForm(StatesGroup):
    waiting = State()


# --- interval --------------------------------------------------------------------------------------


async def _interval_menu(event: Message | CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    customer = await campaign.require_customer(db, sender_id(event), clock.now())
    bounds = interval_bounds(settings)
    await show(
        event, t.interval_ask(customer.interval_s, bounds.min_s, bounds.max_s), kb.interval(bounds.min_s, bounds.max_s)
    )


async def _set_interval(
    event: Message | CallbackQuery, seconds: int, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings
) -> None:
    customer = await campaign.set_interval(
        db, engine, sender_id(event), seconds, interval_bounds(settings), clock.now()
    )
    await show(event, t.interval_set(customer.interval_s, customer.status == "running"), kb.back_to_menu())


async def on_interval(
    event: Message | CallbackQuery,
    db: Database,
    engine: CampaignEngine,
    clock: Clock,
    settings: Settings,
    command: CommandObject | None = None,
) -> None:
    """/interval <minutes> sets it; /interval alone, or the Interval button, shows the choices."""
    args = command_args(command)
    if not args.strip():
        await _interval_menu(event, db, clock, settings)
        return
    await campaign.require_customer(db, sender_id(event), clock.now())
    seconds = campaign.parse_interval_minutes(args, interval_bounds(settings))
    await _set_interval(event, seconds, db, engine, clock, settings)


async def on_interval_answer(
    message: Message, state: FSMContext, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings
) -> None:
    # A refused answer raises before the state is cleared: the question stays open for another try.
    await campaign.require_customer(db, sender_id(message), clock.now())
    seconds = campaign.parse_interval_minutes(message.text or "", interval_bounds(settings))
    await _set_interval(message, seconds, db, engine, clock, settings)
    await state.clear()


async def on_interval_preset(
    callback: CallbackQuery,
    callback_data: IntervalCb,
    db: Database,
    engine: CampaignEngine,
    clock: Clock,
    settings: Settings,
) -> None:
    # The preset comes from the client: set_interval checks the bounds again.
    await _set_interval(callback, callback_data.minutes * 60, db, engine, clock, settings)


async def on_interval_other(
    callback: CallbackQuery, state: FSMContext, db: Database, clock: Clock, settings: Settings
) -> None:
    customer = await campaign.require_customer(db, sender_id(callback), clock.now())
    bounds = interval_bounds(settings)
    await state.set_state(IntervalForm.waiting)
    await show(callback, t.interval_ask(customer.interval_s, bounds.min_s, bounds.max_s), kb.cancel())


# --- run / stop ------------------------------------------------------------------------------------


async def on_run(
    event: Message | CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock, settings: Settings
) -> None:
    now = clock.now()
    told = bool(settings.bot.admins)  # "the admin has been told" only when there is one to tell
    result = await campaign.start_campaign(db, engine, sender_id(event), now, admins_told=told)
    if not result.started:
        await show(event, t.ALREADY_RUNNING(), kb.status(True))
        return
    text = t.run_started(
        result.sessions, result.groups_active, result.interval_s, result.next_run_at, now, short=result.sessions_short,
        admins_told=told,
    )
    await show(event, text, kb.status(True))


async def on_stop(event: Message | CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock) -> None:
    stopped = await campaign.stop_campaign(db, engine, sender_id(event), clock.now())
    await show(event, t.STOPPED() if stopped else t.NOT_RUNNING(), kb.status(False))


# --- status ----------------------------------------------------------------------------------------


async def status_screen(
    db: Database, engine: CampaignEngine, user_id: int, now: float
) -> tuple[str, InlineKeyboardMarkup]:
    view = await campaign.campaign_status(db, engine, user_id, now)
    c = view.customer
    running = c.status == "running"
    sched = await schedule_service.current(db, user_id)
    text = status_texts.status(
        running=running,
        stop_reason=c.stop_reason,
        cycle_no=c.cycle_no,
        cycle_in_progress=c.cycle_in_progress,
        next_run_at=view.next_run_at,
        sessions=view.sessions,
        groups_active=view.groups_active,
        groups_paused=view.groups_paused,
        groups_slow=view.groups_slow,
        last_activity=view.last_activity,
        interval_s=c.interval_s,
        plan_sessions=c.plan_sessions,
        plan_expires_at=c.plan_expires_at,
        post_kind=c.post_kind,
        post_link=c.post_link,
        post_text=c.post_text,
        now=now,
        last_cycle=view.last_cycle,
        post_media=view.post_media,
        schedule=schedule_texts.schedule_line(sched.days, sched.start, sched.end) if sched else "",
        post_count=c.post_count,
        rotation=c.rotation,
    )
    return text, kb.status(running)


async def on_status(event: Message | CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock) -> None:
    text, markup = await status_screen(db, engine, sender_id(event), clock.now())
    await show(event, text, markup)


def setup() -> Router:
    router = Router(name="customer_campaign")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    register_screen(router, on_interval, Command("interval"), menu_button(MenuAction.INTERVAL))
    router.message.register(on_interval_answer, IntervalForm.waiting, F.text, ~F.text.startswith("/"))
    register_screen(router, on_run, Command("run"), menu_button(MenuAction.RUN))
    register_screen(router, on_stop, Command("stop"), menu_button(MenuAction.STOP))
    register_screen(router, on_status, Command("status"), menu_button(MenuAction.STATUS))
    router.callback_query.register(on_interval_other, menu_button(MenuAction.INTERVAL_OTHER))
    router.callback_query.register(on_interval_preset, IntervalCb.filter())
    return router
