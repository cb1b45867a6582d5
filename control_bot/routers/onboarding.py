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
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

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

MAX_TRACKED_REQUESTS = 10_000
"""Open requests whose cards are remembered (a person has at most one open request)."""

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


def _card(who: User, ended_at: float | None) -> str:
    username = esc(who.username) if who.username else None
    text = t.access_card(esc(who.full_name), username, who.id, t.language_name(who.language_code))
    return f"{text}\n{t.card_plan_ended(ended_at)}" if ended_at is not None else text


@dataclass(frozen=True)
class SentCard:
    """A card as sent to one admin: enough to close it in their language once someone answers."""

    admin_id: int
    message_id: int
    html: str
    locale: str
    zone: str | None


Line = Callable[[], str]
"""What happened to a request, rendered in the reading scope of the admin whose card shows it."""


def _with_line(card: str, line: str) -> str:
    return f"{card}\n\n{line}" if card else line


class Onboarding:
    """The request and card handlers, with what they share in this process: the answers (one at a time)
    and the cards sent for each open request (so the other admins' cards lose their buttons once one
    admin answers; after a restart an old card's press finds the request answered)."""

    def __init__(self, max_requests: int = MAX_TRACKED_REQUESTS) -> None:
        self.answering = Answering()
        self.max_requests = max_requests
        self._cards: OrderedDict[int, list[SentCard]] = OrderedDict()

    # --- a stranger asks ---------------------------------------------------------------------------

    async def _send_cards(
        self, bot: Bot, db: Database, i18n: AdbotI18n, settings: Settings, who: User, ended_at: float | None
    ) -> int:
        """The card to every admin, each in their own language; how many went out."""
        sent: list[SentCard] = []
        for admin_id in dict.fromkeys(settings.bot.admins):
            language, zone = await access.audience(db, admin_id)
            locale = i18n.negotiate(language)
            with reading(locale, zone, translator=i18n):
                text = _card(who, ended_at)
                markup = kb.access_card(who.id, settings.bot.plan_presets)
            try:
                message = await bot.send_message(admin_id, text, reply_markup=markup)
            except TelegramAPIError as exc:
                logger.warning("access request of user %d: card to admin %d failed: %s", who.id, admin_id, exc)
                continue
            sent.append(SentCard(admin_id, message.message_id, text, locale, zone))
        if sent:
            self._cards[who.id] = sent
            self._cards.move_to_end(who.id)
            while len(self._cards) > self.max_requests:
                self._cards.popitem(last=False)
        return len(sent)

    async def on_request(
        self, callback: CallbackQuery, bot: Bot, db: Database, clock: Clock, settings: Settings, i18n: AdbotI18n
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
        if asked.outcome is Asked.DECLINED:
            again_at = asked.again_at if asked.again_at is not None else now
            await show(callback, with_contact(t.declined_recently(again_at), settings))
            return
        if await self._send_cards(bot, db, i18n, settings, who, asked.ended_at):
            await show(callback, with_contact(t.REQUEST_SENT(), settings))
            return
        await access.unsent(db, who.id, now)
        contact = settings.bot.contact.strip()
        after = t.contact_line(esc(contact)) if contact else t.TRY_LATER()
        await show(callback, f"{t.REQUEST_UNSENT()}\n{after}", kb.request_access())

    # --- an admin answers --------------------------------------------------------------------------

    async def _close_cards(
        self, callback: CallbackQuery, bot: Bot, i18n: AdbotI18n, user_id: int, line: Line
    ) -> None:
        """The pressed card and every other admin's card for this request: what happened, no buttons."""
        message = callback.message
        card = message.html_text if isinstance(message, Message) else ""
        await show(callback, _with_line(card, line()))
        pressed = message.message_id if isinstance(message, Message) else None
        for other in self._cards.pop(user_id, []):
            if other.admin_id == callback.from_user.id and other.message_id == pressed:
                continue
            with reading(other.locale, other.zone, translator=i18n):
                text = _with_line(other.html, line())
            try:
                await bot.edit_message_text(text, chat_id=other.admin_id, message_id=other.message_id)
            except TelegramAPIError as exc:
                logger.info("could not close admin %d's card for user %d: %s", other.admin_id, user_id, exc)

    async def on_card(
        self,
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
            result = await self.answering.decline(db, user_id, admin_id, now=now)
            if result.answer is Answer.DECLINED:
                told = await _tell(bot, db, i18n, settings, user_id)
                declined = t.card_declined if told else t.card_declined_untold
                await self._close_cards(callback, bot, i18n, user_id, lambda: declined(admin_name))
                return
        else:
            preset = (callback_data.sessions, callback_data.days)
            if preset not in {tuple(p) for p in settings.bot.plan_presets}:
                await answer_callback(callback, customer_texts.STALE_BUTTON(), alert=True)
                return
            result = await self.answering.grant(
                db, user_id, admin_id, *preset, now=now, default_interval=settings.engine.cycle_interval
            )
            if result.answer is Answer.GRANTED and result.grant is not None:
                outbox.wake()
                until = result.grant.customer.plan_expires_at
                await self._close_cards(
                    callback, bot, i18n, user_id, lambda: t.card_granted(admin_name, t.plan_label(*preset), until)
                )
                return
            if result.answer is Answer.HAS_PLAN and result.customer is not None:
                c = result.customer
                await self._close_cards(
                    callback, bot, i18n, user_id, lambda: t.card_has_plan(c.plan_sessions, c.plan_expires_at, user_id)
                )
                return
        message = callback.message
        if isinstance(message, Message) and message.reply_markup is not None:
            # A card still showing buttons (sent before a restart): close it.
            await show(callback, _with_line(message.html_text, t.CARD_ALREADY_ANSWERED()))
        else:
            await answer_callback(callback, t.CARD_ALREADY_ANSWERED(), alert=True)


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
    handlers = Onboarding()
    router.callback_query.register(handlers.on_request, OnboardingCb.filter(F.action == OnboardingAction.REQUEST))
    router.callback_query.register(handlers.on_card, AccessCardCb.filter(), IsAdmin())
    router.message.register(on_admin_file, F.document, IsAdmin(), StateFilter(None))
    return router
