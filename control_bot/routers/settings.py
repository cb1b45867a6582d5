"""/settings for everyone (customers, admins, strangers): language, time zone, notification level.

A change re-renders the screen at once in the new language (or zone), and a new language also re-sets
that chat's command menu (a chat scope: it beats Telegram's choice by app language). The locale
middleware's profile cache is refreshed, so the next update reads the new choice.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from control_bot import callbacks as cb
from control_bot import keyboards as kb
from control_bot.bot_profile import set_chat_menu
from control_bot.filters import IsPrivate, is_admin_user
from control_bot.i18n import AdbotI18n, UserLocale
from control_bot.middlewares import ClearStateOnNewAction
from control_bot.render import answer_callback, register_screen, show
from control_bot.routers.common import sender_id
from control_bot.services import settings as service
from control_bot.services.campaign import CampaignEngine
from core import i18n as reader
from core.clock import Clock
from core.config import Settings
from core.states import NotifyLevel
from core.texts import settings as st
from storage.db import Database


class SettingsForm(StatesGroup):
    zone = State()  # waiting for a typed zone name or offset


def _screen(person: service.PersonSettings, now: float) -> tuple[str, InlineKeyboardMarkup]:
    """The settings screen in the language of the current reading scope."""
    zone = service.zone_name(person.time_zone)
    text = st.settings_screen(
        st.language_name(reader.locale()), zone, service.offset_label(zone, now), person.notify_level
    )
    return text, kb.settings_menu()


async def on_settings(event: Message | CallbackQuery, db: Database, clock: Clock) -> None:
    person = await service.current(db, sender_id(event), clock.now())
    await show(event, *_screen(person, clock.now()))


async def on_languages(callback: CallbackQuery, i18n: AdbotI18n) -> None:
    await show(callback, st.PICK_LANGUAGE(), kb.settings_languages(i18n.available_locales, reader.locale()))


async def on_set_language(
    callback: CallbackQuery,
    callback_data: cb.SettingsCb,
    db: Database,
    clock: Clock,
    settings: Settings,
    bot: Bot,
    i18n: AdbotI18n,
    i18n_middleware: UserLocale,
) -> None:
    locale = callback_data.value
    if locale not in i18n.available_locales:
        await answer_callback(callback, st.STALE_CHOICE(), alert=True)
        return
    user_id = sender_id(callback)
    now = clock.now()
    await service.set_locale(db, user_id, locale, now)
    await i18n_middleware.reload(user_id)
    person = await service.current(db, user_id, now)
    # The menu first: once the screen shows the new language, the menu speaks it too.
    await set_chat_menu(bot, i18n, user_id, locale, admin=is_admin_user(callback.from_user, settings))
    with reader.reading(locale, person.time_zone, translator=i18n):
        text, markup = _screen(person, now)
        await show(callback, text, markup, toast=st.language_set(st.language_name(locale)))


async def on_zones(callback: CallbackQuery, db: Database, clock: Clock) -> None:
    now = clock.now()
    person = await service.current(db, sender_id(callback), now)
    zones = [(name, st.zone_label(name, service.offset_label(name, now))) for name in kb.SETTINGS_ZONES]
    await show(callback, st.PICK_ZONE(), kb.settings_zones(zones, service.zone_name(person.time_zone)))


async def _zone_chosen(
    event: Message | CallbackQuery, zone: str, db: Database, clock: Clock, i18n_middleware: UserLocale,
    engine: CampaignEngine,
) -> None:
    user_id = sender_id(event)
    now = clock.now()
    await service.set_time_zone(db, user_id, zone, now)
    await engine.reschedule(user_id)  # a schedule is read in this zone: a running campaign's next cycle moves
    await i18n_middleware.reload(user_id)
    person = await service.current(db, user_id, now)
    with reader.reading(reader.locale(), person.time_zone):
        text, markup = _screen(person, now)
        toast = st.zone_set(service.zone_name(person.time_zone), service.offset_label(zone, now))
        await show(event, text, markup, toast=toast)


async def on_set_zone(
    callback: CallbackQuery, callback_data: cb.SettingsCb, db: Database, clock: Clock, i18n_middleware: UserLocale,
    engine: CampaignEngine,
) -> None:
    zone = service.parse_zone(callback_data.value)
    if zone is None or zone != callback_data.value:
        await answer_callback(callback, st.STALE_CHOICE(), alert=True)
        return
    await _zone_chosen(callback, zone, db, clock, i18n_middleware, engine)


async def on_zone_other(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(SettingsForm.zone)
    await show(callback, st.ASK_ZONE(), kb.settings_back())


async def on_zone_typed(
    message: Message, state: FSMContext, db: Database, clock: Clock, i18n_middleware: UserLocale,
    engine: CampaignEngine,
) -> None:
    zone = service.parse_zone(message.text or "")
    if zone is None:  # the question stays open for another try
        await message.answer(st.bad_zone(message.text or ""), reply_markup=kb.settings_back())
        return
    await state.clear()
    await _zone_chosen(message, zone, db, clock, i18n_middleware, engine)


async def on_levels(callback: CallbackQuery, db: Database, clock: Clock) -> None:
    person = await service.current(db, sender_id(callback), clock.now())
    await show(callback, st.PICK_LEVEL(), kb.settings_levels(list(NotifyLevel), person.notify_level))


async def on_set_level(callback: CallbackQuery, callback_data: cb.SettingsCb, db: Database, clock: Clock) -> None:
    try:
        level = NotifyLevel(callback_data.value)
    except ValueError:
        await answer_callback(callback, st.STALE_CHOICE(), alert=True)
        return
    user_id = sender_id(callback)
    now = clock.now()
    await service.set_notify_level(db, user_id, level, now)
    person = await service.current(db, user_id, now)
    await show(callback, *_screen(person, now), toast=st.level_set(level))


async def on_close(callback: CallbackQuery) -> None:
    await show(callback, st.SETTINGS_CLOSED())


def setup() -> Router:
    router = Router(name="settings")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    # Inner: only for an update a settings handler took (a /cancel still reaches the customer side's).
    router.message.middleware(ClearStateOnNewAction())
    router.callback_query.middleware(ClearStateOnNewAction())
    register_screen(router, on_settings, Command("settings"), cb.settings_button(cb.SettingsAction.SHOW))
    router.callback_query.register(on_languages, cb.settings_button(cb.SettingsAction.LANGUAGES))
    router.callback_query.register(on_set_language, cb.settings_button(cb.SettingsAction.SET_LANGUAGE))
    router.callback_query.register(on_zones, cb.settings_button(cb.SettingsAction.ZONES))
    router.callback_query.register(on_set_zone, cb.settings_button(cb.SettingsAction.SET_ZONE))
    router.callback_query.register(on_zone_other, cb.settings_button(cb.SettingsAction.ZONE_OTHER))
    router.callback_query.register(on_levels, cb.settings_button(cb.SettingsAction.LEVELS))
    router.callback_query.register(on_set_level, cb.settings_button(cb.SettingsAction.SET_LEVEL))
    router.callback_query.register(on_close, cb.settings_button(cb.SettingsAction.CLOSE))
    router.message.register(on_zone_typed, SettingsForm.zone, F.text, ~F.text.startswith("/"))
    return router
