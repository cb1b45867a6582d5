"""Cycle time against its lower bound, with simulated latency and real spacing, as campaigns grow.

    .venv/bin/python -m benchmarks.bench_cycle [--quick] [--campaigns 10 100 1000] [--spacing 5] [--latency 0.05]

Each campaign has 3 sessions x 20 groups per session (60 groups: 60,000 forwards per cycle at 1,000
campaigns). Every campaign's cycle starts at once (the worst case: in production start times spread
out), on the real clock, against the simulated world answering each request after ``latency``.

The engine spaces the sends of one session start-to-start: the next request of a session starts
``send_spacing`` after the previous one started, so latency does not add up. A cycle therefore cannot
take less than ``(n - 1) x spacing + latency``, n being the groups of the campaign's busiest session
(groups are spread over sessions by hashing, so n is a little over 20). ``ratio`` = the fleet's cycle
time (from the start of every cycle to the end of the last one) / that bound; the engine keeps up while
it stays near 1.0.

The full run uses 5 s spacing (``FULL_RUN_SPACING``: a third of the product's default 15 s): at 1,000
campaigns x 3 sessions that is 600 sends per second; ``--spacing 2`` (1,500 per second) is the stress
variant, ``--quick`` (0.2 s, 10 and 100 campaigns) the short one. Jitter is 0 so the bound is exact
(with jitter the busiest of 3,000 sessions draws a longer sum of spacings, which measures the dice, not
the engine); every session then sends at the same instants, the hardest case for the engine.
``req/post``: every Telegram request the world answered during the measured cycle (connects, dialogs,
resolves, sends) per post delivered: 1.00 in the steady state (each session's dialogs were read and its
channel resolved in an earlier cycle; every group is addressed with the session's own stored peer).
``--posts N`` gives each campaign N posts in rotation (``--rotation order`` by default; issue 19): the
first the channel's post 1, then by turns an own text and the channel's next post. The warm-up then runs
N cycles, so every post was carried once (each session read each forwarded post's album once and sent
each text once) and the measured cycle carries a post again: still one request per post.
``min gap``: the shortest time between the starts of two post requests of one account, as the world
saw them, / spacing. The engine spaces each request from its own timestamp of the previous one; the
world reads its clock a few calls later, so a pause of the loop's thread in between (a garbage
collection, the GIL held by an SQLite thread) can show as a gap a few tens of milliseconds short.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    FULL_RUN_SPACING,
    KEEP_CONNECTED,
    NO_CAP_REACHED,
    SOURCE,
    emit,
    header,
    machine,
    seed,
    split_cpu,
    thread_cpu,
)
from core.clock import SystemClock
from core.config import EngineSettings
from engine.engine import Engine
from pool.supply import PoolSupply
from sandbox.world import World
from storage import customers as customer_rows
from storage import posts as post_rows
from storage.db import Database

TARGET_RATIO = 1.1


async def measure(
    root: Path, *, campaigns: int, sessions: int, groups: int, latency: float, spacing: float, jitter: float,
    posts: int = 1, rotation: str = "order",
) -> dict[str, Any]:
    clock = SystemClock()
    world = World(clock, lenient=True, latency=latency)
    fleet = seed(root, campaigns=campaigns, sessions=sessions, groups=sessions * groups, running=False, world=world)
    db = await Database.open(fleet.db_path)
    if posts > 1:
        await add_posts(db, world, fleet.customers, posts, rotation)
    config = EngineSettings(
        send_spacing=spacing, spacing_jitter=jitter, transient_retries=0, send_timeout=60.0, **NO_CAP_REACHED,
        **KEEP_CONNECTED,
    )
    engine = Engine(db, world, PoolSupply(db, fleet.sessions_dir), clock, config, schedule=False, connect_rate=None)
    try:
        await engine.start()
        for uid in fleet.customers:
            await engine.start_campaign(uid)
        # Warm-up: one cycle without latency or spacing, so the measured one is the steady state (accounts
        # connected, each campaign's plan of groups over sessions known, statistics rows present).
        world.latency = 0.0
        engine.rt.config = config.model_copy(update={"send_spacing": 0.0})
        for _ in range(posts):  # every post carried once (in order: the measured cycle carries the first again)
            await asyncio.gather(*(engine.run_cycle(uid) for uid in fleet.customers))
        world.latency, engine.rt.config = latency, config
        starts: dict[str, list[float]] = defaultdict(list)  # account -> when each post request started

        def on_step(point: str, account: str) -> None:
            if point == "request:forward":
                starts[account].append(time.perf_counter())

        world.step_hook = on_step
        requests0, delivered0 = world.request_count(), len(world.deliveries)
        threads0, cpu0, wall0 = thread_cpu(), time.process_time(), time.perf_counter()
        reports = await asyncio.gather(*(engine.run_cycle(uid) for uid in fleet.customers))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        loop_cpu, db_cpu = split_cpu(threads0, thread_cpu())
        sent = sum(r.sent for r in reports)
        requests, delivered = world.request_count() - requests0, len(world.deliveries) - delivered0
        if sent != fleet.group_count or world.duplicates():
            raise RuntimeError(f"{sent} of {fleet.group_count} posts sent, {len(world.duplicates())} double posts")
        busiest = engine.rt.plans.busiest()
        bound = (busiest - 1) * spacing + latency
        per_campaign = [r.finished_at - r.started_at for r in reports if r.finished_at is not None]
        gaps = [b - a for times in starts.values() for a, b in itertools.pairwise(times)]
        return {
            "campaigns": campaigns,
            "posts": posts,
            "rotation": rotation,
            "forwards": sent,
            "spacing_s": spacing,
            "latency_s": latency,
            "busiest_session_groups": busiest,
            "cycle_s": wall,
            "bound_s": bound,
            "ratio": wall / bound,
            "median_campaign_cycle_s": statistics.median(per_campaign),
            "cpu_s": cpu,
            "cpu_util": cpu / wall,
            "loop_util": loop_cpu / wall,
            "db_cpu_s": db_cpu,
            "forwards_per_s": sent / wall,
            "requests_per_post": requests / max(1, delivered),
            "min_gap_over_spacing": min(gaps) / spacing if gaps and spacing else float("nan"),
            "writes_per_commit": engine.ledger.writes / max(1, engine.ledger.batches),
        }
    finally:
        await engine.shutdown()
        await db.close()


async def add_posts(db: Database, world: World, customers: list[int], count: int, rotation: str) -> None:
    """Each campaign's post 1 (the seed's link) followed by ``count - 1`` more: own texts and the channel's
    next posts by turns."""
    channel = world.chat(SOURCE)
    assert channel is not None
    now = time.time()
    async with db.tx() as conn:
        for uid in customers:
            for n in range(1, count):
                if n % 2:
                    await post_rows.add_own(conn, uid, f"Own post {n} of campaign {uid}", [], 0, now)
                else:
                    msg_id = n // 2 + 1
                    channel.posts.setdefault(msg_id, f"post {msg_id}")
                    await post_rows.add_link(conn, uid, f"https://t.me/{SOURCE[1:]}/{msg_id}", SOURCE, msg_id, now)
            await customer_rows.set_rotation(conn, uid, rotation, now)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 and 100 campaigns at spacing 0.2 s")
    parser.add_argument("--campaigns", type=int, nargs="+", default=None)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--groups", type=int, default=20, help="groups per session")
    parser.add_argument("--latency", type=float, default=0.05, help="simulated seconds per request")
    parser.add_argument("--spacing", type=float, default=None, help="send_spacing (start to start), seconds")
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--posts", type=int, default=1, help="posts per campaign, in rotation")
    parser.add_argument("--rotation", choices=("order", "random"), default="order")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sizes = args.campaigns or ([10, 100] if args.quick else [10, 100, 1000])
    spacing = args.spacing if args.spacing is not None else (0.2 if args.quick else FULL_RUN_SPACING)

    header(f"cycle time vs lower bound: {args.sessions} sessions x {args.groups} groups per campaign, latency "
           f"{args.latency * 1000:.0f} ms, spacing {spacing:g} s (start to start), jitter {args.jitter:g}, real clock"
           + (f", {args.posts} posts in rotation ({args.rotation})" if args.posts > 1 else ""))
    print(f"{'campaigns':>9} {'forwards':>8} {'busiest':>7} {'bound s':>8} {'cycle s':>8} {'ratio':>6} "
          f"{'fwd/s':>6} {'req/post':>8} {'cpu %':>6} {'loop %':>6} {'min gap':>7} {'w/commit':>8}")
    results = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="adbot-bench-") as tmp:
            r = asyncio.run(measure(Path(tmp), campaigns=n, sessions=args.sessions, groups=args.groups,
                                    latency=args.latency, spacing=spacing, jitter=args.jitter, posts=args.posts,
                                    rotation=args.rotation))
        results.append(r)
        print(f"{n:>9} {r['forwards']:>8} {r['busiest_session_groups']:>7} {r['bound_s']:>8.2f} {r['cycle_s']:>8.2f} "
              f"{r['ratio']:>6.3f} {r['forwards_per_s']:>6.0f} {r['requests_per_post']:>8.2f} "
              f"{r['cpu_util'] * 100:>5.0f}% "
              f"{r['loop_util'] * 100:>5.0f}% {r['min_gap_over_spacing']:>7.2f} {r['writes_per_commit']:>8.1f}",
              flush=True)
        emit("cycle", {**r, "target_ratio": TARGET_RATIO})
    print(f"(bound = (busiest - 1) x spacing + latency; cpu % = process CPU / wall over the cycle (2 cores = 200 %);"
          f" loop % = the event-loop thread alone; target ratio <= {TARGET_RATIO} at 1,000 campaigns;"
          f" load average {machine()['load']})")
    return results


if __name__ == "__main__":
    main()
