"""What each API call does, through the services the bot's own commands and buttons use.

- the plan: ``services.admin.grant_in``, the grant ``/grant`` and ``adbot grant`` make (the customer's
  PLAN_GRANTED event in the same transaction, delivered by the outbox in their language), with the request's
  row (``storage.api_requests``) in that transaction too: a request id seen before is answered as the first
  time and changes nothing, also when the two arrive at once (``BEGIN IMMEDIATE`` serialises them, the
  primary key is the backstop). A smaller plan gives the least needed sessions back to the pool once the
  engine has let go of them, as the bot's confirmation does (``services.plans``); while a cycle of the
  campaign runs it is refused with ``cycle_running`` and nothing is recorded (retry later).
- start / stop: ``services.campaign.start_campaign`` / ``stop_campaign``, what the Run and Stop buttons
  call; a stop is also told to the customer in the chat (CAMPAIGN_STOPPED through the outbox).
- the customer: config, status, stats and the last 100 lines of their log (the seed's sync state).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from control_bot.api import errors as codes
from control_bot.api.errors import ApiFailure
from control_bot.cli.health import OVERDUE_GRACE, STATUS, verdict
from control_bot.logfiles import tail_customer_log
from control_bot.services import admin, campaign, plans
from control_bot.services.access import NOBODY
from core.clock import Clock
from core.config import Settings
from core.errors import AccessDenied, AdbotError, CampaignNotReady, InputError, NotFound, StorageBusy
from core.states import EventKind
from core.texts.outcomes import STOP_REASON_SERVICE
from engine.engine import Engine
from pool import assign
from storage import api_requests, customers, events, groups, ledger, users
from storage import sessions as session_rows
from storage.customers import Customer
from storage.db import Database
from storage.health_checks import overdue_campaigns

logger = logging.getLogger(__name__)

LOG_LINES = 100
ENGINE_STOPPED = "the engine is not running"
PLAN = "plan"  # api_requests.action of a plan grant


@dataclass(frozen=True)
class ApiContext:
    """What the API's calls use: the same long-lived objects the bot's handlers get."""

    settings: Settings
    db: Database
    engine: Engine
    clock: Clock
    wake: Callable[[], None]  # the outbox: an event was written


# --- reading --------------------------------------------------------------------------------------


async def health(ctx: ApiContext) -> dict[str, Any]:
    """The verdict ``adbot health`` gives (ok / degraded / down, with the problems in words), read from
    this process: it is ``adbot run``, so "running" is its engine running."""
    now = ctx.clock.now()
    report = await admin.health_report(ctx.db, ctx.engine, now, ctx.settings)
    async with ctx.db.read() as conn:
        overdue = await overdue_campaigns(conn, now - OVERDUE_GRACE)
    running = report.engine is not None and report.engine.running
    code, problems = verdict(running, report, overdue)
    if not running:  # the process answering holds the data dir: only its engine has stopped
        problems = [ENGINE_STOPPED]
    return {"status": STATUS[code], "problems": problems, "overdue_campaigns": overdue, **report.as_dict()}


def _plan(c: Customer, now: float) -> dict[str, Any]:
    return {"sessions": c.plan_sessions, "expires_at": c.plan_expires_at, "active": c.plan_active(now)}


def _post(c: Customer) -> dict[str, Any] | None:
    if not c.has_post:
        return None
    if c.post_kind == "link":
        return {"kind": "link", "link": c.post_link}
    return {"kind": "media" if c.post_media else "text", "text": c.post_text or "", "media": c.post_media}


async def customer(ctx: ApiContext, customer_id: int) -> dict[str, Any]:
    now = ctx.clock.now()
    async with ctx.db.read() as conn:
        found = await customers.get(conn, customer_id)
        if found is None:
            raise ApiFailure(404, codes.CUSTOMER_NOT_FOUND, f"no customer {customer_id}")
        own_groups = await groups.list_for(conn, customer_id)
        owned = await session_rows.list_for_owner(conn, customer_id)
        stats = await ledger.get_stats(conn, customer_id)
        per_group = await ledger.group_stats(conn, customer_id)
        in_doubt = await ledger.count_in_doubt(conn, customer_id)
    states: dict[str, int] = {}
    for row in owned:
        states[row.state] = states.get(row.state, 0) + 1
    running = found.status == "running"
    lines = await asyncio.to_thread(tail_customer_log, ctx.settings.paths.logs_dir, customer_id, LOG_LINES)
    return {
        "customer_id": customer_id,
        "config": {
            "plan": _plan(found, now),
            "interval_s": found.interval_s,
            "post": _post(found),
            "groups": [
                {"ref": g.ref, "title": g.title, "active": g.active, "paused_reason": g.paused_reason,
                 "reachable": g.reach is None}
                for g in own_groups
            ],
        },
        "status": {
            "campaign": found.status,
            "stop_reason": None if running else found.stop_reason,
            "next_run_at": ctx.engine.next_run_at(customer_id) if running else None,
            "cycle_no": found.cycle_no,
            "sessions": states,
            "groups_total": len(own_groups),
            "groups_active": sum(1 for g in own_groups if g.active),
        },
        "stats": {
            **{k: v for k, v in asdict(stats).items() if k != "customer_id"},
            "in_doubt": in_doubt,
            "per_group": [{"group": ref, "success": ok, "failures": bad} for ref, (ok, bad) in per_group.items()],
        },
        "log": lines,
    }


# --- the plan -------------------------------------------------------------------------------------


def _digest(customer_id: int, sessions: int, days: int) -> str:
    body = json.dumps({"customer_id": customer_id, "sessions": sessions, "days": days}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _replay(prior: api_requests.ApiRequest, digest: str) -> dict[str, Any]:
    if prior.action != PLAN or prior.body_sha256 != digest:
        raise ApiFailure(409, codes.REQUEST_ID_REUSED, "this request_id was used with other parameters")
    answer: dict[str, Any] = json.loads(prior.response)
    return {**answer, "replayed": True}


async def _grant_once(
    ctx: ApiContext, customer_id: int, sessions: int, days: int, request_id: str, digest: str
) -> tuple[dict[str, Any], bool]:
    """(the answer, whether this call granted): the grant and its request's row in one transaction."""
    now = ctx.clock.now()

    async with ctx.db.tx() as conn:
        prior = await api_requests.find(conn, request_id)
        if prior is not None:
            return _replay(prior, digest), False
        result = await admin.grant_in(conn, customer_id, sessions, days, now, ctx.settings.engine.cycle_interval)
        # An open access request of theirs is answered by this grant, as when an admin grants.
        await users.close_request(conn, customer_id, NOBODY, "granted", now)
        answer = {
            "customer_id": customer_id,
            "request_id": request_id,
            "created": result.created,
            "plan": _plan(result.customer, now),
            "days_added": days,
            "replayed": False,
        }
        await api_requests.record(
            conn, api_requests.ApiRequest(request_id, PLAN, customer_id, digest, json.dumps(answer), now)
        )
    return answer, True


