"""What the benchmarks share: a fleet of campaigns written straight into a fresh database, a simulated
world that already knows every chat, and small measuring helpers.

The fleet is seeded with plain ``sqlite3`` inserts (seconds for tens of thousands of rows, where the
repositories would take minutes through aiosqlite's thread). Session files are tiny placeholders in the
folders the rows name: the world keys an account whose file it cannot read as ``session-<id>``, and
start-up reconciliation only needs the names. Every session's dialogs are stored as read in an earlier
cycle (a member of each of its campaign's groups, with its own access hash; the next read due in 30
days) and, with a world, its peer cache holds the post's channel as if resolved before, so a measured
cycle is the steady state: one request per post.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.ports import AccountInfo, AccountStatus, Dialog, EntityDict, MediaItem, Peer, PostInfo, SessionCredentials
from pool.layout import ASSIGNED, UNUSED, ensure_dir, ensure_layout
from sandbox.world import World
from storage.migrations import MIGRATIONS

FIRST_CUSTOMER = 10_000
CHANNEL_BASE = 2_000_000_000  # bare channel ids of the groups when no world names them
SOURCE = "@bench_ads"
POST_LINK = "https://t.me/bench_ads/1"
DAY = 86_400.0
PLACEHOLDER = b"placeholder session file (benchmark)\n"
# Pacing the benchmarks set explicitly (the product's defaults are safe, not fast: ``core.pacing``).
FULL_RUN_SPACING = 5.0  # the full runs' spacing: a third of the product's default (15 s), 3x its send rate
NO_CAP_REACHED = {"daily_send_cap": 1_000_000_000, "warmup_days": 0}
"""The daily send cap stays on, so its count is part of every figure, but is never reached."""
KEEP_CONNECTED = {"keep_connection_seconds": 7 * 24 * 3600.0}
"""Cycles run back to back here, whatever the campaigns' interval (an hour): the steady state of sessions
that keep their connections between cycles (``[engine] keep_connection_seconds``), never closed as idle."""


@dataclass
class Fleet:
    """What ``seed`` wrote: customers (= campaigns), their sessions and their groups."""

    db_path: Path
    sessions_dir: Path
    customers: list[int]
    sessions: dict[int, list[int]]  # customer -> session ids
    groups: dict[int, list[str]]  # customer -> group refs
    seconds: float = 0.0

    @property
    def session_ids(self) -> list[int]:
        return [sid for sids in self.sessions.values() for sid in sids]

    @property
    def group_count(self) -> int:
        return sum(len(g) for g in self.groups.values())


def group_ref(customer: int, n: int) -> str:
    return f"@bench_c{customer}_g{n}"


def account_key(session_id: int) -> str:
    """The world's key for a session whose file holds no readable auth key."""
    return f"session-{session_id}"


