"""Retention (``[retention] days``, default 90): what is older goes, once a day, while totals stay.

* ledger rows: folded into the per-day aggregates ``send_days`` and deleted in short batches
  (``storage.retention``); ``stats`` / ``group_stats`` are never touched, so every total a customer or an
  admin sees stays the same, and per-day figures read ``send_days`` plus the live rows;
* per-customer log files (``<logs_dir>/<user_id>/YYYY-MM-DD.log``): a day's file goes once the whole
  day is older than the period. ``adbot.log`` rotates by size instead (``control_bot.logfiles``);
* delivered notifications (the ``events`` outbox) older than the period, in short batches, but the
  newest of each (customer, kind) that code reads back as memory (``storage.events.REMEMBERED_KINDS``:
  the last cycle summary /status shows, the reminders already sent); undelivered ones always stay;
* the integration API's request ids (``api_requests``) after ``API_REQUEST_DAYS``, whatever the period.
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
from storage import api_requests, events
from storage.db import Database
from storage.retention import count_prunable, fold_old_sends

logger = logging.getLogger(__name__)

DAY = 86_400
API_REQUEST_DAYS = 365
"""How long an API request id is remembered (a retry with it is answered as the first time): longer than
any shop retries a payment callback or replays its queue, and a row per paid order is tiny."""
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
    events: int = 0  # delivered events deleted
    api_requests: int = 0  # API request ids forgotten (older than API_REQUEST_DAYS)


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
    requests_cutoff = cutoff_for(now, API_REQUEST_DAYS)
    logs = await asyncio.to_thread(old_customer_logs, settings.paths.logs_dir, cutoff)
    if dry_run:
        async with db.read() as conn:
            old_events = await events.count_prunable(conn, cutoff)
            old_requests = await api_requests.count_older(conn, requests_cutoff)
        return PruneReport(
            cutoff, await count_prunable(db, cutoff), 0, len(logs), dry_run=True,
            events=old_events, api_requests=old_requests,
        )
    folded = await fold_old_sends(db, cutoff, batch=settings.retention.batch_rows)
    old_events = await prune_events(db, cutoff, settings.retention.batch_rows)
    async with db.tx() as conn:
        old_requests = await api_requests.prune_older(conn, requests_cutoff)
    deleted = await asyncio.to_thread(delete_files, logs)
    report = PruneReport(
        cutoff, folded.rows, folded.batches, deleted, events=old_events, api_requests=old_requests
    )
    logger.info(
        "retention: %d ledger rows folded into per-day figures in %d transactions, %d customer log files, "
        "%d delivered events deleted (older than %d days); %d API request ids forgotten (older than %d days)",
        report.ledger_rows, report.batches, report.log_files, report.events, days, report.api_requests,
        API_REQUEST_DAYS,
    )
    return report


async def prune_events(db: Database, cutoff: float, batch: int) -> int:
    """Delete the prunable delivered events created before ``cutoff``, ``batch`` per transaction (the
    outbox and the engine get the writer between two)."""
    total = 0
    while True:
        async with db.tx() as conn:
            done = await events.prune_delivered(conn, cutoff, batch)
        total += done
        if done < batch:
            return total
        await asyncio.sleep(0)


__all__ = [
    "API_REQUEST_DAYS", "STALE_EXPORT_AGE", "PruneReport", "clear_exports", "cutoff_for", "old_customer_logs", "prune",
    "prune_events", "stale_exports",
]
