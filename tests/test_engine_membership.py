"""The engine learns and uses memberships, in the strict world (each group names its members): groups go
only to sessions whose own dialogs list them, a group nobody can reach is reported once and left out,
each chat is addressed with the sending session's own access hash, a refusal updates the session's row
at once, and a flood wait on reading dialogs delays that read only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from telethon import functions, types

from control_bot.backends import Playground, make_factory
from core.clock import FakeClock
from core.config import settings_from_dict
from core.ports import SessionCredentials
from core.states import EventKind
from engine.accounts import Account
from engine.engine import Engine
from engine.placement import assign_groups
from engine.reach import Memberships, Reach, Verdict
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from pool.supply import PoolSupply
from sandbox.world import World
from sandbox.world.faults import Fault
from sandbox.world.model import SimChat
from storage import customers, memberships
from storage import groups as group_rows
from storage.db import Database
from tests.engine_support import CID, Setup, fast_config, make_setup, running
from tests.fake_sender import FakeSender, channel, channel_message_sent, channel_posts, dialogs_of
from tests.pool_support import NOW

HOUR = 3600.0


def members(s: Setup, ref: str, session_ids: Iterable[int]) -> SimChat:
    """Only these sessions' accounts are in the chat."""
    chat = s.world.chat(ref)
    assert chat is not None
    chat.everyone = False
    chat.members = {s.account_of(sid) for sid in session_ids}
    return chat


def probe(s: Setup, session_id: int, ref: str) -> Fault:
    """A fault that never fires and counts every send of the session's account to the chat (``seen``)."""
    return s.world.add_fault(kind="transient", account=s.account_of(session_id), group=ref, after=10**9)


async def events_of(s: Setup, kind: EventKind) -> list[tuple[str, str | None]]:
    return [(e.payload["group"], e.payload.get("reason")) for e in await s.events() if e.kind is kind]


async def test_groups_go_only_to_member_sessions_and_non_members_send_nothing(db: Database, tmp_path: Path) -> None:
    refs = [f"@g{i}" for i in range(8)]
    s = await make_setup(db, tmp_path, groups=refs, plan=3, pool=3)
    a, b, c = s.session_ids
    who = {"@g0": [a], "@g1": [a], "@g2": [b, c], "@g3": [b, c], "@g4": [a, b, c], "@g5": [c], "@g6": [c],
           "@g7": [a, c]}
    for ref, sids in who.items():
        members(s, ref, sids)
    probes = [probe(s, sid, ref) for ref, sids in who.items() for sid in (a, b, c) if sid not in sids]
    engine = s.engine()
    await running(s, engine)
    for n in range(3):
        s.clock.set(NOW + 300 * n)
        report = await engine.run_cycle(CID)
        assert (report.sent, report.failed, report.unreachable) == (8, 0, 0)
    account_to_session = {s.account_of(sid): sid for sid in s.session_ids}
    for ref, sids in who.items():
        deliveries = s.world.deliveries_to(ref)
        assert len(deliveries) == 3
        assert {account_to_session[d.account] for d in deliveries} <= set(sids), ref
    assert [p.seen for p in probes] == [0] * len(probes)  # not one request by a non-member
    assert s.world.violations == []
    assert s.world.request_count(method="resolve") == 3  # the post's channel, once per session; no group
    await engine.shutdown()


