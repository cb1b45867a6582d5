"""Membership-aware pool (issue 15): idle sessions' dialogs read and stored (``pool.discovery``), and free
sessions chosen to cover the customer's groups at a grant and at a replacement (``pool.cover``), against
the strict simulated world (each account a member of its own chats only)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from botkit import make_settings
from pool_support import NOW, add_customer, add_pair, assert_pool_consistent, seed_sessions

from control_bot.app import create_app
from core.clock import FakeClock
from core.config import EngineSettings
from core.errors import SESSION_FILE_MISSING, NotEnoughSessions
from core.ports import AccountInfo, AccountPort, AccountStatus, Dialog, EntityDict, Peer, SessionCredentials
from core.states import EventKind
from engine.outcomes import classify
from pool import lifecycle
from pool.assign import assign, ensure_plan
from pool.cover import greedy_cover
from pool.discovery import PoolDiscovery, ScanResult
from pool.supply import PoolSupply
from sandbox.botuser import BotApiEmulator
from sandbox.world import World, frozen
from storage import events, groups, memberships
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database

HOUR = 3600.0
TOKEN = "123456789:AAE_sandbox-token-for-adbot-bot-tests_x"


async def _keys(db: Database, ids: Sequence[int]) -> list[str]:
    """The world's account key of each session (the sha256 of its auth key)."""
    async with db.read() as conn:
        rows = [await session_rows.get(conn, sid) for sid in ids]
    return [r.auth_key_sha for r in rows if r is not None]


async def _world(db: Database, ids: Sequence[int], clock: FakeClock) -> tuple[World, list[str]]:
    world = World(clock)  # strict: members only, no account it does not know
    keys = await _keys(db, ids)
    for key in keys:
        world.add_account(key)
    return world, keys


def _discovery(db: Database, sdir: Path, world: World, clock: FakeClock, **config: float) -> PoolDiscovery:
    return PoolDiscovery(db, sdir, world, classify, clock, EngineSettings(**config), rng=random.Random(7))


async def _add_groups(db: Database, customer_id: int, refs: Sequence[str]) -> None:
    async with db.tx() as conn:
        await groups.add_many(conn, customer_id, refs, NOW)


async def _member_of(db: Database, session_id: int, *names: str, can_write: bool = True) -> None:
    """Store a full read of the session's dialogs: the public groups ``names`` ('@x')."""
    dialogs = [
        Dialog(Peer("channel", 1000 + sum(map(ord, name)), 5), "group", name, name[1:], can_write=can_write,
               why_not=None if can_write else "banned")
        for name in names
    ]
    async with db.tx() as conn:
        await memberships.replace_for_session(conn, session_id, dialogs, NOW)


async def _owned(db: Database, customer_id: int) -> list[int]:
    async with db.read() as conn:
        return [s.id for s in await session_rows.list_for_owner(conn, customer_id)]


# --- choosing free sessions ----------------------------------------------------------------------------


def test_greedy_cover_counts_groups_and_keeps_the_pools_order_on_ties() -> None:
    a, b, c, d, e, f = keys = [memberships.chat_key(f"@{x}") for x in "abcdef"]
    reach = {1: {a}, 2: {a, b, c, d}, 3: {d, e, f}, 4: {e}}
    wanted = dict.fromkeys(keys, 1)
    assert greedy_cover(2, wanted, reach, [1, 2, 3, 4]) == [2, 3]
    assert greedy_cover(5, wanted, reach, [1, 2, 3, 4]) == [2, 3]  # the rest adds nothing: caller's pick
    assert greedy_cover(1, {**wanted, a: 5}, reach, [1, 2, 3, 4]) == [2]
    assert greedy_cover(1, {a: 1, e: 1}, reach, [4, 1, 2, 3]) == [4]  # a tie goes to the first in order
    assert greedy_cover(3, {}, reach, [1, 2]) == []


