"""AccountPort.join / check_invite on both ports: the Telethon adapter against the contract fake (real TL
answers and RPC errors through Telethon's own code, tests/fake_sender.py) and the simulated world in
strict mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telethon import errors, functions, types
from telethon.sessions import StringSession

from core.clock import FakeClock
from core.outcomes import OutcomeKind
from core.ports import Dialog, InvitePreview, JoinResult, Peer, SessionCredentials
from engine.outcomes import classify
from engine.telethon_adapter import ClientSettings, TelethonAccount, TelethonFactory, build_client
from sandbox.world import World
from sandbox.world.faults import Fault
from sandbox.world.port import SimPort
from tests.fake_sender import NOW, FakeSender, RpcFail, channel

GROUP_ID, HASH = 3333333333, 933
JoinChannel = functions.channels.JoinChannelRequest
Resolve = functions.contacts.ResolveUsernameRequest
Import = functions.messages.ImportChatInviteRequest
Check = functions.messages.CheckChatInviteRequest


def creds(tmp_path: Path, session_id: int = 1) -> SessionCredentials:
    return SessionCredentials(session_id, tmp_path / f"{session_id}.session", 1, "0" * 32)


@pytest.fixture
async def account(tmp_path: Path, telethon_sleeps: list[float]) -> AsyncIterator[tuple[TelethonAccount, FakeSender]]:
    fakes: list[FakeSender] = []

    def build(credentials: SessionCredentials, settings: ClientSettings) -> Any:
        client = build_client(credentials, settings, session=StringSession())
        fakes.append(FakeSender.install(client))
        return client

    made = TelethonFactory(client_builder=build).open(creds(tmp_path))
    await made.connect()
    yield made, fakes[0]
    await made.close()


def resolved(left: bool = True, **flags: Any) -> Any:
    chat = channel(GROUP_ID, HASH, "cats_market")
    chat.left = left
    for name, value in flags.items():
        setattr(chat, name, value)
    return types.contacts.ResolvedPeer(peer=types.PeerChannel(GROUP_ID), chats=[chat], users=[])


def joined_updates(chat: Any) -> Any:
    return types.Updates(updates=[], users=[], chats=[chat], date=NOW, seq=0)


CATS = Dialog(Peer("channel", GROUP_ID, HASH), "group", f"group {GROUP_ID}", "cats_market")


# --- Telethon: public chats ------------------------------------------------------------------------------


async def test_a_public_group_is_resolved_then_joined_and_its_dialog_returned(
    account: tuple[TelethonAccount, FakeSender],
) -> None:
    port, fake = account
    fake.script(Resolve, resolved())
    fake.script(JoinChannel, joined_updates(channel(GROUP_ID, HASH, "cats_market")))
    before = len(fake.requests)

    result = await port.join("@Cats_Market")

    assert result == JoinResult("joined", CATS)
    sent = fake.requests[before:]
    assert [type(r) for r in sent] == [Resolve, JoinChannel]
    assert sent[0].username == "cats_market"
    assert (sent[1].channel.channel_id, sent[1].channel.access_hash) == (GROUP_ID, HASH)


async def test_a_member_is_told_so_without_a_join_request(account: tuple[TelethonAccount, FakeSender]) -> None:
    port, fake = account
    fake.script(Resolve, resolved(left=False))
    assert await port.join("@cats_market") == JoinResult("already", CATS)
    assert fake.of(JoinChannel) == []


async def test_a_read_only_group_is_joined_but_not_writable(account: tuple[TelethonAccount, FakeSender]) -> None:
    port, fake = account
    fake.script(Resolve, resolved())
    muted = channel(GROUP_ID, HASH, "cats_market")
    muted.default_banned_rights = types.ChatBannedRights(until_date=None, send_messages=True)
    fake.script(JoinChannel, joined_updates(muted))
    result = await port.join("@cats_market")
    assert result.status == "joined" and result.dialog is not None
    assert not result.dialog.can_write and result.dialog.why_not == "read_only"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (RpcFail(400, "INVITE_REQUEST_SENT"), JoinResult("pending", error="INVITE_REQUEST_SENT")),
        (RpcFail(400, "CHANNELS_TOO_MUCH"), JoinResult("too_many", error="CHANNELS_TOO_MUCH")),
        (
            RpcFail(400, "USER_ALREADY_PARTICIPANT"),
            JoinResult("already", CATS, "USER_ALREADY_PARTICIPANT"),
        ),
    ],
)
async def test_what_joining_a_public_group_may_answer(
    account: tuple[TelethonAccount, FakeSender], reply: RpcFail, expected: JoinResult
) -> None:
    port, fake = account
    fake.script(Resolve, resolved())
    fake.script(JoinChannel, reply)
    assert await port.join("@cats_market") == expected


async def test_names_that_lead_nowhere(account: tuple[TelethonAccount, FakeSender]) -> None:
    port, fake = account
    fake.script(Resolve, RpcFail(400, "USERNAME_NOT_OCCUPIED"))
    assert await port.join("@nobody_here") == JoinResult("invalid", error="USERNAME_NOT_OCCUPIED")
    fake.script(
        Resolve,
        types.contacts.ResolvedPeer(peer=types.PeerUser(77), chats=[], users=[types.User(id=77, access_hash=1)]),
    )
    assert await port.join("@some_bot") == JoinResult("invalid", error="NOT_A_CHAT")
    assert fake.of(JoinChannel) == []


async def test_a_flood_wait_on_joining_is_raised_for_the_caller_to_keep(
    account: tuple[TelethonAccount, FakeSender],
) -> None:
    port, fake = account
    fake.script(Resolve, resolved())
    fake.script(JoinChannel, RpcFail(420, "FLOOD_WAIT_1800"))
    with pytest.raises(errors.FloodWaitError) as caught:
        await port.join("@cats_market")
    outcome = classify(caught.value)
    assert (outcome.kind, outcome.seconds) == (OutcomeKind.FLOOD_WAIT, 1800)


# --- Telethon: invites -----------------------------------------------------------------------------------


async def test_an_invite_is_imported_and_its_chat_returned(account: tuple[TelethonAccount, FakeSender]) -> None:
    port, fake = account
    fake.script(Import, joined_updates(channel(GROUP_ID, HASH)))
    result = await port.join("+AbCdEf123456")
    assert result.status == "joined" and result.dialog is not None
    assert result.dialog.peer == Peer("channel", GROUP_ID, HASH)
    assert fake.of(Import)[0].hash == "AbCdEf123456"


async def test_an_invite_to_a_basic_group(account: tuple[TelethonAccount, FakeSender]) -> None:
    port, fake = account
    basic = types.Chat(id=4321, title="Old", photo=types.ChatPhotoEmpty(), participants_count=3, date=NOW, version=1)
    fake.script(Import, joined_updates(basic))
    assert await port.join("AbCdEf123456") == JoinResult("joined", Dialog(Peer("chat", 4321), "group", "Old"))


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (RpcFail(400, "INVITE_REQUEST_SENT"), JoinResult("pending", error="INVITE_REQUEST_SENT")),
        (RpcFail(400, "CHANNELS_TOO_MUCH"), JoinResult("too_many", error="CHANNELS_TOO_MUCH")),
        (RpcFail(400, "INVITE_HASH_EXPIRED"), JoinResult("invalid", error="INVITE_HASH_EXPIRED")),
        (RpcFail(400, "INVITE_HASH_INVALID"), JoinResult("invalid", error="INVITE_HASH_INVALID")),
    ],
)
async def test_what_importing_an_invite_may_answer(
    account: tuple[TelethonAccount, FakeSender], reply: RpcFail, expected: JoinResult
) -> None:
    port, fake = account
    fake.script(Import, reply)
    assert await port.join("+AbCdEf123456") == expected


async def test_a_member_importing_an_invite_gets_the_chat_from_a_preview(
    account: tuple[TelethonAccount, FakeSender],
) -> None:
    port, fake = account
    member = channel(GROUP_ID, HASH)
    fake.script(Import, RpcFail(400, "USER_ALREADY_PARTICIPANT"))
    fake.script(Check, types.ChatInviteAlready(chat=member))
    result = await port.join("+AbCdEf123456")
    assert result.status == "already" and result.dialog is not None
    assert result.dialog.peer == Peer("channel", GROUP_ID, HASH)
    # A failing follow-up preview leaves the chat unknown, never turns the answer into its error.
    fake.script(Import, RpcFail(400, "USER_ALREADY_PARTICIPANT"))
    fake.script(Check, RpcFail(420, "FLOOD_WAIT_60"))
    assert await port.join("+AbCdEf123456") == JoinResult("already", None, "USER_ALREADY_PARTICIPANT")


async def test_an_invite_is_previewed_without_joining(account: tuple[TelethonAccount, FakeSender]) -> None:
    port, fake = account
    fake.script(
        Check,
        types.ChatInvite(
            title="Cats", photo=types.PhotoEmpty(id=0), participants_count=120, color=0, megagroup=True,
            request_needed=True,
        ),
        types.ChatInvite(title="News", photo=types.PhotoEmpty(id=0), participants_count=9, color=0, broadcast=True,
                         channel=True),
        types.ChatInviteAlready(chat=channel(GROUP_ID, HASH)),
        RpcFail(400, "INVITE_HASH_EXPIRED"),
    )
    assert await port.check_invite("+AbCdEf123456") == InvitePreview("Cats", request_needed=True, participants=120)
    assert await port.check_invite("AbCdEf123456") == InvitePreview("News", broadcast=True, participants=9)
    already = await port.check_invite("AbCdEf123456")
    assert already.already_member and already.dialog is not None and already.dialog.peer.id == GROUP_ID
    assert await port.check_invite("AbCdEf123456") == InvitePreview(invalid="INVITE_HASH_EXPIRED")
    assert fake.of(Import) == [] and fake.of(JoinChannel) == []
    assert [r.hash for r in fake.of(Check)] == ["AbCdEf123456"] * 4


# --- the simulated world ---------------------------------------------------------------------------------


async def open_port(world: World, tmp_path: Path, session_id: int) -> SimPort:
    port = world.open(SessionCredentials(session_id, tmp_path / "missing.session", 1, "0" * 32))
    await port.connect()
    return port


async def test_the_world_joins_public_groups_and_invites(tmp_path: Path) -> None:
    clock = FakeClock(NOW.timestamp())
    world = World(clock)
    key = world.add_account("session-1").key
    other = world.add_account("session-2").key
    world.add_group("@cats", members={other})
    world.add_group("@mine", members={key})
    private = world.add_group(None, members={other})
    invite = world.joins.add_invite(private.marked_id)
    port = await open_port(world, tmp_path, 1)

    joined = await port.join("@cats")
    assert joined.status == "joined" and joined.dialog is not None and joined.dialog.can_write
    assert await port.join("@cats") == JoinResult("already", joined.dialog)
    assert (await port.join("@mine")).status == "already"
    by_invite = await port.join(f"+{invite}")
    assert by_invite.status == "joined" and by_invite.dialog is not None
    assert by_invite.dialog.peer == world.peer_seen_by(key, private.marked_id)  # this account's own hash
    assert (await port.join(f"+{invite}")).error == "USER_ALREADY_PARTICIPANT"
    assert await port.join("@nobody_here") == JoinResult("invalid", error="USERNAME_NOT_OCCUPIED")
    assert await port.join("+NoSuchInvite") == JoinResult("invalid", error="INVITE_HASH_INVALID")
    assert {d.peer.id for d in await port.dialogs()} == {world.chat("@cats").id, world.chat("@mine").id, private.id}  # type: ignore[union-attr]
    assert world.request_count(account=key, method="join") == 7
    assert world.violations == []


async def test_the_world_asks_for_approval_caps_channels_and_previews(tmp_path: Path) -> None:
    world = World(FakeClock(NOW.timestamp()))
    key = world.add_account("session-1").key
    world.add_group("@vip", members=set())
    world.joins.require_approval("@vip")
    closed = world.add_group(None, members=set())
    asks = world.joins.add_invite(closed.marked_id, "AskFirst123", request_needed=True)
    old = world.joins.add_invite(closed.marked_id, "Expired123", expired=True)
    world.add_group("@full", members=set())
    port = await open_port(world, tmp_path, 1)

    assert await port.join("@vip") == JoinResult("pending", error="INVITE_REQUEST_SENT")
    assert not world.chat("@vip").is_member(key)  # type: ignore[union-attr]
    assert (await port.check_invite(asks)).request_needed
    assert await port.join(f"+{asks}") == JoinResult("pending", error="INVITE_REQUEST_SENT")
    assert await port.join(f"+{old}") == JoinResult("invalid", error="INVITE_HASH_EXPIRED")
    assert await port.check_invite(old) == InvitePreview(invalid="INVITE_HASH_EXPIRED")
    world.joins.approve(key, "@vip")
    preview = await port.check_invite(world.joins.add_invite("@vip"))
    assert preview.already_member and preview.dialog is not None and preview.title == "@vip"
    world.joins.cap_for(key, 1)
    assert await port.join("@full") == JoinResult("too_many", error="CHANNELS_TOO_MUCH")
    assert world.request_count(account=key, method="check_invite") == 3
    assert world.violations == []


async def test_a_join_flood_wait_in_the_world_holds_joins_only(tmp_path: Path) -> None:
    clock = FakeClock(NOW.timestamp())
    world = World(clock)
    key = world.add_account("session-1").key
    for name in ("@one", "@two", "@three"):
        world.add_group(name, members=set())
    world.add_fault(Fault(kind="error", error="FloodWaitError", method="join", seconds=600, account=key))
    port = await open_port(world, tmp_path, 1)

    with pytest.raises(errors.FloodWaitError):
        await port.join("@one")
    with pytest.raises(errors.FloodWaitError):  # asking again inside the wait is a breach
        await port.join("@one")
    assert [v.kind for v in world.violations] == ["flood_wait"]
    dest = world.peer_seen_by(key, "@two")
    world.chat("@two").members.add(key)  # type: ignore[union-attr]
    assert await port.send_text(dest=dest, topic_id=None, text="hi", entities=(), random_id=1) > 0  # sends go on
    clock.set(clock.now() + 600)
    assert (await port.join("@one")).status == "joined"
    world.joins.flood_after = 1
    with pytest.raises(errors.FloodWaitError):
        await port.join("@three")  # the world's own daily limit
    assert len(world.violations) == 1
