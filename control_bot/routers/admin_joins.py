"""``/join`` and ``/joins``: sessions join a group only because an admin asked (``pool.joins``).

``/join <sessions> <group>``: a public group is queued at once; an invite link is first previewed through
one of the sessions (``messages.checkChatInvite``: title, group or channel, whether its admins approve
members) and queued only when the admin presses "Queue". The preview waits in memory (``JoinDrafts``,
a few, newest kept): after a restart its button says to send /join again. ``/joins`` (and the panel's
Joins button) lists the newest joins with their outcome.

Every handler sits behind ``IsAdmin`` (``control_bot.routers.admin`` sets it on this router), the
confirmation buttons included: a forged ``aj:`` press from anybody else matches nothing here.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from control_bot import keyboards as kb
from control_bot.callbacks import AdminAction, JoinAction, JoinCb, admin_button
from control_bot.render import answer_callback, register_screen, send_report, show
from control_bot.services import joins as service
from core.clock import Clock
from core.config import Settings
from core.join_targets import JoinTarget
from core.texts import joins as texts
from pool.joins import JoinRunner
from storage.db import Database

DRAFTS_KEPT = 32


@dataclass(frozen=True)
class Draft:
    """An invite's preview waiting for the admin's "Queue"."""

    session_ids: tuple[int, ...]
    target: JoinTarget
    title: str | None
    members: frozenset[int]  # sessions the preview found in the chat already


class JoinDrafts:
    """The previews waiting for an answer, by number (the newest ``limit`` are kept)."""

    def __init__(self, limit: int = DRAFTS_KEPT) -> None:
        self._items: OrderedDict[int, Draft] = OrderedDict()
        self._numbers = itertools.count(1)
        self._limit = limit

    def add(self, draft: Draft) -> int:
        number = next(self._numbers)
        self._items[number] = draft
        while len(self._items) > self._limit:
            self._items.popitem(last=False)
        return number

    def take(self, number: int) -> Draft | None:
        return self._items.pop(number, None)


def _queued_text(result: service.JoinsQueued, settings: Settings, now: float) -> str:
    return texts.joins_queued(
        result.target.ref,
        result.title,
        result.queued,
        gap_minutes=settings.pool.join_min_gap_minutes,
        daily_cap=settings.pool.join_daily_cap,
        now=now,
    )


async def joins_screen(event: Message | CallbackQuery, db: Database, clock: Clock) -> None:
    now = clock.now()
    view = await service.recent_joins(db, now)
    markup = kb.admin_back() if isinstance(event, CallbackQuery) else None
    await send_report(event, texts.joins_list(view.rows, view.waits, now), markup)


def setup() -> Router:
    router = Router(name="admin_joins")
    drafts = JoinDrafts()

    async def on_join(
        message: Message, command: CommandObject, db: Database, settings: Settings, clock: Clock, joins: JoinRunner
    ) -> None:
        choice, target = service.parse_join_args(command.args)
        session_ids = await service.choose_sessions(db, choice)
        admin_id = message.from_user.id if message.from_user is not None else 0
        if target.invite_hash is None:
            now = clock.now()
            result = await service.queue(
                db, session_ids, target, requested_by=admin_id, now=now, pacing=service.pacing(settings)
            )
            await send_report(message, _queued_text(result, settings, now))
            return
        check = await service.preview_invite(db, joins, session_ids, target.invite_hash)
        preview = check.preview
        if preview.invalid is not None:
            await message.answer(texts.invite_invalid(target.link, preview.invalid))
            return
        members = frozenset({check.session_id} if preview.already_member else ())
        number = drafts.add(Draft(tuple(session_ids), target, preview.title or None, members))
        await message.answer(
            texts.invite_preview(preview, target.link, session_ids, check.session_id),
            reply_markup=kb.join_confirm(number),
        )

    async def on_confirm(
        callback: CallbackQuery, callback_data: JoinCb, db: Database, settings: Settings, clock: Clock
    ) -> None:
        draft = drafts.take(callback_data.draft)
        if draft is None:
            await answer_callback(callback, texts.DRAFT_GONE(), alert=True)
            return
        if callback_data.action is JoinAction.CANCEL:
            await show(callback, texts.JOINS_CANCELLED())
            return
        now = clock.now()
        result = await service.queue(
            db,
            draft.session_ids,
            draft.target,
            requested_by=callback.from_user.id,
            now=now,
            pacing=service.pacing(settings),
            title=draft.title,
            members=draft.members,
        )
        await send_report(callback, _queued_text(result, settings, now))

    router.message.register(on_join, Command("join"))
    router.callback_query.register(on_confirm, JoinCb.filter())
    register_screen(router, joins_screen, Command("joins"), admin_button(AdminAction.JOINS))
    return router
