"""/export of one customer's send attempts: time and peak memory for a million rows.

    .venv/bin/python -m benchmarks.bench_export [--quick] [--rows 1000000] [--page-rows 5000]

A fresh database (the product's migrations) gets ``--rows`` ledger rows of one customer (plus as many of
another customer, which the export must skip), spread over 30 days across 500 groups, half public ('@name':
each delivery gets a link), half private; 95 % delivered. Then ``control_bot.services.export.export_csv``
writes the "all time" CSV exactly as /export does (keyset pages read on the reader connection, written by
a worker thread, gzip past the 50 MB document limit), on the event loop, twice:

* timed: wall time, rows per second, the process's CPU time (every thread), the event loop's lag
  (``LoopLag``: a 10 ms timer; how long the loop was kept from other work, e.g. another customer's
  /status), and the process's peak RSS above what it held before the export (sampled every 5 ms by a
  thread);
* under ``tracemalloc``: the peak of Python allocations during the export (slower; its time not used).

The file is checked: one line per row, and its deliveries equal the ledger's. Figures are printed, never
asserted; ``RESULT`` carries them for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import sqlite3
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import LoopLag, create_schema, emit, header, machine
from control_bot.services import export
from core.periods import Period
from storage.db import Database

CUSTOMER = 77_001
OTHER = 77_002
GROUPS = 500
NOW = 1_800_000_000.0
DAY = 86_400.0


def seed(db_path: Path, rows: int) -> int:
    """``rows`` attempts of CUSTOMER and as many of OTHER; returns CUSTOMER's deliveries."""
    create_schema(db_path)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for cid in (CUSTOMER, OTHER):
            conn.execute(
                "INSERT INTO customers (user_id, plan_sessions, plan_expires_at, created_at, interval_s, updated_at)"
                " VALUES (?, 1, ?, ?, 300, ?)",
                (cid, NOW + 30 * DAY, NOW - 60 * DAY, NOW - 60 * DAY),
            )
        step = 30 * DAY / rows
        delivered = 0

        def batch(cid: int, start: int, end: int) -> list[tuple[Any, ...]]:
            nonlocal delivered
            out = []
            for i in range(start, end):
                cycle, g = divmod(i, GROUPS)
                ref = f"@bench_group_{g}" if g % 2 == 0 else f"-100{2_000_000_000 + g}"
                outcome = "failed" if i % 20 == 7 else "sent"
                if cid == CUSTOMER and outcome == "sent":
                    delivered += 1
                at = NOW - 30 * DAY + i * step
                out.append((cid, cycle, ref, 1 + g % 7, outcome, 1000 + cycle if outcome == "sent" else None,
                            i + 1, at - 0.5, at))
            return out

        for cid in (CUSTOMER, OTHER):
            for start in range(0, rows, 100_000):
                conn.executemany(
                    "INSERT INTO sends (customer_id, cycle_no, group_ref, session_id, outcome, message_id,"
                    " random_id, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    batch(cid, start, min(rows, start + 100_000)),
                )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return delivered


class RssPeak:
    """The process's peak RSS, sampled by a thread every ``period`` seconds."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(self.period)

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _count(path: Path) -> tuple[int, int]:
    """(data lines, deliveries) of the file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    lines = delivered = 0
    with opener(path, "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            lines += 1
            delivered += ",delivered," in line
    return lines, delivered


async def measure(tmp: Path, rows: int, page_rows: int) -> dict[str, Any]:
    db_path = tmp / "adbot.db"
    t0 = time.perf_counter()
    delivered = seed(db_path, rows)
    seed_s = time.perf_counter() - t0
    db = await Database.open(db_path)
    try:
        folder = tmp / "exports"
        rss_before = psutil.Process().memory_info().rss
        async with LoopLag() as lag:
            with RssPeak() as rss:
                t0, cpu0 = time.perf_counter(), time.process_time()
                made = await export.export_csv(db, CUSTOMER, Period.ALL, NOW, ZoneInfo("UTC"), folder,
                                               page_rows=page_rows)
                wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        assert made.path is not None, "the export was refused"
        lines, file_delivered = _count(made.path)
        assert lines == made.rows == rows, (lines, made.rows, rows)
        assert file_delivered == made.delivered == delivered, (file_delivered, made.delivered, delivered)
        size, raw_size, compressed = made.size, made.raw_size, made.compressed
        made.remove()
        tracemalloc.start()
        again = await export.export_csv(db, CUSTOMER, Period.ALL, NOW, ZoneInfo("UTC"), folder, page_rows=page_rows)
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        again.remove()
    finally:
        await db.close()
    return {
        "rows": rows,
        "page_rows": page_rows,
        "seed_s": round(seed_s, 1),
        "wall_s": round(wall, 2),
        "rows_per_s": round(rows / wall),
        "cpu_s": round(cpu, 2),
        "rows_per_cpu_s": round(rows / cpu) if cpu else 0,
        "csv_mb": round(raw_size / 2**20, 1),
        "file_mb": round(size / 2**20, 1),
        "compressed": compressed,
        "rss_peak_delta_mb": round((rss.peak - rss_before) / 2**20, 1),
        "rss_peak_mb": round(rss.peak / 2**20, 1),
        "tracemalloc_peak_mb": round(traced_peak / 2**20, 2),
        "lag_p95_ms": round(lag.percentile(95) * 1000, 1),
        "lag_max_ms": round(lag.max * 1000, 1),
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="50,000 rows")
    parser.add_argument("--rows", type=int, default=None, help="default 1,000,000 (50,000 with --quick)")
    parser.add_argument("--page-rows", type=int, default=export.PAGE_ROWS)
    args = parser.parse_args(argv)
    rows = args.rows if args.rows is not None else (50_000 if args.quick else 1_000_000)
    header(f"/export: {rows:,} rows of one customer (and {rows:,} of another), pages of {args.page_rows:,}")
    print("machine:", machine())
    with tempfile.TemporaryDirectory(prefix="adbot-bench-export-") as tmp:
        r = asyncio.run(measure(Path(tmp), rows, args.page_rows))
    print(f"{'rows':>9} {'wall s':>7} {'rows/s':>9} {'CPU s':>6} {'rows/CPU-s':>10} {'CSV MB':>7} {'file MB':>8} "
          f"{'gzip':>5} {'RSS+ MB':>8} {'RSS MB':>7} {'traced MB':>9} {'lag p95':>7} {'lag max':>7}")
    print(f"{r['rows']:>9,} {r['wall_s']:>7.2f} {r['rows_per_s']:>9,} {r['cpu_s']:>6.2f} {r['rows_per_cpu_s']:>10,} "
          f"{r['csv_mb']:>7.1f} {r['file_mb']:>8.1f} {r['compressed']!s:>5} "
          f"{r['rss_peak_delta_mb']:>8.1f} {r['rss_peak_mb']:>7.1f} {r['tracemalloc_peak_mb']:>9.2f} "
          f"{r['lag_p95_ms']:>7.1f} {r['lag_max_ms']:>7.1f}")
    emit("export", r)
    return [r]


if __name__ == "__main__":
    main()