async def test_grant_takes_the_sessions_reaching_the_most_groups(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=2)
    await add_pair(db, 1001)
    s1, s2, s3, s4, s5 = await seed_sessions(db, sdir, 5)
    await _add_groups(db, 10, ["@a", "@b", "@c", "@d", "@e", "@f", "@f#7"])  # two topics of @f
    await _member_of(db, s1, "@a")
    await _member_of(db, s2, "@a", "@b", "@c")
    await _member_of(db, s3, "@d", "@f")
    await _member_of(db, s4, "@e")
    await _member_of(db, s5, "@a", "@b", "@c", "@d", "@e", "@f", can_write=False)  # member, may not write
    assert await ensure_plan(db, sdir, 10, NOW) == sorted([s2, s3])
    await assert_pool_consistent(db, sdir)


async def test_groups_the_customer_already_reaches_count_for_nothing(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=2)
    await add_pair(db, 1001)
    first, same, other = await seed_sessions(db, sdir, 3)
    await _add_groups(db, 10, ["@a", "@b", "@c", "@d", "@e"])
    await _member_of(db, first, "@a", "@b", "@c")
    await _member_of(db, same, "@a", "@b", "@c")  # reaches more groups, all reached already
    await _member_of(db, other, "@d", "@e")
    assert await assign(db, sdir, 10, 1, NOW) == [first]
    assert await assign(db, sdir, 10, 1, NOW) == [other]


async def test_without_members_the_pool_order_stays(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=3)
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, 4)
    await lifecycle.set_cooldown(db, ids[0], NOW + 600, NOW)  # waiting out a flood: after the others
    await _add_groups(db, 10, ["@nobody_is_in_it"])
    assert await ensure_plan(db, sdir, 10, NOW) == ids[1:]


async def test_a_member_replaces_a_dead_session(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=2)
    await add_pair(db, 1001)
    cats, dogs = await seed_sessions(db, sdir, 2)
    await _add_groups(db, 10, ["@cats", "@dogs"])
    await _member_of(db, cats, "@cats")
    await _member_of(db, dogs, "@dogs")
    assert await ensure_plan(db, sdir, 10, NOW) == [cats, dogs]
    plain, dogs_too, cats_too = await seed_sessions(db, sdir, 3)
    await _member_of(db, dogs_too, "@dogs")
    await _member_of(db, cats_too, "@cats")
    new = await lifecycle.mark_dead(db, sdir, cats, "AuthKeyUnregisteredError", NOW)
    assert new == cats_too  # not the oldest free one, nor a member of what the customer still reaches
    assert await _owned(db, 10) == [dogs, cats_too]
    async with db.read() as conn:
        left = await session_rows.get(conn, plain)
    assert left is not None and left.state == "unused"
    await assert_pool_consistent(db, sdir)


async def test_the_engines_supply_prefers_members_found_by_a_scan(db: Database, sdir: Path) -> None:
    """End to end: the world's dialogs, read by discovery, decide the engine's grant and replacement."""
    clock = FakeClock(NOW)
    await add_customer(db, 10, plan=1)
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, 4)
    world, keys = await _world(db, ids, clock)
    world.add_group("@cats", members={keys[2], keys[3]})
    world.add_group("@other", members={keys[0]})
    await _discovery(db, sdir, world, clock).run_due()
    await _add_groups(db, 10, ["@cats"])
    supply = PoolSupply(db, sdir)
    assert (await supply.fill_plan(10, NOW)).held == [ids[2]]
    assert await supply.retire(ids[2], "dead", "UserDeactivatedBanError", NOW) == ids[3]


# --- concurrent grants -----------------------------------------------------------------------------------


