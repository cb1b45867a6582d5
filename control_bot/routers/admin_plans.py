"""Plans by admins: /grant (by id, @username or a picked user), /revoke, and the before -> after
confirmation (issue 18 part H).

- ``/grant`` alone: how to use it, and a "Pick a person" reply button (Telegram's user picker,
  ``request_users``: people only, one at a time) whose answer (``users_shared``) offers the plan buttons.
- ``/grant WHO``: the plan buttons (``[bot] plan_presets``) for that person; ``WHO`` is a user id or the
  @username of someone who has started the bot.
- ``/grant WHO SESSIONS DAYS``: a new plan (or renewing an ended one) is made at once; a change of a
  running plan shows before -> after and waits for Confirm / Cancel.
- ``/revoke WHO``: before -> after, then Confirm / Cancel.
- A plan button (here, or on part D's access-request card) always shows before -> after first.

The rules live in ``control_bot.services.plans``; the customer is told through the outbox
(PLAN_GRANTED / PLAN_REVOKED), in their own language. Registered before the other admin routers; its
handlers carry ``IsAdmin`` like every admin router.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from control_bot import keyboards as kb
from control_bot.callbacks import PICK_PERSON_REQUEST_ID, PlanAction, PlanConfirmCb, PlanPresetCb
from control_bot.filters import IsAdmin
from control_bot.middlewares import ClearStateOnNewAction
from control_bot.notify import OutboxSender
from control_bot.render import show
from control_bot.routers.common import sender_id
from control_bot.services import admin, plans
from control_bot.services.plans import Person, Proposal
from core.clock import Clock
from core.config import Settings
from core.errors import InputError
from core.texts import plans as t
from core.texts.fmt import esc
from engine.engine import Engine
from storage.db import Database

logger = logging.getLogger(__name__)


async def _apply(
    admin_id: int, proposal: Proposal, db: Database, settings: Settings, clock: Clock, engine: Engine,
    outbox: OutboxSender,
) -> str:
    applied = await plans.confirm(
        db, admin_id, proposal.token, now=clock.now(), default_interval=settings.engine.cycle_interval,
        sessions_dir=settings.paths.sessions_dir, engine=engine,
    )
    outbox.wake()
    return t.plan_applied(applied)


async def _offer_presets(message: Message, who: Person, settings: Settings) -> None:
    await message.answer(t.choose_plan(who), reply_markup=kb.plan_presets(who.user_id, settings.bot.plan_presets))


async def on_grant(
    message: Message,
    command: CommandObject,
    db: Database,
    settings: Settings,
    clock: Clock,
    engine: Engine,
    outbox: OutboxSender,
) -> None:
    words = (command.args or "").split()
    if not words:
        await message.answer(esc(t.USAGE_GRANT()), reply_markup=kb.pick_person())  # plain text
        return
    if len(words) not in (1, 3):
        raise InputError(t.USAGE_GRANT())
    who = await plans.find_person(db, words[0])
    if len(words) == 1:
        await _offer_presets(message, who, settings)
        return
    sessions, days = admin.parse_sessions(words[1]), admin.parse_days(words[2])
    admin_id = sender_id(message)
    proposal = await plans.propose_plan(db, admin_id, who.user_id, sessions, days, now=clock.now())
    if proposal.change.needs_confirmation:
        await message.answer(t.plan_change(proposal.change), reply_markup=kb.plan_confirm(proposal.token))
        return
    await message.answer(await _apply(admin_id, proposal, db, settings, clock, engine, outbox))


async def on_person_picked(message: Message, db: Database, settings: Settings) -> None:
    """The answer of the "Pick a person" button: Telegram shares one user (never a bot)."""
    shared = message.users_shared
    if shared is None or not shared.users:
        return
    picked = shared.users[0]
    known = await plans.person(db, picked.user_id)
    who = Person(
        picked.user_id,
        known.username or picked.username,
        known.first_name or picked.first_name,
        known.language_code,
    )
    await _offer_presets(message, who, settings)


async def on_preset(callback: CallbackQuery, callback_data: PlanPresetCb, db: Database, clock: Clock) -> None:
    """A plan button (ours or an access request's): before -> after, always confirmed."""
    proposal = await plans.propose_plan(
        db, sender_id(callback), callback_data.user_id, callback_data.sessions, callback_data.days, now=clock.now()
    )
    await show(callback, t.plan_change(proposal.change), kb.plan_confirm(proposal.token))


async def on_revoke(message: Message, command: CommandObject, db: Database, clock: Clock) -> None:
    words = (command.args or "").split()
    if len(words) != 1:
        raise InputError(t.USAGE_REVOKE())
    who = await plans.find_person(db, words[0])
    proposal = await plans.propose_revoke(db, sender_id(message), who.user_id, now=clock.now())
    await message.answer(t.plan_change(proposal.change), reply_markup=kb.plan_confirm(proposal.token))


async def on_confirm(
    callback: CallbackQuery,
    callback_data: PlanConfirmCb,
    db: Database,
    settings: Settings,
    clock: Clock,
    engine: Engine,
    outbox: OutboxSender,
) -> None:
    admin_id = sender_id(callback)
    if callback_data.action is PlanAction.CANCEL:
        await plans.cancel(db, admin_id, callback_data.token)
        await show(callback, t.PLAN_CANCELLED())
        return
    applied = await plans.confirm(
        db, admin_id, callback_data.token, now=clock.now(), default_interval=settings.engine.cycle_interval,
        sessions_dir=settings.paths.sessions_dir, engine=engine,
    )
    outbox.wake()
    await show(callback, t.plan_applied(applied))


def setup() -> Router:
    router = Router(name="admin_plans")
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.message.middleware(ClearStateOnNewAction())
    router.callback_query.middleware(ClearStateOnNewAction())
    router.message.register(on_grant, Command("grant"))
    router.message.register(on_revoke, Command("revoke"))
    router.message.register(on_person_picked, F.users_shared.request_id == PICK_PERSON_REQUEST_ID)
    router.callback_query.register(on_preset, PlanPresetCb.filter())
    router.callback_query.register(on_confirm, PlanConfirmCb.filter())
    return router
