"""First contact (issue 18 part D): a stranger requests access, every admin gets a card, an admin answers;
an admin's stray file gets an admin's answer.

The screens a stranger and an admin get on /start and /help are built here and shown by
``customer_menu`` (which decides who is who). A request is sent straight to each admin (not through the
outbox: the stranger is told "the admins were told" only when at least one card went out), each card in
that admin's own language. A card's buttons pass ``IsAdmin`` on every press: anybody else's press (a
forged one) falls through to the fallback's "no longer valid".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User

from control_bot import keyboards as kb
from control_bot.callbacks import AccessCardCb, CardAction, OnboardingAction, OnboardingCb
from control_bot.filters import IsAdmin, IsPrivate
from control_bot.i18n import AdbotI18n
from control_bot.middlewares import ClearStateOnNewAction
from control_bot.notify import OutboxSender
from control_bot.render import answer_callback, show
from control_bot.routers.common import sender_id
from control_bot.services import access
from control_bot.services.access import Answer, Answering, Asked
from core.clock import Clock
from core.config import Settings
from core.i18n import reading
from core.texts import admin as admin_texts
from core.texts import customer as customer_texts
from core.texts import onboarding as t
from core.texts.fmt import esc
from storage.customers import Customer
from storage.db import Database

logger = logging.getLogger(__name__)

# --- screens (shown by customer_menu) -----------------------------------------------------------------


def with_contact(text: str, settings: Settings) -> str:
    contact = settings.bot.contact.strip()
    return f"{text}\n\n{t.contact_line(esc(contact))}" if contact else text


def stranger_screen(
    settings: Settings, name: str, customer: Customer | None, now: float
) -> tuple[str, InlineKeyboardMarkup]:
    """/start of someone without an active plan: what the service is (or that their plan ended), the
    Request access button, the contact line."""
    text = t.plan_ended_screen(min(customer.plan_expires_at, now)) if customer is not None else t.welcome(esc(name))
    return with_contact(text, settings), kb.request_access()


def stranger_help(settings: Settings) -> tuple[str, InlineKeyboardMarkup]:
    return with_contact(t.help_not_customer(), settings), kb.request_access()


def admin_screen(has_plan: bool) -> tuple[str, InlineKeyboardMarkup]:
    """An admin's /start: the admin panel (and their own campaign when they have a plan)."""
    return admin_texts.admin_panel(), kb.admin_start(has_plan)


# --- a stranger asks ----------------------------------------------------------------------------------


def _card(who: User, ended_at: float | None) -> str:
    username = esc(who.username) if who.username else None
    text = t.access_card(esc(who.full_name), username, who.id, t.language_name(who.language_code))
    return f"{text}\n{t.card_plan_ended(ended_at)}" if ended_at is not None else text


async def _send_cards(
    bot: Bot, db: Database, i18n: AdbotI18n, settings: Settings, who: User, ended_at: float | None
) -> int:
    """The card to every admin, each in their own language; how many went out."""
    sent = 0
    for admin_id in dict.fromkeys(settings.bot.admins):
        language, zone = await access.audience(db, admin_id)
        with reading(i18n.negotiate(language), zone, translator=i18n):
            text = _card(who, ended_at)
            markup = kb.access_card(who.id, settings.bot.plan_presets)
        try:
            await bot.send_message(admin_id, text, reply_markup=markup)
        except TelegramAPIError as exc:
            logger.warning("access request of user %d: card to admin %d failed: %s", who.id, admin_id, exc)
            continue
        sent += 1
    return sent


async def on_request(
    callback: CallbackQuery, bot: Bot, db: Database, clock: Clock, settings: Settings, i18n: AdbotI18n
) -> None:
    who = callback.from_user
    now = clock.now()
    asked = await access.ask(db, who.id, now)
    if asked.outcome is Asked.CUSTOMER:
        await show(callback, t.ALREADY_CUSTOMER(), kb.back_to_menu())
        return
    if asked.outcome is Asked.PENDING:
        requested_at = asked.request.requested_at if asked.request is not None else now
        await show(callback, with_contact(t.request_pending(requested_at), settings))
        return
    if await _send_cards(bot, db, i18n, settings, who, asked.ended_at):
        await show(callback, with_contact(t.REQUEST_SENT(), settings))
        return
    await access.unsent(db, who.id, now)
    contact = settings.bot.contact.strip()
    after = t.contact_line(esc(contact)) if contact else t.TRY_LATER()
    await show(callback, f"{t.REQUEST_UNSENT()}\n{after}", kb.request_access())


