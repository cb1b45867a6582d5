"""Engine overhead: forwards per second of CPU, with no simulated latency and the durable ledger on.

    .venv/bin/python -m benchmarks.bench_overhead [--quick] [--campaigns 1000] [--cycles 2] [--repeat 3]

1,000 campaigns x 3 sessions x 20 groups per session (60,000 forwards per cycle) on a real SQLite file,
every peer already resolved (the steady state: one request per post), no spacing, no latency: the
engine goes as fast as the CPU lets it. The figure is forwards / process CPU time (``time.process_time``:
every thread, SQLite's included) over whole cycles, after one warm-up cycle. CPU time rather than wall
time because the machine is shared: other processes slow the wall clock, not the CPU spent.

Three set-ups:
  world      the simulated Telegram (``sandbox.world``): its own bookkeeping per post is included;
  engine     a port that answers at once and keeps nothing: what the engine alone costs;
  world+log  the world with the product's logging (INFO, ``adbot.log`` and the per-customer files,
             no console): what a post costs with its log lines. ``log us`` is the log writer thread's
             CPU per forward (part of the process CPU; the event loop only queues the records).

``logging on / off`` = forwards per CPU-second of world+log / of world (issue 22: at least 90 %); on a
shared machine one run of each swings by several per cent, so ``--repeat N`` alternates the set-ups N
times and compares the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    KEEP_CONNECTED,
    NO_CAP_REACHED,
    NullFactory,
    emit,
    header,
    machine,
    seed,
    split_cpu,
    thread_cpu,
)
from control_bot.logfiles import setup_logging
from control_bot.logwriter import WRITER_THREAD
from core.clock import SystemClock
from core.config import EngineSettings
from core.ports import AccountFactory
from engine.engine import Engine
from pool.supply import PoolSupply
from sandbox.world import World
from storage.db import Database

TARGET = 2000.0  # forwards per CPU-second
LOG_TARGET = 0.90  # forwards per CPU-second with logging on, against off (issue 22)


async def measure(
    root: Path, *, campaigns: int, sessions: int, groups: int, cycles: int, setup: str
) -> dict[str, Any]:
    clock = SystemClock()
    world = World(clock, lenient=True, latency=0.0) if setup != "engine" else None
    fleet = seed(root, campaigns=campaigns, sessions=sessions, groups=sessions * groups, running=False,
                 world=world)
    factory: AccountFactory = world if world is not None else NullFactory()
    db = await Database.open(fleet.db_path)
    config = EngineSettings(
        send_spacing=0.0, spacing_jitter=0.0, transient_retries=0, send_timeout=60.0, **NO_CAP_REACHED,
        **KEEP_CONNECTED,
    )
    engine = Engine(db, factory, PoolSupply(db, fleet.sessions_dir), clock, config, schedule=False, connect_rate=None)
    try:
        await engine.start()
        for uid in fleet.customers:
            await engine.start_campaign(uid)
        await asyncio.gather(*(engine.accounts.get(sid) for sid in fleet.session_ids))
        runs: list[dict[str, float]] = []
        for n in range(cycles + 1):  # the first one warms up (first rows of the stats tables, allocator)
            threads0, cpu0, wall0 = thread_cpu(), time.process_time(), time.perf_counter()
            reports = await asyncio.gather(*(engine.run_cycle(uid) for uid in fleet.customers))
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            threads1 = thread_cpu()
            loop_cpu, other_cpu = split_cpu(threads0, threads1)
            log_cpu = sum(threads1.get(t, 0.0) - threads0.get(t, 0.0) for t in writer_threads())
            other_cpu -= log_cpu
            sent = sum(r.sent for r in reports)
            if sent != fleet.group_count:
                raise RuntimeError(f"cycle {n}: {sent} of {fleet.group_count} posts sent")
            runs.append({"sent": sent, "cpu": cpu, "wall": wall, "loop_cpu": loop_cpu, "db_cpu": other_cpu,
                         "log_cpu": log_cpu})
        if world is not None and world.duplicates():
            raise RuntimeError("double posts")
        steady = runs[1:]
        sent = sum(r["sent"] for r in steady)
        cpu = sum(r["cpu"] for r in steady)
        best = min(r["sent"] / r["cpu"] for r in steady)
        return {
            "setup": setup,
            "campaigns": campaigns,
            "forwards": sent,
            "cpu_s": cpu,
            "wall_s": sum(r["wall"] for r in steady),
            "fwd_per_cpu_s": sent / cpu,
            "worst_cycle_fwd_per_cpu_s": best,
            "first_cycle_fwd_per_cpu_s": runs[0]["sent"] / runs[0]["cpu"],
            "us_per_fwd_loop": sum(r["loop_cpu"] for r in steady) / sent * 1e6,
            "us_per_fwd_db": sum(r["db_cpu"] for r in steady) / sent * 1e6,
            "us_per_fwd_log_writer": sum(r["log_cpu"] for r in steady) / sent * 1e6,
            "writes_per_commit": engine.ledger.writes / max(1, engine.ledger.batches),
        }
    finally:
        await engine.shutdown()
        await db.close()


def writer_threads() -> list[str]:
    """The log writer's thread id(s) as /proc names them (none unless logging is set up)."""
    return [str(t.native_id) for t in threading.enumerate() if t.name == WRITER_THREAD and t.native_id]


