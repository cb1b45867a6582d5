"""Control-bot responsiveness while a cycle runs: ``/status`` round trips against a busy engine.

    .venv/bin/python -m benchmarks.bench_status [--quick] [--campaigns 1000] [--spacing 5] [--latency 0.05]

The real app (``create_app``: aiogram polling over HTTP, handlers, the engine, the database) runs against
the sandbox Bot API emulator on 127.0.0.1 and the lenient simulated world, on the real clock, with a
fleet seeded straight into its database (each campaign 3 sessions x 20 groups per session, as
``bench_cycle``). A probe is one customer's ``/status``: the time from the user sending it to the
reply showing in the emulator, i.e. emulator -> getUpdates -> dispatcher -> handler (database reads)
-> sendMessage -> emulator. Probes are sequential (one in flight), ``--pause`` apart, rotating over
``--customers`` seeded customers so that no chat goes past the product's default pacing (about 1
message/s per chat, 25/s overall): the figure is the event loop's answer time, not a pacing delay.

Phases, each probed for its whole length:

* ``idle``: every campaign running, no cycle (the baseline: what a round trip costs at all);
* ``flat out``: the warm-up cycle of every campaign at once with no spacing and no latency (accounts
  connect, every post goes as fast as the engine can send): the loop is saturated, the stress figure;
* ``cycle``: the measured cycle of every campaign at once with ``--spacing`` (start to start, jitter
  0; default 5 s, a third of the product's 15 s, ``--spacing 2`` is the stress variant) and ``--latency``: a busy
  fleet's steady state. Target: p95 < 100 ms, i.e. the loop is never
  blocked for long while customers talk to the bot.

What bounds the figures: one event loop serves the engine, the bot and (here, not in production) the
emulator and the simulated world, on 2 cores that other processes share. ``lag``: how late a 10 ms
timer fires (``LoopLag``), the loop's own share of a probe's wait. Every reply is checked to be the
status screen, and each cycle to have sent every post once (no double posts). Times are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import FULL_RUN_SPACING, NO_CAP_REACHED, Fleet, LoopLag, emit, header, machine, percentile, seed
from control_bot.app import App, create_app
from core.clock import SystemClock
from core.config import Settings, settings_from_dict
from engine.cycle import CycleReport
from sandbox.botuser import BotApiEmulator, BotUser
from sandbox.world import World

TOKEN = "100200300:BENCH-token-of-the-offline-sandbox-bot-x"  # the sandbox accepts any token
TARGET_P95_MS = 100.0
# Lines of the status screen (core/texts/customer.py ``status``): any other reply is not timed.
STATUS_MARKERS = ("Status", "Next cycle:", "Plan until:")

T = TypeVar("T")


@dataclass
class Prober:
    """Sequential ``/status`` round trips, round robin over a few customers."""

    users: list[BotUser]
    pause: float
    timeout: float
    times: list[float] = field(default_factory=list)
    timeouts: int = 0
    wrong: int = 0
    _turn: int = 0

    def reset(self) -> None:
        self.times, self.timeouts, self.wrong = [], 0, 0

    async def once(self) -> None:
        user = self.users[self._turn % len(self.users)]
        self._turn += 1
        t0 = time.perf_counter()
        await user.say("/status")
        try:
            reply = await user.wait_reply(timeout=self.timeout)
        except TimeoutError:
            self.timeouts += 1
            return
        elapsed = time.perf_counter() - t0
        if all(marker in reply.text for marker in STATUS_MARKERS):
            self.times.append(elapsed)
        else:
            self.wrong += 1

    async def run(self, *, stop: asyncio.Event | None = None, count: int | None = None) -> None:
        """Probe until ``stop`` is set or ``count`` probes are done."""
        done = 0
        while (stop is None or not stop.is_set()) and (count is None or done < count):
            await self.once()
            done += 1
            await asyncio.sleep(self.pause)


async def probed(prober: Prober, work: Awaitable[T]) -> tuple[T, dict[str, Any]]:
    """Run ``work`` with probes going until it ends; its result and the phase's figures."""
    prober.reset()
    stop = asyncio.Event()
    async with LoopLag() as lag:
        probes = asyncio.create_task(prober.run(stop=stop), name="status-probes")
        wall0 = time.perf_counter()
        try:
            result = await work
        finally:
            wall = time.perf_counter() - wall0
            stop.set()
            await probes
    return result, figures(prober, lag, wall)


