"""Membership discovery's foundations: what a session's dialogs say (the Telethon entities mapped, the
simulated world's answer) and how storage keeps it per (session, chat)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pool_support import add_pair, seed_sessions
from telethon.tl import types

from core.clock import FakeClock
from core.ports import Dialog, Peer, SessionCredentials
from engine.dialogs import dialog_of
from sandbox.world import World
from storage import memberships, refusals
from storage.db import Database

NOW = 1_700_000_000.0


def _channel(**kw: object) -> types.Channel:
    base: dict[str, object] = dict(id=77, title="Cats", photo=types.ChatPhotoEmpty(), date=None, access_hash=555,
                                   username="cats_market", megagroup=True)
    base.update(kw)
    return types.Channel(**base)


def test_a_supergroup_member_may_write() -> None:
    d = dialog_of(_channel())
    assert d == Dialog(Peer("channel", 77, 555), "group", "Cats", "cats_market", can_write=True)


@pytest.mark.parametrize(
    ("changes", "why_not"),
    [
        ({"left": True}, "left"),
        ({"banned_rights": types.ChatBannedRights(until_date=None, send_messages=True)}, "banned"),
        ({"banned_rights": types.ChatBannedRights(until_date=None, view_messages=True)}, "banned"),
        ({"default_banned_rights": types.ChatBannedRights(until_date=None, send_messages=True)}, "read_only"),
        ({"broadcast": True, "megagroup": False}, "broadcast"),
    ],
)
def test_what_keeps_a_member_from_writing(changes: dict[str, object], why_not: str) -> None:
    d = dialog_of(_channel(**changes))
    assert d is not None and not d.can_write and d.why_not == why_not


def test_admins_write_where_others_may_not() -> None:
    read_only = types.ChatBannedRights(until_date=None, send_messages=True)
    admin = types.ChatAdminRights(post_messages=True)
    group = dialog_of(_channel(default_banned_rights=read_only, admin_rights=types.ChatAdminRights()))
    channel = dialog_of(_channel(broadcast=True, megagroup=False, admin_rights=admin))
    assert group is not None and group.can_write
    assert channel is not None and channel.can_write and channel.kind == "channel"


def test_forums_basic_groups_and_what_is_not_a_chat() -> None:
    forum = dialog_of(_channel(forum=True), archived=True)
    assert forum is not None and forum.kind == "forum" and forum.archived
    basic = dialog_of(types.Chat(id=9, title="Old", photo=types.ChatPhotoEmpty(), participants_count=3, date=None,
                                 version=1))
    assert basic == Dialog(Peer("chat", 9), "group", "Old")
    migrated = types.Chat(id=9, title="Old", photo=types.ChatPhotoEmpty(), participants_count=3, date=None, version=1,
                          migrated_to=types.InputChannel(77, 555))
    assert dialog_of(migrated) is None
    kicked = dialog_of(types.ChannelForbidden(id=5, access_hash=1, title="Gone", megagroup=True))
    assert kicked is not None and kicked.why_not == "kicked" and not kicked.can_write
    assert dialog_of(types.User(id=1)) is None


async def test_the_world_lists_an_accounts_own_chats_with_its_own_hashes(tmp_path: Path) -> None:
    world = World(FakeClock(NOW))
    a_key, b_key = world.add_account("session-1").key, world.add_account("session-2").key  # no file: by id
    world.add_group("@both", members={a_key, b_key})
    world.add_group("@only_b", members={b_key})
    world.add_group("@muted", members={a_key}, forbidden={a_key})
    world.add_channel("@news", members={a_key})

    async def dialogs(sid: int) -> dict[str, Dialog]:
        port = world.open(SessionCredentials(sid, tmp_path / "missing.session", 1, "0" * 32))
        await port.connect()
        return {f"@{d.username}": d for d in await port.dialogs()}

    a, b = await dialogs(1), await dialogs(2)
    assert sorted(a) == ["@both", "@muted", "@news"] and sorted(b) == ["@both", "@only_b"]
    assert a["@both"].can_write and a["@muted"].why_not == "banned" and a["@news"].why_not == "broadcast"
    assert a["@both"].peer.access_hash != b["@both"].peer.access_hash  # per account
    assert world.request_count(account=a_key, method="dialogs") == 2  # one page of the main list, one of the archive


async def test_storage_keeps_each_sessions_chats(db: Database, sdir: Path) -> None:
    s1, s2 = await seed_sessions(db, sdir, 2)
    cats = Dialog(Peer("channel", 77, 555), "group", "Cats", "Cats_Market")
    news = Dialog(Peer("channel", 88, 666), "channel", "News", "news", can_write=False, why_not="broadcast")
    old = Dialog(Peer("chat", 9), "group", "Old")
    async with db.tx() as conn:
        assert await memberships.replace_for_session(conn, s1, [cats, news, old], NOW) == 3
        await memberships.replace_for_session(conn, s2, [Dialog(Peer("channel", 77, 999), "group", "Cats")], NOW)
    async with db.read() as conn:
        found = await memberships.find(conn, s1, "@cats_market#5")
        assert found is not None and found.peer == Peer("channel", 77, 555) and found.can_write
        assert (await memberships.find(conn, s1, "-1000000000077")) == found
        assert (await memberships.find(conn, s1, "-9")) is not None
        assert [m.session_id for m in await memberships.members_of(conn, "-1000000000077")] == [s1, s2]
        assert await memberships.checked_at(conn, s1) == NOW
    async with db.tx() as conn:
        await memberships.mark_blocked(conn, s1, "@cats_market", "banned", NOW + 1)
        await memberships.forget(conn, s2, "-1000000000077")
        await memberships.replace_for_session(conn, s1, [cats], NOW + 2)  # a new full read replaces the old
    async with db.read() as conn:
        rows = await memberships.for_sessions(conn, [s1, s2])
    assert [(m.session_id, m.marked_id, m.can_write) for m in rows] == [(s1, "-1000000000077", True)]


async def test_scans_fall_due_most_overdue_first(db: Database, sdir: Path) -> None:
    s1, s2, s3 = await seed_sessions(db, sdir, 3)
    await seed_sessions(db, sdir, 1)  # the pair has room for 3: this one waits for one, never opened, never due
    await add_pair(db, 1, capacity=3)
    async with db.tx() as conn:
        await memberships.set_scan_due(conn, s1, NOW + 100)
        await memberships.set_scan_due(conn, s2, NOW - 50)
    async with db.read() as conn:
        assert await memberships.due_for_scan(conn, NOW, ["unused"], 10) == [s3, s2]  # never read: first
        assert await memberships.due_for_scan(conn, NOW, ["assigned"], 10) == []
    assert memberships.chat_key("@Cats#4") == ("username", "cats")
    with pytest.raises(ValueError):
        memberships.chat_key("123")


async def test_a_refusal_lasts_while_the_session_is_in_the_chat(db: Database, tmp_path: Path) -> None:
    [sid] = await seed_sessions(db, tmp_path / "sessions", 1)
    cats = Dialog(Peer("channel", 77, 999), "group", "Cats", username="cats")
    forum = Dialog(Peer("channel", 78, 998), "forum", "Forum", username="forum")
    async with db.tx() as conn:
        await memberships.replace_for_session(conn, sid, [cats, forum], NOW)
        await refusals.record(conn, sid, cats.peer, None, "plain_forbidden", "ChatSendPlainForbiddenError", NOW)
        await refusals.record(conn, sid, forum.peer, 5, "topic_closed", "TOPIC_CLOSED", NOW)
        # a new read of its dialogs that still lists both (they cannot tell these refusals) keeps them
        await memberships.replace_for_session(conn, sid, [cats, forum], NOW + 1)
    async with db.read() as conn:
        kept = await refusals.for_sessions(conn, [sid])
    assert [(r.chat_id, r.topic_id, r.reason) for r in kept] == [(77, 0, "plain_forbidden"), (78, 5, "topic_closed")]
    async with db.tx() as conn:  # it left the forum: that refusal goes with it
        await memberships.replace_for_session(conn, sid, [cats], NOW + 2)
    async with db.read() as conn:
        assert [r.chat_id for r in await refusals.for_sessions(conn, [sid])] == [77]
