"""``adbot grant|revoke|customers``: the admin operations an operator scripts, through the same
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
from core.texts import cli as texts

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

    result = run_with_db(args, work, writes=True)
    print(texts.plan_granted(result))
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    from control_bot.services import admin

    user_id = admin.parse_user_id(args.user_id)

    async def work(settings: Settings, db: Database) -> admin.RevokeResult:
        return await admin.revoke_plan(db, settings.paths.sessions_dir, user_id, now=time.time(), engine=None)

    result = run_with_db(args, work, writes=True)
    print(texts.plan_revoked(result))
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
        print(texts.NO_CUSTOMERS)
    for line in lines:
        print(texts.customer_line(line))
    return 0


def _grant_arguments(p: argparse.ArgumentParser) -> None:
    from control_bot.services.admin import MAX_DAYS, MAX_SESSIONS, MIN_DAYS, MIN_SESSIONS  # for the help

    p.add_argument("user_id", metavar="USER_ID", help=texts.HELP_GRANT_USER_ID)
    p.add_argument("sessions", metavar="SESSIONS", help=texts.help_grant_sessions(MIN_SESSIONS, MAX_SESSIONS))
    p.add_argument("days", metavar="DAYS", help=texts.help_grant_days(MIN_DAYS, MAX_DAYS))


def _revoke_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("user_id", metavar="USER_ID")


def register(subparsers: Subparsers) -> None:
    """``grant``, ``revoke`` and ``customers`` (``health`` is ``control_bot.cli.health``)."""
    add_command(subparsers, "grant", _cmd_grant, texts.HELP_GRANT, arguments=_grant_arguments)
    add_command(subparsers, "revoke", _cmd_revoke, texts.HELP_REVOKE, arguments=_revoke_arguments)
    add_command(subparsers, "customers", _cmd_customers, texts.HELP_CUSTOMERS, json=True)
