"""One machine at its limit: 10,000 real Telethon clients, 2,000 campaigns of 50 groups, logging on.

    .venv/bin/python -m benchmarks.bench_scale [--quick] [--campaigns 2000] [--sessions 5] [--groups 50]
        [--factor 5] [--cycles 2] [--connect-rate R]

Every session is a real ``TelegramClient`` (the product's ``build_client`` on its own SQLite session
file) whose network sender is ``tests.fake_sender.FakeSender``: Telethon's own request building, error
mapping and answer parsing run; only the socket is gone, and each request is answered at once. The
fleet is seeded in the parent (rows, session files, every session's peer cache of the post's channel,
as after an earlier cycle) and measured in a fresh child process, so the peak RSS is the product's.
The child runs as ``adbot run`` would: the engine on the real clock and the product's logging (INFO,
``adbot.log`` and the per-customer files, through the writer thread; no console).

Pacing is the product's default shape compressed by ``--factor``: ``send_spacing`` = 15 s / factor
(jitter 0, so the bound is exact, as in ``bench_cycle``), the campaigns' interval 300 s / factor. Every
session is as on a server that ran before: who its account is was read once (issue 22: at its first
connect) and its app config today, so the start-up is a restart. At factor 1 the 10,000 sessions ask for
10,000 / 15 s = 667 posts a second; at factor F, F times that: the factor where ``cycle/bound`` leaves
1.0 is where the CPU runs out (``docs/SCALING.md``).

Phases, all in the child:
  start-up   the engine starts, every campaign is started and its first cycle runs at once, from
             cold (no client open: a restart of the server). Measured: connections opened per
             second (the highest count in any 1-second window, and the mean), time from the start to
             the first post and to every session's first post, requests per connection (every
             request a connect made: the init request carrying ``help.getConfig``, and what else).
  steady     ``--cycles`` more cycles back to back. Measured: CPU per forward (process CPU: every
             thread, SQLite's and the log writer's included) and forwards per CPU-second, the split
             by thread, cycle/bound (bound = (n - 1) x spacing, n = the busiest session's posts in
             that cycle), Telegram requests per delivered post, SQLite transactions per second and
             their latency (from asking for the write lock to the commit, as the caller waits), the
             WAL file's largest size.
  memory     peak RSS (``VmHWM``), RSS after the steady cycles, and RSS per session = (RSS after -
             RSS before the engine started) / sessions; every client is connected then. Also the open
             file descriptors (each client's SQLite session file; on the network each adds a socket).

``--connect-rate`` sets ``[engine] connects_per_second`` when the engine has it (issue 22's connect
limiter); without it the engine connects as fast as the first cycle asks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import logging
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telethon import functions

from benchmarks.bench_memory import fill_peer_caches, memory_now, write_session_files
from benchmarks.common import NO_CAP_REACHED, emit, header, machine, seed, split_cpu, thread_cpu
from control_bot.logfiles import flush_logging, preserved_logging, setup_logging
from control_bot.logwriter import WRITER_THREAD
from core.clock import SystemClock
from core.config import EngineSettings
from core.pacing import SAFE_CYCLE_INTERVAL, SAFE_SEND_SPACING
from core.ports import SessionCredentials
from engine.engine import Engine
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from pool.supply import PoolSupply
from storage.db import Database
from tests.fake_sender import SELF_ID, FakeSender, channel_message_sent

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
CHILD_PREFIX = "CHILD "
CHILD_TIMEOUT_S = 3600
WAL_SAMPLE_S = 0.05
# Requests of a cycle, not of a connection: the posts, and the read of the source post (channels.getMessages).
NOT_CONNECT = frozenset({"ForwardMessagesRequest", "GetMessagesRequest"})


@dataclass
class Shape:
    campaigns: int
    sessions: int  # per campaign
    groups: int  # per campaign
    factor: float
    cycles: int
    connect_rate: float | None

    @property
    def spacing(self) -> float:
        return SAFE_SEND_SPACING / self.factor

    @property
    def interval(self) -> int:
        """The campaigns' interval, compressed alike (whole seconds): sessions keep their connections between
        cycles as with the default interval (``[engine] keep_connection_seconds``)."""
        return max(1, round(SAFE_CYCLE_INTERVAL / self.factor))


# --- what the fake Telegram saw ---------------------------------------------------------------------------


class Wire:
    """Every fake sender of the fleet: when each connect and each session's first post happened, and the
    requests made, by type (tallied and cleared per phase: the fakes' own logs are not product memory)."""

    def __init__(self) -> None:
        self.fakes: list[FakeSender] = []
        self.connect_times: list[float] = []
        self.first_post: dict[int, float] = {}  # fake index -> monotonic time of its first forward
        self.posts = Counter[int]()  # fake index -> forwards in the current phase
        self.ids = itertools.count(1)

    def builder(self) -> Callable[[SessionCredentials, ClientSettings], Any]:
        def build(credentials: SessionCredentials, settings: ClientSettings) -> Any:
            client = build_client(credentials, settings)
            fake = FakeSender.install(client)
            index = len(self.fakes)
            self.fakes.append(fake)
            connect = fake.connect

            async def timed_connect(connection: Any) -> bool:
                opened = await connect(connection)
                if opened:
                    self.connect_times.append(time.monotonic())
                return opened

            fake.connect = timed_connect  # type: ignore[method-assign]

            def answer(request: Any) -> Any:
                self.posts[index] += 1
                self.first_post.setdefault(index, time.monotonic())
                return channel_message_sent(request.to_peer.channel_id, next(self.ids), request.random_id[0])

            fake.always(functions.messages.ForwardMessagesRequest, answer)
            return client

        return build

    def take_requests(self) -> Counter[str]:
        """Requests made since the last call, by type; the fakes' logs are emptied."""
        seen = Counter[str]()
        for fake in self.fakes:
            for request in fake.requests:
                seen[type(request).__name__] += 1
            fake.requests.clear()
            fake.sent.clear()
        return seen

    def take_posts(self) -> Counter[int]:
        posts, self.posts = self.posts, Counter[int]()
        return posts


# --- SQLite: transactions and the WAL ---------------------------------------------------------------------


class TxMeter:
    """Wraps the database's two ways of writing (``tx`` and ``transact_sync``) to count and time each
    transaction, from asking for the write lock to the commit (what the caller waits)."""

    def __init__(self, db: Database) -> None:
        self.latencies: list[float] = []
        tx, transact_sync = db.tx, db.transact_sync

        @contextlib.asynccontextmanager
        async def timed_tx() -> AsyncIterator[Any]:
            started = time.perf_counter()
            try:
                async with tx() as conn:
                    yield conn
            finally:
                self.latencies.append(time.perf_counter() - started)

        async def timed_sync(fn: Callable[[Any], Any]) -> Any:
            started = time.perf_counter()
            try:
                return await transact_sync(fn)
            finally:
                self.latencies.append(time.perf_counter() - started)

        db.tx = timed_tx  # type: ignore[method-assign]
        db.transact_sync = timed_sync  # type: ignore[method-assign]

    def take(self) -> list[float]:
        out, self.latencies = self.latencies, []
        return out


class WalWatch:
    """The WAL file's size, sampled every ``WAL_SAMPLE_S``: the largest seen and the last."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(str(db_path) + "-wal")
        self.largest = 0
        self._task: asyncio.Task[None] | None = None

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    async def _run(self) -> None:
        while True:
            self.largest = max(self.largest, self.size())
            await asyncio.sleep(WAL_SAMPLE_S)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wal-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# --- the child ----------------------------------------------------------------------------------------------


def engine_config(shape: Shape) -> EngineSettings:
    extra: dict[str, Any] = {}
    if shape.connect_rate is not None and "connects_per_second" in EngineSettings.model_fields:
        extra["connects_per_second"] = shape.connect_rate
    return EngineSettings(
        send_spacing=shape.spacing, spacing_jitter=0.0, transient_retries=0, send_timeout=120.0,
        connect_timeout=600.0, **NO_CAP_REACHED, **extra,
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def writer_threads() -> list[str]:
    return [str(t.native_id) for t in threading.enumerate() if t.name == WRITER_THREAD and t.native_id]


async def measure(root: Path, shape: Shape) -> dict[str, Any]:
    wire = Wire()
    factory = TelethonFactory(client_builder=wire.builder())
    db_path = root / "data" / "adbot.sqlite3"
    db = await Database.open(db_path)
    meter = TxMeter(db)
    wal = WalWatch(db_path)
    customers = sorted(int(p.name) for p in (root / "sessions" / "assigned").iterdir())
    sessions = shape.campaigns * shape.sessions
    groups = shape.campaigns * shape.groups
    engine = Engine(db, factory, PoolSupply(db, root / "sessions"), SystemClock(), engine_config(shape),
                    schedule=False)
    gc.collect()
    base = memory_now()
    wal.start()
    try:
        # --- start-up: from cold, every campaign's first cycle at once ----------------------------------
        started = time.monotonic()
        cpu0 = time.process_time()
        await engine.start()
        for uid in customers:
            await engine.start_campaign(uid)
        reports = await asyncio.gather(*(engine.run_cycle(uid) for uid in customers))
        startup_wall = time.monotonic() - started
        startup_cpu = time.process_time() - cpu0
        sent = sum(r.sent for r in reports)
        if sent != groups:
            raise RuntimeError(f"start-up cycle: {sent} of {groups} posts sent")
        startup_requests = wire.take_requests()
        wire.take_posts()
        startup_tx = meter.take()
        connects = len(wire.connect_times)
        times = sorted(wire.connect_times)
        per_second = Counter(int(t - started) for t in times)
        connect_span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        # What connecting cost: every request but the posts and the cycle's read of the source post.
        bookkeeping = sum(n for name, n in startup_requests.items() if name not in NOT_CONNECT)
        firsts = sorted(wire.first_post.values())
        startup = {
            "startup_s": startup_wall,
            "startup_cpu_s": startup_cpu,
            "connects": connects,
            "connects_per_s_peak": max(per_second.values(), default=0),
            "connects_per_s_mean": connects / connect_span if connect_span > 0 else float(connects),
            "requests_per_connection": bookkeeping / max(1, connects),
            "connect_requests": dict(sorted((k, v) for k, v in startup_requests.items() if k not in NOT_CONNECT)),
            "other_startup_requests": dict(sorted((k, v) for k, v in startup_requests.items() if k in NOT_CONNECT)),
            "first_post_s": firsts[0] - started if firsts else float("nan"),
            "every_session_first_post_s": firsts[-1] - started if len(firsts) == sessions else float("nan"),
            "sessions_that_posted": len(firsts),
        }

        # --- steady: cycles back to back --------------------------------------------------------------
        runs: list[dict[str, float]] = []
        latencies: list[float] = []
        steady_requests = Counter[str]()
        for _ in range(shape.cycles):
            threads0, cpu0, wall0 = thread_cpu(), time.process_time(), time.perf_counter()
            reports = await asyncio.gather(*(engine.run_cycle(uid) for uid in customers))
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            threads1 = thread_cpu()
            loop_cpu, other_cpu = split_cpu(threads0, threads1)
            log_cpu = sum(threads1.get(t, 0.0) - threads0.get(t, 0.0) for t in writer_threads())
            sent = sum(r.sent for r in reports)
            if sent != groups:
                raise RuntimeError(f"steady cycle: {sent} of {groups} posts sent")
            requests = wire.take_requests()
            steady_requests.update(requests)
            posts = wire.take_posts()
            busiest = max(posts.values())
            tx = meter.take()
            latencies.extend(tx)
            runs.append({
                "sent": sent, "cpu": cpu, "wall": wall, "loop_cpu": loop_cpu, "other_cpu": other_cpu - log_cpu,
                "log_cpu": log_cpu, "requests": sum(requests.values()), "busiest": busiest,
                "bound": (busiest - 1) * shape.spacing, "tx": len(tx),
            })
        gc.collect()
        after = memory_now()
        flush_logging()
        forwards = sum(r["sent"] for r in runs)
        cpu = sum(r["cpu"] for r in runs)
        wall = sum(r["wall"] for r in runs)
        return {
            "campaigns": shape.campaigns,
            "sessions": sessions,
            "groups": groups,
            "factor": shape.factor,
            "spacing_s": shape.spacing,
            "connect_rate": engine_config(shape).model_dump().get("connects_per_second"),
            **startup,
            "startup_tx": len(startup_tx),
            "forwards": forwards,
            "cpu_s": cpu,
            "wall_s": wall,
            "us_per_fwd": cpu / forwards * 1e6,
            "fwd_per_cpu_s": forwards / cpu,
            "us_per_fwd_loop": sum(r["loop_cpu"] for r in runs) / forwards * 1e6,
            "us_per_fwd_sqlite": sum(r["other_cpu"] for r in runs) / forwards * 1e6,
            "us_per_fwd_log_writer": sum(r["log_cpu"] for r in runs) / forwards * 1e6,
            "cycle_over_bound": [r["wall"] / r["bound"] for r in runs],
            "busiest_session_posts": [r["busiest"] for r in runs],
            "requests_per_post": sum(r["requests"] for r in runs) / forwards,
            "steady_requests": dict(sorted(steady_requests.items())),
            "tx_per_s": sum(r["tx"] for r in runs) / wall,
            "tx_per_post": sum(r["tx"] for r in runs) / forwards,
            "tx_latency_ms_p50": percentile(latencies, 50) * 1e3,
            "tx_latency_ms_p99": percentile(latencies, 99) * 1e3,
            "tx_latency_ms_max": max(latencies, default=float("nan")) * 1e3,
            "wal_max_mib": wal.largest / MIB,
            "wal_end_mib": wal.size() / MIB,
            "db_mib": db_path.stat().st_size / MIB,
            "open_clients": len(factory.live_sessions),
            "open_fds": sum(1 for _ in Path("/proc/self/fd").iterdir()),
            "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            "rss_base_mib": base["rss"] / MIB,
            "rss_after_mib": after["rss"] / MIB,
            "peak_rss_mib": after["peak"] / MIB,
            "rss_per_session_kib": (after["rss"] - base["rss"]) / sessions / 1024,
        }
    finally:
        await wal.stop()
        await engine.shutdown()
        await db.close()


def child(spec: str) -> dict[str, Any]:
    data = json.loads(spec)
    root = Path(data.pop("root"))
    shape = Shape(**data)
    with preserved_logging():
        setup_logging(root / "logs", console=False)
        result = asyncio.run(measure(root, shape))
    print(CHILD_PREFIX + json.dumps(result), flush=True)
    return result


def known_accounts(db_path: Path, now: float) -> None:
    """Every session as a running server has it: who the account is was read once in its life (at its first
    connect after intake) and its app config (frozen or not) today, so a restart asks neither again."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute(
            "UPDATE sessions SET self_user_id = ?, self_username = 'ada', self_phone = '15550000', self_name = 'Ada',"
            " self_read_at = ?, status_checked_at = ?",
            (SELF_ID, now, now),
        )
    finally:
        conn.close()


