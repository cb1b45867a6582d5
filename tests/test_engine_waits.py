"""Flood waits per method class (issue 16): a FloodWait holds only the class of the request that met it,
for that session, persisted across restarts; no request of a class leaves inside its window.

Against the strict world (which records a ``flood_wait`` violation for any request inside its class's
window) and against the Telethon contract fake (Telethon itself does not hold a request back: the
engine must)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from telethon import errors, functions, types

from core.clock import FakeClock
from core.join_targets import parse_join_target
from core.outcomes import Outcome, OutcomeKind
from core.ports import SessionCredentials
from core.waits import METHOD_CLASSES, WaitPending, method_class
from engine.accounts import Accounts
from engine.engine import Engine
from engine.ledger import Ledger
from engine.outcomes import classify
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from engine.waits import WaitBook
from pool import lifecycle
from pool.discovery import PoolDiscovery
from pool.health import check_sessions
from pool.joins import JoinPacing, JoinRunner, queue_joins
from pool.supply import PoolSupply
from sandbox.world import World
from sandbox.world.faults import Fault
from storage import customers
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database, migrate
from storage.migrations import MIGRATIONS
from tests.engine_support import CID, fast_config, make_setup, running
from tests.fake_sender import FakeSender, RpcFail, channel, channel_message_sent, dialogs_of
from tests.pool_support import NOW

HOUR = 3600.0
GROUPS = ["@g0", "@g1", "@g2"]


async def waits_of(db: Database, session_id: int, now: float) -> dict[str, float]:
    async with db.read() as conn:
        found = await wait_rows.for_session(conn, session_id, now)
    return {str(method): until for method, until in found.items()}


# --- the classes -------------------------------------------------------------------------------------


def test_every_port_method_has_its_class() -> None:
    assert [method_class(m) for m in ("forward", "send_text", "resolve", "dialogs", "join", "check_invite",
                                      "connect")] == ["send", "send", "resolve", "dialogs", "join", "join", "connect"]
    assert method_class("app_config") == "read"  # any other request reads
    assert [method_class(m) for m in ("send_media", "prepare_media", "upload")] == ["send", "upload", "upload"]
    assert set(METHOD_CLASSES) == {"send", "upload", "resolve", "dialogs", "join", "read", "connect"}


# --- storage -----------------------------------------------------------------------------------------


async def test_a_wait_is_never_shortened_and_the_send_class_is_the_cooldown(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1)
    [sid] = s.session_ids
    async with db.tx() as conn:
        await wait_rows.record(conn, sid, "resolve", NOW + 100, NOW)
        await wait_rows.record(conn, sid, "resolve", NOW + 50, NOW)  # shorter: changes nothing
        await wait_rows.record(conn, sid, "send", NOW + 70, NOW)
    assert await waits_of(db, sid, NOW) == {"resolve": NOW + 100, "send": NOW + 70}
    row = await s.session(sid)
    assert row.cooldown_until == NOW + 70  # the send class is the session's cooldown, kept in step
    async with db.tx() as conn:
        await session_rows.record_cooldown(conn, sid, NOW + 90, NOW)  # the old way writes the row too
        assert await wait_rows.until(conn, sid, "send") == NOW + 90
        await session_rows.clear_cooldown(conn, sid, NOW + 95)
        assert await wait_rows.clear_expired(conn, NOW + 95) == 0  # resolve still runs
        assert await wait_rows.clear_expired(conn, NOW + 100) == 1
    assert await waits_of(db, sid, NOW) == {}


async def test_the_migration_moves_join_waits_and_cooldowns_to_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    before = next(i for i, sql in enumerate(MIGRATIONS) if "CREATE TABLE method_waits" in sql)
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=before) == before  # every migration before this one
        for sid, cooldown, join_wait in ((1, NOW + 60, None), (2, None, NOW + 600), (3, None, None)):
            await conn.execute(
                "INSERT INTO sessions (id, file_name, auth_key_sha, dc_id, folder, added_at, state_changed_at,"
                " cooldown_until, join_wait_until) VALUES (?, ?, ?, 2, 'unused', ?, ?, ?, ?)",
                (sid, f"s{sid}.session", f"k{sid}", NOW, NOW, cooldown, join_wait),
            )
    db = await Database.open(path)
    try:
        assert await waits_of(db, 1, NOW) == {"send": NOW + 60}
        assert await waits_of(db, 2, NOW) == {"join": NOW + 600}
        assert await waits_of(db, 3, NOW) == {}
    finally:
        await db.close()


# --- the world ---------------------------------------------------------------------------------------


async def test_the_world_holds_only_the_class_that_met_the_wait(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    world = World(clock)
    world.add_account("session-1")  # the key of a session without a readable file
    world.add_channel("ads", posts=[1])
    world.add_group("cats")
    world.add_fault(kind="flood_wait", account="session-1", method="resolve", seconds=600)
    port = world.open(SessionCredentials(1, tmp_path / "none", 1, "0" * 32))
    await port.connect()
    with pytest.raises(errors.FloodWaitError):
        await port.resolve("@ads")
    assert world.accounts["session-1"].flood_until == {"resolve": NOW + 600}
    dialogs = await port.dialogs()  # other classes go on
    cats = next(d.peer for d in dialogs if d.username == "cats")
    await port.send_text(dest=cats, topic_id=None, text="hi", entities=[], random_id=1)
    assert world.violations == [] and len(world.deliveries_to("@cats")) == 1
    with pytest.raises(errors.FloodWaitError):
        await port.resolve("@ads")  # inside its window: refused again, and a breach
    assert [(v.kind, v.detail.split(":")[0]) for v in world.violations] == [("flood_wait", "resolve")]
    clock.set(NOW + 600)
    assert (await port.resolve("@ads")).kind == "channel"


# --- the engine in the strict world ------------------------------------------------------------------


async def test_a_resolve_flood_does_not_stop_sends_that_need_no_resolve(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1)
    [sid] = s.session_ids
    s.world.add_fault(kind="flood_wait", session=sid, method="resolve", seconds=2 * HOUR)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    # Every group of the link post needs the source resolved: they wait, at this session.
    assert (report.sent, report.waiting) == (0, 3)
    assert await waits_of(db, sid, NOW) == {"resolve": NOW + 2 * HOUR}
    session = await s.session(sid)
    assert session.state == "assigned" and session.cooldown_until is None  # its sends are not held
    # The customer switches to a text post: it needs no resolve, so it goes out inside the resolve wait.
    async with db.tx() as conn:
        await customers.set_post_text(conn, CID, "hello", [], NOW)
    s.clock.set(NOW + 300)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.waiting) == (3, 0)
    assert s.world.request_count(method="resolve") == 1
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_send_flood_does_not_stop_reading_dialogs(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1)
    [sid] = s.session_ids
    s.world.add_fault(kind="flood_wait", session=sid, after=1, seconds=30 * HOUR)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.waiting) == (1, 2)
    assert (await s.session(sid)).state == "cooling"
    reads, sends = engine.discovery.reads, s.world.request_count(method="forward")
    # Hours later its dialogs are due again: they are read, while no send is made.
    s.clock.set(NOW + 20 * HOUR)
    report = await engine.run_cycle(CID)
    assert report.sent == 0 and report.waiting == 3
    assert engine.discovery.reads == reads + 1
    assert await engine.refresh_memberships(CID) == 1  # asked for: read again, the send wait or not
    assert s.world.request_count(method="forward") == sends
    assert s.world.violations == []
    await engine.shutdown()


async def test_every_class_of_wait_holds_across_a_restart(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=2, pool=2)
    a, b = s.session_ids
    s.world.add_fault(kind="flood_wait", session=a, method="connect", seconds=HOUR)
    s.world.add_fault(kind="flood_wait", session=b, method="resolve", seconds=HOUR)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert report.sent == 0 and report.waiting == 3
    assert await waits_of(db, a, NOW) == {"connect": NOW + HOUR}
    assert await waits_of(db, b, NOW) == {"resolve": NOW + HOUR}
    await engine.shutdown()
    s.world.reset_connections()

    # A new process on the same database: both waits hold, no request of either class goes out.
    requests = (s.world.request_count(method="connect"), s.world.request_count(method="resolve"))
    engine = s.engine()
    await engine.start()
    for minutes in (10, 30, 50):
        s.clock.set(NOW + minutes * 60)
        report = await engine.run_cycle(CID)
        assert report.sent == 0
    assert (s.world.request_count(method="connect"), s.world.request_count(method="resolve")) == (
        requests[0] + 1,  # b connects (its wait is on resolving): a never does
        requests[1],
    )
    s.clock.set(NOW + HOUR + 1)
    report = await engine.run_cycle(CID)
    assert report.sent == 3
    assert s.world.violations == []
    await engine.shutdown()


async def test_no_request_inside_a_window_with_floods_on_every_method(db: Database, tmp_path: Path) -> None:
    """Floods scripted on every method, for engine and pool alike, over a day of cycles: the strict world
    sees no request of a class inside its wait, and the posts still go out between the waits."""
    s = await make_setup(db, tmp_path, groups=[f"@g{i}" for i in range(8)], plan=3, pool=5)
    world = s.world
    for method, seconds in (("connect", 700), ("resolve", 900), ("dialogs", 1200), ("forward", 1500),
                            ("join", 2000), ("check_invite", 800), ("app_config", 1100)):
        world.add_fault(Fault(kind="flood_wait", method=method, seconds=seconds, after=1, times=3))
    world.add_fault(Fault(kind="error", error="FloodWaitError", method="dialogs", seconds=4000, after=4, times=1))
    engine = s.engine(fast_config(dialogs_refresh_hours=1.0))
    await running(s, engine)
    idle = [sid for sid in s.session_ids if sid not in {r.id for r in await s.owned()}]
    invites = {}
    for sid in idle:
        club = world.add_group(f"club{sid}", members=set())
        invites[sid] = world.joins.add_invite(club.ref)
    discovery = PoolDiscovery(db, s.sessions_dir, world, classify, s.clock, engine.config)
    joins = JoinRunner(db, s.sessions_dir, world, classify, s.clock, JoinPacing(min_gap=60, daily_cap=50))
    sent = 0
    for step in range(288):  # a day of five-minute cycles
        s.clock.set(NOW + 300 * step)
        sent += (await engine.run_cycle(CID)).sent
        if step % 6 == 0:
            for sid in idle:
                await queue_joins(db, [sid], parse_join_target(f"@club{sid}"), requested_by=1, now=s.clock.now(),
                                  pacing=joins.pacing)
            await joins.run_due()
            for sid, invite in invites.items():
                with contextlib.suppress(WaitPending, errors.FloodWaitError):  # held, or told to wait
                    await joins.preview(sid, invite)
            await discovery.run_due()
            await check_sessions(db, s.sessions_dir, world, s.clock.now(), classify=classify)
    await engine.shutdown()
    assert world.violations == []
    assert sent >= 8 * 250  # the waits cost some cycles' posts, not the day's
    fired = {f.method: f.fired for f in world.faults}
    assert all(n >= 1 for n in fired.values()), fired


# --- the Telethon contract fake ------------------------------------------------------------------------


async def test_telethon_a_resolve_flood_is_not_asked_again_but_sends_and_dialogs_go_on(
    db: Database, tmp_path: Path
) -> None:
    """Telethon sends a request inside a wait it was told about (``engine.telethon_adapter``): the
    engine's accounts and worker must hold it. A resolve flood keeps ResolveUsername from going out again
    until it ends, across a restart, while dialogs are read and, once the source is known, posts go out."""
    group_id, group_hash, ads_id = 1_777_000_333, 4343, 1_666_000_444
    clock = FakeClock(NOW)
    world = World(clock)
    ref = world.add_group(None, chat_id=group_id).marked_id
    s = await make_setup(db, tmp_path, groups=[ref], plan=1, pool=1, clock=clock, world=world)
    [sid] = s.session_ids
    fakes: list[FakeSender] = []

    def builder(creds: SessionCredentials, client_settings: ClientSettings) -> Any:
        client = build_client(creds, client_settings)
        fake = FakeSender.install(client)
        if not fakes:
            fake.script(functions.contacts.ResolveUsernameRequest, RpcFail(420, "FLOOD_WAIT_3600"))
        fake.always(functions.contacts.ResolveUsernameRequest, types.contacts.ResolvedPeer(
            peer=types.PeerChannel(ads_id), chats=[channel(ads_id, 99, "ads", megagroup=False)], users=[]))
        fake.always(functions.messages.GetDialogsRequest,
                    lambda r: dialogs_of([] if r.folder_id else [channel(group_id, group_hash)]))
        fake.always(functions.messages.ForwardMessagesRequest,
                    lambda r: channel_message_sent(r.to_peer.channel_id, 5, r.random_id[0]))
        fakes.append(fake)
        return client

    def engine() -> Engine:
        return Engine(db, TelethonFactory(client_builder=builder), PoolSupply(db, s.sessions_dir), clock,
                      fast_config(dialogs_refresh_hours=0.1), schedule=False, connect_rate=None)

    first = engine()
    await running(s, first)
    report = await first.run_cycle(CID)
    assert (report.sent, report.waiting) == (0, 1)
    assert await waits_of(db, sid, NOW) == {"resolve": NOW + HOUR}
    clock.set(NOW + 900)  # dialogs due again (0.1 h): read inside the resolve wait
    report = await first.run_cycle(CID)
    assert (report.sent, report.waiting) == (0, 1)
    await first.shutdown()

    second = engine()  # a restart: the wait is loaded with the rest
    await second.start()
    clock.set(NOW + 1800)
    assert (await second.run_cycle(CID)).sent == 0
    resolves = [r for f in fakes for r in f.of(functions.contacts.ResolveUsernameRequest)]
    dialogs = [r for f in fakes for r in f.of(functions.messages.GetDialogsRequest)]
    assert len(resolves) == 1 and len(dialogs) >= 4  # two reads at least (main list and archive each)
    clock.set(NOW + HOUR + 1)
    report = await second.run_cycle(CID)
    await second.shutdown()
    assert report.sent == 1
    assert len([r for f in fakes for r in f.of(functions.contacts.ResolveUsernameRequest)]) == 2


async def test_telethon_a_connect_flood_is_recorded_as_connect_and_not_asked_again(
    db: Database, tmp_path: Path
) -> None:
    """The accounts' guard alone, on the contract fake: a FloodWait on users.getUsers at connect is the
    'connect' wait; the next connect inside it raises WaitPending without building a client."""
    clock = FakeClock(NOW)
    made: list[FakeSender] = []

    def builder(creds: SessionCredentials, client_settings: ClientSettings) -> Any:
        client = build_client(creds, client_settings)
        fake = FakeSender.install(client)
        if not made:
            fake.script(functions.users.GetUsersRequest, RpcFail(420, "FLOOD_WAIT_120"))
        made.append(fake)
        return client

    s = await make_setup(db, tmp_path, plan=1, pool=1)
    [sid] = s.session_ids
    async with db.tx() as conn:  # the app config read a moment ago: this connect's one request asks who it is
        await session_rows.set_status_checked(conn, sid, NOW)
    ledger = Ledger(db)
    book = WaitBook()
    accounts = Accounts(db, TelethonFactory(client_builder=builder), PoolSupply(db, s.sessions_dir), ledger, clock,
                        waits=book)
    try:
        with pytest.raises(errors.FloodWaitError):
            await accounts.get(sid)
        assert book.until(sid, "connect") == NOW + 120 and book.until(sid, "send") == 0.0
        clock.set(NOW + 60)
        with pytest.raises(WaitPending) as pending:
            await accounts.get(sid)
        assert (pending.value.method, pending.value.until, pending.value.seconds) == ("connect", NOW + 120, 60)
        assert classify(pending.value) == Outcome(OutcomeKind.FLOOD_WAIT, "WaitPending", 60)
        assert len(made) == 1 and len(made[0].of(functions.users.GetUsersRequest)) == 1  # nothing more went out
        assert await waits_of(db, sid, NOW + 60) == {"connect": NOW + 120}
        clock.set(NOW + 120)
        assert (await accounts.get(sid)).info.user_id > 0
    finally:
        await accounts.close_all()
        await ledger.close()


async def test_a_connect_wait_the_pool_recorded_holds_the_engine_too(db: Database, tmp_path: Path) -> None:
    """A health check met a flood wait connecting an idle session; the session is then given to a
    customer: the engine does not connect it before the wait ends, whichever path opens it first."""
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1)
    [sid] = s.session_ids
    engine = s.engine()
    await engine.start()  # before the check: the wait is news to the engine
    s.world.add_fault(kind="flood_wait", session=sid, method="connect", seconds=HOUR)
    [checked] = await check_sessions(db, s.sessions_dir, s.world, NOW, classify=classify)
    assert (checked.outcome, await waits_of(db, sid, NOW)) == ("cooling", {"connect": NOW + HOUR})
    assert await PoolSupply(db, s.sessions_dir).ensure_plan(CID, NOW) == [sid]
    assert await engine.refresh_memberships(CID) == 0  # the customer added groups: not read inside the wait
    s.clock.set(NOW + HOUR / 2)
    assert (await engine.start_campaign(CID)).started
    report = await engine.run_cycle(CID)
    assert (report.sent, report.unreachable) == (0, 3)  # its dialogs are not read yet: nothing is placed
    assert s.world.request_count(method="connect") == 1 and s.world.violations == []
    s.clock.set(NOW + HOUR)
    assert (await engine.run_cycle(CID)).sent == 3
    assert s.world.violations == []
    await engine.shutdown()


async def test_an_app_config_flood_is_a_read_wait_the_engine_and_the_pool_honour(
    db: Database, tmp_path: Path
) -> None:
    """The app-config read after connecting (is the account frozen?) is a 'read' class request: a flood
    wait on it is recorded as the read class's, no app-config read leaves inside it, neither from the
    engine nor from a health check. A link post's first forward needs a read too (the post's album), so
    its groups wait for it ('waiting', never lost) and are sent once it is over (its standing read first)."""
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=2)
    for session_id in s.session_ids:
        s.world.add_fault(kind="flood_wait", session=session_id, method="app_config", seconds=HOUR, times=1)
    engine = s.engine()
    await running(s, engine)
    owned = {r.id for r in await s.owned()}
    [sid] = owned
    [idle] = [i for i in s.session_ids if i not in owned]
    report = await engine.run_cycle(CID)
    assert (report.sent, report.waiting) == (0, 3)
    assert {(r.outcome, r.error) for r in (await s.rows(1)).values()} == {("waiting", "flood_wait")}
    assert await waits_of(db, sid, NOW) == {"read": NOW + HOUR}
    assert (await s.session(sid)).cooldown_until is None  # its sends' own wait is not set by it
    [checked] = await check_sessions(db, s.sessions_dir, s.world, NOW, classify=classify)
    assert (checked.session_id, checked.outcome) == (idle, "cooling")
    assert await waits_of(db, idle, NOW) == {"read": NOW + HOUR}
    reads = s.world.request_count(method="app_config")
    s.clock.set(NOW + HOUR / 2)
    assert (await engine.run_cycle(CID)).sent == 0
    [again] = await check_sessions(db, s.sessions_dir, s.world, NOW + HOUR / 2, classify=classify)
    assert again.outcome == "cooling"  # not probed inside its read wait
    assert s.world.request_count(method="app_config") == reads
    s.clock.set(NOW + HOUR)
    assert (await engine.run_cycle(CID)).sent == 3
    [healthy] = await check_sessions(db, s.sessions_dir, s.world, NOW + HOUR, classify=classify)
    assert healthy.outcome == "healthy"
    assert s.world.request_count(method="app_config") == reads + 2
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_read_wait_does_not_hold_the_sends_that_need_no_read(db: Database, tmp_path: Path) -> None:
    """A text post needs no read: a flood wait met by the app-config read at connect holds the reads
    only; the session connects and posts, and its standing is read once the wait is over."""
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1, post=None, text="hi there")
    [sid] = s.session_ids
    s.world.add_fault(kind="flood_wait", session=sid, method="app_config", seconds=HOUR, times=1)
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 3
    assert await waits_of(db, sid, NOW) == {"read": NOW + HOUR}
    assert s.world.request_count(method="app_config") == 1
    s.clock.set(NOW + HOUR / 2)
    assert (await engine.run_cycle(CID)).sent == 3
    assert s.world.request_count(method="app_config") == 1  # not asked inside the wait
    s.clock.set(NOW + HOUR + 1)
    assert (await engine.run_cycle(CID)).sent == 3
    assert s.world.request_count(method="app_config") == 2  # read once the wait was over
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_wait_a_health_check_meets_runs_from_telegrams_answer_not_from_the_checks_start(
    db: Database, tmp_path: Path
) -> None:
    """The soak once broke a read wait this way: a check run began at T, its probe of an idle session was
    answered FLOOD_WAIT later (the gate, a slow connect: 90 s here), and the wait was counted from T, so it
    ended 90 s before Telegram's. The engine took the session next and read its app config inside
    Telegram's wait. Counted from the answer, neither the engine nor the next check asks inside it."""
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1)
    [sid] = s.session_ids
    s.world.add_fault(kind="flood_wait", session=sid, method="app_config", seconds=HOUR)

    def slow_connect(point: str, _key: str) -> None:
        if point == "request:connect":
            s.clock.set(NOW + 90)  # the probe is answered 90 s into the run

    s.world.step_hook = slow_connect
    [checked] = await check_sessions(db, s.sessions_dir, s.world, NOW, classify=classify, clock=s.clock)
    s.world.step_hook = None
    assert checked.outcome == "cooling"
    assert await waits_of(db, sid, NOW) == {"read": NOW + 90 + HOUR}  # Telegram's wait, to the second
    reads = s.world.request_count(method="app_config")
    s.clock.set(NOW + HOUR + 30)  # past a wait counted from the run's start, inside Telegram's
    [again] = await check_sessions(db, s.sessions_dir, s.world, s.clock.now(), classify=classify, clock=s.clock)
    assert again.outcome == "cooling"  # not probed
    engine = s.engine()
    await engine.start()
    assert await PoolSupply(db, s.sessions_dir).ensure_plan(CID, s.clock.now()) == [sid]
    assert (await engine.start_campaign(CID)).started
    await engine.run_cycle(CID)  # connects it (its dialogs): the app config is not read inside the wait
    assert s.world.request_count(method="app_config") == reads
    assert s.world.violations == []
    s.clock.set(NOW + 90 + HOUR)
    assert (await engine.run_cycle(CID)).sent == 3  # the read once the wait is over, then the posts
    assert s.world.request_count(method="app_config") == reads + 1
    assert s.world.violations == []
    await engine.shutdown()


