"""Cycle time and ledger throughput of the engine on the simulated world.

    .venv/bin/python benchmarks/bench_cycle.py                 # 10 and 100 campaigns
    .venv/bin/python benchmarks/bench_cycle.py --campaigns 1000 --cpu-campaigns 1000

Part 1 (real clock, simulated latency, small spacing): how long one steady-state cycle of every campaign
takes, against the lower bound set by spacing (the busiest session's groups x spacing).
Part 2 (no latency, no spacing, ledger on): forwards per CPU-second of the whole process (the aiosqlite
thread included), i.e. what the engine costs per post. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.cycle import assign_groups
from engine.engine import Engine
from pool.layout import UNUSED, ensure_dir
from sandbox.sessionfiles import make_session_bytes
from sandbox.world import World
from storage import customers
from storage import groups as group_rows
from storage import sessions as session_rows
from storage.db import Database

FIRST_CUSTOMER = 10_000


async def seed(db: Database, sessions_dir: Path, campaigns: int, sessions: int, groups: int) -> list[int]:
    """Campaigns with a post, their groups, and enough pool sessions (with their own app: no pairs)."""
    ensure_dir(sessions_dir, UNUSED)
    now = time.time()
    async with db.tx() as conn:
        for n in range(campaigns * sessions):
            key = os.urandom(256)
            name = f"bench{n:06d}.session"
            path = sessions_dir / UNUSED / name
            path.write_bytes(make_session_bytes(2, key))
            await session_rows.insert(
                conn, file_name=name, auth_key_sha=key[:32].hex(), dc_id=2, folder=UNUSED, now=now,
                own_api_id=2040, own_api_hash="0" * 32,
            )
        ids = []
        for c in range(campaigns):
            uid = FIRST_CUSTOMER + c
            await customers.grant(conn, uid, sessions, 30, now, default_interval=300)
            await customers.set_post_link(conn, uid, "https://t.me/bench_ads/1", "@bench_ads", 1, False, now)
            await group_rows.add_many(conn, uid, [f"@bench_c{c}_g{g}" for g in range(groups)], now)
            ids.append(uid)
    return ids


async def busiest_session(db: Database, uid: int) -> int:
    async with db.read() as conn:
        owned = [s.id for s in await session_rows.list_for_owner(conn, uid)]
        listed = await group_rows.list_for(conn, uid)
    plan = assign_groups(listed, owned)
    return max(len(v) for v in plan.values())


async def run(
    campaigns: int, sessions: int, groups: int, latency: float, spacing: float, cycles: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = await Database.open(root / "data" / "adbot.sqlite3")
        try:
            sessions_dir = root / "sessions"
            ids = await seed(db, sessions_dir, campaigns, sessions, groups)
            clock = SystemClock()
            world = World(clock, lenient=True, latency=latency)
            config = EngineConfig(
                send_spacing=spacing, spacing_jitter=0.0, max_in_flight=max(200, campaigns * sessions),
                send_timeout=60.0, transient_retries=0,
            )
            engine = Engine(db, world, clock, config, sessions_dir, schedule=False)
            await engine.start()
            for uid in ids:
                await engine.start_campaign(uid)
            await asyncio.gather(*(engine.run_cycle(uid) for uid in ids))  # warm-up: connects and resolves
            lower = max([await busiest_session(db, uid) for uid in ids]) * spacing
            sent = 0
            wall = cpu = 0.0
            for _ in range(cycles):
                before = world.request_count(method="forward")
                w0, c0 = time.perf_counter(), time.process_time()
                reports = await asyncio.gather(*(engine.run_cycle(uid) for uid in ids))
                wall += time.perf_counter() - w0
                cpu += time.process_time() - c0
                sent += sum(r.sent for r in reports)
                assert world.request_count(method="forward") - before == sum(r.sent for r in reports)
            batches, writes = engine.ledger.batches, engine.ledger.writes
            await engine.shutdown()
            return {
                "campaigns": campaigns,
                "cycle_s": wall / cycles,
                "lower_s": lower,
                "forwards": sent,
                "cpu_s": cpu,
                "per_cpu_s": sent / cpu if cpu else float("inf"),
                "writes_per_commit": writes / batches if batches else 0.0,
                "dupes": len(world.duplicates()),
            }
        finally:
            await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--cpu-campaigns", type=int, nargs="+", default=[100])
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05, help="simulated seconds per request (part 1)")
    parser.add_argument("--spacing", type=float, default=0.05, help="seconds between sends of a session (part 1)")
    parser.add_argument("--cycles", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    print(f"part 1: cycle time ({args.sessions} sessions x {args.groups} groups per campaign, "
          f"latency {args.latency}s, spacing {args.spacing}s, real clock)")
    print(f"{'campaigns':>10} {'cycle s':>9} {'lower s':>9} {'ratio':>7} {'forwards':>9}")
    for n in args.campaigns:
        r = asyncio.run(run(n, args.sessions, args.groups, args.latency, args.spacing, args.cycles))
        ratio = r["cycle_s"] / r["lower_s"] if r["lower_s"] else float("inf")
        print(f"{n:>10} {r['cycle_s']:>9.2f} {r['lower_s']:>9.2f} {ratio:>7.2f} {int(r['forwards']):>9}")

    print("\npart 2: forwards per CPU-second (no latency, no spacing, ledger on)")
    print(f"{'campaigns':>10} {'forwards':>9} {'cpu s':>8} {'fwd/cpu-s':>10} {'writes/commit':>14}")
    for n in args.cpu_campaigns:
        r = asyncio.run(run(n, args.sessions, args.groups, 0.0, 0.0, args.cycles))
        print(f"{n:>10} {int(r['forwards']):>9} {r['cpu_s']:>8.2f} {r['per_cpu_s']:>10.0f} "
              f"{r['writes_per_commit']:>14.1f}")


if __name__ == "__main__":
    main()
