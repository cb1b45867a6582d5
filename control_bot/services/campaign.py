"""The customer's campaign: every rule of the customer side, as plain async functions.

Handlers parse the update, call one of these and render the result; nothing here knows about aiogram.
Bad input raises a ``core.errors`` class (with a ``user_message``) before anything is written, so a
refused request never changes the database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from control_bot.logfiles import newest_customer_log, tail_customer_log
from control_bot.services.reach import CustomerReach, customer_reach
from core.customer_log import LogKey
from core.destinations import Verdict, judge, refusal
from core.errors import (
    AccessDenied,
    AdbotError,
    CampaignNotReady,
    InputError,
    IntervalError,
    LinkError,
    NotEnoughSessions,
    NotFound,
)
from core.links import GroupRef, parse_group_items, parse_group_ref, parse_post_link
from core.ports import NOT_IN_CHAT
from core.states import EventKind
from core.texts import customer as t
from core.texts.split import TELEGRAM_LIMIT, utf16_len
from engine.customer_log import customer_log
from engine.readiness import CampaignStart, Missing
from storage import customers, events, groups, ledger, memberships
from storage import sessions as session_rows
from storage.customers import Customer
from storage.db import Connection, Database
from storage.groups import Group

logger = logging.getLogger(__name__)
customer_line = customer_log(logger)

MAX_GROUPS_PER_CUSTOMER = 200
MAX_GROUPS_FILE_BYTES = 256 * 1024
LOG_LINES = 100
MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer

EntityDict = dict[str, Any]


class CampaignEngine(Protocol):
    """What the customer side needs from ``engine.engine.Engine``."""

    async def start_campaign(self, customer_id: int) -> CampaignStart: ...

    async def stop_campaign(self, customer_id: int, reason: str) -> object: ...

    async def reschedule(self, customer_id: int) -> object: ...

    def next_run_at(self, customer_id: int) -> float | None: ...

    def refresh_memberships_soon(self, customer_id: int) -> None: ...


@dataclass(frozen=True)
class IntervalBounds:
    min_s: int
    max_s: int


# --- access ----------------------------------------------------------------------------------------


async def get_customer(db: Database, user_id: int) -> Customer | None:
    async with db.read() as conn:
        return await customers.get(conn, user_id)


async def require_customer(db: Database, user_id: int, now: float) -> Customer:
    """The caller's customer record with an active plan, else AccessDenied naming their user id."""
    customer = await get_customer(db, user_id)
    if customer is None:
        raise AccessDenied(t.not_a_customer(user_id))
    if not customer.plan_active(now):
        raise AccessDenied(t.plan_ended(user_id, min(customer.plan_expires_at, now)))
    return customer


# --- the post --------------------------------------------------------------------------------------


def shift_entities(entities: Sequence[Mapping[str, Any]], cut: int, new_length: int) -> list[EntityDict]:
    """Entities re-based after ``cut`` UTF-16 units were removed from the front of the text and the
    text was cut to ``new_length`` units: clipped to what is left, dropped when nothing is."""
    out: list[EntityDict] = []
    for entity in entities:
        start = int(entity["offset"]) - cut
        end = int(entity["offset"]) + int(entity["length"]) - cut
        start, end = max(start, 0), min(end, new_length)
        if end <= start:
            continue
        moved = dict(entity)
        moved["offset"], moved["length"] = start, end - start
        out.append(moved)
    return out


def trim_post(text: str, entities: Sequence[Mapping[str, Any]]) -> tuple[str, list[EntityDict]]:
    """The text without surrounding whitespace, its entities moved to match."""
    stripped_front = text.lstrip()
    cut = utf16_len(text) - utf16_len(stripped_front)
    body = stripped_front.rstrip()
    return body, shift_entities(entities, cut, utf16_len(body))


def command_argument(text: str, entities: Sequence[Mapping[str, Any]]) -> tuple[str, list[EntityDict]]:
    """What follows ``/command[@bot]`` in a message, with the formatting entities re-based on it."""
    match = re.match(r"/\S*", text)
    cut_chars = match.end() if match else 0
    rest = text[cut_chars:]
    moved = shift_entities(entities, utf16_len(text[:cut_chars]), utf16_len(rest))
    return trim_post(rest, moved)


