"""``adbot health [--json]``: the service's health as the database shows it, with a verdict and an exit
code a monitor can act on (Docker's ``HEALTHCHECK``, systemd, Nagios-style checks; ``docs/DEPLOY.md``):

* 0 ``ok``: ``adbot run`` holds the data dir and nothing below is wrong;
* 1 ``degraded``: it runs, but a running campaign's next cycle is more than ``OVERDUE_GRACE`` late (the
  engine is stuck or overloaded), or campaigns run while no session is assigned, or the last hour had
  failures and no delivery while campaigns run, or it is starting (no database yet), or it is still
  waiting for the Bot API at start-up (``control_bot.startup_phase``: it answers nobody), or the database
  is behind this adbot's schema (installed, not migrated yet: "run adbot migrate");
* 2 ``down``: no ``adbot run`` holds the data dir (stopped, crashed, never started), or the database was
  migrated by a newer adbot.

The command never migrates (``--json``'s ``schema_pending``: the migrations ``adbot migrate`` would run):
a monitor's probe must not change the schema under an older ``adbot run`` nor before the operator's
``adbot migrate``. On a database at another version it reads only the verdict, not the report.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from control_bot.cli.common import Subparsers, add_command
from core.texts import cli as texts

if TYPE_CHECKING:
    from control_bot.services.admin import HealthReport
    from control_bot.startup_phase import StartupPhase
    from core.config import Settings
    from storage.db import Database

OK, DEGRADED, DOWN = 0, 1, 2
STATUS = {OK: "ok", DEGRADED: "degraded", DOWN: "down"}
OVERDUE_GRACE = 600.0
"""Seconds past a campaign's due cycle before the service counts as degraded (a busy engine may start a
cycle some seconds late; ten minutes late is a fault)."""


def verdict(
    running: bool,
    report: HealthReport | None,
    overdue: int,
    *,
    schema: tuple[int, int] | None = None,
    starting: StartupPhase | None = None,
) -> tuple[int, list[str]]:
    """(exit code, the problems in words) from what the command read. ``schema``: (the database's
    version, this adbot's) when they differ (then ``report`` is None: nothing was read); ``starting``:
    the service has not reached the Bot API yet (it answers nobody)."""
    if schema is not None and schema[0] > schema[1]:
        return DOWN, [texts.schema_newer(*schema)]
    behind = [texts.schema_behind(schema[1] - schema[0])] if schema is not None else []
    if not running:
        return DOWN, [texts.HEALTH_NOT_RUNNING, *behind]
    problems: list[str] = []
    if starting is not None:
        problems.append(texts.health_starting(starting.since, starting.attempt, starting.reason))
    if behind:
        return DEGRADED, problems + behind
    if report is None:  # the service holds the data dir but has not created its database yet: starting
        return DEGRADED, [*problems, texts.HEALTH_NO_DATABASE]
    running_campaigns = report.cycles.running_campaigns
    if overdue:
        problems.append(texts.health_overdue(overdue, OVERDUE_GRACE))
    if running_campaigns and report.sessions.get("assigned", 0) == 0:
        problems.append(texts.HEALTH_NO_ASSIGNED)
    if running_campaigns and report.last_hour.failed and not report.last_hour.sent:
        problems.append(texts.health_only_failures(report.last_hour.failed))
    return (DEGRADED if problems else OK), problems


@dataclass(frozen=True)
class Reading:
    running: bool
    report: HealthReport | None
    overdue: int
    schema: tuple[int, int] | None  # (the database's version, this adbot's) when they differ
    starting: StartupPhase | None = None  # the service's wait for the Bot API (None: not waiting)
    settings: Settings | None = None  # the configuration read (the daily backups' health reads it)


def _read(args: argparse.Namespace) -> Reading:
    from control_bot.startup_phase import phase_path, read_phase
    from core.config import load_settings
    from storage.instance_lock import is_held
    from storage.schema_status import SchemaMismatch, schema_status

    settings = load_settings(args.config)
    running = is_held(settings.paths.data_dir)
    starting = read_phase(phase_path(settings.paths.data_dir)) if running else None
    if running and not settings.db_path.exists():  # a service starting: it creates the database, not us
        return Reading(running, None, 0, None, starting, settings)
    status = schema_status(settings.db_path)
    if status.exists and status.current != status.latest:  # never migrated here: reported as it is
        return Reading(running, None, 0, (status.current, status.latest), starting, settings)
    from control_bot.cli.common import run_with_settings
    from control_bot.services import admin
    from storage.health_checks import overdue_campaigns

    now = time.time()

    async def work(settings: Settings, db: Database) -> tuple[HealthReport, int]:
        report = await admin.health_report(db, None, now, settings)
        async with db.read() as conn:
            overdue = await overdue_campaigns(conn, now - OVERDUE_GRACE)
        return report, overdue

    try:
        report, overdue = run_with_settings(settings, work)
    except SchemaMismatch as exc:  # migrated (or replaced) between the look above and the open
        return Reading(running, None, 0, (exc.current, exc.latest), starting, settings)
    return Reading(running, report, overdue, None, starting, settings)


def _cmd_health(args: argparse.Namespace) -> int:
    read = _read(args)
    code, problems = verdict(read.running, read.report, read.overdue, schema=read.schema, starting=read.starting)
    from control_bot.backup.status import with_backup_health  # the daily backups (review 20 F6)

    assert read.settings is not None  # every reading carries the settings it was made with
    code, problems, backup = with_backup_health(read.settings, code, problems, DEGRADED)
    if args.json:
        out: dict[str, Any] = {
            "status": STATUS[code], "exit_code": code, "problems": problems,
            "service_running": read.running, "overdue_campaigns": read.overdue,
            "schema_pending": max(0, read.schema[1] - read.schema[0]) if read.schema else 0,
            "starting": None if read.starting is None else {
                "bot_api_unreachable_since": read.starting.since, "attempt": read.starting.attempt,
            },
        }
        out.update(read.report.as_dict() if read.report is not None else {})
        out.update(backup)
        print(json.dumps(out, indent=2))
        return code
    if read.report is not None:
        print(texts.health(read.report))
    print(texts.health_status(STATUS[code], problems), file=sys.stderr)
    return code


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "health", _cmd_health, texts.HELP_HEALTH, json=True)
