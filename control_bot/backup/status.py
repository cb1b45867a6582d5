"""The daily backup's last outcome, for ``adbot health`` (review 20 F6: a failing daily backup was
visible only as a traceback in adbot.log).

The service writes ``last-backup.json`` in the data dir after each daily backup (its time, and the error
when it failed; the time of the last good one is kept across failures). ``adbot health`` reads it beside
the newest daily archive (the time in its name) and, when ``[backup] enabled``, counts the service as
degraded when the last one failed or the newest good one is older than ``STALE_AFTER``. Before the first
daily backup (a new install, backups just turned on) nothing is late yet. The operator's wording, plain English like the
rest of the command line.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control_bot.backup.archive import BackupRefused
from control_bot.backup.daily import DAILY_PREFIX, daily_backups
from core.config import Settings
from core.private_files import write_private_file
from core.states import EventKind
from storage import events
from storage.db import Database

logger = logging.getLogger(__name__)

STATUS_FILE = "last-backup.json"
STALE_AFTER = 26 * 3_600.0
"""A day and two hours: the daily backup runs at one hour each day and may take a while."""


@dataclass(frozen=True)
class BackupStatus:
    last_attempt_at: float | None = None
    last_ok_at: float | None = None  # the last daily backup that was written (and checked)
    last_error: str | None = None  # the last one's error; None when it worked


def read_status(data_dir: Path) -> BackupStatus:
    """What the service recorded (an unreadable or missing file: nothing recorded)."""
    try:
        data = json.loads((data_dir / STATUS_FILE).read_text(encoding="utf-8"))
        return BackupStatus(
            _float(data.get("last_attempt_at")), _float(data.get("last_ok_at")),
            str(data["last_error"]) if data.get("last_error") else None,
        )
    except (OSError, ValueError, AttributeError):
        return BackupStatus()


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def record(data_dir: Path, at: float, error: str | None) -> None:
    """Record a daily backup's outcome (written whole, then renamed: a reader never sees half of it)."""
    before = read_status(data_dir)
    body = {"last_attempt_at": at, "last_ok_at": at if error is None else before.last_ok_at, "last_error": error}
    tmp = data_dir / f".{STATUS_FILE}.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        write_private_file(tmp, json.dumps(body).encode("utf-8"))
        tmp.replace(data_dir / STATUS_FILE)
    except OSError as exc:  # a full disk: the backup's own outcome is logged anyway
        logger.warning("the daily backup's outcome could not be recorded: %s", exc)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def failure_words(exc: Exception) -> str:
    """One line for a failed backup, in the operator's words (no traceback, no exception name: adbot.log
    has them)."""
    if isinstance(exc, BackupRefused):
        return exc.user_message
    if isinstance(exc, OSError):
        return f"cannot write {exc.filename or '?'}: {exc.strerror or exc}"
    return "an unexpected error (adbot.log has the details)"


async def record_daily(db: Database, data_dir: Path, now: float, exc: Exception | None) -> None:
    """After a daily backup: its outcome for ``adbot health``; a failure also told to the admins through
    the outbox, once per failed backup (one a day at most)."""
    error = None if exc is None else failure_words(exc)
    await asyncio.to_thread(record, data_dir, now, error)
    if error is not None:
        async with db.tx() as conn:
            await events.add(conn, None, EventKind.BACKUP_FAILED, now, problem=error)


def _made_at(archive: Path) -> float | None:
    """The time in a daily archive's name (``adbot-daily-20261207T031500Z.tar.gz``): when it was made."""
    stamp = archive.name[len(DAILY_PREFIX) + 1 :][: len("20261207T031500Z")]
    try:
        return float(calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        return None


def _iso(at: float | None) -> str | None:
    return None if at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def backup_health(settings: Settings, now: float) -> tuple[list[str], dict[str, Any]]:
    """(problems, JSON fields) about the daily backups: ``last_backup_at`` (the newest good one, recorded
    or found in ``[backup] dir``), ``last_backup_error``; problems only when daily backups are on."""
    status = read_status(settings.paths.data_dir)
    newest = status.last_ok_at
    with contextlib.suppress(OSError):
        found = daily_backups(settings.backup.dir)
        if found and (made := _made_at(found[-1])) is not None:
            newest = made if newest is None else max(newest, made)
    fields: dict[str, Any] = {
        "backups_enabled": settings.backup.enabled,
        "last_backup_at": _iso(newest),
        "last_backup_error": status.last_error,
    }
    problems: list[str] = []
    if settings.backup.enabled:
        if status.last_error is not None:
            problems.append(f"the last daily backup failed ({_iso(status.last_attempt_at)}): {status.last_error}")
        elif newest is not None and now - newest > STALE_AFTER:
            problems.append(f"the newest daily backup is from {_iso(newest)}, more than "
                            f"{STALE_AFTER / 3_600:.0f} h ago")
    return problems, fields


def with_backup_health(
    settings: Settings, code: int, problems: list[str], degraded: int, now: float | None = None
) -> tuple[int, list[str], dict[str, Any]]:
    """``adbot health``'s verdict with the backup's problems added (at least ``degraded`` when any)."""
    found, fields = backup_health(settings, time.time() if now is None else now)
    return (max(code, degraded) if found else code), [*problems, *found], fields
