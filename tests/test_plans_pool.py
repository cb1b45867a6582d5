"""Issue 18 part H, the pool's side: a plan the pool cannot fill tells the admins (SESSIONS_SHORT) in the
transaction that found it, once per customer and reason for a while; a smaller plan gives sessions back;
an upload stored without a usable API pair names what it lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pool_support import NOW, add_customer, add_pair, assert_pool_consistent, seed_sessions

from core.errors import NoPairCapacity, NotEnoughSessions
from core.states import EventKind
from pool import intake
from pool.assign import SHORT_TOLD_AGAIN_AFTER, assign, ensure_plan, give_back
from pool.supply import PoolSupply
from sandbox.sessionfiles import make_session_bytes, make_sidecar
from storage import events
from storage import sessions as session_rows
from storage.db import Database


async def _short_events(db: Database) -> list[tuple[int | None, dict[str, object]]]:
    async with db.read() as conn:
        found = await events.undelivered(conn, limit=1000)
    return [(e.customer_id, e.payload) for e in found if e.kind == EventKind.SESSIONS_SHORT]


async def test_a_plan_the_pool_cannot_fill_tells_the_admins_once(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=3)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 1)
    with pytest.raises(NotEnoughSessions):
        await ensure_plan(db, sdir, 10, NOW)
    assert await _short_events(db) == [
        (None, {"customer_id": 10, "wanted": 3, "free": 1, "reason": "no_sessions"})
    ]
    async with db.read() as conn:
        assert await session_rows.list_for_owner(conn, 10) == []  # all or none: nothing was taken
    # Every cycle tries again: the admins are not told again and again...
    with pytest.raises(NotEnoughSessions):
        await ensure_plan(db, sdir, 10, NOW + 600)
    assert len(await _short_events(db)) == 1
    # ...but again once the while is over.
    with pytest.raises(NotEnoughSessions):
        await ensure_plan(db, sdir, 10, NOW + SHORT_TOLD_AGAIN_AFTER + 1)
    assert len(await _short_events(db)) == 2
    await assert_pool_consistent(db, sdir)


async def test_free_sessions_waiting_for_a_pair_are_a_no_pair_shortage(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=2)
    await seed_sessions(db, sdir, 3)  # no pair at all: they wait for one
    with pytest.raises(NoPairCapacity):
        await ensure_plan(db, sdir, 10, NOW)
    [(whom, payload)] = await _short_events(db)
    assert whom is None and payload["reason"] == "no_pair" and payload["wanted"] == 2
    assert payload["customer_id"] == 10


async def test_a_short_start_tells_the_admins_and_runs_with_what_there_is(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=3)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 2)
    supply = PoolSupply(db, sdir)
    fill = await supply.fill_plan(10, NOW)
    assert len(fill.held) == 2 and isinstance(fill.short_because, NotEnoughSessions)
    assert await _short_events(db) == [
        (None, {"customer_id": 10, "wanted": 3, "free": 2, "reason": "no_sessions"})
    ]
    await assert_pool_consistent(db, sdir)


async def test_a_filled_plan_tells_nobody(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=2)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 2)
    assert len(await ensure_plan(db, sdir, 10, NOW)) == 2
    assert await _short_events(db) == []


async def test_give_back_returns_only_the_customers_own(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=3)
    await add_customer(db, 11, plan=1)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 5)
    mine = await assign(db, sdir, 10, 3, NOW)
    theirs = await assign(db, sdir, 11, 1, NOW)
    assert await give_back(db, sdir, 10, [mine[0], theirs[0], 999], NOW) == 1
    async with db.read() as conn:
        assert [s.id for s in await session_rows.list_for_owner(conn, 10)] == mine[1:]
        assert [s.id for s in await session_rows.list_for_owner(conn, 11)] == theirs
        back = await session_rows.get(conn, mine[0])
    assert back is not None and back.state == "unused" and back.pair_id is not None  # keeps its identity
    await assert_pool_consistent(db, sdir)


async def test_an_upload_without_a_usable_pair_names_what_it_lacks(db: Database, sdir: Path) -> None:
    files = [
        ("alone.session", make_session_bytes(2)),
        ("noapp.session", make_session_bytes(3)),
        ("noapp.json", json.dumps({"phone": "+15550001"}).encode()),
        ("own.session", make_session_bytes(4)),
        ("own.json", json.dumps(make_sidecar(api_id=111)).encode()),
    ]
    results = {r.filename: r for r in await intake.import_files(db, sdir, files, max_bytes=10**6, now=NOW)}
    assert results["alone.session"].waiting
    assert results["alone.session"].lacks == (intake.NO_PAIR_ROOM, intake.NO_SIDECAR)
    assert results["noapp.session"].lacks == (intake.NO_PAIR_ROOM, intake.NO_SIDECAR_APP)
    assert results["own.session"].accepted and results["own.session"].lacks == ()

    await add_pair(db, 1001)  # now a pair has room: nothing is lacking
    more = await intake.import_files(db, sdir, [("later.session", make_session_bytes(5))], max_bytes=10**6, now=NOW)
    assert more[0].accepted and not more[0].waiting and more[0].lacks == ()
