"""Plan changes by admins, shown before they are made: who (by id or @username), before -> after, confirm.

A change of a plan that is running (``/grant`` to someone with an active plan, ``/revoke``, an access
request's plan button) is first *proposed*: ``propose_plan`` / ``propose_revoke`` compute the plan before
and after (sessions, expiry, how many sessions would go back to the pool) and store a proposal whose
token rides in the Confirm button. ``confirm`` applies it only for the admin it was made for, once,
within ``PROPOSAL_TTL``, and only while the plan is still the one it was computed from; anything else
(forged, used, cancelled, stale, overtaken) is refused and changes nothing. A new plan, or renewing an
ended one, has nothing to lose: the bot confirms it at once (``PlanChange.needs_confirmation``).

Nothing here knows about aiogram: the bot's ``routers.admin_plans`` and the access-request card (part D)
call these and render the result with ``core.texts.plans``.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from control_bot.services import admin
from control_bot.services.reach import customer_reach
from core.errors import InputError, NotFound
from core.texts import plans as texts
from pool import assign
from storage import customers, plan_proposals, users
from storage import sessions as session_rows
from storage.db import Connection, Database
from storage.plan_proposals import StoredProposal

logger = logging.getLogger(__name__)

PROPOSAL_TTL = 15 * 60.0  # a Confirm button older than this is refused: the admin looks again
DAY = 86_400.0
TOKEN_BYTES = 9  # 12 URL-safe characters: fits a callback's 64 bytes with room to spare

_USERNAME_RE = re.compile(r"@?([A-Za-z][A-Za-z0-9_]{2,31})")

Kind = Literal["grant", "revoke"]


# --- who -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Whom a plan is for, as far as the bot knows them (``users``: anyone who wrote to it)."""

    user_id: int
    username: str | None = None
    first_name: str | None = None
    language_code: str | None = None


async def person(db: Database, user_id: int) -> Person:
    async with db.read() as conn:
        row = await users.get(conn, user_id)
    if row is None:
        return Person(user_id)
    return Person(row.user_id, row.username, row.first_name, row.language_code)