# --- an admin answers ---------------------------------------------------------------------------------


def _card_text(callback: CallbackQuery) -> str:
    message = callback.message
    return message.html_text if isinstance(message, Message) else ""


async def _finish_card(callback: CallbackQuery, line: str) -> None:
    """The card with what happened under it, and no buttons left."""
    card = _card_text(callback)
    await show(callback, f"{card}\n\n{line}" if card else line)


async def _tell(bot: Bot, db: Database, i18n: AdbotI18n, settings: Settings, user_id: int) -> bool:
    """Tell the person (in their language) that their request was declined; False when Telegram refused."""
    language, zone = await access.audience(db, user_id)
    with reading(i18n.negotiate(language), zone, translator=i18n):
        text = with_contact(t.access_declined(), settings)
    try:
        await bot.send_message(user_id, text)
    except TelegramAPIError as exc:
        logger.warning("could not tell user %d their request was declined: %s", user_id, exc)
        return False
    return True


def card_handler(answering: Answering) -> Callable[..., Awaitable[None]]:
    async def on_card(
        callback: CallbackQuery,
        callback_data: AccessCardCb,
        bot: Bot,
        db: Database,
        clock: Clock,
        settings: Settings,
        i18n: AdbotI18n,
        outbox: OutboxSender,
    ) -> None:
        user_id = callback_data.user_id
        admin_id = sender_id(callback)
        admin_name = esc(callback.from_user.full_name)
        now = clock.now()
        if callback_data.action is CardAction.OTHER:
            await answer_callback(callback)
            if isinstance(callback.message, Message):
                await callback.message.answer(t.other_plan(user_id))
            return
        if callback_data.action is CardAction.DECLINE:
            result = await answering.decline(db, user_id, admin_id, now=now)
            if result.answer is Answer.DECLINED:
                told = await _tell(bot, db, i18n, settings, user_id)
                line = t.card_declined(admin_name) if told else t.card_declined_untold(admin_name)
                await _finish_card(callback, line)
                return
        else:
            preset = (callback_data.sessions, callback_data.days)
            if preset not in {tuple(p) for p in settings.bot.plan_presets}:
                await answer_callback(callback, customer_texts.STALE_BUTTON(), alert=True)
                return
            result = await answering.grant(
                db, user_id, admin_id, *preset, now=now, default_interval=settings.engine.cycle_interval
            )
            if result.answer is Answer.GRANTED and result.grant is not None:
                outbox.wake()
                plan = t.plan_label(*preset)
                await _finish_card(callback, t.card_granted(admin_name, plan, result.grant.customer.plan_expires_at))
                return
            if result.answer is Answer.HAS_PLAN and result.customer is not None:
                c = result.customer
                await _finish_card(callback, t.card_has_plan(c.plan_sessions, c.plan_expires_at, user_id))
                return
        await _finish_card(callback, t.CARD_ALREADY_ANSWERED())

    return on_card


# --- an admin's stray file ----------------------------------------------------------------------------


async def on_admin_file(message: Message) -> None:
    """A document the pool's upload router did not take, from an admin who is not answering a customer
    question (those documents are the customer side's)."""
    document = message.document
    name = (document.file_name if document is not None else None) or "?"
    await message.answer(t.not_a_session_file(esc(name)))


def setup() -> Router:
    router = Router(name="onboarding")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    # A press here abandons a pending question (an admin answering a card in the middle of /post).
    # Inner: only for an update a handler here took.
    router.message.middleware(ClearStateOnNewAction())
    router.callback_query.middleware(ClearStateOnNewAction())
    router.callback_query.register(on_request, OnboardingCb.filter(F.action == OnboardingAction.REQUEST))
    router.callback_query.register(card_handler(Answering()), AccessCardCb.filter(), IsAdmin())
    router.message.register(on_admin_file, F.document, IsAdmin(), StateFilter(None))
    return router
