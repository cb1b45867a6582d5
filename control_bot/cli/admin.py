"""``adbot grant|revoke|customers|health``: the admin operations an operator scripts, through the same
service layer as the bot's admin commands (``control_bot.services.admin``). ``adbot pool ...`` and
``adbot pairs ...`` live in ``control_bot.cli.pool``.

A change made here while the bot runs reaches the customer through the outbox (the bot's sender
polls it). ``revoke`` has no engine to stop in this process: it ends the plan and returns the sessions
in the database, and the bot's engine sees the ended plan at the campaign's next cycle. While the bot
runs, ``/revoke`` in the bot is the better way: it stops the campaign through the engine first.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from control_bot.cli.common import Subparsers, add_command, run_with_db
from core.texts.fmt import fmt_time

if TYPE_CHECKING:
    from control_bot.services import admin
    from core.config import Settings
    from storage.db import Database


def _cmd_grant(args: argparse.Namespace) -> int:
    from control_bot.services import admin

    user_id = admin.parse_user_id(args.user_id)
    sessions = admin.parse_sessions(args.sessions)
    days = admin.parse_days(args.days)

    async def work(settings: Settings, db: Database) -> admin.GrantResult:
        return await admin.grant_plan(
            db, user_id, sessions, days, now=time.time(), default_interval=settings.engine.cycle_interval
        )

    result = run_with_db(args, work)
    c = result.customer
    verb = "created" if result.created else "extended"
    print(f"plan {verb} for {c.user_id}: {c.plan_sessions} session(s) until {fmt_time(c.plan_expires_at)}")
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    from control_bot.services import admin

    user_id = admin.parse_user_id(args.user_id)

    async def work(settings: Settings, db: Database) -> admin.RevokeResult:
        return await admin.revoke_plan(db, settings.paths.sessions_dir, user_id, now=time.time(), engine=None)

    result = run_with_db(args, work)
    print(f"plan of {result.user_id} ended; {result.sessions_returned} session(s) back in the pool")
    return 0


def customer_json(line: admin.CustomerLine) -> dict[str, Any]:
    c = line.customer
    return {
        "user_id": c.user_id,
        "plan_sessions": c.plan_sessions,
        "plan_expires_at": c.plan_expires_at,
        "plan_active": line.plan_active,
        "status": c.status,
        "stop_reason": c.stop_reason,
        "interval_s": c.interval_s,
        "sessions": line.sessions,
        "cooling": line.cooling,
        "groups": line.groups,
        "sent_today": line.sent_today,
        "failed_today": line.failed_today,
    }


def _cmd_customers(args: argparse.Namespace) -> int:
    from control_bot.services import admin

    now = time.time()
    lines = run_with_db(args, lambda _settings, db: admin.list_customers(db, now))
    if args.json:
        print(json.dumps([customer_json(line) for line in lines], indent=2))
        return 0
    if not lines:
        print("no customers (create one with 'adbot grant USER_ID SESSIONS DAYS')")
    for line in lines:
        c = line.customer
        plan = f"until {fmt_time(c.plan_expires_at)}" if line.plan_active else "ended"
        print(
            f"{c.user_id}  plan {c.plan_sessions} {plan}  {c.status}  sessions {line.sessions}"
            f"  groups {line.groups}  today {line.sent_today} sent, {line.failed_today} failed"
        )
    return 0


def _cmd_health(args: argparse.Namespace) -> int:
    from control_bot.services import admin

    now = time.time()
    report = run_with_db(args, lambda _settings, db: admin.health_report(db, None, now))
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0
    c, s, h = report.cycles, report.sessions, report.last_hour
    print(f"running campaigns: {c.running_campaigns}")
    print(f"last cycle: started {fmt_time(c.last_started_at)}, finished {fmt_time(c.last_finished_at)}")
    print(", ".join(f"{n} {state}" for state, n in s.items()))
    print(f"last hour: {h.sent} sent, {h.failed} failed, {h.other} other")
    print("(engine figures such as lag and uptime: /health in the bot)")
    return 0


def register(subparsers: Subparsers) -> None:
    """``grant``, ``revoke``, ``customers`` and ``health``."""
    from control_bot.services.admin import MAX_DAYS, MAX_SESSIONS, MIN_DAYS, MIN_SESSIONS  # for the help

    p = add_command(subparsers, "grant", _cmd_grant, "create a customer or extend their plan (the customer is told)")
    p.add_argument("user_id", metavar="USER_ID", help="the customer's Telegram user id")
    p.add_argument("sessions", metavar="SESSIONS", help=f"sessions in the plan ({MIN_SESSIONS}..{MAX_SESSIONS})")
    p.add_argument("days", metavar="DAYS", help=f"days added to what is left ({MIN_DAYS}..{MAX_DAYS})")
    p = add_command(subparsers, "revoke", _cmd_revoke, "end a customer's plan now; their sessions go back to the pool")
    p.add_argument("user_id", metavar="USER_ID")
    add_command(subparsers, "customers", _cmd_customers, "customers: plan, expiry, status, sessions, sends today",
                json=True)
    add_command(subparsers, "health", _cmd_health, "running campaigns, last cycle, pool, sends in the last hour",
                json=True)
