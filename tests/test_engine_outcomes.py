"""Honest outcomes in the strict simulated world: source failures blame no group, an ambiguous refusal is
settled by one read of the source, permanent refusals stop that session at the first answer, an answer
without a new message is in doubt, and an album goes out whole in one request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from telethon import functions, types

from core.clock import FakeClock
from core.ports import SessionCredentials
from core.states import EventKind
from engine.albums import album_random_ids
from engine.engine import Engine
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from pool.supply import PoolSupply
from sandbox.world import World
from sandbox.world.model import Violation
from storage import ledger as ledger_rows
from storage import memberships, refusals
from storage.db import Database
from tests.engine_support import CID, NOW, Setup, fast_config, make_setup, running
from tests.fake_sender import FakeSender, RpcFail, channel, channel_message_sent, channel_posts, dialogs_of


async def _no_group_blamed(s: Setup) -> None:
    async with s.db.read() as conn:
        per_group = await ledger_rows.group_stats(conn, CID)
        stats = await ledger_rows.get_stats(conn, CID)
    assert all(failures == 0 for _, failures in per_group.values())
    assert stats.total_failures == 0
    assert all(g.consecutive_failures == 0 and g.paused_reason is None for g in (await s.groups()).values())


def _violations(s: Setup) -> list[Violation]:
    return list(s.world.violations)


async def test_forwards_restricted_pauses_the_campaign_once_and_blames_no_group(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    s.world.chat("@ads").noforwards = True  # type: ignore[union-attr]
    engine = s.engine()
    await running(s, engine)

    report = await engine.run_cycle(CID)

    assert report.reason == "source_failed"
    assert (await s.customer()).stop_reason == "source_failed"
    told = [e for e in await s.events() if e.kind is EventKind.POST_INVALID]
    assert len(told) == 1 and told[0].payload["error"] == "ChatForwardsRestrictedError"
    assert s.world.deliveries == []
    rows = await s.rows(1)
    refused = [r for r in rows.values() if r.error == "source_failed:ChatForwardsRestrictedError"]
    assert refused and all(r.outcome == "skipped" for r in refused)
    assert all(r.outcome == "skipped" for r in rows.values())
    await _no_group_blamed(s)
    assert _violations(s) == []
    await engine.shutdown()


async def test_a_source_the_session_may_no_longer_read_is_settled_as_the_sources(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@group_a", "@group_b"])
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 2
    [sid] = [r.id for r in await s.owned()]
    key = s.account_of(sid)
    reads = s.world.request_count(key, "read")
    # Banned from the post's channel: the forward says CHANNEL_PRIVATE, which a group says too.
    s.world.ban("@ads", key)

    s.clock.set(NOW + 300)
    report = await engine.run_cycle(CID)

    assert report.reason == "source_failed"
    assert s.world.request_count(key, "read") == reads + 1  # one read of the source settled it
    assert s.world.request_count(key, "forward") == 3  # and nothing more was tried
    told = [e for e in await s.events() if e.kind is EventKind.POST_INVALID]
    assert len(told) == 1 and told[0].payload["error"] == "ChannelPrivateError"
    await _no_group_blamed(s)
    async with db.read() as conn:  # the session's rows of the groups were not touched
        assert await memberships.find(conn, sid, "@group_a") is not None
        assert await memberships.find(conn, sid, "@group_b") is not None
    await engine.shutdown()


async def test_a_group_the_session_was_removed_from_is_settled_as_the_groups(db: Database, tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    world = World(clock)
    for bare in (1000000777, 1000000778):  # private groups (no username)
        world.add_group(None, chat_id=bare)
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["-1001000000777", "-1001000000778", "@group_c"],
                         clock=clock, world=world)
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 3
    [sid] = [r.id for r in await s.owned()]
    key = s.account_of(sid)
    reads = s.world.request_count(key, "read")
    for private in ("-1001000000777", "-1001000000778"):  # no username: a removed member gets CHANNEL_PRIVATE
        s.world.remove_member(private, key)

    s.clock.set(NOW + 300)
    report = await engine.run_cycle(CID)

    assert report.reason is None and (report.sent, report.failed) == (1, 2)
    assert s.world.request_count(key, "read") == reads + 1  # one read per session per cycle, for both
    rows = await s.rows(2)
    assert rows["-1001000000777"].outcome == "failed" and rows["-1001000000777"].error == "ChannelPrivateError"
    async with db.read() as conn:  # the group's: the session is not in it, its row goes
        assert await memberships.find(conn, sid, "-1001000000777") is None
        assert await memberships.find(conn, sid, "@group_c") is not None
    assert (await s.customer()).status == "running"
    assert _violations(s) == []
    await engine.shutdown()


async def test_a_permanent_refusal_moves_the_group_to_another_session_then_marks_it_refused(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path, plan=2, pool=2, post=None, text="hi there", groups=["@no_text", "@fine"])
    s.world.chat("@no_text").plain_forbidden = True  # type: ignore[union-attr]  # dialogs cannot tell
    engine = s.engine(fast_config(group_failure_limit=3))
    await running(s, engine)

    tried_by: list[str] = []
    for n in range(4):
        s.clock.set(NOW + 300 * n)
        await engine.run_cycle(CID)
        rows = await s.rows(n + 1)
        if "@no_text" in rows:
            row = rows["@no_text"]
            assert row.outcome == "failed" and row.error == "ChatSendPlainForbiddenError"
            assert row.session_id is not None
            tried_by.append(s.account_of(row.session_id))
        assert rows["@fine"].outcome == "sent"

    # Each session tried it once (never a second time), then nobody: no three-strike retry.
    assert len(tried_by) == 2 and set(tried_by) == set(s.keys.values())
    group = (await s.groups())["@no_text"]
    assert group.paused_reason is None and group.consecutive_failures == 0
    assert (group.reach, group.reach_detail) == ("refused", "plain_forbidden")
    told = [e for e in await s.events() if e.kind is EventKind.GROUP_UNREACHABLE]
    assert len(told) == 1 and told[0].payload["reason"] == "refused"
    async with db.read() as conn:
        stored = await refusals.for_sessions(conn, [r.id for r in await s.owned()])
    assert {r.reason for r in stored} == {"plain_forbidden"} and len(stored) == 2
    assert _violations(s) == []
    await engine.shutdown()


async def test_a_closed_topic_is_refused_for_that_topic_only(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@forum#5", "@forum#6"])
    s.world.chat("@forum").topics.add(6)  # type: ignore[union-attr]
    s.world.chat("@forum").closed_topics.add(5)  # type: ignore[union-attr]
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)
    s.clock.set(NOW + 300)
    await engine.run_cycle(CID)

    first, second = await s.rows(1), await s.rows(2)
    assert first["@forum#5"].error == "TOPIC_CLOSED" and first["@forum#6"].outcome == "sent"
    assert "@forum#5" not in second and second["@forum#6"].outcome == "sent"  # never tried again
    assert len(s.world.deliveries_to("@forum", 6)) == 2
    groups = await s.groups()
    assert groups["@forum#5"].reach == "refused" and groups["@forum#6"].reach is None
    await engine.shutdown()


async def test_an_answer_without_a_new_message_is_in_doubt_and_not_sent_again(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@dropping", "@fine"])
    s.world.add_fault(kind="dropped", group="@dropping")
    engine = s.engine()
    await running(s, engine)

    report = await engine.run_cycle(CID)

    assert (report.sent, report.in_doubt, report.failed) == (1, 1, 0)
    rows = await s.rows(1)
    assert rows["@dropping"].outcome == "in_doubt" and rows["@dropping"].error == "no_new_message"
    assert s.world.deliveries_to("@dropping") == []
    key = s.account_of((await s.owned())[0].id)
    assert s.world.request_count(key, "forward") == 2  # not repeated in the cycle
    async with db.read() as conn:
        stats = await ledger_rows.get_stats(conn, CID)
        assert await ledger_rows.count_in_doubt(conn, CID) == 1
    assert (stats.total_success, stats.total_failures) == (1, 0)  # not a delivery, not a failure
    await engine.shutdown()


async def test_an_album_post_goes_out_whole_in_one_request(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=2, pool=2, post=("@ads", 2))
    ads = s.world.chat("@ads")
    assert ads is not None
    ads.albums.update({1: 77, 2: 77, 3: 77})  # the post 2 is the middle of a three-item album
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == len(s.refs)
    s.clock.set(NOW + 300)
    before = s.world.request_count()
    assert (await engine.run_cycle(CID)).sent == len(s.refs)

    assert s.world.request_count() - before == len(s.refs)  # steady state: one request per post
    assert s.world.request_count(method="read") == 2  # the album was read once per session
    assert all(d.source_msg == 1 for d in s.world.deliveries)
    assert _violations(s) == []  # never a partial album
    await engine.shutdown()


async def test_the_world_flags_a_partial_album(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@group_a"])
    s.world.chat("@ads").albums.update({1: 5, 2: 5})  # type: ignore[union-attr]
    engine = s.engine()
    await running(s, engine)
    account = await engine.accounts.get((await s.owned())[0].id)
    key = s.account_of(account.session_id)
    source, dest = s.world.peer_seen_by(key, "@ads"), s.world.peer_seen_by(key, "@group_a")
    # One item of the album: Telegram would forward it; our rule is the whole album, so the world flags it.
    await account.port.forward(source=source, msg_id=1, dest=dest, topic_id=None, random_id=1, drop_author=False)
    assert [v.kind for v in s.world.violations] == ["partial_album"]
    await account.port.forward(
        source=source, msg_id=1, dest=dest, topic_id=None, random_id=2, drop_author=False, album=[1, 2]
    )
    assert len(s.world.violations) == 1
    await engine.shutdown()


# --- the same through the Telethon contract fake (real TelegramClient, scripted sender) ------------------


def _telethon_engine(
    s: Setup, fakes: list[FakeSender], ads_id: int, group_id: int, group_hash: int, script: Any
) -> Engine:
    def builder(creds: SessionCredentials, client_settings: ClientSettings) -> Any:
        client = build_client(creds, client_settings)
        fake = FakeSender.install(client)
        fake.always(functions.contacts.ResolveUsernameRequest, types.contacts.ResolvedPeer(
            peer=types.PeerChannel(ads_id), chats=[channel(ads_id, 99, "ads", megagroup=False)], users=[]))
        fake.always(functions.messages.GetDialogsRequest,
                    lambda r: dialogs_of([] if r.folder_id else [channel(group_id, group_hash)]))
        script(fake)
        fakes.append(fake)
        return client

    return Engine(s.db, TelethonFactory(client_builder=builder), PoolSupply(s.db, s.sessions_dir), s.clock,
                  fast_config(), schedule=False, connect_rate=None)


async def _telethon_setup(db: Database, tmp_path: Path, post_id: int) -> tuple[Setup, str, int, int, int]:
    group_id, group_hash, ads_id = 1_777_000_111, 4242, 1_666_000_222
    clock = FakeClock(NOW)
    world = World(clock)
    ref = world.add_group(None, chat_id=group_id).marked_id
    s = await make_setup(db, tmp_path, groups=[ref], plan=1, pool=1, clock=clock, world=world,
                         post=("@ads", post_id))
    return s, ref, ads_id, group_id, group_hash


async def test_telethon_an_album_goes_out_in_one_forward_and_is_read_once(db: Database, tmp_path: Path) -> None:
    s, ref, ads_id, group_id, group_hash = await _telethon_setup(db, tmp_path, 21)
    fakes: list[FakeSender] = []

    def script(fake: FakeSender) -> None:
        fake.always(functions.channels.GetMessagesRequest, channel_posts(ads_id, 19, (20, 3), (21, 3), (22, 3), 23))
        fake.always(functions.messages.ForwardMessagesRequest,
                    lambda r: channel_message_sent(r.to_peer.channel_id, 5, r.random_id[0]))

    engine = _telethon_engine(s, fakes, ads_id, group_id, group_hash, script)
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 1
    s.clock.set(NOW + 300)
    assert (await engine.run_cycle(CID)).sent == 1
    await engine.shutdown()

    [fake] = fakes
    first, second = fake.of(functions.messages.ForwardMessagesRequest)
    assert first.id == second.id == [20, 21, 22]
    assert first.random_id == album_random_ids(s.random_id(1, ref), 3)
    assert len(fake.of(functions.channels.GetMessagesRequest)) == 1  # read once, kept


@pytest.mark.parametrize(("source_answer", "blamed"), [
    (RpcFail(400, "CHANNEL_PRIVATE"), "source"),  # the session may not read the source
    (None, "group"),  # it can: the group refused
])
async def test_telethon_channel_private_on_a_forward_is_settled_by_one_read(
    db: Database, tmp_path: Path, source_answer: Any, blamed: str
) -> None:
    s, ref, ads_id, group_id, group_hash = await _telethon_setup(db, tmp_path, 1)
    fakes: list[FakeSender] = []

    def script(fake: FakeSender) -> None:
        fake.always(functions.messages.ForwardMessagesRequest, RpcFail(400, "CHANNEL_PRIVATE"))
        # the first read (is it an album?) succeeds; the one that settles the refusal says what is scripted
        fake.script(functions.channels.GetMessagesRequest, channel_posts(ads_id, 1),
                    source_answer if source_answer is not None else channel_posts(ads_id, 1))

    engine = _telethon_engine(s, fakes, ads_id, group_id, group_hash, script)
    await running(s, engine)
    report = await engine.run_cycle(CID)
    await engine.shutdown()

    [fake] = fakes
    assert len(fake.of(functions.channels.GetMessagesRequest)) == 2
    assert len(fake.of(functions.messages.ForwardMessagesRequest)) == 1
    [sid] = s.session_ids
    row = (await s.rows(1))[ref]
    async with db.read() as conn:
        member = await memberships.find(conn, sid, ref)
    if blamed == "source":
        assert report.reason == "source_failed"
        assert (row.outcome, row.error) == ("skipped", "source_failed:ChannelPrivateError")
        assert member is not None  # the session's row of the group stays
        await _no_group_blamed(s)
    else:
        assert report.reason is None and (await s.customer()).status == "running"
        assert (row.outcome, row.error) == ("failed", "ChannelPrivateError")
        assert member is None  # not in the group: its row goes, the next placement looks elsewhere
        assert (await s.groups())[ref].consecutive_failures == 0  # the session's place, not the group's fault
