"""Retention (``[retention] days``, default 90): what is older goes, once a day, while totals stay.

* ledger rows: folded into the per-day aggregates ``send_days`` and deleted in short batches
  (``storage.retention``); ``stats`` / ``group_stats`` are never touched, so every total a customer or an
  admin sees stays the same, and per-day figures read ``send_days`` plus the live rows;
* per-customer log files (``<logs_dir>/<user_id>/YYYY-MM-DD.log``): a day's file goes once the whole
  day is older than the period. ``adbot.log`` rotates by size instead (``control_bot.logfiles``).

Run by the service every day (``control_bot.housekeeping``) and by ``adbot prune``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from control_bot.logfiles import customer_log_files
from core.config import Settings
from storage.db import Database
from storage.retention import count_prunable, fold_old_sends

logger = logging.getLogger(__name__)

DAY = 86_400
_DAY_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")
_CUSTOMER_DIR = re.compile(r"[1-9][0-9]{0,18}")


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


__all__ = ["PruneReport", "cutoff_for", "old_customer_logs", "prune"]