async def find_person(db: Database, raw: str) -> Person:
    """A user id or an @username of someone who has started the bot. InputError for anything else (never
    showing an internal bound), NotFound for a username nobody who wrote to the bot has."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 19:
        user_id = int(text)
        if 0 < user_id <= admin.MAX_USER_ID:
            return await person(db, user_id)
        raise InputError(texts.not_a_person(_shown(text)))
    match = _USERNAME_RE.fullmatch(text)
    if match is None:
        raise InputError(texts.not_a_person(_shown(text)))
    async with db.read() as conn:
        row = await users.find_by_username(conn, match.group(1))
    if row is None:
        raise NotFound(texts.never_started(match.group(1)))
    return Person(row.user_id, row.username, row.first_name, row.language_code)


def _shown(raw: str) -> str:
    return raw if len(raw) <= 24 else raw[:23] + "…"


# --- before -> after --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanState:
    sessions: int  # the plan's sessions
    expires_at: float
    active: bool


@dataclass(frozen=True)
class PlanChange:
    """What a grant or a revoke would do, computed at ``now``."""

    person: Person
    kind: Kind
    before: PlanState | None  # None: not a customer yet
    after: PlanState
    days: int  # days added (a grant adds them to what is left)
    held: int  # healthy sessions the customer holds now (assigned + cooling)
    returned: int  # of those, how many would go back to the pool
    wanted: int  # sessions the new plan needs from the pool on top of what they hold
    free: int  # free sessions in the pool now
    running: bool  # their campaign runs now
    now: float

    @property
    def needs_confirmation(self) -> bool:
        """A running plan would change: the admin sees before -> after first."""
        return self.before is not None and self.before.active

    @property
    def fewer_sessions(self) -> bool:
        return self.before is not None and self.before.active and self.after.sessions < self.before.sessions

    @property
    def pool_short(self) -> int:
        """How many of the sessions the new plan wants the pool cannot give now."""
        return max(0, self.wanted - self.free)


@dataclass(frozen=True)
class Proposal:
    token: str  # for the Confirm / Cancel buttons
    change: PlanChange


async def _change(
    conn: Connection, who: Person, kind: Kind, sessions: int, days: int, now: float
) -> tuple[PlanChange, customers.Customer | None]:
    customer = await customers.get(conn, who.user_id)
    owned = await session_rows.list_for_owner(conn, who.user_id) if customer is not None else []
    free = await session_rows.count_free(conn)
    before = (
        None
        if customer is None
        else PlanState(customer.plan_sessions, customer.plan_expires_at, customer.plan_active(now))
    )
    held = len(owned)
    if kind == "revoke":
        expires = now if before is None else min(before.expires_at, now)
        after = PlanState(0, expires, False)
        returned, wanted = held, 0
    else:
        base = now if before is None else max(now, before.expires_at)
        after = PlanState(sessions, base + days * DAY, True)
        returned, wanted = max(0, held - sessions), max(0, sessions - held)
    running = customer is not None and customer.status == "running"
    change = PlanChange(who, kind, before, after, days, held, returned, wanted, free, running, now)
    return change, customer


async def _propose(
    db: Database, admin_id: int, who: Person, kind: Kind, sessions: int, days: int, now: float
) -> Proposal:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with db.tx() as conn:
        change, customer = await _change(conn, who, kind, sessions, days, now)
        if kind == "revoke" and customer is None:
            raise NotFound(texts.not_a_customer(who.user_id))
        await plan_proposals.drop_older_than(conn, now - PROPOSAL_TTL)
        await plan_proposals.put(
            conn,
            StoredProposal(
                token=token,
                admin_id=admin_id,
                user_id=who.user_id,
                kind=kind,
                sessions=sessions,
                days=days,
                before_sessions=customer.plan_sessions if customer is not None else None,
                before_expires_at=customer.plan_expires_at if customer is not None else None,
                created_at=now,
            ),
        )
    return Proposal(token, change)


def _check_plan(user_id: int, sessions: int, days: int) -> None:
    """The numbers of a plan button or a caller (a button can be forged): as /grant would take them."""
    if not 0 < user_id <= admin.MAX_USER_ID:
        raise InputError(texts.not_a_person(str(user_id)))
    admin.parse_sessions(str(sessions))
    admin.parse_days(str(days))


async def propose_plan(
    db: Database, admin_id: int, user_id: int, sessions: int, days: int, *, now: float
) -> Proposal:
    """Give ``user_id`` a plan of ``sessions`` sessions with ``days`` more days (added to what is left):
    the change before -> after and the token its Confirm button carries (``confirm``). Nothing changes
    yet. InputError for numbers out of range. The plan buttons (``keyboards.plan_presets``, also on part
    D's access-request card) come here through ``routers.admin_plans.on_preset``, which shows
    ``texts.plan_change(proposal.change)`` with ``keyboards.plan_confirm(proposal.token)``."""
    _check_plan(user_id, sessions, days)
    return await _propose(db, admin_id, await person(db, user_id), "grant", sessions, days, now)


async def propose_revoke(db: Database, admin_id: int, user_id: int, *, now: float) -> Proposal:
    """End ``user_id``'s plan now: before -> after (their sessions back to the pool). NotFound when they
    are not a customer."""
    if not 0 < user_id <= admin.MAX_USER_ID:
        raise InputError(texts.not_a_person(str(user_id)))
    return await _propose(db, admin_id, await person(db, user_id), "revoke", 0, 0, now)


# --- confirm ---------------------------------------------------------------------------------------


class PlanEngine(Protocol):
    """What applying a change needs from ``engine.engine.Engine`` (None: no engine in this process)."""

    async def stop_campaign(self, customer_id: int, reason: str, *, wait: bool = False) -> object: ...

    def session_released(self, customer_id: int, *session_ids: int) -> AbstractAsyncContextManager[bool]: ...


@dataclass(frozen=True)
class Applied:
    change: PlanChange  # as it stood when it was confirmed
    grant: admin.GrantResult | None = None
    revoke: admin.RevokeResult | None = None
    returned: int = 0  # sessions that went back to the pool (a smaller plan, a revoke)

    @property
    def created(self) -> bool:
        """A new customer (not a change of a plan)."""
        return self.grant is not None and self.grant.created


def _same_plan(stored: StoredProposal, customer: customers.Customer | None) -> bool:
    if customer is None:
        return stored.before_sessions is None
    return stored.before_sessions == customer.plan_sessions and stored.before_expires_at == customer.plan_expires_at


async def _valid(db: Database, admin_id: int, token: str, now: float) -> StoredProposal:
    async with db.read() as conn:
        stored = await plan_proposals.find(conn, token, admin_id, since=now - PROPOSAL_TTL)
        if stored is None:
            raise NotFound(texts.PROPOSAL_GONE())
        if not _same_plan(stored, await customers.get(conn, stored.user_id)):
            raise InputError(texts.plan_changed_meanwhile(stored.user_id))
    return stored


def _least_needed(session_ids: Sequence[int], writers: Sequence[tuple[int, ...]], n: int) -> list[int]:
    """The ``n`` sessions whose loss costs the fewest groups: one by one, the session that is the only
    writer of the fewest groups (then writes to the fewest, then the newest)."""
    keep = list(session_ids)
    out: list[int] = []
    for _ in range(min(n, len(keep))):
        left = [tuple(w for w in ws if w in keep) for ws in writers]
        alone = Counter(ws[0] for ws in left if len(ws) == 1)
        anyway = Counter(w for ws in left for w in ws)
        pick = min(keep, key=lambda s: (alone[s], anyway[s], -s))
        keep.remove(pick)
        out.append(pick)
    return out


async def surplus(db: Database, user_id: int, sessions: int) -> list[int]:
    """The customer's sessions a plan of ``sessions`` gives back to the pool: the least needed ones (the
    bot's confirmation and the integration API choose the same)."""
    async with db.read() as conn:
        view = await customer_reach(conn, user_id)
    extra = len(view.session_ids) - sessions
    if extra <= 0:
        return []
    return _least_needed(view.session_ids, [r.writers for r in view.reach.values()], extra)


async def _apply_grant(
    db: Database, admin_id: int, token: str, who: Person, now: float, default_interval: int
) -> tuple[PlanChange, admin.GrantResult]:
    """Use the token up and grant, in one transaction (the customer's PLAN_GRANTED event with it)."""
    async with db.tx() as conn:
        used = await plan_proposals.take(conn, token, admin_id, since=now - PROPOSAL_TTL)
        if used is None:  # another tap took it meanwhile
            raise NotFound(texts.PROPOSAL_GONE())
        if not _same_plan(used, await customers.get(conn, used.user_id)):
            raise InputError(texts.plan_changed_meanwhile(used.user_id))
        change, _ = await _change(conn, who, "grant", used.sessions, used.days, now)
        result = await admin.grant_in(conn, used.user_id, used.sessions, used.days, now, default_interval)
        # Their access request (part D), if one is open, is answered by this grant, whoever made it.
        await users.close_request(conn, used.user_id, admin_id, "granted", now)
    return change, result


async def confirm(
    db: Database,
    admin_id: int,
    token: str,
    *,
    now: float,
    default_interval: int,
    sessions_dir: Path,
    engine: PlanEngine | None,
) -> Applied:
    """Apply the admin's proposal ``token`` (refused, nothing changed: forged, used, cancelled, older than
    ``PROPOSAL_TTL``, or the plan changed since it was shown). A grant of fewer sessions than the customer
    holds gives the least needed ones back to the pool once the engine has let go of them: while a cycle
    of their campaign runs nothing changes (InputError: confirm again once it ends). A revoke stops the
    campaign and returns every session (``admin.revoke_plan``)."""
    stored = await _valid(db, admin_id, token, now)
    who = await person(db, stored.user_id)
    if stored.kind == "revoke":
        async with db.tx() as conn:
            used = await plan_proposals.take(conn, token, admin_id, since=now - PROPOSAL_TTL)
            if used is None:
                raise NotFound(texts.PROPOSAL_GONE())
            if not _same_plan(used, await customers.get(conn, used.user_id)):
                raise InputError(texts.plan_changed_meanwhile(used.user_id))
            change, _ = await _change(conn, who, "revoke", 0, 0, now)
        revoked = await admin.revoke_plan(db, sessions_dir, stored.user_id, now=now, engine=engine)
        logger.info("admin %d revoked the plan of %d", admin_id, stored.user_id)
        return Applied(change, revoke=revoked, returned=revoked.sessions_returned)

    extra = await surplus(db, stored.user_id, stored.sessions)
    if not extra or engine is None:  # no engine in this process: nothing holds the sessions open
        change, granted = await _apply_grant(db, admin_id, token, who, now, default_interval)
        returned = await assign.give_back(db, sessions_dir, stored.user_id, extra, now) if extra else 0
        return Applied(change, grant=granted, returned=returned)
    async with engine.session_released(stored.user_id, *extra) as released:
        if not released:
            raise InputError(texts.CYCLE_RUNNING())
        change, granted = await _apply_grant(db, admin_id, token, who, now, default_interval)
        returned = await assign.give_back(db, sessions_dir, stored.user_id, extra, now)
    logger.info("admin %d lowered the plan of %d to %d session(s): %d back to the pool",
                admin_id, stored.user_id, stored.sessions, returned)
    return Applied(change, grant=granted, returned=returned)


async def cancel(db: Database, admin_id: int, token: str) -> bool:
    """Forget the admin's proposal; False when it was gone already (used, cancelled, someone else's)."""
    async with db.tx() as conn:
        return await plan_proposals.drop(conn, token, admin_id)
