"""Shared set-up for the engine tests: a customer with a campaign, pool sessions and a matching world."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.clock import FakeClock
from core.config import EngineSettings
from core.links import random_id_for
from engine.engine import Engine
from pool.supply import PoolSupply
from sandbox.world import World
from storage import customers, events
from storage import groups as group_rows
from storage import ledger as ledger_rows
from storage import sessions as session_rows
from storage.db import Database
from storage.events import Event
from tests.pool_support import NOW, add_pair, seed_sessions

CID = 555_000_111
POST_LINK = "https://t.me/ads/1"
TEN_GROUPS = tuple(f"@group_{i:02d}" for i in range(10))


@dataclass
class Notified:
    calls: int = 0

    def __call__(self) -> None:
        self.calls += 1


@dataclass
class Setup:
    db: Database
    sessions_dir: Path
    clock: FakeClock
    world: World
    customer_id: int
    session_ids: list[int]
    keys: dict[int, str]  # session id -> world account key
    refs: list[str]
    notified: Notified = field(default_factory=Notified)

    def engine(self, config: EngineSettings | None = None, *, db: Database | None = None) -> Engine:
        return Engine(
            db or self.db, self.world, PoolSupply(db or self.db, self.sessions_dir), self.clock,
            config or fast_config(),
            notify=self.notified, schedule=False, connect_rate=None, rng=random.Random(7),
        )

    def account_of(self, session_id: int) -> str:
        return self.keys[session_id]

    async def rows(self, cycle_no: int) -> dict[str, ledger_rows.SendRow]:
        async with self.db.read() as conn:
            return await ledger_rows.cycle_rows(conn, self.customer_id, cycle_no)

    async def customer(self) -> customers.Customer:
        async with self.db.read() as conn:
            customer = await customers.get(conn, self.customer_id)
        assert customer is not None
        return customer

    async def events(self) -> list[Event]:
        async with self.db.read() as conn:
            return list(reversed(await events.list_for(conn, self.customer_id, limit=500)))

    async def admin_events(self) -> list[Event]:
        async with self.db.read() as conn:
            return list(reversed(await events.list_for(conn, None, limit=500)))

    async def groups(self) -> dict[str, group_rows.Group]:
        async with self.db.read() as conn:
            return {g.ref: g for g in await group_rows.list_for(conn, self.customer_id)}

    async def owned(self) -> list[session_rows.SessionRow]:
        async with self.db.read() as conn:
            return await session_rows.list_for_owner(conn, self.customer_id)

    async def session(self, session_id: int) -> session_rows.SessionRow:
        async with self.db.read() as conn:
            row = await session_rows.get(conn, session_id)
        assert row is not None
        return row

    def random_id(self, cycle_no: int, ref: str) -> int:
        return random_id_for(self.customer_id, cycle_no, ref)


def fast_config(**changes: object) -> EngineSettings:
    base: dict[str, object] = {
        "send_spacing": 5.0,
        "spacing_jitter": 0.2,
        "cycle_interval": 300,
        "on_restart": "resume",
        "max_in_flight": 50,
        "send_timeout": 30.0,
        "shutdown_timeout": 20.0,
        "group_failure_limit": 3,
        "transient_retries": 2,
        "transient_backoff": 2.0,
        # The daily send cap is counted every cycle but never reached (tests/test_pacing.py sets its own).
        "daily_send_cap": 1_000_000,
        "warmup_days": 0,
    }
    base.update(changes)
    return EngineSettings.model_validate(base)


async def make_setup(
    db: Database,
    tmp_path: Path,
    *,
    groups: Sequence[str] = TEN_GROUPS,
    plan: int = 3,
    pool: int = 3,
    interval: int = 300,
    clock: FakeClock | None = None,
    world: World | None = None,
    post: tuple[str, int] | None = ("@ads", 1),
    text: str | None = None,
    dedupe: bool = True,
) -> Setup:
    """A customer with ``plan`` sessions out of ``pool``, the groups, and a world where the post's
    channel exists and every group (created unless the world has it) lets every account write."""
    clock = clock or FakeClock(NOW)
    sessions_dir = tmp_path / "sessions"
    await add_pair(db, 1001)
    await seed_sessions(db, sessions_dir, pool)
    async with db.tx() as conn:
        await customers.grant(conn, CID, plan, 30, NOW, default_interval=interval)
        if post is not None:
            await customers.set_post_link(conn, CID, POST_LINK, post[0], post[1], False, NOW)
        elif text is not None:
            await customers.set_post_text(conn, CID, text, [{"type": "bold", "offset": 0, "length": 2}], NOW)
        await group_rows.add_many(conn, CID, list(groups), NOW)
    async with db.read() as conn:
        rows = await session_rows.list_all(conn)
    keys = {r.id: r.auth_key_sha for r in rows}
    if world is None:
        world = World(clock, dedupe=dedupe)
    for key in keys.values():
        if key not in world.accounts:
            world.add_account(key)
    if world.chat("@ads") is None:
        world.add_channel("ads", posts=[1, 2, 3])
    for ref in groups:
        peer = ref.split("#", 1)[0]
        if world.chat(peer) is None:
            topic = ref.partition("#")[2]
            world.add_group(peer.lstrip("@"), topics=[int(topic)] if topic else ())
    return Setup(db, sessions_dir, clock, world, CID, sorted(keys), keys, list(groups))


async def running(setup: Setup, engine: Engine) -> None:
    await engine.start()
    await engine.start_campaign(setup.customer_id)