def test_placement_balances_within_what_each_session_can_reach() -> None:
    groups = [group_rows.Group(i, CID, f"@g{i}", NOW, 0, None, None, None, None, None) for i in range(12)]
    writers = {g.ref: [1, 2, 3] for g in groups}
    writers.update({"@g0": [1], "@g1": [1], "@g2": [1], "@g3": [1], "@g11": []})  # @g11: nobody
    plan = assign_groups(groups, [1, 2, 3], writers)
    assert all(g.ref in {r for r in writers if 1 in writers[r]} for g in plan[1])
    placed = sorted(g.ref for gs in plan.values() for g in gs)
    assert placed == sorted(g.ref for g in groups if g.ref != "@g11")
    assert sorted(len(v) for v in plan.values()) == [3, 4, 4]  # 11 groups: as even as the rows allow
    assert {"@g0", "@g1", "@g2", "@g3"} <= {g.ref for g in plan[1]}
    assert plan == assign_groups(groups, [1, 2, 3], writers)  # deterministic
    for gs in plan.values():
        assert [g.id for g in gs] == sorted(g.id for g in gs)  # list order kept
    # Everyone may write everywhere: exactly the plan without memberships.
    full = {g.ref: [1, 2, 3] for g in groups}
    assert assign_groups(groups, [1, 2, 3], full) == assign_groups(groups, [1, 2, 3])
    # A group only a full session can reach still goes there rather than nowhere.
    crowded = {g.ref: [1] for g in groups[:6]} | {g.ref: [1, 2] for g in groups[6:]}
    lopsided = assign_groups(groups, [1, 2], crowded)
    assert len(lopsided[1]) == 6 and len(lopsided[2]) == 6


async def test_an_unreachable_group_is_told_once_left_out_and_reachable_again(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=["@open", "@nobody"], plan=2, pool=2)
    _, b = s.session_ids
    members(s, "@nobody", [])
    engine = s.engine()
    await running(s, engine)
    for n in range(3):
        s.clock.set(NOW + 300 * n)
        report = await engine.run_cycle(CID)
        assert (report.sent, report.unreachable) == (1, 1)
        assert "@nobody" not in await s.rows(n + 1)  # no ledger row, no request
    assert s.world.deliveries_to("@nobody") == []
    assert await events_of(s, EventKind.GROUP_UNREACHABLE) == [("@nobody", "not_member")]
    group = (await s.groups())["@nobody"]
    assert (group.reach, group.reach_told_at, group.active) == ("not_member", NOW, True)
    assert s.notified.calls >= 1

    # An admin adds session b to the group; the bot asks the engine to look again (a customer added groups).
    members(s, "@nobody", [b])
    s.clock.set(NOW + 900)
    before = engine.discovery.reads
    assert await engine.refresh_memberships(CID) == 2
    assert engine.discovery.reads == before + 2
    assert await events_of(s, EventKind.GROUP_REACHABLE) == [("@nobody", None)]
    group = (await s.groups())["@nobody"]
    assert (group.reach, group.reach_told_at) == (None, None)
    s.clock.set(NOW + 1200)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.unreachable) == (2, 0)
    [delivery] = s.world.deliveries_to("@nobody")
    assert delivery.account == s.account_of(b)
    assert await events_of(s, EventKind.GROUP_UNREACHABLE) == [("@nobody", "not_member")]  # still told once
    await engine.shutdown()


async def test_members_that_may_not_write_make_the_group_forbidden_with_their_reasons(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path, groups=["@open", "@strict", "@news"], plan=2, pool=2)
    a, b = s.session_ids
    members(s, "@strict", [a, b]).forbidden = {s.account_of(a)}
    s.world.chat("@strict").read_only = True  # type: ignore[union-attr]
    news = members(s, "@news", [a])
    news.broadcast = True
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.unreachable) == (1, 2)
    stored = await s.groups()
    assert (stored["@strict"].reach, stored["@strict"].reach_detail) == ("forbidden", "banned,read_only")
    assert (stored["@news"].reach, stored["@news"].reach_detail) == ("not_a_group", "broadcast")
    assert sorted(await events_of(s, EventKind.GROUP_UNREACHABLE)) == [("@news", "not_a_group"),
                                                                      ("@strict", "forbidden")]
    await engine.shutdown()


