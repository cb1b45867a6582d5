"""pool.joins: joins an admin asked for, queued and paced per session, run against the strict simulated
world (idle sessions through the factory, a customer's through the engine's live port), their outcomes
recorded; and the pacing's arithmetic as properties."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pool_support import NOW, add_customer, add_pair, seed_sessions

from control_bot.services.joins import preview_invite
from core.clock import FakeClock
from core.errors import SESSION_FILE_MISSING
from core.join_targets import JoinTarget, parse_join_target
from core.ports import Dialog, Peer, SessionCredentials
from engine.engine import Engine
from engine.outcomes import classify
from pool import joins as pool_joins
from pool.assign import ensure_plan
from pool.joins import DAY, JoinPacing, JoinRunner, next_slot, queue_joins
from pool.supply import PoolSupply
from sandbox.world import World
from sandbox.world.faults import Fault
from sandbox.world.port import SimPort
from storage import joins as join_rows
from storage import memberships
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database
from tests.engine_support import fast_config

PACING = JoinPacing(min_gap=600.0, daily_cap=5)
ADMIN = 9000
GAP = PACING.min_gap


async def world_for(db: Database, sdir: Path, count: int, clock: FakeClock) -> tuple[World, list[int], dict[int, str]]:
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, count)
    async with db.read() as conn:
        keys = {r.id: r.auth_key_sha for r in await session_rows.list_all(conn)}
    world = World(clock)
    for key in keys.values():
        world.add_account(key)
    return world, ids, keys


def runner(db: Database, sdir: Path, world: World, clock: FakeClock, **kwargs: object) -> JoinRunner:
    return JoinRunner(db, sdir, world, classify, clock, PACING, **kwargs)  # type: ignore[arg-type]


async def queue(
    db: Database, ids: list[int], text: str, clock: FakeClock, **kwargs: object
) -> list[pool_joins.QueuedJoin]:
    target = parse_join_target(text)
    return await queue_joins(db, ids, target, requested_by=ADMIN, now=clock.now(), pacing=PACING, **kwargs)  # type: ignore[arg-type]


async def rows(db: Database, limit: int = 100) -> list[join_rows.JoinRow]:
    async with db.read() as conn:
        return list(reversed(await join_rows.recent(conn, limit)))


# --- pacing ----------------------------------------------------------------------------------------------


async def test_joins_are_paced_and_capped_per_session_and_survive_in_the_table(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid, other), keys = await world_for(db, sdir, 2, clock)
    names = [f"@group_{i}" for i in range(7)]
    for name in names:
        world.add_group(name, members=set())
    planned = [await queue(db, [sid], name, clock) for name in names]
    due = [q[0].due_at for q in planned]
    assert due == [NOW, NOW + GAP, NOW + 2 * GAP, NOW + 3 * GAP, NOW + 4 * GAP, NOW + DAY, NOW + DAY + GAP]
    assert (await queue(db, [other], "@group_0", clock))[0].due_at == NOW  # another session: its own pace

    # A fresh runner each time: nothing but the table carries the pacing (as across a restart).
    seen: list[tuple[float, str]] = []
    for step in range(0, 2 * 24 * 6):  # every 10 minutes for two days, plus a look in between
        clock.set(NOW + step * GAP)
        for at in (0.0, GAP / 2):
            clock.set(NOW + step * GAP + at)
            for done in await runner(db, sdir, world, clock).run_due():
                if done.session_id == sid:
                    seen.append((clock.now() - NOW, done.status))
    assert seen == [(due_at - NOW, "joined") for due_at in due]
    assert world.request_count(account=keys[sid], method="join") == 7
    assert world.violations == []
    tries = [r.tried_at for r in await rows(db) if r.session_id == sid]
    assert all(b is not None and a is not None and b - a >= GAP for a, b in itertools.pairwise(tries))


async def test_a_request_is_never_early_even_when_the_runner_is_asked_often(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid,), keys = await world_for(db, sdir, 1, clock)
    world.add_group("@one_chat", members=set())
    world.add_group("@two_chat", members=set())
    await queue(db, [sid], "@one_chat", clock)
    await queue(db, [sid], "@two_chat", clock)
    run = runner(db, sdir, world, clock)
    assert [d.status for d in await run.run_due()] == ["joined"]
    for minutes in range(1, 10):
        clock.set(NOW + minutes * 60)
        assert await run.run_due() == []
    assert world.request_count(account=keys[sid], method="join") == 1
    clock.set(NOW + GAP)
    assert [d.target for d in await run.run_due()] == ["@two_chat"]


# --- flood waits -----------------------------------------------------------------------------------------


async def test_a_flood_wait_stops_the_sessions_joins_until_it_ends_but_not_its_sends(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid, other), keys = await world_for(db, sdir, 2, clock)
    for name in ("@one_chat", "@two_chat"):
        world.add_group(name, members=set())
    world.add_fault(Fault(kind="error", error="FloodWaitError", method="join", seconds=3600, account=keys[sid]))
    await queue(db, [sid], "@one_chat", clock)
    await queue(db, [sid, other], "@two_chat", clock)
    run = runner(db, sdir, world, clock)

    done = await run.run_due()
    assert {(d.session_id, d.status, d.reason) for d in done} == {
        (sid, "queued", "FLOOD_WAIT"),
        (other, "joined", None),
    }
    async with db.read() as conn:
        assert await wait_rows.until(conn, sid, "join") == NOW + 3600
        session = await session_rows.get(conn, sid)
        assert session is not None and session.cooldown_until is None and session.state == "unused"  # sends go on
        queued = await join_rows.queued_for(conn, sid)
        assert [(r.target, r.due_at) for r in queued] == [("@one_chat", NOW + 3600), ("@two_chat", NOW + 3600 + GAP)]
        assert await wait_rows.waiting(conn, "join", NOW) == {sid: NOW + 3600}
        assert await wait_rows.for_session(conn, sid, NOW) == {"join": NOW + 3600}  # that class only
    for minutes in (10, 30, 59):
        clock.set(NOW + minutes * 60)
        assert await run.run_due() == []
    assert world.request_count(account=keys[sid], method="join") == 1
    clock.set(NOW + 3600)
    assert [(d.target, d.status) for d in await run.run_due()] == [("@one_chat", "joined")]
    clock.set(NOW + 3600 + GAP)
    assert [(d.target, d.status) for d in await run.run_due()] == [("@two_chat", "joined")]
    assert world.violations == []


async def test_a_send_flood_wait_also_holds_joins(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid,), keys = await world_for(db, sdir, 1, clock)
    world.add_group("@one_chat", members=set())
    async with db.tx() as conn:
        await session_rows.record_cooldown(conn, sid, NOW + 900, NOW)
    world.accounts[keys[sid]].flood_until["send"] = NOW + 900
    assert (await queue(db, [sid], "@one_chat", clock))[0].due_at == NOW + 900
    assert await runner(db, sdir, world, clock).run_due() == []
    clock.set(NOW + 900)
    assert [d.status for d in await runner(db, sdir, world, clock).run_due()] == ["joined"]
    assert world.violations == []


# --- outcomes --------------------------------------------------------------------------------------------


async def test_a_joined_group_becomes_reachable_at_once(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid,), keys = await world_for(db, sdir, 1, clock)
    private = world.add_group(None, members=set())
    invite = world.joins.add_invite(private.marked_id, "Private12345")
    world.add_group("@cats_chat", members=set())
    await queue(db, [sid], "@cats_chat", clock)
    await queue(db, [sid], "t.me/+Private12345", clock)
    run = runner(db, sdir, world, clock)
    await run.run_due()
    clock.set(NOW + GAP)
    await run.run_due()
    async with db.read() as conn:
        cats = await memberships.find(conn, sid, "@cats_chat")
        hidden = await memberships.find(conn, sid, private.marked_id)
    assert cats is not None and cats.can_write and cats.peer == world.peer_seen_by(keys[sid], "@cats_chat")
    assert hidden is not None and hidden.can_write and hidden.peer == world.peer_seen_by(keys[sid], private.marked_id)
    assert [r.status for r in await rows(db)] == ["joined", "joined"]
    assert invite == "Private12345"


async def test_pending_requests_are_reported_and_never_followed_up(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid,), keys = await world_for(db, sdir, 1, clock)
    world.add_group("@vip_chat", members=set())
    world.joins.require_approval("@vip_chat")
    await queue(db, [sid], "@vip_chat", clock)
    run = runner(db, sdir, world, clock)
    assert [(d.status, d.reason) for d in await run.run_due()] == [("pending", "INVITE_REQUEST_SENT")]
    assert [s.skipped for s in await queue(db, [sid], "@vip_chat", clock)] == ["queued"]  # pending: not asked twice
    for day in range(1, 4):
        clock.set(NOW + day * DAY)
        assert await run.run_due() == []
    assert world.request_count(account=keys[sid], method="join") == 1
    async with db.read() as conn:
        assert await memberships.find(conn, sid, "@vip_chat") is None


async def test_already_a_member_and_too_many_channels(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (member, crowded), keys = await world_for(db, sdir, 2, clock)
    world.add_group("@home_chat", members={keys[member]})
    for name in ("@one_chat", "@two_chat", "@three_chat"):
        world.add_group(name, members=set())
    world.joins.cap_for(keys[crowded], 0)
    await queue(db, [member, crowded], "@home_chat", clock)
    await queue(db, [crowded], "@one_chat", clock)
    await queue(db, [crowded], "@two_chat", clock)
    done = await runner(db, sdir, world, clock).run_due()
    assert {(d.session_id, d.status, d.reason) for d in done} == {
        (member, "already", None),
        (crowded, "refused", "CHANNELS_TOO_MUCH"),
    }
    by_session = [(r.session_id, r.target, r.status, r.reason) for r in await rows(db)]
    assert (crowded, "@one_chat", "refused", "CHANNELS_TOO_MUCH") in by_session  # never tried
    assert (crowded, "@two_chat", "refused", "CHANNELS_TOO_MUCH") in by_session
    assert world.request_count(account=keys[crowded], method="join") == 1
    async with db.read() as conn:
        assert await memberships.find(conn, member, "@home_chat") is not None
    # The stored membership now spares the request altogether.
    assert [s.skipped for s in await queue(db, [member], "@home_chat", clock)] == ["member"]


async def test_an_expired_invite_ends_every_queued_join_of_it(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, ids, keys = await world_for(db, sdir, 3, clock)
    chat = world.add_group(None, members=set())
    world.joins.add_invite(chat.marked_id, "Expired12345", expired=True)
    world.add_group("@elsewhere", members=set())
    await queue(db, [ids[0]], "@elsewhere", clock)
    await queue(db, ids, "+Expired12345", clock)
    done = await runner(db, sdir, world, clock).run_due()
    assert [(d.session_id, d.status, d.reason) for d in done if d.target != "@elsewhere"] == [
        (ids[1], "refused", "INVITE_HASH_EXPIRED")
    ]
    assert {r.status for r in await rows(db) if r.target == "+Expired12345"} == {"refused"}
    assert sum(world.request_count(account=k, method="join") for k in keys.values()) == 2


async def test_a_dead_account_found_on_joining_is_retired_with_its_queue(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid,), keys = await world_for(db, sdir, 1, clock)
    world.add_group("@one_chat", members=set())
    world.add_group("@two_chat", members=set())
    world.add_fault(Fault(kind="dead", method="join", account=keys[sid]))
    await queue(db, [sid], "@one_chat", clock)
    await queue(db, [sid], "@two_chat", clock)
    done = await runner(db, sdir, world, clock).run_due()
    assert [(d.status, d.reason) for d in done] == [("failed", "AuthKeyUnregisteredError")]
    assert [r.status for r in await rows(db)] == ["failed", "failed"]
    async with db.read() as conn:
        session = await session_rows.get(conn, sid)
    assert session is not None and session.state == "dead"
    assert [s.skipped for s in await queue(db, [sid], "@two_chat", clock)] == ["dead"]


async def test_what_is_not_queued(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    _world, (sid, other), _keys = await world_for(db, sdir, 2, clock)
    queued = await queue(db, [sid, sid, 999, other], "@cats_market", clock, members=[other])
    assert [(q.session_id, q.skipped) for q in queued] == [(sid, None), (999, "no_session"), (other, "member")]
    assert [(q.session_id, q.skipped) for q in await queue(db, [sid], "@cats_market", clock)] == [(sid, "queued")]
    left = Dialog(Peer("channel", 77, 5), "group", "Dogs", "dogs_market", can_write=False, why_not="left")
    async with db.tx() as conn:
        await memberships.record(conn, other, left, NOW)
        await memberships.record(conn, sid, replace(left, can_write=False, why_not="banned"), NOW)
    queued = await queue(db, [other, sid], "@dogs_market", clock)
    assert [(q.session_id, q.skipped) for q in queued] == [(other, None), (sid, "member")]  # left: not a member


async def test_a_session_waiting_for_an_api_pair_is_never_queued_nor_previewed(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    await add_pair(db, 1001, capacity=1)
    sid, waiting = await seed_sessions(db, sdir, 2)  # the pair had room for one: the other waits for a pair
    async with db.read() as conn:
        row = await session_rows.get(conn, waiting)
    assert row is not None and not row.has_identity
    queued = await queue(db, [waiting, sid], "@cats_market", clock)
    assert [(q.session_id, q.skipped) for q in queued] == [(waiting, "no_pair"), (sid, None)]
    world = World(clock)
    async with db.read() as conn:
        keys = {r.id: r.auth_key_sha for r in await session_rows.list_all(conn)}
    for key in keys.values():
        world.add_account(key)
    chat = world.add_group(None, members=set())
    invite = world.joins.add_invite(chat.marked_id, "AskFirst123", request_needed=True)
    checked = await preview_invite(db, runner(db, sdir, world, clock), [waiting, sid], invite)
    assert checked.session_id == sid  # the waiting one was passed over, never opened
    assert world.request_count(account=keys[waiting]) == 0


# --- previews --------------------------------------------------------------------------------------------


async def test_an_invite_is_previewed_without_joining(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid, member), keys = await world_for(db, sdir, 2, clock)
    chat = world.add_group(None, members={keys[member]})
    invite = world.joins.add_invite(chat.marked_id, "AskFirst123", request_needed=True)
    run = runner(db, sdir, world, clock)
    preview = await run.preview(sid, invite)
    assert preview.request_needed and not preview.already_member and preview.participants == 1
    assert not chat.is_member(keys[sid])
    seen = await run.preview(member, invite)
    assert seen.already_member
    async with db.read() as conn:
        assert await memberships.find(conn, member, chat.marked_id) is not None  # recorded from the preview
        assert await join_rows.recent(conn, 10) == []
    assert world.request_count(method="join") == 0
    assert world.request_count(method="check_invite") == 2
    assert world.live_ports() == 0  # idle sessions are closed again


# --- a customer's sessions go through the engine's live port ---------------------------------------------


async def test_a_customers_session_joins_through_the_engine(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, ids, _keys = await world_for(db, sdir, 2, clock)
    await add_customer(db, 4242, plan=1)
    [owned] = await ensure_plan(db, sdir, 4242, NOW)
    world.add_group("@cats_chat", members=set())
    engine = Engine(db, world, PoolSupply(db, sdir), clock, fast_config(), schedule=False,
                    connect_rate=None, rng=random.Random(1))
    await queue(db, [owned], "@cats_chat", clock)
    assert await runner(db, sdir, world, clock).run_due() == []  # no engine in this process: it waits
    assert world.request_count(method="join") == 0
    run = runner(db, sdir, world, clock, live=engine)
    assert [(d.session_id, d.status) for d in await run.run_due()] == [(owned, "joined")]
    assert engine.accounts.open_sessions == []  # opened for the join, closed again: no cycle holds it
    assert world.violations == []
    await engine.accounts.get(owned)  # a cycle's open port is used as it is, and stays open
    world.add_group("@dogs_chat", members=set())
    await queue(db, [owned], "@dogs_chat", clock)
    clock.set(NOW + GAP)
    assert [d.status for d in await run.run_due()] == ["joined"]
    assert engine.accounts.open_sessions == [owned] and world.live_ports() == 1
    await engine.accounts.close_all()
    assert ids


# --- the arithmetic --------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 3 * DAY), max_size=20),
    st.floats(0, 3 * DAY),
    st.integers(1, 8),
    st.floats(60, 7200),
    st.integers(1, 12),
)
def test_planned_slots_keep_the_gap_and_the_daily_cap(
    earlier: list[float], now: float, cap: int, gap: float, more: int
) -> None:
    pacing = JoinPacing(gap, cap)
    tries = sorted(earlier)
    # Only histories the pacing itself could have made.
    history: list[float] = []
    for t in tries:
        history.append(next_slot(history, t, pacing))
    planned = list(history)
    start = max(now, history[-1] if history else 0.0)
    for _ in range(more):
        slot = next_slot(planned, start, pacing)
        assert slot >= start
        planned.append(slot)
    for a, b in itertools.pairwise(planned):
        assert b - a >= gap - 1e-6
    for i, t in enumerate(planned):
        assert sum(1 for x in planned[: i + 1] if x <= t and x + DAY > t) <= cap  # the 24 hours before t


def test_next_slot_examples() -> None:
    assert next_slot([], 100.0, PACING) == 100.0
    assert next_slot([50.0], 100.0, PACING) == 650.0
    five = [0.0, 600.0, 1200.0, 1800.0, 2400.0]
    assert next_slot(five, 3000.0, PACING) == DAY
    assert next_slot(five, DAY + 10, PACING) == DAY + 10
    with pytest.raises(ValueError):
        JoinTarget()


async def test_an_idle_session_open_elsewhere_waits_and_a_joining_one_is_held(db: Database, sdir: Path) -> None:
    clock = FakeClock(NOW, auto=False)
    world, (sid,), keys = await world_for(db, sdir, 1, clock)
    world.add_group("@cats_chat", members=set())
    await queue(db, [sid], "@cats_chat", clock)
    held = {sid}  # e.g. discovery is reading its dialogs right now
    run = runner(db, sdir, world, clock, held=held)
    assert await run.run_due() == []
    assert world.request_count(account=keys[sid]) == 0 and [r.status for r in await rows(db)] == ["queued"]
    held.clear()
    seen: list[bool] = []
    real_open = world.open

    def watching(credentials: SessionCredentials) -> SimPort:
        seen.append(credentials.session_id in held)
        return real_open(credentials)

    world.open = watching  # type: ignore[method-assign]
    assert [d.status for d in await run.run_due()] == ["joined"]
    assert seen == [True] and held == set()  # held while open, let go after


async def test_a_session_that_cannot_be_opened_stores_a_key_never_words(db: Database, sdir: Path) -> None:
    """Its row keeps why as a key (``core.errors``), worded for whoever reads /joins, in their language."""
    clock = FakeClock(NOW, auto=False)
    world, (sid,), _keys = await world_for(db, sdir, 1, clock)
    world.add_group("@one_chat", members=set())
    await queue(db, [sid], "@one_chat", clock)
    async with db.read() as conn:
        session = await session_rows.get(conn, sid)
    assert session is not None
    (sdir / session.folder / session.file_name).unlink()
    done = await runner(db, sdir, world, clock).run_due()
    assert [(d.status, d.reason) for d in done] == [("failed", SESSION_FILE_MISSING)]
    assert [(r.status, r.reason) for r in await rows(db)] == [("failed", SESSION_FILE_MISSING)]
