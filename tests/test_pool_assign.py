"""Session pool: assignment, revocation, health transitions and credentials."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from pool_support import NOW, add_customer, add_pair, assert_pool_consistent, seed_sessions

from core.errors import NO_FREE_SESSIONS, NoPairCapacity, NotEnoughSessions, NotFound
from core.states import EventKind
from pool import lifecycle
from pool.assign import assign, ensure_plan, revoke
from storage import events
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Database, fetchone


async def _events(db: Database) -> list[tuple[int | None, EventKind, dict[str, object]]]:
    async with db.read() as conn:
        found = await events.undelivered(conn, limit=1000)
    return [(e.customer_id, e.kind, e.payload) for e in found]


async def test_assign_takes_n_and_moves_files(db: Database, sdir: Path) -> None:
    await add_customer(db, 10)
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, 5)
    got = await assign(db, sdir, 10, 3, NOW)
    assert got == ids[:3]
    async with db.read() as conn:
        owned = await session_rows.list_for_owner(conn, 10)
        counts = await session_rows.count_by_state(conn)
        row = await session_rows.get(conn, got[0])
    assert [s.id for s in owned] == got
    assert counts == {"unused": 2, "assigned": 3, "cooling": 0, "limited": 0, "dead": 0, "frozen": 0}
    assert row is not None and row.folder == "assigned/10" and row.pair_id is not None
    assert (sdir / "assigned" / "10" / row.file_name).is_file()
    await assert_pool_consistent(db, sdir)


async def test_assign_all_or_nothing_when_too_few(db: Database, sdir: Path) -> None:
    await add_customer(db, 10)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 2)
    with pytest.raises(NotEnoughSessions) as info:
        await assign(db, sdir, 10, 3, NOW)
    assert info.value.free == 2 and info.value.wanted == 3
    assert "only 2 free" in info.value.user_message
    async with db.read() as conn:
        assert (await session_rows.count_by_state(conn))["unused"] == 2
    await assert_pool_consistent(db, sdir)


async def test_no_pair_capacity_takes_nothing(db: Database, sdir: Path) -> None:
    await add_customer(db, 10)
    await add_pair(db, 1001, capacity=2)
    await seed_sessions(db, sdir, 4)
    with pytest.raises(NoPairCapacity) as info:
        await assign(db, sdir, 10, 3, NOW)
    assert "adbot pairs add" in info.value.user_message
    async with db.read() as conn:
        assert (await session_rows.count_by_state(conn))["unused"] == 4
    await assert_pool_consistent(db, sdir)


async def test_sessions_with_own_app_need_no_pair_and_go_first(db: Database, sdir: Path) -> None:
    await add_customer(db, 10)
    plain = await seed_sessions(db, sdir, 2)
    own = await seed_sessions(db, sdir, 2, own_app=True)
    assert await assign(db, sdir, 10, 2, NOW) == own  # no pair configured at all, yet it works
    with pytest.raises(NoPairCapacity):
        await assign(db, sdir, 10, 1, NOW)
    async with db.read() as conn:
        rows = [await session_rows.get(conn, i) for i in plain]
    assert all(r is not None and r.state == "unused" for r in rows)


async def test_pairs_spread_evenly_and_pair_full_event(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=4)
    p1 = await add_pair(db, 1001, capacity=2)
    p2 = await add_pair(db, 1002, capacity=2)
    await seed_sessions(db, sdir, 4)
    ids = await assign(db, sdir, 10, 4, NOW)
    async with db.read() as conn:
        rows = [await session_rows.get(conn, i) for i in ids]
    assert sorted(r.pair_id or 0 for r in rows if r is not None) == sorted([p1, p1, p2, p2])
    full = [p for c, k, p in await _events(db) if k == EventKind.PAIR_FULL]
    assert sorted(str(p["api_id"]) for p in full) == ["1001", "1002"]


async def test_unknown_customer_is_not_found(db: Database, sdir: Path) -> None:
    await seed_sessions(db, sdir, 1)
    with pytest.raises(NotFound):
        await assign(db, sdir, 99, 1, NOW)


async def test_ensure_plan_tops_up_and_returns_all(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=3)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 5)
    first = await assign(db, sdir, 10, 1, NOW)
    ids = await ensure_plan(db, sdir, 10, NOW)
    assert len(ids) == 3 and first[0] in ids
    assert await ensure_plan(db, sdir, 10, NOW) == ids  # nothing more to do
    await assert_pool_consistent(db, sdir)


async def test_pool_low_event_when_crossing_threshold(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=3)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 5)
    await ensure_plan(db, sdir, 10, NOW, low_threshold=3)
    low = [(c, p) for c, k, p in await _events(db) if k == EventKind.POOL_LOW]
    assert low == [(None, {"free": 2, "threshold": 3})]


async def test_revoke_returns_sessions_and_pairs(db: Database, sdir: Path) -> None:
    await add_customer(db, 10)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 3)
    ids = await assign(db, sdir, 10, 3, NOW)
    async with db.read() as conn:
        pairs_before = [r.pair_id for r in [await session_rows.get(conn, i) for i in ids] if r is not None]
    await lifecycle.set_cooldown(db, ids[0], NOW + 600, NOW)
    assert await revoke(db, sdir, 10, NOW) == 3
    async with db.read() as conn:
        rows = [await session_rows.get(conn, i) for i in ids]
    assert all(r is not None and r.state == "unused" and r.owner_id is None for r in rows)
    # each keeps its pair: the API id is the session's for life, not its customer's
    assert [r.pair_id for r in rows if r is not None] == pairs_before and None not in pairs_before
    assert not (sdir / "assigned" / "10").exists()  # the emptied customer folder is removed
    await assert_pool_consistent(db, sdir)
    # the flood wait stays with the account: assigned again before it ends, it starts cooling
    await add_customer(db, 11)
    await assign(db, sdir, 11, 3, NOW + 10)
    async with db.read() as conn:
        states = sorted(s.state for s in await session_rows.list_for_owner(conn, 11))
    assert states == ["assigned", "assigned", "cooling"]


async def test_cooldown_cycle(db: Database, sdir: Path) -> None:
    await add_customer(db, 10)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 1)
    [sid] = await assign(db, sdir, 10, 1, NOW)
    await lifecycle.set_cooldown(db, sid, NOW + 100, NOW)
    await lifecycle.set_cooldown(db, sid, NOW + 50, NOW)  # never shortened
    async with db.tx() as conn:
        await session_rows.clear_cooldown(conn, sid, NOW + 60)  # not over yet
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
    assert row is not None and row.state == "cooling" and row.cooldown_until == NOW + 100
    async with db.tx() as conn:
        await session_rows.clear_cooldown(conn, sid, NOW + 100)
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
        owned = await session_rows.list_for_owner(conn, 10)
    assert row is not None and row.state == "assigned" and row.cooldown_until is None
    assert [s.id for s in owned] == [sid]


async def test_mark_dead_replaces_and_is_idempotent(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=2)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 3)
    first, second = await ensure_plan(db, sdir, 10, NOW)
    new = await lifecycle.mark_dead(db, sdir, first, "AuthKeyUnregisteredError", NOW)
    assert new is not None and new not in (first, second)
    async with db.read() as conn:
        dead = await session_rows.get(conn, first)
        stats = await fetchone(conn, "SELECT banned_sessions FROM stats WHERE customer_id = 10")
        owned = [s.id for s in await session_rows.list_for_owner(conn, 10)]
    assert dead is not None and dead.state == "dead" and dead.owner_id is None and dead.pair_id is not None
    async with db.read() as conn:
        pair = await pair_rows.get(conn, dead.pair_id)
    assert pair is not None and pair.used == 2  # a dead session never connects again: it frees its slot
    assert dead.folder == "banned" and (sdir / "banned" / dead.file_name).is_file()
    assert stats is not None and stats[0] == 1
    assert owned == sorted([second, new])
    evs = await _events(db)
    assert (None, EventKind.SESSION_DEAD) in [(c, k) for c, k, _ in evs]
    assert (10, EventKind.SESSION_DEAD) in [(c, k) for c, k, _ in evs]
    assert (10, EventKind.SESSION_REPLACED, {"old_session_id": first, "new_session_id": new}) in evs
    # again: nothing happens
    assert await lifecycle.mark_dead(db, sdir, first, "again", NOW) is None
    assert len(await _events(db)) == len(evs)
    await assert_pool_consistent(db, sdir)


async def test_mark_dead_without_free_session_tells_no_replacement(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=1)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 1)
    [sid] = await ensure_plan(db, sdir, 10, NOW)
    assert await lifecycle.mark_dead(db, sdir, sid, "UserDeactivatedBanError", NOW) is None
    kinds = [(c, k) for c, k, _ in await _events(db)]
    assert (10, EventKind.NO_REPLACEMENT) in kinds and (None, EventKind.NO_REPLACEMENT) in kinds
    # Why is stored as a key, worded for each reader when shown: never as words.
    reasons = {p["reason"] for _, k, p in await _events(db) if k is EventKind.NO_REPLACEMENT}
    assert reasons == {NO_FREE_SESSIONS}
    await assert_pool_consistent(db, sdir)


async def test_mark_limited_quarantines_and_release(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=1)
    await add_pair(db, 1001, capacity=2)
    await seed_sessions(db, sdir, 2)
    [sid] = await ensure_plan(db, sdir, 10, NOW)
    new = await lifecycle.mark_limited(db, sdir, sid, "PeerFloodError", NOW)
    assert new is not None
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
        stats = await fetchone(conn, "SELECT banned_sessions FROM stats WHERE customer_id = 10")
        [pair] = await pair_rows.list_all(conn)
    assert row is not None and row.state == "limited" and row.folder == "limited" and row.owner_id is None
    # quarantined, it keeps its pair (it comes back as itself) and still counts toward the cap
    assert row.pair_id == pair.id and pair.used == 2
    assert stats is not None and stats[0] == 0
    assert row.quarantine_count == 1 and row.quarantine_until == NOW + 24 * 3600  # the default minimum
    assert await lifecycle.mark_limited(db, sdir, sid, "again", NOW) is None  # a repeat report: no doubling
    await assert_pool_consistent(db, sdir)
    # Nothing releases it before its quarantine is over.
    assert await lifecycle.release_limited(db, sdir, sid, NOW + 24 * 3600 - 1) is False
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
    assert row is not None and row.state == "limited" and row.quarantine_until == NOW + 24 * 3600
    assert await lifecycle.release_limited(db, sdir, sid, NOW + 24 * 3600) is True
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
    assert row is not None and row.state == "unused" and row.folder == "unused"
    await assert_pool_consistent(db, sdir)


async def test_dead_session_is_not_resurrected(db: Database, sdir: Path) -> None:
    [sid] = await seed_sessions(db, sdir, 1)
    await lifecycle.mark_dead(db, sdir, sid, "dead", NOW)
    assert await lifecycle.mark_limited(db, sdir, sid, "limited", NOW) is None
    await lifecycle.release_limited(db, sdir, sid, NOW)
    async with db.read() as conn:
        row = await session_rows.get(conn, sid)
    assert row is not None and row.state == "dead"
    await assert_pool_consistent(db, sdir)


async def test_credentials(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=2)
    await add_pair(db, 1001)
    [own] = await seed_sessions(db, sdir, 1, own_app=True)
    [plain] = await seed_sessions(db, sdir, 1)
    c_idle = await lifecycle.credentials(db, sdir, plain)  # idle: its own pool pair, as stored at intake
    assert c_idle.api_id == 1001 and c_idle.path.parent == sdir / "unused"
    await ensure_plan(db, sdir, 10, NOW)
    c_own = await lifecycle.credentials(db, sdir, own)
    c_plain = await lifecycle.credentials(db, sdir, plain)
    # the sidecar's device as given, the fields it did not name completed once and stored
    assert c_own.api_id == 12345 and c_own.device["device_model"] == "PC"
    assert {"system_version", "app_version", "lang_code", "system_lang_code"} <= set(c_own.device)
    assert c_plain.device == c_idle.device and c_plain.device.get("device_model")
    assert c_plain.api_id == 1001 and c_plain.path == sdir / "assigned" / "10" / c_plain.path.name
    assert c_plain.path.is_file() and "api_hash" not in repr(c_plain)
    c_plain.path.unlink()
    with pytest.raises(NotFound):
        await lifecycle.credentials(db, sdir, plain)


async def test_count_by_state_lists_every_state(db: Database) -> None:
    async with db.read() as conn:
        assert await session_rows.count_by_state(conn) == dict.fromkeys(
            ("unused", "assigned", "cooling", "limited", "dead", "frozen"), 0
        )
        assert await session_rows.get(conn, 1) is None


async def test_twenty_concurrent_assignments(db: Database, sdir: Path) -> None:
    for cid in range(1, 21):
        await add_customer(db, cid)
    for api_id in (1001, 1002, 1003):
        await add_pair(db, api_id, capacity=7)
    await seed_sessions(db, sdir, 24)
    await seed_sessions(db, sdir, 6, own_app=True)
    results = await asyncio.gather(
        *(assign(db, sdir, cid, 1 + cid % 3, NOW) for cid in range(1, 21)), return_exceptions=True
    )
    granted = [r for r in results if isinstance(r, list)]
    failed = [r for r in results if not isinstance(r, list)]
    assert all(isinstance(e, NotEnoughSessions | NoPairCapacity) for e in failed)
    taken = [i for r in granted for i in r]
    assert len(taken) == len(set(taken))  # never one session for two customers
    async with db.read() as conn:
        per_pair = await fetchone(
            conn, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM sessions WHERE pair_id IS NOT NULL GROUP BY pair_id)"
        )
        owned = await fetchone(conn, "SELECT COUNT(*) FROM sessions WHERE owner_id IS NOT NULL")
    assert per_pair is not None and per_pair[0] <= 7
    assert owned is not None and owned[0] == len(taken)
    assert 20 <= len(taken) <= 27 and failed  # at most 21 pair slots + 6 with their own app
    await assert_pool_consistent(db, sdir)


async def test_two_processes_worth_of_connections(tmp_path: Path, sdir: Path) -> None:
    """The CLI and the bot each have their own Database on the same file: BEGIN IMMEDIATE serialises."""
    path = tmp_path / "shared.sqlite3"
    a = await Database.open(path)
    b = await Database.open(path)
    try:
        for cid in range(1, 11):
            await add_customer(a, cid)
        await add_pair(a, 1001, capacity=20)
        await seed_sessions(a, sdir, 12)
        jobs = [assign(a if cid % 2 else b, sdir, cid, 2, NOW) for cid in range(1, 11)]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        taken = [i for r in results if isinstance(r, list) for i in r]
        assert len(taken) == len(set(taken)) == 12
        assert sum(isinstance(r, NotEnoughSessions) for r in results) == 4
        await assert_pool_consistent(a, sdir)
    finally:
        await a.close()
        await b.close()


async def test_modes_of_moved_files_and_folders(db: Database, sdir: Path) -> None:
    await add_customer(db, 10)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 2)
    [sid, _] = await assign(db, sdir, 10, 2, NOW)
    await lifecycle.mark_dead(db, sdir, sid, "dead", NOW)
    for folder in ("", "unused", "assigned", "assigned/10", "banned"):
        assert stat.S_IMODE((sdir / folder).stat().st_mode) == 0o700, folder
    for path in sdir.rglob("*.session"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
