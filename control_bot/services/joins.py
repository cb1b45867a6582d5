"""The admin's joins, for the bot's ``/join`` and ``/joins`` and for ``adbot pool join`` / ``joins``.

Parsing the arguments, choosing the sessions (ids, or all of a customer's), previewing an invite through
one of them, queueing (``pool.joins.queue_joins``) and reading the queue back. Bad input raises
``InputError`` / ``LinkError`` / ``NotFound`` before anything is written. Nothing here knows aiogram or
argparse, nor Telegram: the runner the caller passes does the requests.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from control_bot.services.admin import MAX_USER_ID, parse_int, parse_user_id
from core.config import Settings
from core.errors import AdbotError, InputError, NotFound, PoolError
from core.join_targets import JoinTarget, parse_join_target
from core.ports import InvitePreview
from core.texts import admin as admin_texts
from core.texts import errors as error_texts
from core.texts import joins as texts
from pool.joins import HOLDING, USABLE_STATES, JoinPacing, JoinRunner, QueuedJoin, queue_joins
from storage import customers
from storage import joins as join_rows
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database
from storage.joins import JoinRow

MAX_SESSIONS_PER_JOIN = 50
RECENT_JOINS = 30


@dataclass(frozen=True)
class SessionChoice:
    """Sessions by id, or every session a customer holds."""

    session_ids: tuple[int, ...] = ()
    customer_id: int | None = None


def parse_sessions(raw: str) -> SessionChoice:
    """'3,5,7' (session ids) or 'c<customer id>'."""
    text = raw.strip()
    shown = text if len(text) <= 24 else text[:23] + "…"
    if text[:1] in ("c", "C"):
        return SessionChoice(customer_id=parse_user_id(text[1:]))
    parts = [p for p in re.split(r"[,;]", text) if p]
    if not parts or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
        raise InputError(texts.bad_session_list(shown))
    if len(parts) > MAX_SESSIONS_PER_JOIN:
        raise InputError(texts.too_many_sessions(len(parts), MAX_SESSIONS_PER_JOIN))
    ids = tuple(dict.fromkeys(parse_int(p, texts.SESSION_ID(), 1, MAX_USER_ID) for p in parts))
    return SessionChoice(session_ids=ids)


def parse_join_args(raw: str | None) -> tuple[SessionChoice, JoinTarget]:
    """``/join <sessions> <group>``: exactly two arguments."""
    parts = (raw or "").split()
    if len(parts) != 2:
        raise InputError(admin_texts.usage(texts.USAGE_JOIN()))
    return parse_sessions(parts[0]), parse_join_target(parts[1])


async def choose_sessions(db: Database, choice: SessionChoice) -> list[int]:
    """The session ids the choice names (a customer's: those they hold now)."""
    if choice.customer_id is None:
        return list(choice.session_ids)
    async with db.read() as conn:
        customer = await customers.get(conn, choice.customer_id)
        held = [s.id for s in await session_rows.list_for_owner(conn, choice.customer_id)]
    if customer is None:
        raise NotFound(error_texts.no_customer(choice.customer_id))
    if not held:
        raise NotFound(texts.customer_has_no_sessions(choice.customer_id))
    return held[:MAX_SESSIONS_PER_JOIN]


def pacing(settings: Settings) -> JoinPacing:
    return JoinPacing.from_settings(settings.pool)


@dataclass(frozen=True)
class InviteCheck:
    session_id: int  # the session that looked
    preview: InvitePreview


async def preview_invite(db: Database, runner: JoinRunner, session_ids: Sequence[int], invite_hash: str) -> InviteCheck:
    """The invite as the first session that can look sees it (``messages.checkChatInvite``: no join)."""
    now = runner.clock.now()
    async with db.read() as conn:
        rows = [await session_rows.get(conn, sid) for sid in session_ids]
        holds = {sid: await wait_rows.hold(conn, sid, HOLDING) for sid in session_ids}
    reachable = runner.live is not None  # a customer's session is reached through the engine
    usable = [
        r.id
        for r in rows
        if r is not None
        and r.state in USABLE_STATES
        and r.has_identity  # one waiting for an API pair is never opened
        and (reachable or not r.owned)
        and (r.cooldown_until or 0.0) <= now  # one waiting out a flood wait makes no request at all
        and holds[r.id] <= now  # nor one whose joins (a preview is one) or connecting must wait
    ]
    if not usable:
        raise NotFound(texts.NO_SESSION_TO_PREVIEW())
    session_id = usable[0]
    try:
        preview = await runner.preview(session_id, invite_hash)
    except AdbotError:
        raise
    except Exception as exc:
        raise PoolError(texts.preview_failed(session_id, runner.classify(exc).error)) from exc
    return InviteCheck(session_id, preview)


@dataclass(frozen=True)
class JoinsQueued:
    target: JoinTarget
    title: str | None
    queued: list[QueuedJoin]


async def queue(
    db: Database,
    session_ids: Sequence[int],
    target: JoinTarget,
    *,
    requested_by: int,
    now: float,
    pacing: JoinPacing,
    title: str | None = None,
    members: Collection[int] = (),
) -> JoinsQueued:
    queued = await queue_joins(
        db, session_ids, target, requested_by=requested_by, now=now, pacing=pacing, title=title, members=members
    )
    return JoinsQueued(target, title, queued)


@dataclass(frozen=True)
class JoinsView:
    rows: list[JoinRow]  # newest first
    waits: dict[int, float]  # session -> until when its joins wait out a flood wait


async def recent_joins(db: Database, now: float, limit: int = RECENT_JOINS) -> JoinsView:
    async with db.read() as conn:
        return JoinsView(await join_rows.recent(conn, limit), await wait_rows.waiting(conn, "join", now))