async def test_the_world_catches_a_client_that_ignores_a_wait(db: Database, tmp_path: Path) -> None:
    """The world's side of the rule, unweakened: a request of a class inside its flood wait is recorded as
    a violation (with the wait's end) and refused, whoever sends it; one after the wait is not."""
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1)
    [sid] = s.session_ids
    s.world.add_fault(kind="flood_wait", session=sid, method="app_config", seconds=HOUR)
    [checked] = await check_sessions(db, s.sessions_dir, s.world, NOW, classify=classify, clock=s.clock)
    assert checked.outcome == "cooling" and s.world.violations == []
    s.clock.set(NOW + HOUR - 1)
    port = s.world.open(await lifecycle.credentials(db, s.sessions_dir, sid))  # a client that forgets the wait
    await port.connect()
    with pytest.raises(errors.FloodWaitError):
        await port.account_status()  # refused again
    await port.close()
    [violation] = s.world.violations
    assert (violation.kind, violation.at) == ("flood_wait", NOW + HOUR - 1)
    assert violation.detail.startswith("read: app_config during a flood wait, 1.0 s before its end")
    s.clock.set(NOW + 2 * HOUR)
    [healthy] = await check_sessions(db, s.sessions_dir, s.world, s.clock.now(), classify=classify, clock=s.clock)
    assert healthy.outcome == "healthy" and len(s.world.violations) == 1