def prepare(root: Path, shape: Shape) -> None:
    """The fleet: rows, real Telethon session files, every session's peer cache of the post's channel."""
    now = time.time()
    seeded = time.perf_counter()
    fleet = seed(root, campaigns=shape.campaigns, sessions=shape.sessions, groups=shape.groups, running=False,
                 now=now, interval=shape.interval)
    fill_peer_caches(fleet, now)
    write_session_files(fleet, root)
    known_accounts(fleet.db_path, now)
    print(f"(fleet seeded in {time.perf_counter() - seeded:.0f} s: {shape.campaigns} campaigns, "
          f"{shape.campaigns * shape.sessions} session files)", flush=True)


def run_child(shape: Shape) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="adbot-bench-scale-") as tmp:
        root = Path(tmp)
        prepare(root, shape)
        spec = json.dumps({**shape.__dict__, "root": str(root)})
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_scale", "--child", spec],
            cwd=REPO, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False,
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(CHILD_PREFIX)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(CHILD_PREFIX):])
    return result


def report(r: dict[str, Any]) -> None:
    print(f"fleet: {r['campaigns']} campaigns x {r['groups'] // r['campaigns']} groups, {r['sessions']} sessions "
          f"(real TelegramClient each), spacing {r['spacing_s'] * 1000:.0f} ms (15 s / {r['factor']:g}), "
          f"connect rate {r['connect_rate'] or 'unlimited'}")
    print(f"memory: peak RSS {r['peak_rss_mib']:.0f} MiB, after {r['rss_after_mib']:.0f} MiB (base "
          f"{r['rss_base_mib']:.0f}), {r['rss_per_session_kib']:.0f} KiB per session; {r['open_clients']} clients "
          f"open, "
          f"{r['open_fds']} file descriptors (limit {r['fd_limit']}; no sockets offline)")
    print(f"start-up (restart from cold): {r['connects']} connections, peak {r['connects_per_s_peak']}/s, mean "
          f"{r['connects_per_s_mean']:.0f}/s; first post after {r['first_post_s']:.2f} s, every session's first "
          f"after {r['every_session_first_post_s']:.1f} s ({r['sessions_that_posted']} sessions); whole first "
          f"cycle {r['startup_s']:.1f} s")
    print(f"requests per connection: {r['requests_per_connection']:.2f} {r['connect_requests']} (besides: "
          f"{r['other_startup_requests']})")
    print(f"steady ({len(r['cycle_over_bound'])} cycles, {r['forwards']} forwards): {r['us_per_fwd']:.0f} us CPU per "
          f"forward (loop {r['us_per_fwd_loop']:.0f}, sqlite {r['us_per_fwd_sqlite']:.0f}, log writer "
          f"{r['us_per_fwd_log_writer']:.0f}), {r['fwd_per_cpu_s']:.0f} forwards per CPU-second with logging on")
    print(f"cycle/bound: {', '.join(f'{x:.2f}' for x in r['cycle_over_bound'])} (busiest session "
          f"{r['busiest_session_posts']} posts); requests per delivered post {r['requests_per_post']:.2f} "
          f"{r['steady_requests']}")
    print(f"SQLite: {r['tx_per_s']:.0f} transactions/s ({r['tx_per_post']:.2f} per post), latency p50 "
          f"{r['tx_latency_ms_p50']:.1f} ms, p99 {r['tx_latency_ms_p99']:.1f} ms, max {r['tx_latency_ms_max']:.0f} ms; "
          f"WAL max {r['wal_max_mib']:.1f} MiB (end {r['wal_end_mib']:.1f}), database {r['db_mib']:.0f} MiB")
    print(f"(load average {machine()['load']}; {os.cpu_count()} CPUs)")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 campaigns (1,000 sessions), one steady cycle")
    parser.add_argument("--campaigns", type=int, default=None)
    parser.add_argument("--sessions", type=int, default=5, help="sessions per campaign")
    parser.add_argument("--groups", type=int, default=50, help="groups per campaign")
    parser.add_argument("--factor", type=float, default=5.0, help="pacing compression: spacing = 15 s / factor")
    parser.add_argument("--cycles", type=int, default=None, help="steady cycles after the start-up one")
    parser.add_argument("--connect-rate", type=float, default=None, help="[engine] connects_per_second")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.child is not None:
        return child(args.child)
    shape = Shape(
        campaigns=args.campaigns or (200 if args.quick else 2000), sessions=args.sessions, groups=args.groups,
        factor=args.factor, cycles=args.cycles or (1 if args.quick else 2), connect_rate=args.connect_rate,
    )
    header(f"scale: {shape.campaigns} campaigns x {shape.groups} groups over {shape.sessions} sessions each, "
           f"real Telethon clients (offline sender), logging on")
    r = run_child(shape)
    report(r)
    emit("scale", {**r, "load": machine()["load"], "median_cycle_over_bound": statistics.median(r["cycle_over_bound"])})
    return r


if __name__ == "__main__":
    main()
