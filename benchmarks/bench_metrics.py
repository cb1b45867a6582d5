"""What one Prometheus scrape costs (issue 20 part C): ``control_bot.metrics`` reads a snapshot from storage
at scrape time, so its cost grows with the tables it reads, never with the sends it reports on.

A fleet (``common.seed``: campaigns x sessions x groups) with a full hour of sends in the ledger (every
group once, a tenth of them failed with one of a few errors) and older sends besides; then ``--scrapes``
scrapes of the snapshot and its rendering, timed (wall and CPU), and the size of the page.

    python -m benchmarks.bench_metrics            # 2,000 campaigns x 5 sessions x 50 groups, 100,000 sends/hour
    python -m benchmarks.bench_metrics --quick    # 100 campaigns
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import emit, header, machine, percentile, seed
from control_bot.metrics import render, snapshot
from storage.db import Database

ERRORS = ("ChatWriteForbiddenError", "SlowModeWaitError", "ChannelPrivateError", "UserBannedInChannelError")


def fill_ledger(db_path: Path, customers: list[int], groups: int, now: float, hours: int) -> int:
    """``hours`` cycles of sends per campaign, one an hour, the newest inside the last hour; returns the rows."""
    conn = sqlite3.connect(db_path)
    rows = 0
    try:
        with conn:
            for hour in range(hours):
                at = now - 1800 - hour * 3600
                batch = []
                for uid in customers:
                    for g in range(groups):
                        failed = (uid + g + hour) % 10 == 0
                        batch.append((
                            uid, hour + 1, f"@bench_{uid}_{g}", "failed" if failed else "sent",
                            ERRORS[(uid + g) % len(ERRORS)] if failed else None,
                            None if failed else 100 + g, (uid << 20) + (hour << 10) + g, at, at + 1,
                        ))
                conn.executemany(
                    "INSERT INTO sends (customer_id, cycle_no, group_ref, outcome, error, message_id, random_id,"
                    " started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    batch,
                )
                rows += len(batch)
            conn.execute(
                "UPDATE stats SET total_posts = ?, total_success = ?, total_failures = ?, total_flood_waits = 1",
                (hours * groups, hours * groups * 9 // 10, hours * groups // 10),
            )
    finally:
        conn.close()
    return rows


async def measure(
    root: Path, campaigns: int, sessions: int, groups: int, hours: int, scrapes: int
) -> dict[str, object]:
    now = time.time()
    fleet = seed(root, campaigns=campaigns, sessions=sessions, groups=groups, running=True, now=now)
    rows = fill_ledger(fleet.db_path, fleet.customers, groups, now, hours)
    db = await Database.open(fleet.db_path)
    walls: list[float] = []
    cpus: list[float] = []
    size = 0
    try:
        for _ in range(scrapes):
            wall, cpu = time.perf_counter(), time.process_time()
            page = render(await snapshot(db, None, now))
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            size = len(page)
    finally:
        await db.close()
    return {
        "campaigns": campaigns, "sessions": campaigns * sessions, "groups": campaigns * groups,
        "ledger_rows": rows, "sends_last_hour": campaigns * groups, "scrapes": scrapes,
        "wall_ms_p50": round(percentile(walls, 50) * 1000, 1), "wall_ms_p95": round(percentile(walls, 95) * 1000, 1),
        "cpu_ms_mean": round(sum(cpus) / len(cpus) * 1000, 1), "page_bytes": size,
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--campaigns", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--hours", type=int, default=3, help="cycles of sends in the ledger (one an hour)")
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="100 campaigns")
    args = parser.parse_args(argv)
    if args.quick:
        args.campaigns = 100
    header("metrics scrape")
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(Path(tmp), args.campaigns, args.sessions, args.groups, args.hours, args.scrapes))
    print(figures)
    emit("metrics", figures)
    return figures


if __name__ == "__main__":
    main()
