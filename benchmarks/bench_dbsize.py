"""Database size per million sends, what retention folds it into, and what a backup of it costs.

    .venv/bin/python -m benchmarks.bench_dbsize [--quick] [--sends 1000000] [--campaigns 200] [--groups 50]
                                                 [--per-day 6] [--batch 1000] [--no-backup]

A fresh database with ``campaigns`` customers of ``groups`` groups and 3 sessions each (``common.seed``);
then ``sends`` ledger rows written through the engine's own write path (``storage.ledger``: each send's
'pending' intent, then its outcome with the statistics, one transaction per campaign cycle), ``per-day``
cycles a day (6: three sessions at the default daily cap of 100 over 50 groups), outcomes 90 % sent
(with a message id), 5 % failed (with an error name), 2 % in doubt, 3 % skipped. Figures:

* ``bytes_per_send``: the database file after a checkpoint, over the sends (schema and the other tables
  are a rounding error at this size); ``sends_table_mb`` / ``sends_index_mb``: the ``sends`` table and its
  three indexes alone (SQLite's ``dbstat``);
* retention: every row but each campaign's current cycle folded into ``send_days`` with the product's
  batch size (``storage.retention.fold_old_sends``): rows per second, the longest single batch (how long
  the engine's writes can wait behind it), the ``send_days`` rows and bytes left, the file size after
  (SQLite keeps the freed pages for the next rows: the file stops growing rather than shrinking) and
  after ``VACUUM``;
* backup: ``adbot backup`` of the full database (``control_bot.backup.archive.create_backup``): seconds
  and archive size.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DAY, emit, header, machine, seed
from control_bot.backup.archive import create_backup
from core.states import SendOutcome
from storage import ledger
from storage.db import Database
from storage.ledger import Intent, Result
from storage.retention import fold_old_sends

OUTCOMES: tuple[tuple[SendOutcome, float], ...] = (
    ("sent", 0.90), ("failed", 0.05), ("in_doubt", 0.02), ("skipped", 0.03)
)
ERRORS = ("CHAT_WRITE_FORBIDDEN", "USER_BANNED_IN_CHANNEL", "SLOWMODE_WAIT", "CHANNEL_PRIVATE")
MB = 1024 * 1024


def _outcome(rng: random.Random) -> SendOutcome:
    x = rng.random()
    for outcome, share in OUTCOMES:
        if x < share:
            return outcome
        x -= share
    return "sent"


def _cycle_rows(
    rng: random.Random, customer: int, cycle: int, refs: list[str], sessions: list[int], at: float
) -> tuple[list[Intent], list[Result]]:
    intents: list[Intent] = []
    results: list[Result] = []
    for n, ref in enumerate(refs):
        sid = sessions[n % len(sessions)]
        started = at + n * 15.0 + rng.random()
        random_id = rng.getrandbits(63)
        outcome = _outcome(rng)
        if outcome != "skipped":
            intents.append(Intent(customer, cycle, ref, sid, random_id, started))
        results.append(Result(
            customer, cycle, ref, sid if outcome != "skipped" else None, outcome, random_id, started + 0.3,
            error=rng.choice(ERRORS) if outcome == "failed" else ("daily_cap" if outcome == "skipped" else None),
            message_id=rng.randrange(1, 2_000_000) if outcome == "sent" else None,
            attempts=0 if outcome == "skipped" else 1,
        ))
    return intents, results


def _write(raw: sqlite3.Connection, intents: list[Intent], results: list[Result], cycle_of: dict[int, int]) -> None:
    ledger.insert_intents_sync(raw, intents)
    ledger.apply_results_sync(raw, results)
    raw.executemany("UPDATE customers SET cycle_no = ? WHERE user_id = ?", [(c, u) for u, c in cycle_of.items()])


def file_mb(conn: sqlite3.Connection) -> float:
    pages, size = conn.execute("PRAGMA page_count").fetchone()[0], conn.execute("PRAGMA page_size").fetchone()[0]
    return float(pages * size) / MB


def table_mb(conn: sqlite3.Connection, *names: str) -> float:
    marks = ",".join("?" * len(names))
    row = conn.execute(f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({marks})", names).fetchone()
    return float(row[0]) / MB


async def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    start = (time.time() // DAY - 400) * DAY  # a UTC midnight: which days the cycles fall on is fixed
    fleet = seed(root, campaigns=args.campaigns, sessions=3, groups=args.groups, running=False, now=start)
    rng = random.Random(20)
    db = await Database.open(fleet.db_path)
    written = cycle = 0
    cycles_per_campaign = -(-args.sends // (args.campaigns * args.groups))
    step = DAY / args.per_day
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        while written < args.sends and cycle < cycles_per_campaign:
            cycle += 1
            at = start + cycle * step
            for customer in fleet.customers:
                if written >= args.sends:
                    break
                intents, results = _cycle_rows(
                    rng, customer, cycle, fleet.groups[customer], fleet.sessions[customer], at
                )
                cycle_of = {customer: cycle}
                await db.transact_sync(lambda raw, i=intents, r=results, c=cycle_of: _write(raw, i, r, c))
                written += len(results)
        write_s, write_cpu = time.perf_counter() - t0, time.process_time() - c0
        days = cycle / args.per_day
        check = sqlite3.connect(fleet.db_path)
        check.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        full_mb = file_mb(check)
        sends_mb = table_mb(check, "sends")
        index_mb = table_mb(check, *(r[0] for r in check.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sends'"
        )))
        stats_before = check.execute("SELECT SUM(total_success), SUM(total_failures) FROM stats").fetchone()
        biggest = check.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY SUM(pgsize) DESC LIMIT 6"
        ).fetchall()
        print("biggest objects: " + ", ".join(f"{name} {size / MB:.1f} MiB" for name, size in biggest), flush=True)
        print(f"{written:,} sends over {days:.1f} days written in {write_s:.1f} s ({write_cpu:.1f} s CPU): "
              f"file {full_mb:.1f} MiB "
              f"(sends {sends_mb:.1f} MiB + its three indexes {index_mb:.1f} MiB)", flush=True)

        backup: dict[str, Any] = {}
        if args.backup:
            dest = root / "backup.tar.gz"
            b0 = time.process_time()
            result = await asyncio.to_thread(create_backup, fleet.db_path.parent, fleet.sessions_dir, dest)
            backup_cpu = time.process_time() - b0
            backup = {"backup_s": round(result.seconds, 2), "backup_cpu_s": round(backup_cpu, 2),
                      "backup_mb": round(result.size / MB, 1)}
            print(f"backup: {result.size / MB:.1f} MiB archive in {result.seconds:.1f} s "
                  f"({backup_cpu:.1f} s CPU)", flush=True)

        # retention: everything but each campaign's current cycle, in the product's batches
        cutoff = start + (cycle + 1) * step
        spans: list[float] = []
        folded = batches = 0
        f0, fc0 = time.perf_counter(), time.process_time()
        while True:
            b0 = time.perf_counter()
            one = await fold_old_sends(db, cutoff, batch=args.batch, max_batches=1)
            spans.append(time.perf_counter() - b0)
            folded += one.rows
            batches += 1
            if one.rows < args.batch:
                break
        fold_s, fold_cpu = time.perf_counter() - f0, time.process_time() - fc0
        spans.sort()
        longest, median, p95 = spans[-1], spans[len(spans) // 2], spans[min(len(spans) - 1, int(len(spans) * 0.95))]
        check.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        after_mb = file_mb(check)
        free_mb = check.execute("PRAGMA freelist_count").fetchone()[0] * check.execute(
            "PRAGMA page_size").fetchone()[0] / MB
        days_rows = check.execute("SELECT COUNT(*) FROM send_days").fetchone()[0]
        days_mb = table_mb(check, "send_days", "sqlite_autoindex_send_days_1")
        left = check.execute("SELECT COUNT(*) FROM sends").fetchone()[0]
        stats_after = check.execute("SELECT SUM(total_success), SUM(total_failures) FROM stats").fetchone()
        assert stats_after == stats_before, "retention changed the totals"
        compact = root / "compact.sqlite3"
        check.execute("VACUUM INTO ?", (str(compact),))
        vacuum_mb = compact.stat().st_size / MB
        check.close()
    finally:
        await db.close()
    print(f"retention: {folded:,} rows folded in {batches} batches of {args.batch:,} in {fold_s:.1f} s "
          f"({fold_cpu:.1f} s CPU) "
          f"({folded / max(fold_s, 1e-9):,.0f} rows/s; a batch: median {median * 1000:.0f}, p95 {p95 * 1000:.0f}, max "
          f"{longest * 1000:.0f} ms); {left:,} rows left "
          f"(current cycles), {days_rows:,} send_days rows ({days_mb:.1f} MiB); file {after_mb:.1f} MiB "
          f"({free_mb:.1f} MiB free pages, reused by new rows), {vacuum_mb:.1f} MiB after VACUUM", flush=True)
    return {
        "sends": written, "campaigns": args.campaigns, "groups": args.groups, "per_day": args.per_day,
        "days": round(days, 1), "write_s": round(write_s, 1), "write_cpu_s": round(write_cpu, 1),
        "file_mb": round(full_mb, 1), "bytes_per_send": round(full_mb * MB / written, 1),
        "mb_per_million": round(full_mb / written * 1e6, 1),
        "sends_table_mb": round(sends_mb, 1), "sends_index_mb": round(index_mb, 1),
        "folded": folded, "batches": batches, "batch": args.batch,
        "fold_s": round(fold_s, 2), "fold_cpu_s": round(fold_cpu, 2),
        "fold_rows_per_s": round(folded / max(fold_s, 1e-9)), "longest_batch_ms": round(longest * 1000, 1),
        "median_batch_ms": round(median * 1000, 1), "p95_batch_ms": round(p95 * 1000, 1),
        "rows_left": left, "send_days_rows": days_rows, "send_days_mb": round(days_mb, 2),
        "bytes_per_send_day_row": round(days_mb * MB / max(days_rows, 1), 1),
        "file_after_mb": round(after_mb, 1), "free_mb": round(free_mb, 1), "vacuum_mb": round(vacuum_mb, 1),
        **backup,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 sends")
    parser.add_argument("--sends", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--per-day", type=int, default=6, help="cycles a day per campaign")
    parser.add_argument("--batch", type=int, default=1_000, help="rows per retention transaction")
    parser.add_argument("--no-backup", dest="backup", action="store_false")
    args = parser.parse_args(argv)
    if args.quick:
        args.sends = min(args.sends, 100_000)
    header(f"database size: {args.sends:,} sends, {args.campaigns} campaigns x {args.groups} groups")
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-dbsize-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    emit("dbsize", result)
    return result


if __name__ == "__main__":
    main()
