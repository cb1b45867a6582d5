"""A long simulated soak: the account-safety rules held over a simulated day of floods, limits and freezes.

    .venv/bin/python -m benchmarks.bench_soak [--quick] [--sessions 200] [--groups 2000] [--hours 24]
                                              [--customers 20] [--member-share 0.3] [--seed 1]

The strict simulated world (``sandbox.world``: a send by a non-member fails, a marked id needs a known
access hash, a request inside its method class's flood wait is refused and recorded) and the product's
own engine, pool and storage, driven on a virtual clock (``core.clock.FakeClock``):

* ``sessions`` accounts enter through the real intake (``pool.intake.import_files``: Telethon session
  files, a fifth of them with a seller's sidecar naming their own app and device), each a member of a
  random ``member_share`` of the ``groups`` groups; ``customers`` customers hold 80 % of the sessions
  between them (their plans), each with an equal share of the groups and a post in the source channel
  (every fifth customer's post is an album of three). Nobody knows any membership at the start: each
  session's own dialogs are read first (``engine.discovery``).
* Every campaign runs its cycles at the default interval (300 s) and spacing (15 s +- 33 %), the daily
  cap off (so the soak makes the most requests; the cap is tested in tests/test_pacing.py).
* Scripted on the way (in the first half of the run, at random times, seeded): flood waits on every
  method class (send, resolve, dialogs, connect, read), spam limits (PEER_FLOOD), freezes, dead keys
  (AUTH_KEY_UNREGISTERED and the transport's -404), and one customer's post deleted from its channel
  (the campaign pauses once; the customer sets a new post an hour later and starts again).
* Every hour until the steady state the admins' check (``pool.health.check_sessions``) probes the idle,
  quarantined and frozen sessions: the one way a quarantined session comes back. The quarantine is 2 h
  here (``--quarantine-hours``; 24 h by default in the product) so sessions come back, and are limited
  again, doubling it, within the day.
* The steady state is the last fifth of the run: no faults are scripted after the first half (the
  longest flood wait is an hour) and the admins' checks stop, so its figure is the engine's own.

Reported (and checked: the benchmark fails when one does not hold):
  non_member_sends        sends the world refused because the account is not in the chat: 0
  flood_violations        requests of a class inside its flood window: 0
  identity_changes        connects whose API id or device profile differ from the account's first: 0
  quarantine_short_s      the shortest quarantine minus its minimum (never negative): >= 0
  source_blamed_groups    groups with a failure recorded for the deleted post: 0
  requests_per_post       Telegram requests per delivered post in the steady state (the last hours,
                          after the faults, dialogs scans counted apart): 1.00
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import emit, header, machine
from core.clock import FakeClock
from core.config import EngineSettings
from engine.engine import Engine
from engine.outcomes import classify
from pool import health, intake, pairs
from pool.layout import ensure_layout
from pool.quarantine import Quarantine
from pool.supply import PoolSupply
from sandbox.sessionfiles import make_session_bytes, make_sidecar
from sandbox.world import World
from sandbox.world.frozen import freeze
from storage import customers, groups, ledger
from storage import sessions as session_rows
from storage.db import Database

T0 = 1_800_000_000.0
HOUR = 3600.0
SOURCE = "soak_ads"
MAX_UPLOAD = 10 * 1024 * 1024
MAX_JUMP = 2.0  # simulated seconds the clock may move at once (see FakeClock.max_jump)
METHODS = ("send", "resolve", "dialogs", "connect", "app_config")  # app_config: the 'read' class


@dataclass
class Soak:
    """What the driver saw on the way."""

    releases: list[tuple[int, float, float]] = field(default_factory=list)  # session, quarantined s, minimum s
    scripted: Counter[str] = field(default_factory=Counter)
    source_failed_at: float | None = None
    source_paused: str | None = None  # the campaign's stop reason after its post was deleted
    source_blamed: int = 0  # ledger rows or groups blaming a group for the deleted post
    cycles: int = 0
    checks: int = 0
    errors: list[str] = field(default_factory=list)


def _config() -> EngineSettings:
    return EngineSettings(daily_send_cap=0, warmup_days=0, on_restart="resume")


async def _seed(db: Database, sessions_dir: Path, world: World, *, sessions: int, rng: random.Random) -> list[str]:
    """Pool pairs for the sessions without a sidecar, then every session through the real intake."""
    for n in range(sessions // 7 + 2):
        await pairs.add_pair(db, 300_000 + n, secrets.token_hex(16), capacity=7, now=T0)
    files: list[tuple[str, bytes]] = []
    keys: list[str] = []
    for n in range(sessions):
        key = rng.randbytes(256)
        keys.append(hashlib.sha256(key).hexdigest())
        files.append((f"acc{n:04d}.session", make_session_bytes(2, key)))
        if n % 5 == 0:  # a seller's sidecar: its own app and device
            sidecar = make_sidecar(api_id=400_000 + n, api_hash=secrets.token_hex(16))
            files.append((f"acc{n:04d}.json", json.dumps(sidecar).encode()))
    results = await intake.import_files(db, sessions_dir, files, max_bytes=MAX_UPLOAD, now=T0)
    bad = [r for r in results if getattr(r, "error", None)]
    if bad:
        raise RuntimeError(f"intake refused {len(bad)} file(s): {bad[:3]}")
    for account in keys:
        world.add_account(account)
    return keys


def _world_groups(world: World, keys: list[str], *, count: int, share: float, rng: random.Random) -> list[str]:
    refs = [f"@soak_g{n:05d}" for n in range(count)]
    for ref in refs:
        members = [k for k in keys if rng.random() < share]
        world.add_group(ref[1:], members=members)
    return refs


async def _customers(
    db: Database, refs: list[str], *, customers_n: int, plan: int, world: World
) -> list[int]:
    channel = world.add_channel(SOURCE, posts=range(1, 200))
    ids = []
    per = len(refs) // customers_n
    async with db.tx() as conn:
        for c in range(customers_n):
            uid = 7_000_000 + c
            ids.append(uid)
            await customers.grant(conn, uid, plan, 30, T0, default_interval=300)
            msg_id = 10 + c * 4
            if c % 5 == 4:  # an album of three: the post and the two after it share a grouped id
                for part in range(3):
                    channel.albums[msg_id + part] = msg_id
            await customers.set_post_link(conn, uid, f"https://t.me/{SOURCE}/{msg_id}", f"@{SOURCE}", msg_id, False, T0)
            await groups.add_many(conn, uid, refs[c * per:(c + 1) * per], T0)
    return ids


async def _campaign(engine: Engine, uid: int, end: float, clock: FakeClock, soak: Soak) -> None:
    while clock.now() < end:
        report = await engine.run_cycle(uid)
        soak.cycles += 1
        due = report.next_cycle_at if report.next_cycle_at is not None else clock.now() + 300
        if not report.ran and report.reason not in (None, "already running"):
            due = clock.now() + 300  # stopped (its post failed): looked at again later
        await clock.sleep(max(1.0, min(due, end) - clock.now()))


async def _faults(db: Database, world: World, keys: list[str], clock: FakeClock, soak: Soak, *, until: float,
                  rng: random.Random, scale: int) -> None:
    """At random times: floods on every method class, spam limits, freezes, dead keys."""
    plan: list[tuple[float, str, dict[str, Any]]] = []
    for method in METHODS:
        for _ in range(6 * scale):
            plan.append((rng.uniform(0.05 * HOUR, until), "flood", {"method": method}))
    # Accounts are lost early enough that their quarantines end (and are probed) before the steady state.
    for kind, n in (("peer_flood", 3 * scale), ("frozen", 2 * scale), ("dead", scale), ("key_not_found", scale)):
        for _ in range(n):
            plan.append((rng.uniform(0.5 * HOUR, 0.6 * until), kind, {}))
    plan.sort(key=lambda p: p[0])
    limited_before: list[str] = []
    for at, kind, extra in plan:
        await clock.sleep(max(0.0, at - clock.now()))
        key = rng.choice(keys)
        if kind == "peer_flood":
            # A spam limit hits an account that posts: one of the customers' sessions, and an account
            # limited before (back from its quarantine) when there is one, so repeats double it.
            async with db.read() as conn:
                owned = {r.auth_key_sha for r in await session_rows.list_by_state(conn, ("assigned", "cooling"))}
            again = [k for k in limited_before if k in owned]
            key = rng.choice(again) if again and rng.random() < 0.5 else rng.choice(sorted(owned) or keys)
            limited_before.append(key)
        soak.scripted[kind if kind != "flood" else f"flood:{extra['method']}"] += 1
        if kind == "flood":
            world.add_fault(kind="flood_wait", account=key, method=extra["method"], seconds=rng.randint(30, 3600))
        elif kind == "frozen":
            freeze(world.accounts[key], clock.now())
        else:
            world.add_fault(kind=kind, account=key, method="send" if kind == "peer_flood" else "any")


async def _source_failure(db: Database, engine: Engine, world: World, uid: int, clock: FakeClock, soak: Soak,
                          at: float) -> None:
    """The customer's post is deleted from its channel; an hour later they set another and start again."""
    await clock.sleep(max(0.0, at - clock.now()))
    async with db.read() as conn:
        customer = await customers.get(conn, uid)
    assert customer is not None and customer.post_msg_id is not None
    channel = world.chat(f"@{SOURCE}")
    assert channel is not None
    channel.posts.pop(customer.post_msg_id, None)
    soak.source_failed_at, first_cycle = clock.now(), customer.cycle_no
    await clock.sleep(HOUR)
    async with db.read() as conn:
        customer = await customers.get(conn, uid)
        assert customer is not None
        soak.source_paused = customer.stop_reason if customer.status == "stopped" else None
        for cycle_no in range(first_cycle, customer.cycle_no + 1):
            rows = await ledger.cycle_rows(conn, uid, cycle_no)
            soak.source_blamed += sum(1 for r in rows.values() if r.outcome == "failed")
        soak.source_blamed += sum(1 for g in await groups.list_for(conn, uid) if g.consecutive_failures)
    new_id = 150
    async with db.tx() as conn:
        await customers.set_post_link(conn, uid, f"https://t.me/{SOURCE}/{new_id}", f"@{SOURCE}", new_id, False,
                                      clock.now())
    await engine.start_campaign(uid)


