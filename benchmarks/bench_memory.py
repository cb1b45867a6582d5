"""Memory per campaign and per session: resident set size over a baseline, in the steady state.

    .venv/bin/python -m benchmarks.bench_memory [--quick] [--campaigns 0 200 1000] [--clients 0 100 500]

Peak RSS only ever grows within a process, so every measured point runs in a fresh child process
(``--child``) and prints one JSON line the parent reads. The parent seeds each child's fleet beforehand
(``benchmarks.common.seed``: rows in a fresh SQLite file, session files, and every session's peer cache
filled), so neither the child's baseline nor its peak includes building the fleet.

In the child, everything is imported, the database opened and the engine started (``Engine.start``,
with the product's APScheduler, paused so that it fires nothing by itself) while every campaign's rows
are present but stopped. After a full garbage collection, that RSS is the **baseline**: the
interpreter, every library, the database's two connections and writer thread, the ledger, an empty
scheduler. Then every campaign is started (one scheduler job each) and one full cycle of every campaign
runs at once (spacing 0, no latency, the product's bound of 200 sends in flight): afterwards every
account is connected with its peer cache loaded and every campaign has its plan of groups over
sessions, i.e. the steady state. After another full collection, ``after`` is the RSS then and ``peak``
the child's peak RSS (``VmRSS`` and ``VmHWM`` of ``/proc/self/status``); the figures are
``after - baseline`` (what stays) and ``peak - baseline`` (what a cycle of the whole fleet needs at its
height; in practice the same, since the allocators hand little back to the system).

Two set-ups:
  engine    a port that answers at once and keeps nothing (``NullFactory``): the engine alone.
            campaigns in {0, 200, 1000} x 3 sessions x 20 groups per session: **per campaign** = the
            least-squares slope of (after - baseline) against campaigns; and 1 against 3 sessions per
            campaign at 1000 campaigns (60 groups each either way): **per session** = the difference
            / (2 x 1000).
  telethon  a real ``TelegramClient`` per session (``TelethonFactory`` with ``build_client`` on a real
            SQLite session file), whose network sender is ``tests.fake_sender.FakeSender``: connect and
            get_me, then one ``messages.forwardMessages`` per group, answered offline with real TL
            objects through Telethon's own parsing. 1 session x 2 groups per campaign, sessions in
            {0, 100, 500}; the same fleets with the null port give the engine's own share, and
            **per Telethon client** = slope(telethon) - slope(null port).

What bounds the figures: RSS is what the allocator holds, not what is live. CPython's allocator and
glibc's malloc keep freed memory for reuse, so ``after`` includes what the cycle's transient objects
(send tasks, ledger rows, TL requests and answers) left behind in free lists: an upper bound on what
the steady state keeps, counted in whole pages. SQLite's page cache (2 MiB per connection by default,
two connections) grows with the database and then stops: it inflates the slope at small sizes.
Without a socket there is no MTProtoSender (its send/receive loops, buffers, and encryption state) and
no kernel socket buffers (which are not in RSS anyway): a client on the real network costs somewhat
more than the Telethon figure. Each point is one run; on a shared machine RSS is not disturbed by
other processes the way time is, but allocator noise of a few hundred KiB per point remains.
The simulated world (``sandbox.world``) is not measured: it is a test double, not product memory.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import logging
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telethon import functions
from telethon.crypto import AuthKey
from telethon.sessions import SQLiteSession

from benchmarks.common import (
    FIRST_CUSTOMER,
    NO_CAP_REACHED,
    SOURCE,
    Fleet,
    NullFactory,
    emit,
    header,
    machine,
    seed,
)
from core.clock import SystemClock
from core.config import EngineSettings
from core.ports import AccountFactory, SessionCredentials
from engine.engine import Engine
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from pool.supply import PoolSupply
from storage.db import Database
from tests.fake_sender import FakeSender, channel_message_sent

REPO = Path(__file__).resolve().parent.parent
KIB = 1024
MIB = 1024 * 1024
CHILD_TIMEOUT_S = 1800
CHILD_PREFIX = "CHILD "
TELETHON_GROUPS = 2  # groups per campaign (1 session each) in the Telethon set-up: few posts, many clients
_CHANNEL_BASE = 1_000_000_000  # bare channel ids the seeded peer caches hand out


@dataclass(frozen=True)
class Point:
    """One measured child: which port, how many campaigns, sessions and groups per campaign."""

    port: str  # "null" or "telethon"
    campaigns: int
    sessions: int  # per campaign
    groups: int  # per campaign

    def normalised(self) -> Point:
        # With no campaign the shape is irrelevant: one child serves every empty point of a port.
        return Point(self.port, 0, 0, 0) if self.campaigns == 0 else self


# --- the fleet (parent) ---------------------------------------------------------------------------------


def fill_peer_caches(fleet: Fleet, now: float) -> None:
    """Every session's peer cache holds the post's channel, as if resolved in an earlier cycle (``seed``
    only does that with a simulated world, which would cost its own memory; the groups are addressed
    from the sessions' dialogs, which ``seed`` stores)."""
    rows: list[tuple[int, str, str, int, int, float]] = []
    for session_ids in fleet.sessions.values():
        for sid in session_ids:
            rows.append((sid, SOURCE, "channel", _CHANNEL_BASE, sid * 1_000_003 + _CHANNEL_BASE, now))
    conn = sqlite3.connect(fleet.db_path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO peer_cache (session_id, ref, peer_type, peer_id, access_hash, resolved_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def write_session_files(fleet: Fleet, template_dir: Path) -> None:
    """Replace the placeholder files with real Telethon session files (DC and auth key set), so each
    client opens its own SQLite session as in production."""
    template = template_dir / "template.session"
    session = SQLiteSession(str(template))
    session.set_dc(2, "149.154.167.51", 443)
    session.auth_key = AuthKey(bytes(range(256)))
    session.save()
    session.close()
    for uid, session_ids in fleet.sessions.items():
        for sid in session_ids:
            target = fleet.sessions_dir / "assigned" / str(uid) / f"bench{sid:07d}.session"
            if not target.is_file():
                raise RuntimeError(f"seed did not write {target}")
            shutil.copyfile(template, target)


def prepare(root: Path, point: Point) -> None:
    now = time.time()
    fleet = seed(root, campaigns=point.campaigns, sessions=point.sessions, groups=point.groups, running=False,
                 now=now)
    fill_peer_caches(fleet, now)
    if point.port == "telethon":
        write_session_files(fleet, root)


# --- one measured point (child) ---------------------------------------------------------------------------


def memory_now() -> dict[str, int]:
    """Resident, peak resident and anonymous resident bytes, from one read of ``/proc/self/status``: one
    snapshot of the kernel's counters (``/proc/self/statm`` against ``getrusage`` can disagree by a few
    hundred KiB, peak below current)."""
    wanted = {"VmRSS": "rss", "VmHWM": "peak", "RssAnon": "anon"}
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in wanted:
            out[wanted[name]] = int(value.split()[0]) * KIB
    return out


def offline_client_builder(fakes: list[FakeSender]) -> Callable[[SessionCredentials, ClientSettings], Any]:
    """The product's ``build_client`` on the session's file, with the network sender replaced by a fake
    that answers every forward the way Telegram answers one into a supergroup."""
    new_ids = itertools.count(1)

    def answer(request: Any) -> Any:
        return channel_message_sent(request.to_peer.channel_id, next(new_ids), request.random_id[0])

    def build(credentials: SessionCredentials, settings: ClientSettings) -> Any:
        client = build_client(credentials, settings)
        fake = FakeSender.install(client)
        fake.always(functions.messages.ForwardMessagesRequest, answer)
        fakes.append(fake)
        return client

    return build


async def measure(root: Path, point: Point) -> dict[str, Any]:
    fakes: list[FakeSender] = []
    factory: AccountFactory = (
        TelethonFactory(client_builder=offline_client_builder(fakes)) if point.port == "telethon" else NullFactory()
    )
    customers = [FIRST_CUSTOMER + c for c in range(point.campaigns)]
    db = await Database.open(root / "data" / "adbot.sqlite3")
    config = EngineSettings(
        send_spacing=0.0, spacing_jitter=0.0, transient_retries=0, send_timeout=60.0, **NO_CAP_REACHED
    )
    engine = Engine(db, factory, PoolSupply(db, root / "sessions"), SystemClock(), config, connect_rate=None)
    try:
        await engine.start()
        if engine.scheduler is not None:
            # Jobs are still added (their memory is part of a running campaign) but never fire: the cycle
            # below is the only one.
            engine.scheduler.pause()
        gc.collect()
        base = memory_now()
        started = time.perf_counter()
        for uid in customers:
            await engine.start_campaign(uid)
        reports = await asyncio.gather(*(engine.run_cycle(uid) for uid in customers))
        wall = time.perf_counter() - started
        sent = sum(r.sent for r in reports)
        if sent != point.campaigns * point.groups:
            raise RuntimeError(f"{sent} of {point.campaigns * point.groups} posts sent")
        for fake in fakes:
            fake.requests.clear()  # the fake's request log is the test double's, not the product's memory
        gc.collect()
        now = memory_now()
        return {
            **asdict(point),
            "open_ports": len(engine.accounts.open_sessions),
            "sent": sent,
            "baseline_bytes": base["rss"],
            "after_bytes": now["rss"],
            "peak_bytes": now["peak"],
            "peak_at_baseline_bytes": base["peak"],
            "delta_bytes": now["rss"] - base["rss"],
            "anon_delta_bytes": now["anon"] - base["anon"],
            "peak_delta_bytes": now["peak"] - base["rss"],
            "seconds": wall,
        }
    finally:
        await engine.shutdown()
        await db.close()


def child(spec: str) -> dict[str, Any]:
    data = json.loads(spec)
    point = Point(data["port"], data["campaigns"], data["sessions"], data["groups"])
    result = asyncio.run(measure(Path(data["root"]), point))
    print(CHILD_PREFIX + json.dumps(result), flush=True)
    return result


def run_point(point: Point) -> dict[str, Any]:
    """Seed the point's fleet and measure it in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="adbot-bench-mem-") as tmp:
        root = Path(tmp)
        prepare(root, point)
        spec = json.dumps({**asdict(point), "root": str(root)})
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_memory", "--child", spec],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(CHILD_PREFIX)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child {point} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(CHILD_PREFIX):])
    return result


# --- figures (parent) -----------------------------------------------------------------------------------


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys against xs."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return float("nan")
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def print_row(label: str, r: dict[str, Any]) -> None:
    print(f"{label:>9} {r['campaigns']:>9} {r['sessions']:>4} {r['groups']:>6} {r['open_ports']:>6} "
          f"{r['baseline_bytes'] / MIB:>9.1f} {r['after_bytes'] / MIB:>9.1f} {r['delta_bytes'] / MIB:>9.1f} "
          f"{r['anon_delta_bytes'] / MIB:>8.1f} {r['peak_bytes'] / MIB:>8.1f} {r['peak_delta_bytes'] / MIB:>9.1f} "
          f"{r['seconds']:>7.1f}", flush=True)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="campaigns 0/100/300, Telethon clients 0/50/200")
    parser.add_argument("--campaigns", type=int, nargs="+", default=None, help="engine set-up sizes")
    parser.add_argument("--clients", type=int, nargs="+", default=None, help="Telethon set-up sizes (sessions)")
    parser.add_argument("--sessions", type=int, default=3, help="sessions per campaign (engine set-up)")
    parser.add_argument("--groups", type=int, default=20, help="groups per session (engine set-up)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.child is not None:
        return [child(args.child)]

    sizes = sorted(set(args.campaigns or ([0, 100, 300] if args.quick else [0, 200, 1000])))
    clients = sorted(set(args.clients or ([0, 50, 200] if args.quick else [0, 100, 500])))
    if len(sizes) < 2 or len(clients) < 2 or args.sessions < 2:
        parser.error("need at least two sizes of each set-up and --sessions >= 2")
    groups = args.sessions * args.groups
    largest = sizes[-1]
    plan: list[tuple[str, Point]] = [("engine", Point("null", n, args.sessions, groups)) for n in sizes]
    plan.append(("engine", Point("null", largest, 1, groups)))
    for n in clients:
        plan.append(("telethon", Point("telethon", n, 1, TELETHON_GROUPS)))
        plan.append(("null-1x2", Point("null", n, 1, TELETHON_GROUPS)))

    header(f"memory: RSS after one full cycle over a started engine's baseline; engine set-up {args.sessions} "
           f"sessions x {args.groups} groups per campaign; Telethon set-up 1 session x {TELETHON_GROUPS} groups")
    print(f"{'set-up':>9} {'campaigns':>9} {'sess':>4} {'groups':>6} {'ports':>6} {'base MiB':>9} {'after MiB':>9} "
          f"{'delta MiB':>9} {'anon MiB':>8} {'peak MiB':>8} {'peak-base':>9} {'run s':>7}")
    done: dict[Point, dict[str, Any]] = {}
    points: list[dict[str, Any]] = []
    for label, point in plan:
        key = point.normalised()
        if key not in done:
            done[key] = run_point(key)
        r = {**done[key], **asdict(point), "setup": label}
        points.append(r)
        print_row(label, r)

    def series(label: str, sessions: int) -> tuple[list[float], list[float]]:
        rows = [r for r in points if r["setup"] == label and (r["sessions"] == sessions or r["campaigns"] == 0)]
        return [float(r["campaigns"]) for r in rows], [float(r["delta_bytes"]) for r in rows]

    per_campaign = slope(*series("engine", args.sessions))
    at_largest = {r["sessions"]: r for r in points
                  if r["setup"] == "engine" and r["campaigns"] == largest and largest > 0}
    per_session = (
        (at_largest[args.sessions]["delta_bytes"] - at_largest[1]["delta_bytes"]) / ((args.sessions - 1) * largest)
        if largest > 0
        else float("nan")
    )
    per_telethon_session = slope(*series("telethon", 1))
    per_null_session = slope(*series("null-1x2", 1))
    per_client = per_telethon_session - per_null_session
    estimate = (1000 * per_campaign + 1000 * args.sessions * per_client) / MIB
    summary = {
        "per_campaign_kib": per_campaign / KIB,
        "per_session_kib": per_session / KIB,
        "per_telethon_client_kib": per_client / KIB,
        "per_telethon_campaign_total_kib": per_telethon_session / KIB,
        "per_null_campaign_1x2_kib": per_null_session / KIB,
        "estimate_1000x3_real_clients_mib": estimate,
        "peak_rss_mib": max(r["peak_bytes"] for r in points) / MIB,
        "max_peak_over_baseline_mib": max(r["peak_delta_bytes"] for r in points) / MIB,
        "sessions_per_campaign": args.sessions,
        "groups_per_session": args.groups,
        "points": points,
        "load": machine()["load"],
    }
    print("(delta = after - base; anon = its anonymous part (heap); run s = starting every campaign + the cycle)")
    print(f"per campaign ({args.sessions} sessions x {args.groups} groups, null port): "
          f"{summary['per_campaign_kib']:.1f} KiB (least-squares slope over {sizes})")
    print(f"per session (engine, {args.sessions} vs 1 sessions at {largest} campaigns, {groups} groups each): "
          f"{summary['per_session_kib']:.1f} KiB")
    print(f"per campaign with 1 real Telethon client x {TELETHON_GROUPS} groups: "
          f"{summary['per_telethon_campaign_total_kib']:.1f} KiB, of which the engine with a null port "
          f"{summary['per_null_campaign_1x2_kib']:.1f} KiB -> per connected Telethon client: "
          f"{summary['per_telethon_client_kib']:.1f} KiB")
    print(f"estimate for 1000 campaigns x {args.sessions} real clients: {estimate:.0f} MiB over the baseline; "
          f"highest peak RSS {summary['peak_rss_mib']:.1f} MiB "
          f"({summary['max_peak_over_baseline_mib']:.1f} MiB over its baseline); load average {summary['load']}")
    emit("memory", summary)
    return [summary]


if __name__ == "__main__":
    main()
