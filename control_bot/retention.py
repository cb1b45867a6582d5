"""Retention (``[retention] days``, default 90): what is older goes, once a day, while totals stay.

* ledger rows: folded into the per-day aggregates ``send_days`` and deleted in short batches
  (``storage.retention``); ``stats`` / ``group_stats`` are never touched, so every total a customer or an
  admin sees stays the same, and per-day figures read ``send_days`` plus the live rows;
* per-customer log files (``<logs_dir>/<user_id>/YYYY-MM-DD.log``): a day's file goes once the whole
  day is older than the period. ``adbot.log`` rotates by size instead (``control_bot.logfiles``);
* /export files (``<data_dir>/exports/export-*``) that a crash or a restart left behind (the export
  deletes its file once sent): every one at start-up, when no export runs yet, and, once a day, those
  untouched for ``STALE_EXPORT_AGE`` (whatever ``[retention] days`` says: they are copies, not history).

Run by the service every day (``control_bot.housekeeping``) and by ``adbot prune``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

from control_bot.logfiles import customer_log_files
from control_bot.services.export import EXPORTS_DIR, FILE_PREFIX
from core.config import Settings
from storage.db import Database
from storage.retention import count_prunable, fold_old_sends

logger = logging.getLogger(__name__)

DAY = 86_400
_DAY_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")
_CUSTOMER_DIR = re.compile(r"[1-9][0-9]{0,18}")
# An export under way writes its file, then uploads it (50 MB at most): it never takes hours.
STALE_EXPORT_AGE = 3 * 3_600.0


@dataclass(frozen=True)
class PruneReport:
    cutoff: float  # unix seconds: what finished before it was pruned
    ledger_rows: int  # send rows folded into send_days
    batches: int
    log_files: int  # customer log files deleted
    dry_run: bool = False


def cutoff_for(now: float, days: int) -> float:
    return now - days * DAY


def old_customer_logs(logs_dir: Path, cutoff: float) -> list[Path]:
    """Customer log files of days that ended before ``cutoff`` (their names are their UTC days)."""
    cutoff_day = time.strftime("%Y-%m-%d", time.gmtime(cutoff))
    if not logs_dir.is_dir():
        return []
    found: list[Path] = []
    for folder in sorted(logs_dir.iterdir()):
        if not folder.is_dir() or not _CUSTOMER_DIR.fullmatch(folder.name):
            continue
        for path in customer_log_files(logs_dir, int(folder.name)):
            if _DAY_NAME.fullmatch(path.stem) and path.stem < cutoff_day:
                found.append(path)
    return found


def delete_files(paths: list[Path]) -> int:
    deleted = 0
    for path in paths:
        try:
            path.unlink()
            deleted += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            logger.warning("retention: could not delete %s: %s", path, exc.strerror)
    return deleted


def stale_exports(data_dir: Path, before: float) -> list[Path]:
    """Export files last written before ``before`` (unix seconds, wall clock: file times are)."""
    folder = data_dir / EXPORTS_DIR
    if not folder.is_dir():
        return []
    found: list[Path] = []
    for path in folder.iterdir():
        try:
            if path.name.startswith(FILE_PREFIX) and path.is_file() and path.stat().st_mtime < before:
                found.append(path)
        except FileNotFoundError:  # sent and deleted meanwhile
            continue
    return found


async def clear_exports(settings: Settings, *, max_age: float | None = STALE_EXPORT_AGE) -> int:
    """Delete the export files left behind: those untouched for ``max_age`` seconds, every one when None
    (at start-up). Returns how many went."""
    before = math.inf if max_age is None else time.time() - max_age
    paths = await asyncio.to_thread(stale_exports, settings.paths.data_dir, before)
    deleted = await asyncio.to_thread(delete_files, paths)
    if deleted:
        logger.info("retention: %d export file(s) left behind deleted", deleted)
    return deleted


async def prune(db: Database, settings: Settings, now: float, *, dry_run: bool = False) -> PruneReport | None:
    """Prune what is older than ``[retention] days`` (None when retention is off: days = 0)."""
    days = settings.retention.days
    if days <= 0:
        return None
    cutoff = cutoff_for(now, days)
    logs = await asyncio.to_thread(old_customer_logs, settings.paths.logs_dir, cutoff)
    if dry_run:
        return PruneReport(cutoff, await count_prunable(db, cutoff), 0, len(logs), dry_run=True)
    folded = await fold_old_sends(db, cutoff, batch=settings.retention.batch_rows)
    deleted = await asyncio.to_thread(delete_files, logs)
    report = PruneReport(cutoff, folded.rows, folded.batches, deleted)
    logger.info(
        "retention: %d ledger rows folded into per-day figures in %d transactions, %d customer log files "
        "deleted (older than %d days)", report.ledger_rows, report.batches, report.log_files, days,
    )
    return report


__all__ = [
    "STALE_EXPORT_AGE", "PruneReport", "clear_exports", "cutoff_for", "old_customer_logs", "prune", "stale_exports",
]
