"""The admins' reach screen of one customer: each group their sessions cannot post in, the pool sessions
that are members there, and the swap that gives the customer one of them.

A group's reach is ``control_bot.services.reach`` (the one definition). A *free member* of a group is an
unused pool session whose own dialogs hold the chat with may-write. A swap gives one of the customer's
sessions back to the pool and takes a free one in its place (``pool.assign.swap``), once the engine
has stopped using the given-back session (``Engine.session_released``): its file moves.
"""

from __future__ import annotations

import logging
from collections import Counter
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from control_bot.services.ids import is_id
from control_bot.services.reach import ChatIndex, GroupReach, Reach, customer_reach
from core.customer_log import LogKey
from core.errors import InputError, NotFound
from core.texts import errors as error_texts
from core.texts import reach as texts
from engine.customer_log import customer_log
from pool import assign
from storage import customers, groups, memberships
from storage import sessions as session_rows
from storage.db import Database

logger = logging.getLogger(__name__)
customer_line = customer_log(logger)  # the customer's own log: a key and values, worded when read

MAX_OFFERS = 20  # swap buttons on one screen
MAX_JOIN_OFFERS = 10  # join buttons on one screen


@dataclass(frozen=True)
class Member:
    """One session in a group's chat."""

    session_id: int
    state: str
    can_write: bool
    why_not: str | None


@dataclass(frozen=True)
class UnreachableGroup:
    group_id: int
    ref: str
    reach: GroupReach
    paused: bool
    own: list[Member]  # the customer's sessions in the chat (they may not write, or it would be reachable)
    free: list[int]  # unused sessions that may write there
    others: int  # other sessions in the chat: other customers', quarantined, dead, or free but may not write


@dataclass(frozen=True)
class SwapOffer:
    take: int  # a free member session
    give: int  # the customer's session that goes back to the pool
    groups: int  # how many of the unreachable groups ``take`` may write in


@dataclass(frozen=True)
class ReachReport:
    customer_id: int
    plan_active: bool
    session_ids: list[int]
    unchecked: list[int]
    groups: int
    reachable: int
    unreachable: list[UnreachableGroup]
    give_back: int | None  # the session a swap gives back (None: the customer holds none)
    offers: list[SwapOffer]


def _give_back(session_ids: list[int], reaches: list[GroupReach]) -> int | None:
    """The customer's session that costs least to lose: the one that alone reaches the fewest groups,
    then the one that reaches the fewest at all."""
    if not session_ids:
        return None
    alone = Counter(r.writers[0] for r in reaches if len(r.writers) == 1)
    anyway = Counter(w for r in reaches for w in r.writers)
    return min(session_ids, key=lambda s: (alone[s], anyway[s], s))


async def reach_report(db: Database, customer_id: int, now: float) -> ReachReport:
    if not is_id(customer_id):  # a forged button: SQLite could not even bind it
        raise NotFound(error_texts.no_customer(customer_id))
    async with db.read() as conn:
        customer = await customers.get(conn, customer_id)
        if customer is None:
            raise NotFound(error_texts.no_customer(customer_id))
        view = await customer_reach(conn, customer_id)
        lacking = [g for g in view.groups if not view.reach[g.ref].reachable]
        members = await memberships.members_of_chats(conn, [g.ref for g in lacking])
    holders = {m.membership.session_id: m for m in members}
    index = ChatIndex(m.membership for m in members)
    own = set(view.session_ids)
    unreachable: list[UnreachableGroup] = []
    for group in lacking:
        mine: list[Member] = []
        free: list[int] = []
        others = 0
        for row in index.rows_for(group.ref):
            holder = holders[row.session_id]
            if row.session_id in own:
                mine.append(Member(row.session_id, holder.state, row.can_write, row.why_not))
            elif holder.state == "unused" and row.can_write:
                free.append(row.session_id)
            else:
                others += 1
        unreachable.append(
            UnreachableGroup(group.id, group.ref, view.reach[group.ref], not group.active, mine, free, others)
        )
    give = _give_back(view.session_ids, [view.reach[g.ref] for g in view.groups if g.active])
    gains = Counter(s for g in unreachable for s in g.free)
    offers = [] if give is None else [
        SwapOffer(take, give, n) for take, n in sorted(gains.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_OFFERS]
    ]
    return ReachReport(
        customer_id=customer_id,
        plan_active=customer.plan_active(now),
        session_ids=view.session_ids,
        unchecked=view.unchecked,
        groups=len(view.groups),
        reachable=len(view.groups) - len(lacking),
        unreachable=unreachable,
        give_back=give,
        offers=offers,
    )


def join_offers(report: ReachReport) -> list[tuple[int, str]]:
    """(group id, ref) of the unreachable groups the customer's sessions could join themselves: public
    ones (a username) that none of their sessions is in. Joining is never automatic: the admin presses."""
    if not report.session_ids:
        return []
    offers = [
        (g.group_id, g.ref.partition("#")[0])
        for g in report.unreachable
        if g.reach.reach == Reach.NOT_MEMBER and g.ref.startswith("@") and not g.paused
    ]
    return offers[:MAX_JOIN_OFFERS]


async def group_to_join(db: Database, customer_id: int, group_id: int) -> str:
    """The public chat of the customer's group ``group_id`` (a pressed join button, checked again)."""
    if not (is_id(customer_id) and is_id(group_id)):
        raise NotFound(error_texts.no_customer(customer_id))
    async with db.read() as conn:
        ref = await groups.ref_of(conn, customer_id, group_id)
    if ref is None or not ref.startswith("@"):
        raise NotFound(texts.GROUP_GONE())
    return ref.partition("#")[0]


@dataclass(frozen=True)
class PickerLine:
    user_id: int
    running: bool


async def customers_with_plans(db: Database, now: float) -> list[PickerLine]:
    """Customers whose plan is active, by user id: whose reach the admin may want to see."""
    async with db.read() as conn:
        everyone = await customers.list_all(conn)
    return [PickerLine(c.user_id, c.status == "running") for c in everyone if c.plan_active(now)]


class SessionReleaser(Protocol):
    """What a swap needs from ``engine.engine.Engine``."""

    def session_released(self, customer_id: int, session_id: int) -> AbstractAsyncContextManager[bool]: ...


async def swap_session(
    db: Database, engine: SessionReleaser, sessions_dir: Path, customer_id: int, give: int, take: int, now: float
) -> None:
    """Give the customer's session ``give`` back to the pool and the free session ``take`` to them.

    The ids come from a button (forgeable, maybe stale): anything but the customer's own session to give
    and an unused one to take is refused before the engine is touched, and checked again in the
    swap's transaction. InputError while a cycle of the campaign runs."""
    if not (is_id(customer_id) and is_id(give)):
        raise NotFound(texts.not_their_session(give, customer_id))
    if not is_id(take):
        raise NotFound(texts.session_not_free(take))
    async with db.read() as conn:
        given = await session_rows.get(conn, give)
        taken = await session_rows.get(conn, take)
    if given is None or not given.owned or given.owner_id != customer_id:
        # Never release a session that is not theirs: it may be in another campaign's cycle.
        raise NotFound(texts.not_their_session(give, customer_id))
    if taken is None or taken.state != "unused":
        raise NotFound(texts.session_not_free(take))
    async with engine.session_released(customer_id, give) as released:
        if not released:
            raise InputError(texts.SWAP_BUSY())
        await assign.swap(db, sessions_dir, customer_id, give, take, now)
    customer_line(customer_id, logging.INFO, LogKey.SESSION_SWAPPED, session=take, returned=give)