_LINK_START_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)(?:/|$)|[@+])", re.I)


def looks_like_link(text: str) -> bool:
    """One token that a person would mean as a link (so a parse error is reported, not sent as text)."""
    return bool(text) and not any(ch.isspace() for ch in text) and bool(_LINK_START_RE.match(text))


SourceAccess = Literal["member", "not_member", "unchecked"]
"""Whether a session of the customer's can read a private channel's post: "unchecked" while some of
their sessions' dialogs have never been read (or they have none yet)."""


@dataclass(frozen=True)
class PostSaved:
    customer: Customer
    source: SourceAccess | None = None  # None: a text, or a public channel's post (no membership needed)


# A row that says the session is out of the chat: it cannot read a private channel's posts either.


async def _private_source_access(conn: Connection, user_id: int, peer: str) -> SourceAccess | None:
    """For a private channel's post (``peer`` a marked id): whether one of the customer's sessions is in
    that channel, as their stored dialogs say. A public channel's post is readable by anyone: None."""
    if peer.startswith("@"):
        return None
    owned = {s.id for s in await session_rows.list_for_owner(conn, user_id)}
    rows = await memberships.members_of(conn, peer)
    if any(m.session_id in owned and m.why_not not in NOT_IN_CHAT for m in rows):
        return "member"
    for session_id in sorted(owned):
        if await memberships.checked_at(conn, session_id) is None:
            return "unchecked"
    return "not_member" if owned else "unchecked"


async def set_post(
    db: Database, user_id: int, text: str, entities: Sequence[Mapping[str, Any]], now: float
) -> PostSaved:
    """Set the post from what the customer sent: a post link to forward, or a text with formatting.

    A private channel's post is saved whoever can read it; ``PostSaved.source`` says whether one of the
    customer's sessions can, so they learn it now rather than from a failing campaign."""
    await require_customer(db, user_id, now)
    body, moved = trim_post(text, entities)
    if not body:
        raise InputError(t.POST_EMPTY)
    source: SourceAccess | None = None
    if looks_like_link(body):
        ref = parse_post_link(body)
        async with db.tx() as conn:
            await customers.set_post_link(conn, user_id, ref.link, ref.peer, ref.msg_id, False, now)
            customer = await customers.get(conn, user_id)
            source = await _private_source_access(conn, user_id, ref.peer)
        logger.info("post set to %s", ref.link, extra={"customer_id": user_id})
        if source == "not_member":
            logger.warning("no session of the customer is in the post's private channel %s", ref.peer,
                           extra={"customer_id": user_id})
    else:
        units = utf16_len(body)
        if units > TELEGRAM_LIMIT:
            raise InputError(t.post_too_long(units, TELEGRAM_LIMIT))
        async with db.tx() as conn:
            await customers.set_post_text(conn, user_id, body, moved, now)
            customer = await customers.get(conn, user_id)
        logger.info("post set to a text of %d characters", units, extra={"customer_id": user_id})
    assert customer is not None
    return PostSaved(customer, source)


# --- groups ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddGroupsResult:
    added: list[str]
    existing: list[str]
    bad: list[tuple[str, str]]
    over_limit: list[str]
    limit: int
    total: int
    refused: list[tuple[str, str]] = field(default_factory=list)  # (item, why it is not a group to post to)
    unchecked_topics: dict[str, int] = field(default_factory=dict)  # added ref -> topic, chat not known yet