async def test_a_marked_id_group_is_delivered_from_a_fresh_session_file_of_a_member(
    db: Database, tmp_path: Path
) -> None:
    clock = FakeClock(NOW)
    world = World(clock)
    hidden = world.add_group(None, chat_id=1_234_567_890, members=[])  # no username: only its id names it
    ref = hidden.marked_id
    assert ref == "-1001234567890"
    s = await make_setup(db, tmp_path, groups=[ref, "@open"], plan=2, pool=2, clock=clock, world=world)
    _, b = s.session_ids
    members(s, ref, [b])
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.failed) == (2, 0)
    [delivery] = s.world.deliveries_to(ref)
    assert delivery.account == s.account_of(b)
    # Addressed with b's own access hash from its dialogs: nothing was resolved but the post's channel.
    assert s.world.request_count(method="resolve") == 2
    async with db.read() as conn:
        row = await memberships.find(conn, b, ref)
    assert row is not None and row.peer == s.world.peer_seen_by(s.account_of(b), ref)
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_private_source_needs_a_session_in_both_chats(db: Database, tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    world = World(clock)
    source = world.add_channel(None, chat_id=987_654_321, posts=[7])
    s = await make_setup(db, tmp_path, groups=["@both", "@only_b"], plan=2, pool=2, clock=clock, world=world,
                         post=(source.marked_id, 7))
    a, b = s.session_ids
    source.members = {s.account_of(a)}
    members(s, "@both", [a, b])
    members(s, "@only_b", [b])
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.failed, report.unreachable) == (1, 0, 1)
    [delivery] = s.world.deliveries_to("@both")
    assert (delivery.account, delivery.source_chat, delivery.source_msg) == (s.account_of(a), source.id, 7)
    assert s.world.request_count(method="resolve") == 0  # the source too comes from a's own dialogs
    assert await events_of(s, EventKind.GROUP_UNREACHABLE) == [("@only_b", "source_not_member")]
    await engine.shutdown()


@pytest.mark.parametrize("public", [True, False])
async def test_a_session_removed_from_a_group_is_noticed_at_the_first_refusal_and_replaced(
    db: Database, tmp_path: Path, public: bool
) -> None:
    clock = FakeClock(NOW)
    world = World(clock)
    target = world.add_group("shared" if public else None, chat_id=555_000, members=[])
    ref = target.ref
    s = await make_setup(db, tmp_path, groups=[ref], plan=2, pool=2, clock=clock, world=world)
    members(s, ref, s.session_ids)
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 1
    [first] = s.world.deliveries_to(ref)
    gone = next(sid for sid in s.session_ids if s.account_of(sid) == first.account)
    stays = next(sid for sid in s.session_ids if sid != gone)
    target.members.discard(first.account)  # an admin of the group removed it

    s.clock.set(NOW + 300)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.failed) == (0, 1)
    row = (await s.rows(2))[ref]
    assert (row.session_id, row.error) == (gone, "ChatWriteForbiddenError" if public else "ChannelPrivateError")
    async with db.read() as conn:
        mine = await memberships.find(conn, gone, ref)
    if public:  # "may not write": kept, blocked, until its dialogs are read again
        assert mine is not None and not mine.can_write
    else:  # "not a member": gone
        assert mine is None
    assert (await s.groups())[ref].consecutive_failures == 0  # the session's, not the group's failure

    s.clock.set(NOW + 600)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.failed) == (1, 0)
    assert s.world.deliveries_to(ref)[-1].account == s.account_of(stays)
    assert engine.discovery.reads == 2  # noticed without reading anyone's dialogs again
    await engine.shutdown()


