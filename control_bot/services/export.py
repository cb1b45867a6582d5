"""/export: a customer's send attempts of a period as a CSV file, streamed.

Pages of rows are read with keyset pagination (``storage.export``: one index range each, never the whole
set in memory) and written to an owner-only (0600) temporary file by a worker thread, while the next
page is read: the event loop only hands pages over. A file over the Bot API's 50 MB limit for documents
is gzip-compressed (CSV compresses about tenfold); one still over it is refused with a reason. The
caller sends the file and deletes it (``ExportFile.remove``).

One row per attempt that ended by the time the export was asked for: its time (UTC, ISO 8601), the group,
the session as the bot shows it to customers (``#<id>``: never a phone or a file name), the outcome (a
stable English key, so a spreadsheet can filter on it: ``delivered``, ``failed``, ``in_doubt``,
``waiting``, ``skipped``) and, for a delivery to a public group, the link to the message
(``core.proof``). A flood-waited group taken up again is in flight (no ``finished_at``) until it ends.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from control_bot.services.campaign import require_customer
from core.periods import Period, period_start
from core.private_files import FILE_MODE, make_private_dir
from core.proof import message_link
from storage.db import Database
from storage.export import ExportRow, Position, export_page

logger = logging.getLogger(__name__)

__all__ = [
    "EXPORTS_DIR", "FILE_PREFIX", "HEADER", "MAX_DOCUMENT_BYTES", "PAGE_ROWS",
    "ExportFile", "export_csv", "kept_as_totals", "write_export",
]

EXPORTS_DIR = "exports"  # under [paths] data_dir
FILE_PREFIX = "export-"  # every file an export makes there (``control_bot.retention`` clears those left behind)

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024  # the Bot API's limit on a document a bot sends
_MULTIPART_MARGIN = 64 * 1024  # the upload's form fields and boundaries travel with the file
PAGE_ROWS = 5_000  # rows per page: ~0.5 MB of tuples at a time
HEADER = ("time_utc", "group", "session", "outcome", "message_link")
OUTCOMES = {"sent": "delivered", "failed": "failed", "in_doubt": "in_doubt", "waiting": "waiting", "skipped": "skipped"}


def kept_as_totals(period: Period, now: float, zone: ZoneInfo, retention_days: int) -> int:
    """``retention_days`` when the period starts before the retention horizon (its older attempts were
    folded into daily totals: /stats counts them, the file has no row for them), else 0."""
    if retention_days <= 0:
        return 0
    since = period_start(period, now, zone)
    return retention_days if since is None or since < now - retention_days * 86_400 else 0


@dataclass(frozen=True)
class ExportFile:
    path: Path | None  # None: nothing to send (no rows, or too large even compressed)
    rows: int
    delivered: int  # rows with outcome 'delivered'
    compressed: bool
    size: int  # bytes of the file to send (or of the compressed one that was too large)
    raw_size: int = 0  # bytes of the CSV before compression

    @property
    def too_large(self) -> bool:
        return self.path is None and self.rows > 0

    def remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _lines(rows: Sequence[ExportRow]) -> tuple[list[tuple[str, str, str, str, str]], int]:
    out = []
    delivered = 0
    for _id, finished_at, group_ref, session_id, outcome, message_id in rows:
        sent = outcome == "sent"
        delivered += sent
        out.append((
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(finished_at)),
            group_ref,
            "" if session_id is None else f"#{session_id}",
            OUTCOMES.get(outcome, outcome),
            (message_link(group_ref, message_id) or "") if sent else "",
        ))
    return out, delivered


def _write(out: IO[str], rows: Sequence[ExportRow]) -> int:
    """Format and write one page; returns its deliveries. Runs in a worker thread."""
    lines, delivered = _lines(rows)
    csv.writer(out, lineterminator="\n").writerows(lines)
    return delivered


async def write_export(
    db: Database, customer_id: int, since: float, until: float, path: Path, *, page_rows: int = PAGE_ROWS
) -> tuple[int, int]:
    """Write the customer's attempts that ended in [since, until) to ``path`` (an open 0600 file of
    ours) as CSV; returns (rows, deliveries). The next page is read while the last one is written."""
    rows = delivered = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        await asyncio.to_thread(csv.writer(out, lineterminator="\n").writerow, HEADER)
        after: Position | None = None
        writing: asyncio.Future[int] | None = None
        try:
            while True:
                async with db.read() as conn:
                    page = await export_page(conn, customer_id, since, until, after, page_rows)
                if writing is not None:
                    delivered += await writing
                    writing = None
                if not page:
                    break
                rows += len(page)
                writing = asyncio.ensure_future(asyncio.to_thread(_write, out, page))
                if len(page) < page_rows:
                    break
                after = Position(page[-1].finished_at, page[-1].id)
            if writing is not None:
                delivered += await writing
                writing = None
        finally:
            if writing is not None:  # failed or cancelled: the thread finishes its page before the file closes
                await asyncio.wait([writing])
    return rows, delivered


def _new_private_file(folder: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=FILE_PREFIX, suffix=suffix, dir=folder)  # 0600, O_EXCL
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return Path(name)


def _gzip(source: Path, folder: Path) -> Path:
    """A gzip copy of ``source``, streamed in 1 MiB blocks (blocking: a worker thread runs it)."""
    target = _new_private_file(folder, ".csv.gz")
    try:
        with source.open("rb") as raw, target.open("wb") as packed_file, gzip.GzipFile(
            filename=source.stem + ".csv", mode="wb", fileobj=packed_file, compresslevel=6, mtime=0
        ) as packed:
            shutil.copyfileobj(raw, packed, io.DEFAULT_BUFFER_SIZE * 128)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


async def export_csv(
    db: Database,
    user_id: int,
    period: Period,
    now: float,
    zone: ZoneInfo,
    folder: Path,
    *,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    page_rows: int = PAGE_ROWS,
) -> ExportFile:
    """The customer's attempts of the period as a file in ``folder`` (created 0700), ready to send."""
    await require_customer(db, user_id, now)
    since = period_start(period, now, zone)
    await asyncio.to_thread(make_private_dir, folder)
    path = await asyncio.to_thread(_new_private_file, folder, ".csv")
    try:
        # Up to ``now`` (included): a row that ends while the file is written (a flood-waited group taken
        # up again) moves past ``now`` and is not met a second time on a later page.
        until = math.nextafter(now, math.inf)
        rows, delivered = await write_export(db, user_id, since or 0.0, until, path, page_rows=page_rows)
        if not rows:
            path.unlink(missing_ok=True)
            return ExportFile(None, 0, 0, False, 0)
        size = path.stat().st_size
        limit = max_bytes - _MULTIPART_MARGIN
        if size <= limit:
            return ExportFile(path, rows, delivered, False, size, size)
        packed = await asyncio.to_thread(_gzip, path, folder)
        await asyncio.to_thread(path.unlink, missing_ok=True)  # a large file's unlink may take a while
        packed_size = packed.stat().st_size
        logger.info("export of customer %s: %d rows, %d bytes, gzip %d bytes", user_id, rows, size, packed_size)
        if packed_size <= limit:
            return ExportFile(packed, rows, delivered, True, packed_size, size)
        packed.unlink(missing_ok=True)
        return ExportFile(None, rows, delivered, True, packed_size, size)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
