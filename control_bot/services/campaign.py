"""The customer's campaign: every rule of the customer side, as plain async functions.

Handlers parse the update, call one of these and render the result; nothing here knows about aiogram.
Bad input raises a ``core.errors`` class (with a ``user_message``) before anything is written, so a
refused request never changes the database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from control_bot.logfiles import newest_customer_log, tail_customer_log
from core.customer_log import LogKey
from core.errors import (
    AccessDenied,
    AdbotError,
    CampaignNotReady,
    IntervalError,
    NotEnoughSessions,
)
from core.states import EventKind
from core.texts import customer as t
from core.texts import onboarding as onboarding_texts
from engine.customer_log import customer_log
from engine.readiness import CampaignStart, Missing
from storage import customers, events, groups, ledger, post_media
from storage import sessions as session_rows
from storage.customers import Customer
from storage.db import Database

logger = logging.getLogger(__name__)
customer_line = customer_log(logger)

LOG_LINES = 100



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
        raise AccessDenied(onboarding_texts.not_a_customer(user_id))
    if not customer.plan_active(now):
        raise AccessDenied(onboarding_texts.plan_ended(user_id, min(customer.plan_expires_at, now)))
    return customer


# --- interval --------------------------------------------------------------------------------------


def parse_interval_minutes(text: str, bounds: IntervalBounds) -> int:
    """Minutes as the customer typed them ('15', '7.5', '15 min') to seconds within the bounds."""
    raw = text.strip()
    if not raw:
        raise IntervalError(t.INTERVAL_MISSING())
    match = re.fullmatch(r"(\d{1,7}(?:[.,]\d{1,3})?)\s*(?:m|min|mins|minutes?)?", raw, re.IGNORECASE)
    if match is None:
        raise IntervalError(t.interval_not_number(raw, bounds.min_s, bounds.max_s))
    number = match.group(1).replace(",", ".")
    seconds = round(float(number) * 60)
    if not bounds.min_s <= seconds <= bounds.max_s:
        raise IntervalError(t.interval_out_of_bounds(seconds, bounds.min_s, bounds.max_s))
    return seconds


def check_interval_seconds(seconds: int, bounds: IntervalBounds) -> int:
    if not bounds.min_s <= seconds <= bounds.max_s:
        raise IntervalError(t.interval_out_of_bounds(seconds, bounds.min_s, bounds.max_s))
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


async def start_campaign(
    db: Database, engine: CampaignEngine, user_id: int, now: float, *, admins_told: bool = True
) -> StartResult:
    """Start the campaign through the engine (which checks it is ready and gives it its plan's sessions
    from the pool); what keeps it from starting becomes the customer's text. ``admins_told``: whether an
    admin is configured to hear of a short pool (the pool writes their event either way)."""
    customer = await require_customer(db, user_id, now)
    start = await engine.start_campaign(user_id)
    if start.missing:
        raise _not_ready(customer, start, now, admins_told) from start.pool_error
    return StartResult(
        start.started, start.sessions, start.groups_active, start.interval_s, engine.next_run_at(user_id),
        start.sessions_short,
    )


# Texts, worded when shown (in the reader's language): not at import.
_MISSING_TEXTS = {
    Missing.POST: t.RUN_NEEDS_POST,
    Missing.GROUPS: t.RUN_NEEDS_GROUPS,
    Missing.ACTIVE_GROUPS: t.RUN_ALL_PAUSED,
}


def _not_ready(customer: Customer, start: CampaignStart, now: float, admins_told: bool) -> AdbotError:
    if Missing.PLAN in start.missing:  # it ended since ``require_customer`` looked
        return AccessDenied(onboarding_texts.plan_ended(customer.user_id, min(customer.plan_expires_at, now)))
    if Missing.SESSIONS in start.missing:
        short = start.pool_error
        if isinstance(short, NotEnoughSessions):
            return CampaignNotReady(t.run_no_sessions(short.wanted, short.free, admins_told=admins_told))
        return CampaignNotReady(t.RUN_NO_PAIR() if admins_told else t.RUN_NO_PAIR_UNTOLD())
    return CampaignNotReady(t.run_not_ready([_MISSING_TEXTS[m]() for m in start.missing]))


async def stop_campaign(
    db: Database, engine: CampaignEngine, user_id: int, now: float, reason: str = t.STOP_REASON_CUSTOMER
) -> bool:
    """Stop the campaign (``reason``: who stopped it, a stop-reason key); False when it was not running."""
    customer = await require_customer(db, user_id, now)
    if customer.status != "running":
        return False
    await engine.stop_campaign(user_id, reason)
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
    post_media: tuple[str, ...] = ()  # the kinds of the post's own media, in order (none for a link or a text)


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
        media = tuple(row.kind for row in await post_media.items(conn, user_id)) if customer.post_media else ()
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
        post_media=media,
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
