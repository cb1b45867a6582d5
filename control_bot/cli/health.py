"""``adbot health [--json]``: the service's health as the database shows it, with a verdict and an exit
code a monitor can act on (Docker's ``HEALTHCHECK``, systemd, Nagios-style checks; ``docs/DEPLOY.md``):

* 0 ``ok``: ``adbot run`` holds the data dir and nothing below is wrong;
* 1 ``degraded``: it runs, but a running campaign's next cycle is more than ``OVERDUE_GRACE`` late (the
  engine is stuck or overloaded), or campaigns run while no session is assigned, or the last hour had
  failures and no delivery while campaigns run, or it is starting (no database yet);
* 2 ``down``: no ``adbot run`` holds the data dir (stopped, crashed, never started).

A service that holds the data dir but has no database yet (it is starting) is ``degraded``: the command
never creates a database under a running service (with none running, opening one creates it, as every
command does).

The report itself (stdout, or ``--json``) is what it always was; in text mode the verdict is one line on
stderr. No engine runs in this process: the engine's own figures are the bot's /health.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from control_bot.cli.common import Subparsers, add_command
from core.texts import cli as texts

if TYPE_CHECKING:
    from control_bot.services.admin import HealthReport
    from core.config import Settings
    from storage.db import Database

OK, DEGRADED, DOWN = 0, 1, 2
STATUS = {OK: "ok", DEGRADED: "degraded", DOWN: "down"}
OVERDUE_GRACE = 600.0
"""Seconds past a campaign's due cycle before the service counts as degraded (a busy engine may start a
cycle some seconds late; ten minutes late is a fault)."""


def verdict(running: bool, report: HealthReport | None, overdue: int) -> tuple[int, list[str]]:
    """(exit code, the problems in words) from what the command read."""
    if not running:
        return DOWN, [texts.HEALTH_NOT_RUNNING]
    if report is None:  # the service holds the data dir but has not created its database yet: starting
        return DEGRADED, [texts.HEALTH_NO_DATABASE]
    problems: list[str] = []
    running_campaigns = report.cycles.running_campaigns
    if overdue:
        problems.append(texts.health_overdue(overdue, OVERDUE_GRACE))
    if running_campaigns and report.sessions.get("assigned", 0) == 0:
        problems.append(texts.HEALTH_NO_ASSIGNED)
    if running_campaigns and report.last_hour.failed and not report.last_hour.sent:
        problems.append(texts.health_only_failures(report.last_hour.failed))
    return (DEGRADED if problems else OK), problems


def _read(args: argparse.Namespace) -> tuple[bool, HealthReport | None, int, Settings]:
    from core.config import load_settings
    from storage.instance_lock import is_held

    settings = load_settings(args.config)
    running = is_held(settings.paths.data_dir)
    if running and not settings.db_path.exists():  # a service starting: it creates the database, not us
        return running, None, 0, settings
    from control_bot.cli.common import run_with_settings
    from control_bot.services import admin
    from storage.health_checks import overdue_campaigns

    now = time.time()

    async def work(settings: Settings, db: Database) -> tuple[HealthReport, int]:
        report = await admin.health_report(db, None, now, settings)
        async with db.read() as conn:
            overdue = await overdue_campaigns(conn, now - OVERDUE_GRACE)
        return report, overdue

    report, overdue = run_with_settings(settings, work)
    return running, report, overdue, settings


def _cmd_health(args: argparse.Namespace) -> int:
    running, report, overdue, settings = _read(args)
    code, problems = verdict(running, report, overdue)
    from control_bot.backup.status import with_backup_health  # the daily backups (review 20 F6)

    code, problems, backup = with_backup_health(settings, code, problems, DEGRADED)
    if args.json:
        out: dict[str, Any] = {
            "status": STATUS[code], "exit_code": code, "problems": problems,
            "service_running": running, "overdue_campaigns": overdue,
        }
        out.update(report.as_dict() if report is not None else {})
        out.update(backup)
        print(json.dumps(out, indent=2))
        return code
    if report is not None:
        print(texts.health(report))
    print(texts.health_status(STATUS[code], problems), file=sys.stderr)
    return code


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "health", _cmd_health, texts.HELP_HEALTH, json=True)