async def _checks(db: Database, sessions_dir: Path, world: World, clock: FakeClock, soak: Soak, *, end: float,
                  quarantine: Quarantine, held: set[int]) -> None:
    """The admins' hourly check of idle, quarantined and frozen sessions; releases are recorded with how
    long the session was quarantined and the minimum its count asked for."""
    while clock.now() + HOUR <= end:
        await clock.sleep(HOUR)
        now = clock.now()
        async with db.read() as conn:
            before = {r.id: r for r in await session_rows.list_by_state(conn, ("limited",))}
        results = await health.check_sessions(
            db, sessions_dir, world, now, ("unused", "limited", "frozen"), classify=classify, quarantine=quarantine,
            held=held, clock=clock,  # as the bot runs it (control_bot): waits counted from Telegram's answer
        )
        soak.checks += len(results)
        for result in results:
            row = before.get(result.session_id)
            if result.outcome == "released" and row is not None:
                # Released when its probe ended (the check dates it so, not by the run's start): the row's
                # state change says when (a claim right after it could only make it later).
                async with db.read() as conn:
                    after = await session_rows.get(conn, row.id)
                released_at = after.state_changed_at if after is not None else now
                soak.releases.append((row.id, released_at - row.state_changed_at,
                                      quarantine.length(row.quarantine_count)))