async def test_a_flood_wait_on_reading_dialogs_delays_that_read_only(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=["@g0", "@g1", "@g2"], plan=1, pool=1)
    [sid] = s.session_ids
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 3
    assert engine.discovery.reads == 1
    # Hours later the read is due again, and Telegram asks getDialogs (only) to wait an hour.
    wait = s.world.add_fault(kind="error", error="FloodWaitError", seconds=3600, method="dialogs", times=1)
    later = NOW + 20 * HOUR
    s.clock.set(later)
    report = await engine.run_cycle(CID)
    assert wait.fired == 1
    assert (report.sent, report.waiting, report.skipped) == (3, 0, 0)  # its sends go on, from its stored rows
    session = await s.session(sid)
    assert session.state == "assigned" and session.cooldown_until is None
    async with db.read() as conn:
        times = await memberships.scan_times(conn, [sid])
    assert times[sid].due_at == later + 3600
    asked = s.world.request_count(method="dialogs")
    for n in range(1, 4):  # not asked again before the wait ends
        s.clock.set(later + 600 * n)
        assert (await engine.run_cycle(CID)).sent == 3
    assert s.world.request_count(method="dialogs") == asked and engine.discovery.reads == 1
    s.clock.set(later + 3600 + 1)
    assert (await engine.run_cycle(CID)).sent == 3
    assert engine.discovery.reads == 2
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_first_read_held_by_a_flood_wait_says_checking_and_tells_nobody(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=["@a_only", "@both"], plan=2, pool=2)
    a = s.session_ids[0]
    members(s, "@a_only", [a])
    s.world.add_fault(kind="error", error="FloodWaitError", seconds=900, method="dialogs", session=a, times=1)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.unreachable) == (1, 1)
    assert (await s.groups())["@a_only"].reach == "checking"
    assert await events_of(s, EventKind.GROUP_UNREACHABLE) == []  # it passes by itself
    s.clock.set(NOW + 901)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.unreachable) == (2, 0)
    assert (await s.groups())["@a_only"].reach is None
    assert await events_of(s, EventKind.GROUP_REACHABLE) == []  # never told it was unreachable
    await engine.shutdown()


async def test_dialogs_are_read_when_first_used_then_on_the_schedule_and_for_a_new_group(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path, groups=["@g0"], plan=2, pool=2)
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)
    assert engine.discovery.reads == 2
    async with db.read() as conn:
        times = await memberships.scan_times(conn, s.session_ids)
    for t in times.values():  # 12 h +- 25 %, spread
        assert t.checked_at == NOW and t.due_at is not None and NOW + 9 * HOUR <= t.due_at <= NOW + 15 * HOUR
    assert len({t.due_at for t in times.values()}) == 2
    s.clock.set(NOW + 300)
    await engine.run_cycle(CID)
    assert engine.discovery.reads == 2

    # A group nobody's dialogs list is added: each session is read once more, not at every cycle.
    s.world.add_group("g_new", members=[s.account_of(s.session_ids[1])])
    async with db.tx() as conn:
        await group_rows.add_many(conn, CID, ["@g_new"], NOW + 400)
    for n in (2, 3, 4):
        s.clock.set(NOW + 300 * n)
        report = await engine.run_cycle(CID)
        assert (report.sent, report.unreachable) == (2, 0)
    assert engine.discovery.reads == 4

    s.clock.set(NOW + 16 * HOUR)  # both due again on the schedule
    await engine.run_cycle(CID)
    assert engine.discovery.reads == 6
    await engine.shutdown()


async def test_a_dead_account_found_by_reading_dialogs_is_retired_and_replaced(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=["@g0", "@g1"], plan=1, pool=2)
    engine = s.engine()
    await running(s, engine)
    [victim] = [r.id for r in await s.owned()]
    s.world.add_fault(kind="dead", method="dialogs", session=victim, times=0)
    report = await engine.run_cycle(CID)
    assert (await s.session(victim)).state == "dead"
    kinds = [e.kind for e in await s.events()]
    assert EventKind.SESSION_DEAD in kinds and EventKind.SESSION_REPLACED in kinds
    assert report.sent == 0 and s.world.deliveries == []
    [replacement] = [r.id for r in await s.owned()]
    s.clock.set(NOW + 300)
    assert (await engine.run_cycle(CID)).sent == 2
    assert {d.account for d in s.world.deliveries} == {s.account_of(replacement)}
    await engine.shutdown()