async def _add_refs(
    db: Database,
    user_id: int,
    items: Sequence[tuple[str, GroupRef]],
    bad: list[tuple[str, str]],
    now: float,
    limit: int,
) -> AddGroupsResult:
    """Add the references that can be groups; ``items``: (the item quoted as typed, its reference).

    What sessions' dialogs say about each chat (any session's: a chat's kind is the same for all) decides
    whether the reference can be posted to (``core.destinations``); a chat none of them holds is added
    as it is, its topic to be checked."""
    async with db.tx() as conn:
        kinds = await memberships.chat_kinds(conn, [group.peer for _, group in items])
        refs: list[str] = []
        refused: list[tuple[str, str]] = []
        unchecked: dict[str, int] = {}
        for shown, group in items:
            verdict = judge(group, kinds.get(group.peer))
            reason = refusal(verdict, shown, group)
            if reason is not None:
                refused.append((shown, reason))
                continue
            refs.append(group.ref)
            if verdict is Verdict.UNCHECKED_TOPIC and group.topic_id is not None:
                unchecked[group.ref] = group.topic_id
        have = {g.ref for g in await groups.list_for(conn, user_id)}
        new = [r for r in refs if r not in have]
        room = max(0, limit - len(have))
        added, existing = await groups.add_many(conn, user_id, new[:room], now)
        total = len(have) + len(added)
    if added:
        logger.info("added %d group(s): %s", len(added), ", ".join(added[:20]), extra={"customer_id": user_id})
    if refused:
        logger.info("refused %d group(s) that cannot be posted to", len(refused), extra={"customer_id": user_id})
    return AddGroupsResult(
        added=added,
        existing=[r for r in refs if r in have] + existing,
        bad=bad,
        over_limit=new[room:],
        limit=limit,
        total=total,
        refused=refused,
        unchecked_topics={ref: topic for ref, topic in unchecked.items() if ref in added},
    )


async def add_groups(
    db: Database, user_id: int, text: str, now: float, *, limit: int = MAX_GROUPS_PER_CUSTOMER
) -> AddGroupsResult:
    """Add every readable reference in ``text``; the unreadable ones are named in the result."""
    await require_customer(db, user_id, now)
    good, bad = parse_group_items(text)
    return await _add_refs(db, user_id, good, bad, now, limit)