async def soak(root: Path, *, sessions: int, group_count: int, customers_n: int, hours: float, share: float,
               seed: int, fault_hours: float, steady_hours: float, quarantine_hours: float) -> dict[str, Any]:
    rng = random.Random(seed)
    clock = FakeClock(T0, max_jump=MAX_JUMP)
    world = World(clock)
    sessions_dir = root / "sessions"
    ensure_layout(sessions_dir)
    db = await Database.open(root / "data" / "adbot.sqlite3")
    # A shorter quarantine than the default 24 h, so that sessions come back (and are limited again,
    # doubling it) inside one simulated day; the rule is the same at any length.
    quarantine = Quarantine(first=quarantine_hours * HOUR)
    soak_state = Soak()
    config = _config()
    keys = await _seed(db, sessions_dir, world, sessions=sessions, rng=rng)
    refs = _world_groups(world, keys, count=group_count, share=share, rng=rng)
    plan = max(1, int(sessions * 0.8) // customers_n)
    uids = await _customers(db, refs, customers_n=customers_n, plan=plan, world=world)
    # The idle sessions open right now (a check's probe): never given to a customer meanwhile, wired as
    # control_bot.app wires them (there, the pool discovery's ``scanning``).
    idle_open: set[int] = set()
    supply = PoolSupply(db, sessions_dir, quarantine=quarantine, held=idle_open)
    engine = Engine(db, world, supply, clock, config, schedule=False, connect_rate=None, rng=random.Random(seed))
    end = T0 + hours * HOUR
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        await engine.start()
        for uid in uids:
            await engine.start_campaign(uid)
        steady_at = end - steady_hours * HOUR
        snapshot: dict[str, Any] = {}

        async def mark_steady() -> None:
            await clock.sleep(steady_at - clock.now())
            snapshot["requests"] = Counter(world.requests)
            snapshot["delivered"] = len(world._delivered)

        tasks = [asyncio.create_task(_campaign(engine, uid, end, clock, soak_state)) for uid in uids]
        tasks.append(asyncio.create_task(_faults(db, world, keys, clock, soak_state, until=T0 + fault_hours * HOUR,
                                                 rng=rng, scale=max(1, sessions // 50))))
        tasks.append(asyncio.create_task(_source_failure(db, engine, world, uids[0], clock, soak_state,
                                                         T0 + fault_hours * HOUR / 2)))
        tasks.append(asyncio.create_task(_checks(db, sessions_dir, world, clock, soak_state, end=steady_at,
                                                 quarantine=quarantine, held=idle_open)))
        tasks.append(asyncio.create_task(mark_steady()))

        async def progress() -> None:  # one line per simulated hour on stderr: a long run shows it is alive
            while clock.now() + HOUR <= end:
                await clock.sleep(HOUR)
                print(f"  hour {(clock.now() - T0) / HOUR:4.1f}: {len(world._delivered):,} posts, "
                      f"{time.perf_counter() - wall0:.0f} s", file=sys.stderr, flush=True)

        tasks.append(asyncio.create_task(progress()))
        await asyncio.gather(*tasks)
        return await _figures(db, world, soak_state, snapshot, keys, end=end, hours=hours,
                              wall=time.perf_counter() - wall0, cpu=time.process_time() - cpu0,
                              sessions=sessions, groups=group_count)
    finally:
        await engine.shutdown()
        await db.close()
        await clock.aclose()


async def _figures(db: Database, world: World, soak: Soak, snapshot: dict[str, Any], keys: list[str], *,
                   end: float, hours: float, wall: float, cpu: float, sessions: int, groups: int) -> dict[str, Any]:
    kinds = Counter(v.kind for v in world.violations)
    requests = world.requests
    steady_requests = Counter(requests)
    steady_requests.subtract(snapshot.get("requests", Counter()))
    steady_delivered = len(world._delivered) - snapshot.get("delivered", 0)
    steady_dialogs = sum(n for (_, method), n in steady_requests.items() if method == "dialogs")
    steady_other = sum(n for (_, method), n in steady_requests.items() if method != "dialogs")
    by_method: Counter[str] = Counter()
    for (_, method), n in requests.items():
        by_method[method] += n
    async with db.read() as conn:
        states = await session_rows.count_by_state(conn)
    short = min((took - minimum for _sid, took, minimum in soak.releases), default=float("nan"))
    return {
        "sessions": sessions,
        "groups": groups,
        "hours": hours,
        "cycles": soak.cycles,
        "delivered": len(world._delivered),
        "requests_by_method": dict(by_method),
        "non_member_sends": world.non_member_sends,
        "flood_violations": kinds.get("flood_wait", 0),
        "identity_changes": kinds.get("identity_change", 0),
        "violations": dict(kinds),
        # Each breach as the world saw it (what, whose, when into the run, the wait's end): how to trace one.
        "violation_details": [f"{v.kind} by {v.account[:12]} at +{v.at - T0:.1f} s: {v.detail}"
                              for v in world.violations[:20]],
        "quarantine_releases": len(soak.releases),
        "checks": soak.checks,
        "quarantine_short_s": short,
        "source_blamed_groups": soak.source_blamed,
        "source_paused": soak.source_paused,
        "requests_per_post": steady_other / max(1, steady_delivered),
        "steady_delivered": steady_delivered,
        "dialogs_requests_per_session_day": by_method.get("dialogs", 0) / max(1, sessions) / (hours / 24),
        "steady_dialogs": steady_dialogs,
        "states_at_end": states,
        "scripted": dict(soak.scripted),
        "faults_fired": sum(f.fired for f in world.faults),
        "fired": dict(Counter(f"{f.kind}:{f.method}" for f in world.faults for _ in range(f.fired))),
        "faults_scripted": len(world.faults),
        "wall_s": wall,
        "cpu_s": cpu,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 sessions, 200 groups, 6 hours")
    parser.add_argument("--sessions", type=int, default=None)
    parser.add_argument("--groups", type=int, default=None)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--hours", type=float, default=None)
    parser.add_argument("--member-share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quarantine-hours", type=float, default=2.0, help="the first quarantine (default 24 h in"
                        " the product: shorter here so sessions come back within the soak)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    sessions = args.sessions or (20 if args.quick else 200)
    group_count = args.groups or (200 if args.quick else 2000)
    customers_n = args.customers or (2 if args.quick else 20)
    hours = args.hours or (6.0 if args.quick else 24.0)
    fault_hours, steady_hours = hours * 0.5, hours * 0.2
    header(f"soak: {sessions} sessions, {group_count} groups, {customers_n} customers, {args.member_share:.0%}"
           f" memberships, {hours:g} simulated hours (faults in the first {fault_hours:g})")
    with tempfile.TemporaryDirectory(prefix="adbot-soak-") as tmp:
        r = asyncio.run(soak(Path(tmp), sessions=sessions, group_count=group_count, customers_n=customers_n,
                             hours=hours, share=args.member_share, seed=args.seed, fault_hours=fault_hours,
                             steady_hours=steady_hours, quarantine_hours=args.quarantine_hours))
    for name in ("delivered", "cycles", "non_member_sends", "flood_violations", "identity_changes",
                 "quarantine_releases", "quarantine_short_s", "source_blamed_groups", "source_paused",
                 "requests_per_post",
                 "dialogs_requests_per_session_day", "faults_fired", "faults_scripted", "wall_s", "cpu_s"):
        value = r[name]
        print(f"{name:>34}: {value:.3f}" if isinstance(value, float) else f"{name:>34}: {value}")
    print(f"{'violations':>34}: {r['violations']}")
    for detail in r["violation_details"]:
        print(f"{'':>36}{detail}")
    print(f"{'requests by method':>34}: {r['requests_by_method']}")
    print(f"{'states at end':>34}: {r['states_at_end']}")
    print(f"{'scripted':>34}: {r['scripted']}")
    print(f"{'fired':>34}: {r['fired']}")
    print(f"(load average {machine()['load']})")
    emit("soak", r)
    broken = broken_rules(r)
    if broken:
        raise RuntimeError("the soak broke: " + "; ".join(broken))
    return [r]


def broken_rules(r: dict[str, Any]) -> list[str]:
    """The rules the soak holds the product to, each that did not hold (empty: all did)."""
    broken = [f"{name} = {r[name]}" for name in
              ("non_member_sends", "flood_violations", "identity_changes", "source_blamed_groups") if r[name]]
    if r["violations"]:
        broken.append(f"violations {r['violations']}")
    if r["quarantine_short_s"] < 0:  # NaN (no release) compares False
        broken.append(f"a quarantine ended {-r['quarantine_short_s']:.0f} s early")
    if r["source_paused"] is None:
        broken.append("the campaign whose post was deleted did not pause")
    if r["steady_delivered"] and round(r["requests_per_post"], 2) != 1.0:
        broken.append(f"requests per post {r['requests_per_post']:.3f} in the steady state")
    return broken


if __name__ == "__main__":
    main()