async def test_concurrent_grants_by_cover_never_share_a_session(db: Database, sdir: Path) -> None:
    rng = random.Random(15)
    names = [f"@g{i}" for i in range(8)]
    for cid in range(1, 13):
        await add_customer(db, cid, plan=1 + cid % 3)
        await _add_groups(db, cid, rng.sample(names, 3))
    await add_pair(db, 1001, capacity=30)
    ids = await seed_sessions(db, sdir, 20)
    for sid in ids[5:]:  # the newest are the members: every grant wants the same few sessions
        await _member_of(db, sid, *rng.sample(names, 2))
    other = await Database.open(db.path)  # a second process's connection (the CLI's, say)
    try:
        results = await asyncio.gather(
            *(ensure_plan(db if cid % 2 else other, sdir, cid, NOW) for cid in range(1, 13)), return_exceptions=True
        )
    finally:
        await other.close()
    granted = {cid: r for cid, r in zip(range(1, 13), results, strict=True) if isinstance(r, list)}
    assert all(isinstance(r, NotEnoughSessions) for r in results if not isinstance(r, list))
    taken = [sid for got in granted.values() for sid in got]
    assert len(taken) == len(set(taken)) == 20  # never one session for two customers; none left over
    for cid, got in granted.items():
        assert await _owned(db, cid) == got
    await assert_pool_consistent(db, sdir)


@dataclass
class GatedPort:
    """A world port whose dialogs answer only when the test opens the gate."""

    inner: AccountPort
    gate: asyncio.Event
    reading: asyncio.Event

    async def connect(self) -> AccountInfo:
        return await self.inner.connect()

    async def resolve(self, peer: str) -> Peer:
        return await self.inner.resolve(peer)

    async def forward(self, *, source: Peer, msg_id: int, dest: Peer, topic_id: int | None, random_id: int,
                      drop_author: bool) -> int:
        raise NotImplementedError

    async def send_text(self, *, dest: Peer, topic_id: int | None, text: str, entities: Sequence[EntityDict],
                        random_id: int) -> int:
        raise NotImplementedError

    async def dialogs(self) -> Sequence[Dialog]:
        self.reading.set()
        await self.gate.wait()
        return await self.inner.dialogs()

    async def account_status(self) -> AccountStatus:
        return await self.inner.account_status()

    async def close(self) -> None:
        await self.inner.close()


@dataclass
class GatedFactory:
    world: World
    gate: asyncio.Event
    reading: asyncio.Event

    def open(self, credentials: SessionCredentials) -> GatedPort:
        return GatedPort(self.world.open(credentials), self.gate, self.reading)


async def test_a_session_being_scanned_is_never_granted(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)  # virtual time stands still while the scan waits at the gate
    await add_customer(db, 10, plan=3)
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, 3)
    world, keys = await _world(db, ids, clock)
    world.add_group("@cats", members={keys[0]})
    gate, reading = asyncio.Event(), asyncio.Event()
    discovery = PoolDiscovery(db, sdir, GatedFactory(world, gate, reading), classify, clock, EngineSettings())
    supply = PoolSupply(db, sdir, held=discovery.scanning)
    scan = asyncio.create_task(discovery.scan(ids[0]))
    await asyncio.wait_for(reading.wait(), 5)
    assert discovery.scanning == {ids[0]} and world.live_ports() == 1
    with pytest.raises(NotEnoughSessions) as info:
        await ensure_plan(db, sdir, 10, NOW, held=supply.held)
    assert info.value.free == 2
    fill = await supply.fill_plan(10, NOW)  # what can be given now: the two not being scanned
    assert list(fill.held) == ids[1:] and isinstance(fill.short_because, NotEnoughSessions)
    gate.set()
    assert (await scan).outcome == "scanned"
    assert discovery.scanning == set() and world.live_ports() == 0
    async with db.read() as conn:
        row = await session_rows.get(conn, ids[0])
        assert row is not None and row.state == "unused"
        assert [m.username for m in await memberships.for_sessions(conn, [ids[0]])] == ["cats"]
    # Taken first, never scanned afterwards: its client belongs to the engine now.
    assert await supply.ensure_plan(10, NOW) == ids
    assert (await discovery.scan(ids[0])).outcome == "skipped"
    assert world.request_count(account=keys[0], method="connect") == 1
    assert world.violations == []


# --- discovery ---------------------------------------------------------------------------------------------


