"""``adbot grant|revoke|customers|health``: the admin operations an operator scripts, through the same
service layer as the bot's admin commands (``control_bot.services.admin``). ``adbot pool ...`` and
``adbot pairs ...`` live in ``pool.cli``.

A change made here while the bot runs reaches the customer through the outbox (the bot's sender
polls it). ``revoke`` has no engine to stop in this process: it ends the plan and returns the sessions
in the database, and the bot's engine sees the ended plan at the campaign's next cycle. While the bot
runs, ``/revoke`` in the bot is the better way: it stops the campaign through the engine first.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from control_bot.cli import add_config_flag, run_with_db
from control_bot.services import admin
from core.config import Settings
from core.texts.fmt import fmt_time
from storage.db import Database


def _cmd_grant(args: argparse.Namespace) -> int:
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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``grant``, ``revoke``, ``customers`` and ``health`` to the ``adbot`` console script."""
    p = subparsers.add_parser("grant", help="create a customer or extend their plan (the customer is told)")
    p.add_argument("user_id", metavar="USER_ID", help="the customer's Telegram user id")
    p.add_argument(
        "sessions", metavar="SESSIONS", help=f"sessions in the plan ({admin.MIN_SESSIONS}..{admin.MAX_SESSIONS})"
    )
    p.add_argument("days", metavar="DAYS", help=f"days added to what is left ({admin.MIN_DAYS}..{admin.MAX_DAYS})")
    add_config_flag(p)
    p.set_defaults(handler=_cmd_grant)

    p = subparsers.add_parser("revoke", help="end a customer's plan now; their sessions go back to the pool")
    p.add_argument("user_id", metavar="USER_ID")
    add_config_flag(p)
    p.set_defaults(handler=_cmd_revoke)

    p = subparsers.add_parser("customers", help="customers: plan, expiry, status, sessions, sends today")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_config_flag(p)
    p.set_defaults(handler=_cmd_customers)

    p = subparsers.add_parser("health", help="running campaigns, last cycle, pool, sends in the last hour")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_config_flag(p)
    p.set_defaults(handler=_cmd_health)