def create_schema(db_path: Path) -> None:
    """A fresh database with the product's migrations applied (as ``Database.open`` would)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        for version, script in enumerate(MIGRATIONS, start=1):
            conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    finally:
        conn.close()


def seed(
    root: Path,
    *,
    campaigns: int,
    sessions: int,
    groups: int,
    running: bool = True,
    world: World | None = None,
    cycle_open: bool = False,
    unused_sessions: int = 0,
    interval: int = 3600,
    now: float | None = None,
) -> Fleet:
    """Write ``campaigns`` customers with a link post, ``groups`` groups and ``sessions`` assigned sessions
    each (files in ``assigned/<id>/``), plus ``unused_sessions`` in the pool.

    ``running`` sets every campaign running; ``cycle_open`` leaves each one's cycle 1 open (a process
    that stopped mid-cycle). Each session's dialogs hold its campaign's groups (``memberships``, read
    ``now``). With ``world``, the world gets the channel and every group, the rows and each session's
    peer cache of the channel hold the peers as that session's account sees them."""
    started = time.perf_counter()
    now = time.time() if now is None else now
    db_path = root / "data" / "adbot.sqlite3"
    sessions_dir = root / "sessions"
    ensure_layout(sessions_dir)
    create_schema(db_path)
    customers = [FIRST_CUSTOMER + c for c in range(campaigns)]
    session_map: dict[int, list[int]] = {}
    group_map = {uid: [group_ref(uid, g) for g in range(groups)] for uid in customers}

    customer_rows = []
    for uid in customers:
        customer_rows.append((
            uid, sessions, now + 30 * DAY, now, "link", POST_LINK, SOURCE, 1, interval,
            "running" if running else "stopped", 1 if cycle_open else 0, now if cycle_open else None,
            now if running else None, now,
        ))
    session_rows = []
    sid = 0
    for uid in customers:
        folder = f"{ASSIGNED}/{uid}"
        directory = ensure_dir(sessions_dir, folder)
        session_map[uid] = []
        for _ in range(sessions):
            sid += 1
            name = f"bench{sid:07d}.session"
            (directory / name).write_bytes(PLACEHOLDER)
            session_rows.append((sid, name, f"{sid:064x}", "assigned", uid, 2040, "0" * 32, folder, now, now))
            session_map[uid].append(sid)
    unused_dir = ensure_dir(sessions_dir, UNUSED)
    for _ in range(unused_sessions):
        sid += 1
        name = f"bench{sid:07d}.session"
        (unused_dir / name).write_bytes(PLACEHOLDER)
        session_rows.append((sid, name, f"{sid:064x}", "unused", None, 2040, "0" * 32, UNUSED, now, now))

    peer_rows: list[tuple[int, str, str, int, int | None, float]] = []
    member_rows: list[tuple[object, ...]] = []
    if world is not None and world.chat(SOURCE) is None:
        world.add_channel(SOURCE, posts=(1,))
    for uid in customers:
        for n, ref in enumerate(group_map[uid]):
            if world is not None and world.chat(ref) is None:
                world.add_group(ref)
            for sid_ in session_map[uid]:
                if world is not None:
                    peer = world.peer_seen_by(account_key(sid_), ref)
                else:
                    bare = CHANNEL_BASE + (uid - FIRST_CUSTOMER) * groups + n
                    peer = Peer("channel", bare, sid_ * 1_000_003 + bare)
                member_rows.append((sid_, peer.kind, peer.id, "group", peer.access_hash, ref[1:].lower(), ref, now))
        if world is not None:
            for sid_ in session_map[uid]:
                key = account_key(sid_)
                if key not in world.accounts:
                    world.add_account(key)
                peer = world.peer_seen_by(key, SOURCE)
                peer_rows.append((sid_, SOURCE, peer.kind, peer.id, peer.access_hash, now))

    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO customers (user_id, plan_sessions, plan_expires_at, created_at, post_kind, post_link,"
            " post_peer, post_msg_id, interval_s, status, cycle_no, cycle_started_at, next_cycle_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            customer_rows,
        )
        conn.executemany("INSERT INTO stats (customer_id) VALUES (?)", [(uid,) for uid in customers])
        conn.executemany(
            "INSERT INTO sessions (id, file_name, auth_key_sha, dc_id, state, owner_id, own_api_id, own_api_hash,"
            " folder, added_at, state_changed_at) VALUES (?, ?, ?, 2, ?, ?, ?, ?, ?, ?, ?)",
            session_rows,
        )
        conn.executemany(
            "INSERT INTO groups (customer_id, ref, added_at) VALUES (?, ?, ?)",
            [(uid, ref, now) for uid in customers for ref in group_map[uid]],
        )
        conn.executemany(
            "INSERT INTO peer_cache (session_id, ref, peer_type, peer_id, access_hash, resolved_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            peer_rows,
        )
        conn.executemany(
            "INSERT INTO memberships (session_id, peer_type, chat_id, kind, access_hash, username, title, can_write,"
            " seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
            member_rows,
        )
        conn.execute(
            "UPDATE sessions SET dialogs_checked_at = ?, dialogs_due_at = ? WHERE owner_id IS NOT NULL",
            (now, now + 30 * DAY),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return Fleet(db_path, sessions_dir, customers, session_map, group_map, time.perf_counter() - started)


# --- a port that costs (almost) nothing ----------------------------------------------------------------


@dataclass
class NullPort:
    """An account that answers every request at once and keeps no state: what the engine alone costs."""

    session_id: int
    sent: int = 0

    async def connect(self) -> AccountInfo:
        return AccountInfo(user_id=self.session_id, username=None, phone=None, name=f"user{self.session_id}")

    async def resolve(self, peer: str) -> Peer:
        return Peer("channel", abs(hash(peer)) % 10**9 + 1, 1)

    async def forward(
        self, *, source: Peer, msg_id: int, dest: Peer, topic_id: int | None, random_id: int, drop_author: bool,
        album: Sequence[int] = (),
    ) -> int:
        self.sent += 1
        return self.sent

    async def read_post(self, source: Peer, msg_id: int) -> PostInfo:
        return PostInfo(msg_id=msg_id, ids=(msg_id,))

    async def prepare_media(self, items: Sequence[MediaItem]) -> int:
        return 0

    async def send_media(
        self, *, dest: Peer, topic_id: int | None, items: Sequence[MediaItem], random_id: int
    ) -> int:
        self.sent += 1
        return self.sent

    async def send_text(
        self, *, dest: Peer, topic_id: int | None, text: str, entities: Sequence[EntityDict], random_id: int
    ) -> int:
        self.sent += 1
        return self.sent

    async def dialogs(self) -> Sequence[Dialog]:
        return []

    async def account_status(self) -> AccountStatus:
        return AccountStatus()

    async def close(self) -> None:
        return None


@dataclass
class NullFactory:
    ports: dict[int, NullPort] = field(default_factory=dict)

    def open(self, credentials: SessionCredentials) -> NullPort:
        port = self.ports[credentials.session_id] = NullPort(credentials.session_id)
        return port


# --- measuring -----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank on sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "ram": mem,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def header(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) so far of each thread of this process, by thread id: the event loop's
    thread against SQLite's (aiosqlite runs one thread per connection)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[task.name] = (int(fields[11]) + int(fields[12])) / tick
    return out


def split_cpu(before: dict[str, float], after: dict[str, float]) -> tuple[float, float]:
    """(event-loop thread, every other thread) CPU seconds between two ``thread_cpu`` snapshots."""
    main = str(os.getpid())
    loop = after.get(main, 0.0) - before.get(main, 0.0)
    others = sum(v - before.get(k, 0.0) for k, v in after.items() if k != main)
    return loop, others


def emit(name: str, figures: dict[str, object]) -> None:
    """One machine-readable line per benchmark, collected by ``python -m benchmarks``."""
    print(f"RESULT {json.dumps({'bench': name, **figures})}", flush=True)


class LoopLag:
    """How late the event loop runs a callback that asked to run every ``period`` seconds: the time the
    loop was busy with something else (CPU bursts, a garbage collection, the GIL held by SQLite's
    thread). ``async with LoopLag() as lag: ...``, then ``lag.percentile(95)`` / ``lag.max``."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.period
            await asyncio.sleep(self.period)
            self.lags.append(max(0.0, loop.time() - due))

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def percentile(self, q: float) -> float:
        return percentile(self.lags, q)

    @property
    def max(self) -> float:
        return max(self.lags, default=0.0)