async def test_idle_scans_store_memberships_and_spread_the_next(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW)
    await add_customer(db, 10, plan=1)
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, 4)
    [owned] = await assign(db, sdir, 10, 1, NOW)  # ids[0]: the engine's, never scanned by the pool
    world, keys = await _world(db, ids, clock)
    world.add_group("@cats", members=set(keys))
    world.add_group("@muted", members={keys[1]}, forbidden={keys[1]})
    world.add_group(None, chat_id=4242, members={keys[2]})  # private: reached by id only
    discovery = _discovery(db, sdir, world, clock)
    results = await discovery.run_due()
    assert {r.session_id: (r.outcome, r.chats) for r in results} == {ids[1]: ("scanned", 2),
                                                                       ids[2]: ("scanned", 2),
                                                                       ids[3]: ("scanned", 1)}
    assert world.request_count(account=keys[0]) == 0 and world.live_ports() == 0
    async with db.read() as conn:
        rows = {(m.session_id, m.username or m.marked_id): m for m in await memberships.for_sessions(conn, ids)}
        due = [sorted(await memberships.due_for_scan(conn, NOW + 12 * HOUR * k, ["unused"], 10)) for k in (0.74, 1.26)]
        checked = await session_rows.get(conn, ids[1])
    assert sorted(rows) == sorted([(ids[1], "cats"), (ids[1], "muted"), (ids[2], "cats"),
                                   (ids[2], "-1000000004242"), (ids[3], "cats")])
    assert not rows[(ids[1], "muted")].can_write and rows[(ids[1], "muted")].why_not == "banned"
    assert rows[(ids[2], "-1000000004242")].peer == world.peer_seen_by(keys[2], "-1000000004242")
    assert due == [[], sorted(ids[1:])]  # due again after 12 h x (1 ± 0.25), not all at one moment
    assert checked is not None and checked.last_checked_at == NOW
    assert await discovery.run_due() == []  # nothing due any more
    assert owned == ids[0]


async def test_a_flood_wait_on_dialogs_only_delays_the_scan(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW)
    await add_pair(db, 1001)
    [sid] = await seed_sessions(db, sdir, 1)
    world, [key] = await _world(db, [sid], clock)
    world.add_group("@cats", members={key})
    world.add_fault(kind="flood_wait", method="dialogs", account=key, seconds=900)
    discovery = _discovery(db, sdir, world, clock)
    [result] = await discovery.run_due()
    assert (result.outcome, result.detail) == ("flood", "FloodWaitError")
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
        assert await memberships.due_for_scan(conn, NOW + 899, ["unused"], 10) == []
        assert await memberships.due_for_scan(conn, NOW + 900, ["unused"], 10) == [sid]
        assert await memberships.for_sessions(conn, [sid]) == []
        assert await wait_rows.for_session(conn, sid, NOW) == {"dialogs": NOW + 900}  # that class only
    assert row is not None and row.state == "unused" and row.cooldown_until is None  # sends never wait
    assert await discovery.scan(sid) == ScanResult(sid, "flood", detail="FloodWaitError")  # asked: no request
    assert world.request_count(method="dialogs") == 1
    clock.set(NOW + 900)
    [again] = await discovery.run_due()
    assert (again.outcome, again.chats) == ("scanned", 1)
    assert world.violations == []


async def test_a_dead_account_found_by_a_scan_is_retired(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW)
    await add_pair(db, 1001)
    dead, flaky, fine = await seed_sessions(db, sdir, 3)
    world, keys = await _world(db, [dead, flaky, fine], clock)
    world.add_fault(kind="dead", method="dialogs", account=keys[0])
    world.add_fault(kind="transient", method="connect", account=keys[1])
    discovery = _discovery(db, sdir, world, clock)
    results = {r.session_id: (r.outcome, r.detail) for r in await discovery.run_due()}
    assert results == {dead: ("dead", "AuthKeyUnregisteredError"), flaky: ("error", "ConnectionError"),
                       fine: ("scanned", None)}
    async with db.read() as conn:
        row = await session_rows.get(conn, dead)
        told = [e for e in await events.undelivered(conn, limit=100) if e.kind == EventKind.SESSION_DEAD]
        retry = await memberships.due_for_scan(conn, NOW + 1.26 * HOUR, ["unused"], 10)
    assert row is not None and row.state == "dead" and (sdir / "banned" / row.file_name).is_file()
    assert [(e.customer_id, e.payload["session_id"]) for e in told] == [(None, dead)]
    assert retry == [flaky]  # tried again within the hour or so, not in 12 h
    assert world.live_ports() == 0
    await assert_pool_consistent(db, sdir)