async def grant_plan(ctx: ApiContext, customer_id: int, sessions: int, days: int, request_id: str) -> dict[str, Any]:
    try:
        admin.parse_user_id(str(customer_id))
        admin.parse_sessions(str(sessions))
        admin.parse_days(str(days))
    except InputError as exc:
        raise ApiFailure(400, codes.BAD_REQUEST, exc.user_message) from None
    digest = _digest(customer_id, sessions, days)
    async with ctx.db.read() as conn:
        prior = await api_requests.find(conn, request_id)
    if prior is not None:
        return _replay(prior, digest)
    surplus = await plans.surplus(ctx.db, customer_id, sessions)  # the bot's choice of sessions to give back
    if not surplus:
        answer, granted = await _grant_once(ctx, customer_id, sessions, days, request_id, digest)
    else:
        async with ctx.engine.session_released(customer_id, *surplus) as released:
            if not released:
                raise ApiFailure(409, codes.CYCLE_RUNNING, "a cycle of the campaign is running: retry once it ends")
            answer, granted = await _grant_once(ctx, customer_id, sessions, days, request_id, digest)
            if granted:
                returned = await assign.give_back(
                    ctx.db, ctx.settings.paths.sessions_dir, customer_id, surplus, ctx.clock.now()
                )
                logger.info("API: plan of %d lowered to %d session(s): %d back to the pool",
                            customer_id, sessions, returned)
    if granted:
        ctx.wake()
        logger.info("API: plan for customer %d: %d session(s), +%d day(s)", customer_id, sessions, days)
    return answer


# --- start / stop ---------------------------------------------------------------------------------


async def _customer_or_404(ctx: ApiContext, customer_id: int) -> Customer:
    async with ctx.db.read() as conn:
        found = await customers.get(conn, customer_id)
    if found is None:
        raise ApiFailure(404, codes.CUSTOMER_NOT_FOUND, f"no customer {customer_id}")
    return found


def _refusal(exc: AdbotError) -> ApiFailure:
    if isinstance(exc, AccessDenied):
        return ApiFailure(409, codes.PLAN_INACTIVE, exc.user_message)
    if isinstance(exc, CampaignNotReady):
        return ApiFailure(409, codes.NOT_READY, exc.user_message)
    if isinstance(exc, NotFound):
        return ApiFailure(404, codes.CUSTOMER_NOT_FOUND, exc.user_message)
    if isinstance(exc, StorageBusy):
        return ApiFailure(503, codes.BUSY, exc.user_message)
    return ApiFailure(409, codes.NOT_READY, exc.user_message)


async def start(ctx: ApiContext, customer_id: int) -> dict[str, Any]:
    await _customer_or_404(ctx, customer_id)
    try:
        result = await campaign.start_campaign(
            ctx.db, ctx.engine, customer_id, ctx.clock.now(), admins_told=bool(ctx.settings.bot.admins)
        )
    except AdbotError as exc:
        raise _refusal(exc) from None
    if result.started:
        # The customer did not press Run in the chat: they are told there.
        async with ctx.db.tx() as conn:
            await events.add(conn, customer_id, EventKind.CAMPAIGN_STARTED, ctx.clock.now())
    ctx.wake()  # and a short pool is told to the admins
    logger.info("API: campaign of customer %d %s", customer_id, "started" if result.started else "already running")
    return {
        "customer_id": customer_id,
        "campaign": "running",
        "started": result.started,
        "sessions": result.sessions,
        "sessions_short": result.sessions_short,
        "groups_active": result.groups_active,
        "interval_s": result.interval_s,
        "next_run_at": result.next_run_at,
    }


async def stop(ctx: ApiContext, customer_id: int) -> dict[str, Any]:
    await _customer_or_404(ctx, customer_id)
    try:
        stopped = await campaign.stop_campaign(
            ctx.db, ctx.engine, customer_id, ctx.clock.now(), reason=STOP_REASON_SERVICE
        )
    except AdbotError as exc:
        raise _refusal(exc) from None
    if stopped:
        # The customer did not press Stop in the chat: they are told there, as of any stop they did not see,
        # and not as "stopped by you": the shop's service stopped it.
        async with ctx.db.tx() as conn:
            await events.add(
                conn, customer_id, EventKind.CAMPAIGN_STOPPED, ctx.clock.now(), reason=STOP_REASON_SERVICE
            )
        ctx.wake()
        logger.info("API: campaign of customer %d stopped", customer_id)
    return {"customer_id": customer_id, "campaign": "stopped", "stopped": stopped}