async def probed_alone(prober: Prober, count: int) -> dict[str, Any]:
    """``count`` probes with nothing else going on."""
    prober.reset()
    async with LoopLag() as lag:
        wall0 = time.perf_counter()
        await prober.run(count=count)
        wall = time.perf_counter() - wall0
    return figures(prober, lag, wall)


def figures(prober: Prober, lag: LoopLag, wall: float) -> dict[str, Any]:
    ms = [t * 1000 for t in prober.times]
    return {
        "samples": len(ms),
        "timeouts": prober.timeouts,
        "wrong_replies": prober.wrong,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "max_ms": max(ms, default=float("nan")),
        "lag_p95_ms": lag.percentile(95) * 1000,
        "lag_max_ms": lag.max * 1000,
        "wall_s": wall,
    }


def bench_settings(root: Path, api_base: str, *, spacing: float) -> Settings:
    """The seeded folders (``seed`` writes ``data/adbot.sqlite3`` and ``sessions/`` under ``root``)."""
    return settings_from_dict(
        {
            "bot": {"token": TOKEN, "api_base": api_base, "admins": []},
            "paths": {"data_dir": "data", "sessions_dir": "sessions", "logs_dir": "logs"},
            "engine": {
                "backend": "simulated", "send_spacing": spacing, "spacing_jitter": 0.0, "send_timeout": 60.0,
                **NO_CAP_REACHED,
            },
        },
        root,
    )


def check_cycle(reports: list[CycleReport], fleet: Fleet, world: World, what: str) -> int:
    sent = sum(r.sent for r in reports)
    if sent != fleet.group_count or world.duplicates():
        raise RuntimeError(
            f"{what}: {sent} of {fleet.group_count} posts sent, {len(world.duplicates())} double posts"
        )
    return sent


async def all_cycles(app: App, fleet: Fleet) -> list[CycleReport]:
    return list(await asyncio.gather(*(app.engine.run_cycle(uid) for uid in fleet.customers)))


