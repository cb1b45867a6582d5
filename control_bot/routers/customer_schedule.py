"""/schedule: the days and hours the campaign's cycles may start in (quiet hours outside them)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from control_bot import callbacks as cb
from control_bot import keyboards as kb
from control_bot.filters import IsPrivate
from control_bot.render import register_screen, show
from control_bot.routers.common import sender_id
from control_bot.services import schedule as service
from control_bot.services.campaign import CampaignEngine
from core.clock import Clock
from core.schedule import DAY_MINUTES
from core.texts import schedule as texts
from storage.db import Database


class ScheduleForm(StatesGroup):
    hours = State()  # waiting for a typed window


async def _render(event: Message | CallbackQuery, view: service.ScheduleView, now: float,
                  toast: str | None = None) -> None:
    s = view.schedule
    await show(
        event,
        texts.screen(s.days, s.start, s.end, view.zone, view.running, view.next_run_at, now),
        kb.schedule(s.days, service.HOUR_PRESETS, service.DAY_PRESETS),
        toast=toast,
    )


def _saved(view: service.ScheduleView) -> str:
    s = view.schedule
    return texts.saved(s.days, s.start, s.end, view.running)


async def on_schedule(event: Message | CallbackQuery, state: FSMContext, db: Database, engine: CampaignEngine,
                      clock: Clock) -> None:
    await state.clear()
    now = clock.now()
    await _render(event, await service.view(db, engine, sender_id(event), now), now)


async def on_day(callback: CallbackQuery, callback_data: cb.ScheduleCb, db: Database, engine: CampaignEngine,
                 clock: Clock) -> None:
    now = clock.now()
    view = await service.toggle_day(db, engine, sender_id(callback), callback_data.value, now)
    await _render(callback, view, now, toast=_saved(view))


async def on_days(callback: CallbackQuery, callback_data: cb.ScheduleCb, db: Database, engine: CampaignEngine,
                  clock: Clock) -> None:
    now = clock.now()
    view = await service.set_days(db, engine, sender_id(callback), callback_data.value, now)
    await _render(callback, view, now, toast=_saved(view))


async def on_hours(callback: CallbackQuery, callback_data: cb.ScheduleCb, db: Database, engine: CampaignEngine,
                   clock: Clock) -> None:
    start, end = divmod(callback_data.value, DAY_MINUTES)
    now = clock.now()
    if not 0 <= start < DAY_MINUTES:  # a forged button: the screen as it is, nothing changed
        await _render(callback, await service.view(db, engine, sender_id(callback), now), now)
        return
    view = await service.set_hours(db, engine, sender_id(callback), start, end, now)
    await _render(callback, view, now, toast=_saved(view))


async def on_other(callback: CallbackQuery, state: FSMContext, db: Database, engine: CampaignEngine,
                   clock: Clock) -> None:
    await service.view(db, engine, sender_id(callback), clock.now())  # customers only
    await state.set_state(ScheduleForm.hours)
    await show(callback, texts.ASK_HOURS(), kb.schedule_back())


async def on_hours_typed(message: Message, state: FSMContext, db: Database, engine: CampaignEngine,
                         clock: Clock) -> None:
    # A refused window raises before the state is cleared: the question stays open for another try.
    start, end = service.parse_typed_hours(message.text or "")
    now = clock.now()
    view = await service.set_hours(db, engine, sender_id(message), start, end, now)
    await state.clear()
    await _render(message, view, now)  # the screen says the new schedule (one message)


async def on_done(callback: CallbackQuery, db: Database, engine: CampaignEngine, clock: Clock) -> None:
    now = clock.now()
    view = await service.view(db, engine, sender_id(callback), now)
    await show(callback, _saved(view), kb.back_to_menu())


def setup() -> Router:
    router = Router(name="customer_schedule")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    register_screen(router, on_schedule, Command("schedule"), cb.schedule_button(cb.ScheduleAction.SHOW),
                    cb.menu_button(cb.MenuAction.SCHEDULE))
    router.callback_query.register(on_day, cb.schedule_button(cb.ScheduleAction.DAY))
    router.callback_query.register(on_days, cb.schedule_button(cb.ScheduleAction.DAYS))
    router.callback_query.register(on_hours, cb.schedule_button(cb.ScheduleAction.HOURS))
    router.callback_query.register(on_other, cb.schedule_button(cb.ScheduleAction.OTHER))
    router.callback_query.register(on_done, cb.schedule_button(cb.ScheduleAction.DONE))
    router.message.register(on_hours_typed, ScheduleForm.hours, F.text, ~F.text.startswith("/"))
    return router
