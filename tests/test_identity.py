"""One identity per session, for life (issue 16 part A): the API id and device profile are chosen once at
intake, stored, and the same at every connect through revoke, reassignment, quarantine and restart; the
per-pair cap counts sidecar sessions with the pair's api_id; a session no pair has room for waits; the
world flags a change; the Telethon client introduces itself with the stored identity."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import aiosqlite
import pytest
from fake_sender import FakeSender
from pool_support import NOW, add_customer, add_pair, assert_pool_consistent, seed_sessions
from telethon import functions
from telethon.sessions import StringSession

from core.clock import FakeClock
from core.errors import NoPairCapacity, PairInUse
from core.ports import SessionCredentials
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from pool import devices, lifecycle
from pool.assign import assign, revoke
from pool.intake import import_files
from pool.pairs import add_pair as admin_add_pair
from pool.pairs import list_pairs, remove_pair
from pool.sidecar import parse_sidecar
from pool.startup import prepare_pool
from sandbox.sessionfiles import make_session_bytes, make_sidecar
from sandbox.world import World
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Database, migrate
from storage.migrations import LATEST_VERSION, MIGRATIONS
from storage.sessionfile import validate_session
from tests.engine_support import CID, make_setup, running

MAX = 1024 * 1024
HASH = "0123456789abcdef0123456789abcdef"
pytestmark = pytest.mark.usefixtures("private_tmp")


async def _row(db: Database, session_id: int) -> session_rows.SessionRow:
    async with db.read() as conn:
        row = await session_rows.get(conn, session_id)
    assert row is not None
    return row


async def _import(db: Database, sdir: Path, name: str, sidecar: dict[str, object] | None = None) -> int:
    files = [(f"{name}.session", make_session_bytes())]
    if sidecar is not None:
        files.append((f"{name}.json", json.dumps(sidecar).encode()))
    results = await import_files(db, sdir, files, max_bytes=MAX, now=NOW)
    assert all(r.accepted for r in results), results
    assert results[0].session_id is not None
    return results[0].session_id


# --- the device profile ---------------------------------------------------------------------------------


def test_a_generated_profile_is_the_same_for_a_session_and_plausible() -> None:
    shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(500)]
    profiles = [devices.profile_for(sha) for sha in shas]
    assert profiles == [devices.profile_for(sha) for sha in shas]  # deterministic: seeded by the key's hash
    assert len({p["device_model"] for p in profiles}) > 10  # spread over the table, not one device for all
    for p in profiles:
        assert set(p) == {"device_model", "system_version", "app_version", "lang_code", "system_lang_code"}
        assert "lang_pack" not in p  # language packs are the official apps': a pool pair sends ''
        model, system = p["device_model"], p["system_version"]
        if model.startswith("iPhone"):  # each device with its own platform's OS and language format
            assert system[0].isdigit() and p["system_lang_code"] == p["lang_code"].split("-")[0]
        elif system.startswith("SDK"):
            assert p["system_lang_code"].islower() and " (" in p["app_version"]
        else:
            assert system.startswith(("Windows", "macOS", "Linux")), p
        assert p["system_lang_code"].split("-")[0] == p["lang_code"].split("-")[0]


def test_sidecar_device_keys_and_lang_pack() -> None:
    """``lang_pack`` is its own key (the official app's pack), kept only with the sidecar's own app; a
    language code written under it is read as ``lang_code``; device keys count with or without an app."""
    full = parse_sidecar(json.dumps(make_sidecar(api_id=2040, lang_code="de", lang_pack="tdesktop")).encode())
    assert full.device["lang_pack"] == "tdesktop" and full.device["lang_code"] == "de"
    assert full.device["system_lang_code"] == "en-US" and full.device["device_model"] == "DESKTOP-4F2K9QX"
    misnamed = parse_sidecar(json.dumps({"app_id": 6, "app_hash": HASH, "lang_pack": "ru"}).encode())
    assert misnamed.device == {"lang_code": "ru"}
    no_app = parse_sidecar(json.dumps({"device": "Pixel 7", "sdk": "SDK 34", "lang_pack": "android"}).encode())
    assert not no_app.has_app and no_app.device == {"device_model": "Pixel 7", "system_version": "SDK 34"}
    junk = parse_sidecar(json.dumps({"app_id": 6, "app_hash": HASH, "lang_pack": "<b>x</b>"}).encode())
    assert "lang_pack" not in junk.device and "lang_code" not in junk.device


def test_completing_a_sidecar_profile_keeps_what_it_said() -> None:
    sha = "ab" * 32
    given = {"device_model": "Pixel 7", "lang_pack": "android"}
    done = devices.complete(given, sha)
    assert done["device_model"] == "Pixel 7" and done["lang_pack"] == "android"
    assert {k: v for k, v in done.items() if k not in given} == {
        k: v for k, v in devices.profile_for(sha).items() if k not in given
    }
    assert devices.complete({}, sha) == devices.profile_for(sha)


# --- intake ---------------------------------------------------------------------------------------------


async def test_intake_without_sidecar_stores_a_pair_and_a_generated_profile(db: Database, sdir: Path) -> None:
    p1 = await add_pair(db, 1001, capacity=2)
    p2 = await add_pair(db, 1002, capacity=2)
    ids = [await _import(db, sdir, f"plain{i}") for i in range(3)]
    rows = [await _row(db, sid) for sid in ids]
    assert [r.pair_id for r in rows] == [p1, p2, p1]  # the least used pair with room, chosen once
    for row in rows:
        assert row.own_api_id is None and row.device == devices.profile_for(row.auth_key_sha)
    creds = await lifecycle.credentials(db, sdir, ids[1])
    assert creds.api_id == 1002 and dict(creds.device) == rows[1].device


async def test_intake_with_sidecar_keeps_its_app_and_device(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001)
    sid = await _import(db, sdir, "seller", make_sidecar(api_id=2040, api_hash=HASH, lang_pack="tdesktop"))
    row = await _row(db, sid)
    assert (row.own_api_id, row.own_api_hash, row.pair_id) == (2040, HASH, None)
    assert row.device == {
        "device_model": "DESKTOP-4F2K9QX", "system_version": "Windows 10", "app_version": "4.16.8 x64",
        "lang_code": "en", "system_lang_code": "en-US", "lang_pack": "tdesktop",
    }
    # a sidecar without an app: a pool pair, but the device it describes
    other = await _import(db, sdir, "noapp", {"device": "Pixel 7", "sdk": "SDK 34", "lang_code": "de"})
    row = await _row(db, other)
    assert row.pair_id is not None and row.own_api_id is None
    assert (row.device["device_model"], row.device["system_version"], row.device["lang_code"]) == (
        "Pixel 7", "SDK 34", "de"
    )
    assert "lang_pack" not in row.device


async def test_without_room_a_session_waits_and_gets_its_pair_once_one_is_added(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=1)
    results = await import_files(db, sdir, [("w.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    assert results[0].accepted and results[0].waiting
    sid = results[0].session_id
    assert sid is not None and (await _row(db, sid)).pair_id is None
    with pytest.raises(NoPairCapacity, match="waits for an API pair"):
        await lifecycle.credentials(db, sdir, sid)  # never opened
    with pytest.raises(NoPairCapacity, match="1 unused session"):
        await assign(db, sdir, 10, 1, NOW)  # never handed out
    pair = await admin_add_pair(db, 3003, HASH, capacity=7, now=NOW)
    assert pair.used == 1 and (await _row(db, sid)).pair_id == pair.id
    assert await assign(db, sdir, 10, 1, NOW) == [sid]
    assert (await lifecycle.credentials(db, sdir, sid)).api_id == 3003
    await assert_pool_consistent(db, sdir)


async def test_start_up_gives_waiting_sessions_a_pair(db: Database, sdir: Path) -> None:
    [sid] = await seed_sessions(db, sdir, 1)  # waits: no pair yet
    async with db.tx() as conn:  # a pair that arrived without the admin command (an older version, a restore)
        pair = await pair_rows.add(conn, 4004, HASH, 7, NOW)
    assert (await _row(db, sid)).pair_id is None
    await prepare_pool(db, sdir, max_sessions_per_pair=7)
    assert (await _row(db, sid)).pair_id == pair.id


# --- the per-pair cap -----------------------------------------------------------------------------------


async def test_the_cap_counts_sidecar_sessions_with_the_pairs_api_id(db: Database, sdir: Path) -> None:
    own = [await _import(db, sdir, f"app{i}", make_sidecar(api_id=2040)) for i in range(2)]
    # an api_id already used by sidecar sessions can be added: they count toward it from now on
    pair = await admin_add_pair(db, 2040, HASH, capacity=3, now=NOW)
    assert pair.used == 2
    plain = await _import(db, sdir, "plain")
    assert (await _row(db, plain)).pair_id == pair.id  # the last slot
    [p] = await list_pairs(db)
    assert p.used == 3 and p.full
    sidecar = json.dumps(make_sidecar(api_id=2040)).encode()
    refused = await import_files(
        db, sdir, [("app9.session", make_session_bytes()), ("app9.json", sidecar)], max_bytes=MAX, now=NOW
    )
    assert not refused[0].accepted and "2040" in (refused[0].reason or "") and "cap" in (refused[0].reason or "")
    waiting = await _import(db, sdir, "plain2")  # no room: it waits rather than exceed the cap
    assert (await _row(db, waiting)).pair_id is None
    # the trigger is the backstop under the code, for a sidecar id too
    with pytest.raises(sqlite3.IntegrityError, match="api pair is full"):
        async with db.tx() as conn:
            await session_rows.set_own_app(conn, waiting, api_id=2040, api_hash=HASH, device={}, phone=None)
    # a dead session never connects again: its slot is free
    await lifecycle.mark_dead(db, sdir, own[0], "AuthKeyUnregisteredError", NOW)
    [p] = await list_pairs(db)
    assert p.used == 2
    # removing the pair changes nothing for the sidecar sessions (their own app), only its holders count
    with pytest.raises(PairInUse, match="used by 1 session"):
        await remove_pair(db, 2040)


# --- stable for life ------------------------------------------------------------------------------------


async def test_identity_is_the_same_across_reassignment_quarantine_and_restart(tmp_path: Path, sdir: Path) -> None:
    db = await Database.open(tmp_path / "adbot.sqlite3")
    try:
        await add_pair(db, 1001, capacity=2)
        await add_pair(db, 1002, capacity=2)
        ids = await seed_sessions(db, sdir, 4)
        await add_customer(db, 10, plan=2)
        await add_customer(db, 11, plan=2)
        first = {sid: await lifecycle.credentials(db, sdir, sid) for sid in ids}
        taken = await assign(db, sdir, 10, 2, NOW)
        await revoke(db, sdir, 10, NOW)
        await assign(db, sdir, 11, 2, NOW)  # possibly other sessions, and in another pair order
        await lifecycle.mark_limited(db, sdir, taken[0], "PeerFloodError", NOW)
        await lifecycle.release_limited(db, sdir, taken[0], NOW)
        again = {sid: await lifecycle.credentials(db, sdir, sid) for sid in ids}
    finally:
        await db.close()
    db = await Database.open(tmp_path / "adbot.sqlite3")  # a restart
    try:
        await prepare_pool(db, sdir, max_sessions_per_pair=2)
        restarted = {sid: await lifecycle.credentials(db, sdir, sid) for sid in ids}
    finally:
        await db.close()
    for sid in ids:
        seen = [(c.api_id, c.api_hash, dict(c.device)) for c in (first[sid], again[sid], restarted[sid])]
        assert seen[0] == seen[1] == seen[2], sid
        assert seen[0][2]["device_model"]


async def test_a_frozen_or_limited_session_keeps_its_identity_and_its_cap_slot(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001, capacity=2)
    frozen, limited = await seed_sessions(db, sdir, 2)
    await add_customer(db, 10, plan=2)
    await assign(db, sdir, 10, 2, NOW)
    before = {sid: await lifecycle.credentials(db, sdir, sid) for sid in (frozen, limited)}
    await lifecycle.retire(db, sdir, frozen, "frozen", "ACCOUNT_FROZEN", NOW)
    await lifecycle.mark_limited(db, sdir, limited, "PeerFloodError", NOW)
    for sid in (frozen, limited):
        row = await _row(db, sid)
        assert row.state in ("frozen", "limited") and row.pair_id is not None
    [pair] = await list_pairs(db)
    assert pair.used == 2  # both still connect with its api_id one day: no third session takes their place
    [waiting] = await seed_sessions(db, sdir, 1)
    assert not (await _row(db, waiting)).has_identity
    assert await lifecycle.release_frozen(db, sdir, frozen, NOW + 1)
    after = {sid: await lifecycle.credentials(db, sdir, sid) for sid in (frozen, limited)}
    for sid in (frozen, limited):
        assert (after[sid].api_id, after[sid].api_hash, dict(after[sid].device)) == (
            before[sid].api_id, before[sid].api_hash, dict(before[sid].device)
        )


async def test_a_sidecar_sent_after_the_first_connect_cannot_change_the_identity(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001)
    early = await _import(db, sdir, "early")
    late = await _import(db, sdir, "late")
    # before it ever connected, the seller's app replaces the pool pair chosen at intake
    [ok] = await import_files(db, sdir, [("early.json", json.dumps(make_sidecar(api_id=6)).encode())],
                              max_bytes=MAX, now=NOW)
    assert ok.accepted
    row = await _row(db, early)
    assert (row.own_api_id, row.pair_id, row.device["device_model"]) == (6, None, "DESKTOP-4F2K9QX")
    before = await lifecycle.credentials(db, sdir, late)  # it connected with its pool pair
    [refused] = await import_files(db, sdir, [("late.json", json.dumps(make_sidecar(api_id=6)).encode())],
                                   max_bytes=MAX, now=NOW)
    assert not refused.accepted and "cannot change" in (refused.reason or "")
    after = await lifecycle.credentials(db, sdir, late)
    assert (after.api_id, dict(after.device)) == (before.api_id, dict(before.device)) == (1001, dict(after.device))
    with pytest.raises(sqlite3.IntegrityError, match="keeps the app"):  # the backstop
        async with db.tx() as conn:
            await session_rows.set_own_app(conn, early, api_id=7, api_hash=HASH, device={}, phone=None)
            await session_rows.mark_identity_used(conn, early, NOW)
            await session_rows.set_own_app(conn, early, api_id=8, api_hash=HASH, device={}, phone=None)


async def test_moving_off_a_removed_pair_is_all_or_nothing(db: Database, sdir: Path) -> None:
    p1 = await add_pair(db, 1001, capacity=3)
    ids = await seed_sessions(db, sdir, 3)
    await add_pair(db, 1002, capacity=2)
    with pytest.raises(NoPairCapacity, match="room for only 2"):
        await remove_pair(db, 1001, move=True)
    assert [(await _row(db, sid)).pair_id for sid in ids] == [p1] * 3  # nothing moved
    await add_pair(db, 1003, capacity=1)
    moved = await remove_pair(db, 1001, move=True)
    assert sorted(sid for sid, _api in moved) == ids and sorted(api for _sid, api in moved) == [1002, 1002, 1003]
    assert [(await lifecycle.credentials(db, sdir, sid)).api_id for sid, _api in moved] == [a for _s, a in moved]
    assert [(p.api_id, p.used) for p in await list_pairs(db)] == [(1002, 2), (1003, 1)]
    await assert_pool_consistent(db, sdir)


# --- the world and the contract fake --------------------------------------------------------------------


def _creds(session_id: int, api_id: int, device: dict[str, str], path: Path) -> SessionCredentials:
    return SessionCredentials(session_id=session_id, path=path, api_id=api_id, api_hash=HASH, device=device)


async def test_the_world_flags_a_change_of_api_id_or_device(tmp_path: Path) -> None:
    world = World(FakeClock(NOW))
    path = tmp_path / "missing.session"  # keyed session-<id>
    for sid in (1, 2):
        world.add_account(f"session-{sid}")
    device = devices.profile_for("cd" * 32)
    for creds in (_creds(1, 1001, device, path), _creds(1, 1001, dict(device), path), _creds(2, 5, {}, path)):
        port = world.open(creds)
        await port.connect()
        await port.close()
    assert world.violations == []  # the same identity again is fine
    for creds in (_creds(1, 1002, device, path), _creds(1, 1001, {**device, "lang_pack": "tdesktop"}, path)):
        port = world.open(creds)
        await port.connect()
        await port.close()
    assert [(v.kind, v.account, v.detail) for v in world.violations] == [
        ("identity_change", "session-1", "api_id"),
        ("identity_change", "session-1", "lang_pack"),
    ]
    assert world.identities.of("session-1") == {"api_id": "1001", **device}


async def test_pool_sessions_never_change_identity_in_the_world(db: Database, sdir: Path) -> None:
    """Through the pool, every connect of a session presents what it presented first; moving a pair's
    sessions (the admin's explicit choice) is the one change, and the world sees it."""
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, 3)
    await add_customer(db, 10, plan=2)
    world = World(FakeClock(NOW))
    async with db.read() as conn:
        for sid in ids:
            row = await session_rows.get(conn, sid)
            assert row is not None
            world.add_account(row.auth_key_sha)

    async def connect_all() -> None:
        for sid in ids:
            port = world.open(await lifecycle.credentials(db, sdir, sid))
            await port.connect()
            await port.close()

    await connect_all()
    await assign(db, sdir, 10, 2, NOW)
    await connect_all()
    await revoke(db, sdir, 10, NOW)
    await connect_all()
    assert world.violations == []
    await add_pair(db, 1002)
    await remove_pair(db, 1001, move=True)
    await connect_all()
    assert [v.kind for v in world.violations] == ["identity_change"] * 3


async def test_init_connection_carries_the_stored_identity(tmp_path: Path, telethon_sleeps: list[float]) -> None:
    device = {**devices.complete({"device_model": "DESKTOP-4F2K9QX", "lang_code": "en"}, "ef" * 32),
              "lang_pack": "tdesktop", "system_lang_code": "en-US"}
    fakes: list[FakeSender] = []

    def build(creds: SessionCredentials, settings: ClientSettings) -> object:
        client = build_client(creds, settings, session=StringSession())
        fakes.append(FakeSender.install(client))
        return client

    factory = TelethonFactory(client_builder=build)
    account = factory.open(_creds(1, 2040, device, tmp_path / "1.session"))
    await account.connect()
    try:
        init = fakes[0].sent[0].query.query
        assert isinstance(init, functions.InitConnectionRequest)
        assert init.api_id == 2040
        assert (init.device_model, init.system_version, init.app_version) == (
            device["device_model"], device["system_version"], device["app_version"]
        )
        assert (init.lang_code, init.system_lang_code, init.lang_pack) == ("en", "en-US", "tdesktop")
    finally:
        await account.close()
    # a pool pair's session (no lang_pack stored) sends Telethon's '' as third-party apps do
    plain = build_client(_creds(2, 1001, devices.profile_for("01" * 32), tmp_path / "2.session"),
                         ClientSettings(), session=StringSession())
    assert plain._init_request.lang_pack == "" and plain._init_request.device_model


async def test_the_migration_is_in_place(db: Database) -> None:
    async with db.read() as conn:
        cols = {r[1] for r in await conn.execute_fetchall("PRAGMA table_info(sessions)")}
        version = (await (await conn.execute("PRAGMA user_version")).fetchone())[0]
    assert "identity_used_at" in cols and version == LATEST_VERSION


async def test_an_older_database_gets_identities_at_start_up(tmp_path: Path, sdir: Path) -> None:
    """Rows from before this rule: an owned session keeps its pair; an idle one, which used to borrow one
    per check, gets its first and only pair at start-up; devices are completed at the first connect."""
    mine = next(i for i, script in enumerate(MIGRATIONS) if "identity_used_at" in script)  # its number - 1
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=mine) == mine
        await conn.execute("INSERT INTO api_pairs (id, api_id, api_hash, capacity, created_at)"
                           " VALUES (1, 1001, ?, 2, ?)", (HASH, NOW))
        await conn.execute("INSERT INTO customers (user_id, plan_sessions, plan_expires_at, created_at, interval_s,"
                           " updated_at) VALUES (10, 1, ?, ?, 300, ?)", (NOW + 86400, NOW, NOW))
        old_rows = ((1, "assigned", 10, 1, "assigned/10"), (2, "unused", None, None, "unused"),
                    (3, "limited", None, None, "limited"))
        for sid, state, owner, pair, folder in old_rows:
            data = make_session_bytes()
            sha = validate_session(data).auth_key_sha
            (sdir / folder).mkdir(parents=True, exist_ok=True)
            (sdir / folder / f"s{sid}.session").write_bytes(data)
            await conn.execute(
                "INSERT INTO sessions (id, file_name, auth_key_sha, dc_id, state, owner_id, pair_id, folder, added_at,"
                " state_changed_at) VALUES (?, ?, ?, 2, ?, ?, ?, ?, ?, ?)",
                (sid, f"s{sid}.session", sha, state, owner, pair, folder, NOW + sid, NOW),
            )
    db = await Database.open(path)
    try:
        await prepare_pool(db, sdir, max_sessions_per_pair=2)
        rows = [await _row(db, sid) for sid in (1, 2, 3)]
        assert [r.pair_id for r in rows] == [1, 1, None]  # the owned one kept it; the oldest idle got the room
        async with db.read() as conn:
            assert await session_rows.count_without_identity(conn) == 1
        creds = await lifecycle.credentials(db, sdir, 2)
        assert creds.api_id == 1001 and dict(creds.device) == devices.profile_for(rows[1].auth_key_sha)
    finally:
        await db.close()


async def test_the_engine_connects_each_session_as_itself_across_a_restart(db: Database, tmp_path: Path) -> None:
    """Cycles, a restart (a new engine, every connection dropped) and a session replaced: every connect of
    every account presents the identity it first presented, and that is the stored one."""
    s = await make_setup(db, tmp_path, plan=2, pool=3)
    first = s.engine()
    await running(s, first)
    assert (await first.run_cycle(CID)).sent == 10
    await first.shutdown()
    s.world.reset_connections()
    second = s.engine()
    await second.start()
    [gone, kept] = [r.id for r in await s.owned()]
    await lifecycle.mark_limited(db, s.sessions_dir, gone, "PeerFloodError", NOW)  # replaced by the third
    await s.clock.advance(600)
    report = await second.run_cycle(CID)
    assert report.sent == 10
    await second.shutdown()
    assert s.world.violations == []
    for sid in s.session_ids:
        row = await _row(db, sid)
        seen = s.world.identities.of(s.account_of(sid))
        if seen is not None:
            assert seen == {"api_id": "1001", **row.device}
    assert s.world.identities.of(s.account_of(kept)) is not None