async def measure(
    root: Path,
    *,
    campaigns: int,
    sessions: int,
    groups: int,
    latency: float,
    spacing: float,
    customers: int,
    idle_samples: int,
    pause: float,
    reply_timeout: float,
) -> list[dict[str, Any]]:
    clock = SystemClock()
    world = World(clock, lenient=True, latency=latency)
    fleet = seed(root, campaigns=campaigns, sessions=sessions, groups=sessions * groups, running=False, world=world)
    base = {"campaigns": campaigns, "spacing_s": spacing, "latency_s": latency, "probed_customers": 0}
    results: list[dict[str, Any]] = []
    async with BotApiEmulator(TOKEN, "adbot_bench_bot") as emu:
        settings = bench_settings(root, emu.base_url, spacing=spacing)
        # Default pacing (pacing=None): the real per-chat and overall limits.
        app = await create_app(settings, clock=clock, factory=world, configure_logging=False, schedule=False)
        try:
            async with app.running(polling_timeout=1):
                engine = app.engine  # started by the app's startup hook
                config = engine.rt.config
                # as bench_cycle: a retry would hide a bug
                measured = config.model_copy(update={"transient_retries": 0})
                engine.rt.config = measured
                for uid in fleet.customers:
                    await engine.start_campaign(uid)
                step = max(1, len(fleet.customers) // customers)
                probed_ids = fleet.customers[::step][:customers]
                base["probed_customers"] = len(probed_ids)
                prober = Prober([emu.user(uid, f"c{uid}") for uid in probed_ids], pause, reply_timeout)

                idle = await probed_alone(prober, idle_samples)
                results.append({**base, "phase": "idle", **idle})

                # Flat out: the warm-up cycle (accounts connect, plans are made) with no latency or spacing.
                world.latency = 0.0
                engine.rt.config = measured.model_copy(update={"send_spacing": 0.0})
                reports, flat = await probed(prober, all_cycles(app, fleet))
                flat["forwards"] = check_cycle(reports, fleet, world, "flat-out cycle")
                results.append({**base, "phase": "flat out", **flat, "spacing_s": 0.0, "latency_s": 0.0})

                world.latency, engine.rt.config = latency, measured
                reports, paced = await probed(prober, all_cycles(app, fleet))
                paced["forwards"] = check_cycle(reports, fleet, world, "paced cycle")
                busiest = engine.rt.plans.busiest()
                bound = (busiest - 1) * spacing + latency
                paced["cycle_ratio"] = paced["wall_s"] / bound if bound > 0 else float("nan")
                paced["p95_over_idle"] = paced["p95_ms"] / idle["p95_ms"]
                results.append({**base, "phase": "cycle", **paced})
        finally:
            await app.close()
    return results


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 campaigns at spacing 0.5 s")
    parser.add_argument("--campaigns", type=int, default=None, help="default 1000 (100 with --quick)")
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--groups", type=int, default=20, help="groups per session")
    parser.add_argument("--latency", type=float, default=0.05, help="simulated seconds per request")
    parser.add_argument("--spacing", type=float, default=None, help="send_spacing (start to start), seconds")
    parser.add_argument("--customers", type=int, default=20, help="customers the probes rotate over")
    parser.add_argument("--idle-samples", type=int, default=100, help="probes of the idle phase")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between two probes")
    parser.add_argument("--reply-timeout", type=float, default=30.0, help="a probe without a reply by then fails")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    campaigns = args.campaigns if args.campaigns is not None else (100 if args.quick else 1000)
    spacing = args.spacing if args.spacing is not None else (0.5 if args.quick else FULL_RUN_SPACING)

    header(f"/status round trip during a cycle: {campaigns} campaigns x {args.sessions} sessions x {args.groups}"
           f" groups, latency {args.latency * 1000:.0f} ms, spacing {spacing:g} s (start to start), real clock,"
           f" default pacing")
    with tempfile.TemporaryDirectory(prefix="adbot-bench-status-") as tmp:
        results = asyncio.run(measure(
            Path(tmp), campaigns=campaigns, sessions=args.sessions, groups=args.groups, latency=args.latency,
            spacing=spacing, customers=args.customers, idle_samples=args.idle_samples, pause=args.pause,
            reply_timeout=args.reply_timeout,
        ))
    print(f"{'phase':>8} {'samples':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'lag p95':>7} {'lag max':>7} "
          f"{'forwards':>8} {'wall s':>7} {'fails':>5}")
    for r in results:
        print(f"{r['phase']:>8} {r['samples']:>7} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} {r['max_ms']:>7.1f} "
              f"{r['lag_p95_ms']:>7.1f} {r['lag_max_ms']:>7.1f} {r.get('forwards', 0):>8} {r['wall_s']:>7.1f} "
              f"{r['timeouts'] + r['wrong_replies']:>5}", flush=True)
        emit("status", {**r, "target_p95_ms": TARGET_P95_MS})
    paced = results[-1]
    print(f"(p95 during the cycle / idle p95 = {paced['p95_over_idle']:.2f}; cycle time / its bound ="
          f" {paced['cycle_ratio']:.3f}; lag = how late a 10 ms timer fired; fails = timeouts + wrong replies;"
          f" target p95 < {TARGET_P95_MS:.0f} ms during the cycle at 1,000 campaigns; load average"
          f" {machine()['load']})")
    return results


if __name__ == "__main__":
    main()