async def test_the_playground_backend_knows_every_stored_group(db: Database, tmp_path: Path) -> None:
    """``adbot run`` on the simulated backend without a world file: groups customers add exist there."""
    settings = settings_from_dict({"engine": {"backend": "simulated"}}, tmp_path)
    factory = make_factory(settings, FakeClock(NOW), db)
    assert isinstance(factory, Playground)
    async with db.tx() as conn:
        await group_rows.add_defaults(conn, ["@default_one"], NOW)
        await customers.grant(conn, CID, 1, 30, NOW, default_interval=300)
        await group_rows.add_many(conn, CID, ["@customers_own", "-1000001234567"], NOW)
    port = factory.open(SessionCredentials(1, tmp_path / "none.session", 1, "x" * 32))
    await port.connect()
    chats = {d.username or str(d.peer.id) for d in await port.dialogs()}
    assert chats == {"default_one", "customers_own", "1234567"}
    await port.close()
    factory.close()


async def test_telethon_a_marked_id_group_goes_out_with_the_access_hash_its_dialogs_gave(
    db: Database, tmp_path: Path
) -> None:
    """The Telethon contract fake, on a fresh session file (no entity cached): the group has no username,
    so only the session's dialogs can give its access hash; the forward carries it, nothing resolves it."""
    group_id, group_hash, ads_id = 1_777_000_111, 4242, 1_666_000_222
    clock = FakeClock(NOW)
    world = World(clock)
    ref = world.add_group(None, chat_id=group_id).marked_id
    s = await make_setup(db, tmp_path, groups=[ref], plan=1, pool=1, clock=clock, world=world)
    fakes: list[FakeSender] = []

    def builder(creds: SessionCredentials, client_settings: ClientSettings) -> Any:
        client = build_client(creds, client_settings)
        fake = FakeSender.install(client)
        fake.always(functions.contacts.ResolveUsernameRequest, types.contacts.ResolvedPeer(
            peer=types.PeerChannel(ads_id), chats=[channel(ads_id, 99, "ads", megagroup=False)], users=[]))
        fake.always(functions.messages.GetDialogsRequest,
                    lambda r: dialogs_of([] if r.folder_id else [channel(group_id, group_hash)]))
        fake.always(functions.messages.ForwardMessagesRequest,
                    lambda r: channel_message_sent(r.to_peer.channel_id, 5, r.random_id[0]))
        fake.always(functions.channels.GetMessagesRequest, channel_posts(ads_id, 1))
        fakes.append(fake)
        return client

    engine = Engine(db, TelethonFactory(client_builder=builder), PoolSupply(db, s.sessions_dir), clock,
                    fast_config(), schedule=False, connect_rate=None)
    await running(s, engine)
    report = await engine.run_cycle(CID)
    await engine.shutdown()
    assert (report.sent, report.failed) == (1, 0)
    [fake] = fakes
    [forward] = fake.of(functions.messages.ForwardMessagesRequest)
    assert forward.to_peer == types.InputPeerChannel(group_id, group_hash)
    assert forward.from_peer == types.InputPeerChannel(ads_id, 99)
    assert forward.random_id == [s.random_id(1, ref)]
    assert forward.id == [1]  # not an album: the post alone
    [read] = fake.of(functions.channels.GetMessagesRequest)  # is the post an album? asked once
    assert read.channel == types.InputChannel(ads_id, 99)
    assert [r.username for r in fake.of(functions.contacts.ResolveUsernameRequest)] == ["ads"]
    assert len(fake.of(functions.messages.GetDialogsRequest)) == 2  # the main list and the archive
    assert (await s.rows(1))[ref].outcome == "sent"


