"""Start-up time with many customers and sessions in the database.

Builds a database with N customers (each with a link post, 3 groups and 3 sessions: 3N sessions, files
as tiny placeholders in the folders their rows name, which start-up reconciles) and measures, in a fresh
process state, the time from ``create_app`` (database open + migrations, pool preparation: pair capacity
and folder reconciliation, engine and bot objects) to a started engine (every running campaign
rebuilt: ``on_restart = "resume"`` schedules them all, ``"stop"`` stops them and records an event each).

    .venv/bin/python -m benchmarks.bench_startup [--quick] [--customers 10000]

What bounds it: one walk over the session folders (one ``scandir`` entry and one ``chmod`` per file),
one read of every session row and every running campaign, then either 10,000 scheduler jobs (resume) or
one transaction that stops every campaign with an event each (stop).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import emit, header, machine
from control_bot.app import create_app
from core.clock import SystemClock
from core.config import settings_from_dict
from sandbox.world import World
from storage.db import Database

NOW = time.time()
TARGET_S = 5.0


async def build_database(root: Path, customers: int, sessions_per_customer: int) -> None:
    db = await Database.open(root / "data" / "adbot.sqlite3")  # schema by the real migrations
    await db.close()
    conn = sqlite3.connect(root / "data" / "adbot.sqlite3")
    with conn:
        conn.execute(
            "INSERT INTO api_pairs (api_id, api_hash, capacity, created_at) VALUES (1, ?, 7, ?)", ("0" * 32, NOW)
        )
        conn.executemany(
            "INSERT INTO customers (user_id, plan_sessions, plan_expires_at, created_at, interval_s, status,"
            " cycle_no, cycle_started_at, cycle_finished_at, next_cycle_at, updated_at) VALUES (?, ?, ?, ?, 300,"
            " 'running', 7, ?, ?, ?, ?)",
            [
                (uid, sessions_per_customer, NOW + 86_400 * 30, NOW, NOW - 10, NOW - 5, NOW + 3600, NOW)
                for uid in range(1, customers + 1)
            ],
        )
        conn.executemany(  # each campaign's one post (storage.posts)
            "INSERT INTO posts (customer_id, position, kind, link, peer, msg_id, created_at)"
            " VALUES (?, 0, 'link', 'https://t.me/ads/1', '@ads', 1, ?)",
            [(uid, NOW) for uid in range(1, customers + 1)],
        )
        conn.executemany("INSERT INTO stats (customer_id) VALUES (?)", [(u,) for u in range(1, customers + 1)])
        conn.executemany(
            "INSERT INTO groups (customer_id, ref, added_at) VALUES (?, ?, ?)",
            [(uid, f"@group_{uid}_{g}", NOW) for uid in range(1, customers + 1) for g in range(3)],
        )
        # their own app (api id 2) is not the pool pair's (1): the pair's cap would count them otherwise
        rows = []
        sid = 0
        for uid in range(1, customers + 1):
            for _ in range(sessions_per_customer):
                sid += 1
                rows.append((f"s{sid:08x}.session", f"sha{sid}", uid, f"assigned/{uid}", NOW, NOW))
        conn.executemany(
            "INSERT INTO sessions (file_name, auth_key_sha, dc_id, state, owner_id, folder, added_at,"
            " state_changed_at, own_api_id, own_api_hash) VALUES (?, ?, 2, 'assigned', ?, ?, ?, ?, 2, 'x')",
            rows,
        )
    conn.close()
    sessions_dir = root / "sessions"
    for file_name, _sha, _uid, folder, _a, _b in rows:
        target = sessions_dir / folder
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        (target / file_name).write_bytes(b"")


async def measure(root: Path, on_restart: str) -> tuple[float, float, int]:
    settings = settings_from_dict(
        {
            "bot": {"token": "1:" + "x" * 35, "api_base": "http://127.0.0.1:9", "admins": [1]},
            "engine": {"backend": "simulated", "on_restart": on_restart},
        },
        root,
    )
    clock = SystemClock()
    started = time.perf_counter()
    cpu = time.process_time()
    app = await create_app(settings, clock=clock, factory=World(clock, lenient=True), configure_logging=False)
    await app.engine.start()
    elapsed = time.perf_counter() - started
    cpu_used = time.process_time() - cpu
    scheduled = app.engine.health().running_campaigns
    await app.engine.shutdown()
    await app.close()
    return elapsed, cpu_used, scheduled


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 customers")
    parser.add_argument("--customers", type=int, default=None, help="default 10,000")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    customers = args.customers or (1000 if args.quick else 10_000)
    header(f"start-up: {customers} customers, {3 * customers} sessions (target < {TARGET_S:g} s at 10,000)")
    results = []
    for policy in ("resume", "stop"):
        with tempfile.TemporaryDirectory(prefix="adbot-bench-startup-") as tmp:
            root = Path(tmp)
            t0 = time.perf_counter()
            asyncio.run(build_database(root, customers, 3))
            built = time.perf_counter() - t0
            elapsed, cpu_used, scheduled = asyncio.run(measure(root, policy))
        print(
            f"  on_restart={policy:6s} ready in {elapsed:6.2f} s wall ({cpu_used:5.2f} s CPU);"
            f" running campaigns after start: {scheduled}; (fixture built in {built:.1f} s)",
            flush=True,
        )
        r = {"customers": customers, "sessions": 3 * customers, "on_restart": policy, "wall_s": elapsed,
             "cpu_s": cpu_used, "running_after": scheduled, "target_s": TARGET_S}
        results.append(r)
        emit("startup", r)
    print(f"(load average {machine()['load']})")
    return results


if __name__ == "__main__":
    main()