def decode_groups_file(data: bytes) -> str:
    if len(data) > MAX_GROUPS_FILE_BYTES:
        raise InputError(t.groups_file_too_big(MAX_GROUPS_FILE_BYTES // 1024))
    return data.decode("utf-8-sig", errors="replace")


async def add_default_groups(
    db: Database, user_id: int, now: float, *, limit: int = MAX_GROUPS_PER_CUSTOMER
) -> AddGroupsResult:
    """Copy the admin's default groups into the customer's list."""
    await require_customer(db, user_id, now)
    async with db.read() as conn:
        defaults = await groups.list_defaults(conn)
    if not defaults:
        raise NotFound(t.NO_DEFAULT_GROUPS)
    items: list[tuple[str, GroupRef]] = []
    bad: list[tuple[str, str]] = []
    for ref in defaults:  # stored normalised by the admin's parse: read back the same
        try:
            items.append((ref, parse_group_ref(ref)))
        except LinkError as exc:
            bad.append((ref, exc.user_message))
    return await _add_refs(db, user_id, items, bad, now, limit)


async def has_default_groups(db: Database) -> bool:
    async with db.read() as conn:
        return await groups.has_defaults(conn)


async def list_groups(db: Database, user_id: int, now: float) -> CustomerReach:
    """The customer's groups, each with whether their sessions can post there (``services.reach``)."""
    await require_customer(db, user_id, now)
    async with db.read() as conn:
        return await customer_reach(conn, user_id)


async def remove_group(db: Database, user_id: int, text: str, now: float) -> tuple[str, int]:
    """Remove one group named as the customer wrote it; returns (its ref, groups left)."""
    await require_customer(db, user_id, now)
    ref = parse_group_ref(text).ref
    async with db.tx() as conn:
        if not await groups.remove(conn, user_id, ref):
            raise NotFound(t.group_not_yours(ref))
        left = await groups.count_for(conn, user_id)
    logger.info("removed group %s", ref, extra={"customer_id": user_id})
    return ref, left


async def resume_group(db: Database, user_id: int, group_id: int, now: float) -> Group:
    """Resume a paused group by id; an id that is not the caller's own group is NotFound."""
    await require_customer(db, user_id, now)
    if not 0 < group_id <= MAX_ROW_ID:  # a forged button: SQLite cannot even bind a bigger integer
        raise NotFound(t.GROUP_NOT_FOUND)
    async with db.tx() as conn:
        ref = await groups.ref_of(conn, user_id, group_id)
        if ref is None:
            raise NotFound(t.GROUP_NOT_FOUND)
        if not await groups.resume(conn, user_id, ref):
            raise InputError(t.group_not_paused(ref))
        group = await groups.get(conn, user_id, ref)
    assert group is not None
    logger.info("group %s resumed", ref, extra={"customer_id": user_id})
    return group


# --- interval --------------------------------------------------------------------------------------


def parse_interval_minutes(text: str, bounds: IntervalBounds) -> int:
    """Minutes as the customer typed them ('15', '7.5', '15 min') to seconds within the bounds."""
    raw = text.strip()
    if not raw:
        raise IntervalError(t.INTERVAL_MISSING)
    match = re.fullmatch(r"(\d{1,7}(?:[.,]\d{1,3})?)\s*(?:m|min|mins|minutes?)?", raw, re.IGNORECASE)
    if match is None:
        raise IntervalError(t.interval_not_number(raw, bounds.min_s, bounds.max_s))
    number = match.group(1).replace(",", ".")
    seconds = round(float(number) * 60)
    if not bounds.min_s <= seconds <= bounds.max_s:
        raise IntervalError(t.interval_out_of_bounds(number, bounds.min_s, bounds.max_s))
    return seconds


def check_interval_seconds(seconds: int, bounds: IntervalBounds) -> int:
    if not bounds.min_s <= seconds <= bounds.max_s:
        raise IntervalError(t.interval_out_of_bounds(t.fmt_minutes(seconds), bounds.min_s, bounds.max_s))
    return seconds


async def set_interval(
    db: Database, engine: CampaignEngine, user_id: int, seconds: int, bounds: IntervalBounds, now: float
) -> Customer:
    """Set the interval; a running campaign's next cycle moves to one new interval after the last."""
    await require_customer(db, user_id, now)
    check_interval_seconds(seconds, bounds)
    async with db.tx() as conn:
        await customers.set_interval(conn, user_id, seconds, now)
        customer = await customers.get(conn, user_id)
    assert customer is not None
    if customer.status == "running":
        await engine.reschedule(user_id)
    customer_line(user_id, logging.INFO, LogKey.INTERVAL_SET, seconds=seconds)
    return customer


# --- run / stop ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartResult:
    started: bool  # False: it was already running
    sessions: int
    groups_active: int
    interval_s: int
    next_run_at: float | None
    sessions_short: int = 0  # the plan wants this many more than the pool could give now


async def start_campaign(db: Database, engine: CampaignEngine, user_id: int, now: float) -> StartResult:
    """Start the campaign through the engine (which checks it is ready and gives it its plan's sessions
    from the pool); what keeps it from starting becomes the customer's text."""
    customer = await require_customer(db, user_id, now)
    start = await engine.start_campaign(user_id)
    if start.missing:
        raise _not_ready(customer, start, now) from start.pool_error
    return StartResult(
        start.started, start.sessions, start.groups_active, start.interval_s, engine.next_run_at(user_id),
        start.sessions_short,
    )


_MISSING_TEXTS = {
    Missing.POST: t.RUN_NEEDS_POST,
    Missing.GROUPS: t.RUN_NEEDS_GROUPS,
    Missing.ACTIVE_GROUPS: t.RUN_ALL_PAUSED,
}


def _not_ready(customer: Customer, start: CampaignStart, now: float) -> AdbotError:
    if Missing.PLAN in start.missing:  # it ended since ``require_customer`` looked
        return AccessDenied(t.plan_ended(customer.user_id, min(customer.plan_expires_at, now)))
    if Missing.SESSIONS in start.missing:
        short = start.pool_error
        if isinstance(short, NotEnoughSessions):
            return CampaignNotReady(t.run_no_sessions(short.wanted, short.free))
        return CampaignNotReady(t.RUN_NO_PAIR)
    return CampaignNotReady(t.run_not_ready([_MISSING_TEXTS[m] for m in start.missing]))


async def stop_campaign(db: Database, engine: CampaignEngine, user_id: int, now: float) -> bool:
    """Stop the campaign; False when it was not running."""
    customer = await require_customer(db, user_id, now)
    if customer.status != "running":
        return False
    await engine.stop_campaign(user_id, t.STOP_REASON_CUSTOMER)
    return True


# --- status, stats, logs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusView:
    customer: Customer
    sessions: dict[str, int]  # state -> count of the customer's own sessions
    groups_total: int
    groups_active: int
    groups_paused: int
    groups_slow: int
    next_run_at: float | None
    last_activity: float | None
    now: float
    last_cycle: LastCycle | None = None


@dataclass(frozen=True)
class LastCycle:
    """The last finished cycle, as its summary said it (/status)."""

    cycle_no: int
    finished_at: float
    sent: int
    total: int
    failed: int


async def campaign_status(db: Database, engine: CampaignEngine, user_id: int, now: float) -> StatusView:
    customer = await require_customer(db, user_id, now)
    async with db.read() as conn:
        owned = await session_rows.list_for_owner(conn, user_id)
        own_groups = await groups.list_for(conn, user_id)
        stats = await ledger.get_stats(conn, user_id)
        summary = await events.latest(conn, user_id, EventKind.CYCLE_SUMMARY)
    last_cycle = None
    if summary is not None:
        p = summary.payload
        last_cycle = LastCycle(int(p.get("cycle_no") or 0), summary.created_at, int(p.get("sent") or 0),
                               int(p.get("total") or 0), int(p.get("failed") or 0))
    states: dict[str, int] = {}
    for row in owned:
        states[row.state] = states.get(row.state, 0) + 1
    paused = sum(1 for g in own_groups if not g.active)
    slow = sum(1 for g in own_groups if g.active and g.slowmode_until is not None and g.slowmode_until > now)
    running = customer.status == "running"
    return StatusView(
        customer=customer,
        sessions=states,
        groups_total=len(own_groups),
        groups_active=len(own_groups) - paused,
        groups_paused=paused,
        groups_slow=slow,
        next_run_at=engine.next_run_at(user_id) if running else None,
        last_activity=stats.last_activity,
        now=now,
        last_cycle=last_cycle,
    )


@dataclass(frozen=True)
class StatsView:
    total_posts: int
    total_success: int
    total_failures: int
    total_flood_waits: int
    total_messages_sent: int
    active_sessions: int
    banned_sessions: int
    last_activity: float | None
    per_group: list[tuple[str, int, int]]  # (group ref, success, failures), busiest first
    in_doubt: int = 0  # sends of unknown outcome (no answer, or none naming a new message): counted apart


async def campaign_stats(db: Database, user_id: int, now: float) -> StatsView:
    await require_customer(db, user_id, now)
    async with db.read() as conn:
        stats = await ledger.get_stats(conn, user_id)
        per_group = await ledger.group_stats(conn, user_id)
        owned = await session_rows.list_for_owner(conn, user_id)
        in_doubt = await ledger.count_in_doubt(conn, user_id)
    return StatsView(
        total_posts=stats.total_posts,
        total_success=stats.total_success,
        total_failures=stats.total_failures,
        total_flood_waits=stats.total_flood_waits,
        total_messages_sent=stats.total_messages_sent,
        active_sessions=sum(1 for s in owned if s.state == "assigned"),
        banned_sessions=stats.banned_sessions,
        last_activity=stats.last_activity,
        per_group=[(ref, success, failures) for ref, (success, failures) in per_group.items()],
        in_doubt=in_doubt,
    )


async def recent_log_lines(db: Database, logs_dir: Path, user_id: int, now: float) -> list[str]:
    """The customer's last log lines (their own folder only: the path comes from their user id)."""
    await require_customer(db, user_id, now)
    return await asyncio.to_thread(tail_customer_log, logs_dir, user_id, LOG_LINES)


MAX_LOG_FILE_BYTES = 45 * 1024 * 1024  # under the Bot API's 50 MB upload limit


async def latest_log_file(db: Database, logs_dir: Path, user_id: int, now: float) -> tuple[str, bytes] | None:
    """(day, contents) of the customer's newest daily log file (its end, if huge), or None."""
    await require_customer(db, user_id, now)
    return await asyncio.to_thread(newest_customer_log, logs_dir, user_id, MAX_LOG_FILE_BYTES)
