"""Start-up time with many customers and sessions in the database.

Builds a database with N customers (each with a link post, 3 groups and 3 sessions: 3N sessions, files
as tiny placeholders in the folders their rows name, which start-up reconciles) and measures, in a fresh
process state, the time from ``create_app`` (database open + migrations, pool preparation: pair capacity
and folder reconciliation, engine and bot objects) to a started engine (every running campaign
rebuilt: ``on_restart = "resume"`` schedules them all, ``"stop"`` stops them and records an event each).

    .venv/bin/python benchmarks/bench_startup.py [--customers 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from control_bot.app import create_app
from control_bot.config import settings_from_dict
from engine.clock import SystemClock
from sandbox.world import World
from storage.db import Database

NOW = time.time()


async def build_database(root: Path, customers: int, sessions_per_customer: int) -> None:
    db = await Database.open(root / "data" / "adbot.sqlite3")  # schema by the real migrations
    await db.close()
    conn = sqlite3.connect(root / "data" / "adbot.sqlite3")
    with conn:
        conn.execute(
            "INSERT INTO api_pairs (api_id, api_hash, capacity, created_at) VALUES (1, ?, 7, ?)", ("0" * 32, NOW)
        )
        conn.executemany(
            "INSERT INTO customers (user_id, plan_sessions, plan_expires_at, created_at, post_kind, post_link,"
            " post_peer, post_msg_id, interval_s, status, cycle_no, cycle_started_at, cycle_finished_at,"
            " next_cycle_at, updated_at) VALUES (?, ?, ?, ?, 'link', 'https://t.me/ads/1', '@ads', 1, 300,"
            " 'running', 7, ?, ?, ?, ?)",
            [
                (uid, sessions_per_customer, NOW + 86_400 * 30, NOW, NOW - 10, NOW - 5, NOW + 3600, NOW)
                for uid in range(1, customers + 1)
            ],
        )
        conn.executemany("INSERT INTO stats (customer_id) VALUES (?)", [(u,) for u in range(1, customers + 1)])
        conn.executemany(
            "INSERT INTO groups (customer_id, ref, added_at) VALUES (?, ?, ?)",
            [(uid, f"@group_{uid}_{g}", NOW) for uid in range(1, customers + 1) for g in range(3)],
        )
        rows = []
        sid = 0
        for uid in range(1, customers + 1):
            for _ in range(sessions_per_customer):
                sid += 1
                rows.append((f"s{sid:08x}.session", f"sha{sid}", uid, f"assigned/{uid}", NOW, NOW))
        conn.executemany(
            "INSERT INTO sessions (file_name, auth_key_sha, dc_id, state, owner_id, folder, added_at,"
            " state_changed_at, own_api_id, own_api_hash) VALUES (?, ?, 2, 'assigned', ?, ?, ?, ?, 1, 'x')",
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    print(f"start-up: {args.customers} customers, {3 * args.customers} sessions (target < 5 s at 10,000)")
    for policy in ("resume", "stop"):
        with tempfile.TemporaryDirectory(prefix="adbot-bench-startup-") as tmp:
            root = Path(tmp)
            t0 = time.perf_counter()
            await build_database(root, args.customers, 3)
            built = time.perf_counter() - t0
            elapsed, cpu_used, scheduled = await measure(root, policy)
            print(
                f"  on_restart={policy:6s} ready in {elapsed:6.2f} s wall ({cpu_used:5.2f} s CPU);"
                f" running campaigns after start: {scheduled}; (fixture built in {built:.1f} s)"
            )


if __name__ == "__main__":
    asyncio.run(main())