async def test_reads_of_dialogs_are_bounded_across_the_engine(db: Database, tmp_path: Path) -> None:
    clock = FakeClock(NOW, auto=True)
    s = await make_setup(db, tmp_path, groups=["@g0", "@g1"], plan=5, pool=5, clock=clock)
    s.world.latency = 1.0
    reading: list[int] = [0, 0]  # now, most at once

    def on_step(point: str, _account: str) -> None:
        if point == "request:dialogs":
            reading[0] += 1
            reading[1] = max(reading[1], reading[0])
        elif point == "answered:dialogs":
            reading[0] -= 1

    s.world.step_hook = on_step
    engine = s.engine(fast_config(dialogs_scan_concurrency=2))
    # The first session opened waits, connected, until a second one is: then both ask for their dialogs in
    # the same instant. Without it, whether two reads overlap would depend on the wall clock: opening the
    # second session goes through SQLite's worker thread, and a round trip longer than the virtual clock's
    # grace (a loaded machine) lets time run on under it, through the first read's latency and even its
    # timeout. Held here, before the read and its timeout start, nothing of the first waits on the clock.
    # The gate alone decides whether a second read comes (with a bound of one it never would: the test
    # then hangs into pytest's timeout).
    accounts = engine.discovery.accounts
    open_account = accounts.get
    opened: list[int] = []
    second = asyncio.Event()

    async def held(session_id: int) -> Account:
        account = await open_account(session_id)
        opened.append(session_id)
        if len(opened) == 2:
            second.set()
        elif len(opened) == 1:
            await second.wait()
        return account

    accounts.get = held  # type: ignore[method-assign]
    try:
        await running(s, engine)
        assert (await engine.run_cycle(CID)).sent == 2
        assert engine.discovery.reads == 5 and reading == [0, 2]
    finally:
        await engine.shutdown()
        await clock.aclose()


async def test_storage_keeps_the_reach_and_when_the_customer_was_told(db: Database, tmp_path: Path) -> None:
    await make_setup(db, tmp_path, groups=["@g0"], plan=1, pool=1)
    async with db.tx() as conn:
        [group] = await group_rows.list_for(conn, CID)
        await group_rows.set_reach(conn, group.id, "checking", None, NOW)
        await group_rows.set_reach(conn, group.id, "not_member", None, NOW + 10)
        await group_rows.set_reach_told(conn, group.id, NOW + 10)
        await group_rows.set_reach(conn, group.id, "not_member", None, NOW + 20)  # unchanged: same time
        [told] = await group_rows.list_for(conn, CID)
        await group_rows.set_reach(conn, group.id, None, None, NOW + 30)
        [back] = await group_rows.list_for(conn, CID)
    assert (told.reach, told.reach_changed_at, told.reach_told_at) == ("not_member", NOW + 10, NOW + 10)
    assert (back.reach, back.reach_detail, back.reach_changed_at, back.reach_told_at) == (None, None, NOW + 30, None)


def test_verdicts_from_rows() -> None:
    def row(sid: int, chat: int, *, name: str | None = None, why: str | None = None) -> memberships.ChatRow:
        return memberships.ChatRow(sid, "channel", chat, sid * 10 + chat, name, int(why is None), why)  # type: ignore[arg-type]

    rows = [
        row(1, 5, name="open"), row(2, 5, name="open"),
        row(1, 6, why="kicked"), row(2, 6, why="left"),  # their dialogs still list it: no membership
        row(1, 7, why="kicked"), row(2, 7, why="read_only"),  # one is in it, and may not write
        row(2, 8, name="src"),
    ]
    known = Memberships(rows, [1, 2, 3], unread=[])
    assert known.verdict("@open") == Verdict(None, writers=(1, 2))
    assert known.verdict("@OPEN#4") == Verdict(None, writers=(1, 2))  # a topic and the case do not matter
    assert known.verdict("-1000000000005") == Verdict(None, writers=(1, 2))  # by marked id as well
    assert known.verdict("-1000000000006") == Verdict(Reach.NOT_MEMBER, "kicked,left")
    assert known.verdict("-1000000000007") == Verdict(Reach.FORBIDDEN, "read_only")
    assert known.verdict("-1000000000009") == Verdict(Reach.NOT_MEMBER)
    assert known.verdict("@open", source="@src") == Verdict(None, writers=(2,))
    assert known.verdict("@open", source="-1000000000099") == Verdict(Reach.SOURCE_NOT_MEMBER)
    assert known.row(2, "@open") is not None and known.row(2, "@open").peer.access_hash == 25  # type: ignore[union-attr]
    checking = Memberships(rows, [1, 2, 3], unread=[3])
    assert checking.verdict("-1000000000009") == Verdict(Reach.CHECKING)
    assert checking.verdict("@open") == Verdict(None, writers=(1, 2))  # a writer is enough