async def test_a_session_that_cannot_be_opened_waits_for_a_later_round(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW)
    [sid] = await seed_sessions(db, sdir, 1)  # no API pair configured: it waits for one, never opened
    world, _ = await _world(db, [sid], clock)
    assert await _discovery(db, sdir, world, clock).run_due() == []
    assert world.request_count() == 0
    await add_pair(db, 1001)  # now it has its identity: scanned at the next round
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
    assert row is not None
    (sdir / row.folder / row.file_name).unlink()  # ... but its file is gone: an error, retried later
    [result] = await _discovery(db, sdir, world, clock).run_due()
    assert result.outcome == "error" and result.detail == SESSION_FILE_MISSING  # a key, never words
    assert world.request_count() == 0


# --- the periodic task in the app ----------------------------------------------------------------------------


async def test_the_periodic_scan_starts_and_stops_with_the_app(tmp_path: Path) -> None:
    clock = FakeClock(NOW, auto=True)
    world = World(clock)
    try:
        async with BotApiEmulator(TOKEN, "adbot_test_bot") as emu:
            settings = make_settings(tmp_path, emu.base_url)
            quiet = await create_app(settings, clock=clock, factory=world, configure_logging=False, schedule=False)
            assert quiet.discovery is None  # off in tests unless asked
            await quiet.close()
            app = await create_app(settings, clock=clock, factory=world, configure_logging=False, schedule=False,
                                   discover=True)
            async with app:
                discovery = app.discovery
                assert discovery is not None and not discovery.running
                await add_pair(app.db, 1001)
                ids = await seed_sessions(app.db, settings.paths.sessions_dir, 2)
                for key in await _keys(app.db, ids):
                    world.add_account(key)
                    world.add_group(f"@g{key[:6]}", members={key})
                async with app.running():
                    assert discovery.running
                    for _ in range(500):
                        async with app.db.read() as conn:
                            if len(await memberships.for_sessions(conn, ids)) == 2:
                                break
                        await asyncio.sleep(0.01)
                    else:
                        pytest.fail("the idle sessions were never scanned")
                assert not discovery.running
                assert world.live_ports() == 0 and world.violations == []
    finally:
        await clock.aclose()


async def test_an_idle_session_found_frozen_when_scanned_reads_nothing_and_is_set_apart(
    db: Database, sdir: Path
) -> None:
    clock = FakeClock(NOW)
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, 2)
    world, keys = await _world(db, ids, clock)
    world.add_group("@cats", members=set(keys))
    frozen.freeze(world.accounts[keys[0]], NOW - 60, until=NOW + 86_400, appeal_url="https://t.me/spambot?s=1")
    discovery = _discovery(db, sdir, world, clock)

    results = {sid: (await discovery.scan(sid)).outcome for sid in ids}

    assert results == {ids[0]: "frozen", ids[1]: "scanned"}
    assert world.request_count(account=keys[0], method="dialogs") == 0  # its app config said so first
    assert world.violations == []
    async with db.read() as conn:
        row = await session_rows.get(conn, ids[0])
        told = [e for e in await events.undelivered(conn) if e.kind is EventKind.SESSION_FROZEN]
    assert row is not None and (row.state, row.folder, row.frozen_appeal_url) == (
        "frozen", "frozen", "https://t.me/spambot?s=1")
    assert [e.payload["appeal_url"] for e in told] == ["https://t.me/spambot?s=1"]
    await assert_pool_consistent(db, sdir)