def run(setup: str, **kwargs: Any) -> dict[str, Any]:
    root_logger = logging.getLogger()
    saved = (list(root_logger.handlers), root_logger.level)
    with tempfile.TemporaryDirectory(prefix="adbot-bench-") as tmp:
        if setup == "world+log":
            setup_logging(Path(tmp) / "logs", console=False)
        try:
            return asyncio.run(measure(Path(tmp), setup=setup, **kwargs))
        finally:
            for handler in list(root_logger.handlers):
                root_logger.removeHandler(handler)
                handler.close()
            for handler in saved[0]:
                root_logger.addHandler(handler)
            root_logger.setLevel(saved[1])


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 campaigns, one measured cycle")
    parser.add_argument("--campaigns", type=int, default=None)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--groups", type=int, default=20, help="groups per session")
    parser.add_argument("--cycles", type=int, default=None, help="measured cycles (after one warm-up)")
    parser.add_argument("--setups", default="world,engine,world+log")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the set-ups this many times, alternating; the logging ratio uses the medians")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    campaigns = args.campaigns or (200 if args.quick else 1000)
    cycles = args.cycles or (1 if args.quick else 2)

    header(f"engine overhead: {campaigns} campaigns x {args.sessions} sessions x {args.groups} groups, "
           f"no latency, no spacing, SQLite ledger on")
    print(f"{'setup':>10} {'forwards':>9} {'cpu s':>7} {'wall s':>7} {'fwd/cpu-s':>10} {'vs target':>9} "
          f"{'loop us':>8} {'sqlite us':>9} {'log us':>7} {'writes/commit':>13}")
    results = []
    for setup in [setup for _ in range(max(1, args.repeat)) for setup in args.setups.split(",")]:
        r = run(setup, campaigns=campaigns, sessions=args.sessions, groups=args.groups, cycles=cycles)
        results.append(r)
        print(f"{setup:>10} {r['forwards']:>9} {r['cpu_s']:>7.2f} {r['wall_s']:>7.2f} {r['fwd_per_cpu_s']:>10.0f} "
              f"{r['fwd_per_cpu_s'] / TARGET:>8.2f}x {r['us_per_fwd_loop']:>8.0f} {r['us_per_fwd_db']:>9.0f} "
              f"{r['us_per_fwd_log_writer']:>7.0f} {r['writes_per_commit']:>13.1f}", flush=True)
        emit("overhead", {**r, "target": TARGET})
    rates = {setup: statistics.median(r["fwd_per_cpu_s"] for r in results if r["setup"] == setup)
             for setup in {r["setup"] for r in results}}
    if "world" in rates and "world+log" in rates:
        ratio = rates["world+log"] / rates["world"]
        print(f"logging on / off: {ratio:.1%} of the forwards per CPU-second (medians of {max(1, args.repeat)} "
              f"run(s) each: {rates['world+log']:.0f} / {rates['world']:.0f}; target >= {LOG_TARGET:.0%})")
        emit("overhead_logging", {"campaigns": campaigns, "ratio": ratio, "target": LOG_TARGET,
                                  "with_log": rates["world+log"], "without_log": rates["world"],
                                  "repeat": max(1, args.repeat)})
    print("(loop us / sqlite us: CPU microseconds per forward in the event-loop thread / in SQLite's threads;"
          f" target {TARGET:.0f} fwd/cpu-s; load average {machine()['load']})")
    return results


if __name__ == "__main__":
    main()
