"""The simulated world is as strict as Telegram about membership: dialogs read in pages, marked ids only
with a hash the account was given, memberships that change during a test (removed, added, banned), and
a lenient world that differs from a strict one only where its docstring names."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest
from telethon import errors

from core.clock import FakeClock
from core.link_parts import marked_id
from core.outcomes import OutcomeKind
from core.ports import Peer
from engine.outcomes import classify
from sandbox.world import World
from sandbox.world.model import SimChat
from sandbox.world.port import SimPort

T0 = 1_800_000_000.0
PRIVATE = 4242  # a private supergroup's bare id: '-1000000004242'
PRIVATE_ID = marked_id("channel", PRIVATE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


async def connected(world: World, key: str, session_id: int = 1) -> SimPort:
    port = SimPort(world, key, session_id)
    await port.connect()
    return port


async def forward(port: SimPort, src: Peer, dest: Peer, random_id: int) -> int:
    return await port.forward(source=src, msg_id=1, dest=dest, topic_id=None, random_id=random_id, drop_author=False)


async def outcome(call: Awaitable[Any]) -> str:
    """'ok', or the name of the error a request raised (how the tables below compare worlds)."""
    try:
        await call
    except Exception as exc:
        return type(exc).__name__
    return "ok"


def groups(world: World, count: int, members: set[str], *, first_id: int = 10_000) -> list[SimChat]:
    return [world.add_group(None, chat_id=first_id + n, members=members) for n in range(count)]


# --- dialogs, in pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("main", "archive", "requests"),
    [(50, 0, 2), (500, 0, 7), (499, 0, 6), (0, 0, 2), (150, 120, 4)],  # as Telethon reads them (test_telethon_dialogs)
)
async def test_dialogs_are_read_in_pages_main_list_then_archive(
    clock: FakeClock, main: int, archive: int, requests: int
) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_account("b")
    groups(world, main, {"a"})
    for chat in groups(world, archive, {"a", "b"}, first_id=20_000):
        chat.archived.add("a")  # archived by "a"; in "b"'s main list
    groups(world, 30, {"b"}, first_id=30_000)  # not "a"'s
    port = await connected(world, "a")

    found = await port.dialogs()

    assert world.request_count("a", "dialogs") == requests
    assert len(found) == main + archive
    assert sum(d.archived for d in found) == archive
    assert [d.archived for d in found] == sorted(d.archived for d in found)  # the main list first
    assert all(d.can_write and d.peer == world.peer_seen_by("a", marked_id("channel", d.peer.id)) for d in found)


async def test_a_flood_wait_on_a_later_page_stops_the_scan(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    groups(world, 250, {"a"})
    world.add_fault(kind="flood_wait", account="a", method="dialogs", after=1, seconds=60)
    port = await connected(world, "a")

    with pytest.raises(errors.FloodWaitError) as caught:
        await port.dialogs()

    assert caught.value.seconds == 60 and classify(caught.value).kind is OutcomeKind.FLOOD_WAIT
    assert world.request_count("a", "dialogs") == 2  # the first page, then the one refused
    assert world.violations == []
    with pytest.raises(errors.FloodWaitError):
        await port.dialogs()  # asking again inside the wait is a breach
    assert [v.kind for v in world.violations] == ["flood_wait"]
    await clock.advance(60)
    assert len(await port.dialogs()) == 250


# --- marked ids need the account's own hash --------------------------------------------------------------


async def test_a_marked_id_resolves_only_once_the_account_was_given_the_hash(clock: FakeClock) -> None:
    world = World(clock)
    for key in ("a", "b"):
        world.add_account(key)
    world.add_group(None, chat_id=PRIVATE, members={"a", "b"})
    public = world.add_group("pub", chat_id=5151, members={"a"})
    world.add_chat(SimChat(id=77, kind="chat", title="basic", members={"a"}))
    a, b = await connected(world, "a", 1), await connected(world, "b", 2)
    pub_id = marked_id("channel", public.id)

    # A fresh account knows no hash: a channel's id is CHANNEL_INVALID, a basic group's PEER_ID_INVALID.
    assert await outcome(a.resolve(PRIVATE_ID)) == "ChannelInvalidError"
    assert await outcome(a.resolve(pub_id)) == "ChannelInvalidError"
    assert await outcome(a.resolve("-77")) == "PeerIdInvalidError"
    assert await outcome(a.resolve(marked_id("channel", 999_999))) == "ChannelInvalidError"  # no such chat
    assert await outcome(a.resolve("-1000000000077")) == "ChannelInvalidError"  # 77 is no channel
    for error in ("ChannelInvalidError", "PeerIdInvalidError"):
        assert classify(getattr(errors, error)(request=None)).kind is OutcomeKind.GROUP_FAILED

    dialogs = {d.peer.id: d.peer for d in await a.dialogs()}

    assert await a.resolve(PRIVATE_ID) == dialogs[PRIVATE] == Peer("channel", PRIVATE, dialogs[PRIVATE].access_hash)
    assert await a.resolve(pub_id) == dialogs[public.id]
    assert await a.resolve("-77") == Peer("chat", 77)
    # Hashes are per account: "a" reading its dialogs gave "b" nothing.
    assert await outcome(b.resolve(PRIVATE_ID)) == "ChannelInvalidError"
    assert await outcome(b.resolve(pub_id)) == "ChannelInvalidError"
    # A username resolve gives the hash too, member or not (Telegram answers it with the `left` flag).
    by_name = await b.resolve("@pub")
    assert await b.resolve(pub_id) == by_name != dialogs[public.id]
    assert "b" not in public.members  # resolving joins nobody
    world.add_channel("ads")
    assert await outcome(forward(b, await b.resolve("@ads"), by_name, 1)) == "ChatWriteForbiddenError"
    assert [d.peer.id for d in await b.dialogs()] == [PRIVATE]


async def test_seeding_a_peer_for_a_benchmark_counts_as_seen(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_group(None, chat_id=PRIVATE, members={"a"})
    port = await connected(world, "a")
    seeded = world.peer_seen_by("a", PRIVATE_ID)
    assert await port.resolve(PRIVATE_ID) == seeded
    with pytest.raises(KeyError):
        world.peer_seen_by("a", "@nowhere")


# --- memberships during a test -----------------------------------------------------------------------------


async def test_a_removed_member_is_refused_as_telegram_refuses_it(clock: FakeClock) -> None:
    world = World(clock)
    for key in ("a", "b"):
        world.add_account(key)
    world.add_channel("ads")
    chats = [
        world.add_group(None, chat_id=PRIVATE, members={"a"}),
        world.add_group("pub", members={"a"}),
        world.add_group("open"),  # members='*': everyone
    ]
    port = await connected(world, "a")
    src = await port.resolve("@ads")
    peers = {d.peer.id: d.peer for d in await port.dialogs()}
    private, pub, everyone = (peers[chat.id] for chat in chats)
    for n, dest in enumerate((private, pub, everyone)):
        await forward(port, src, dest, n)

    for ref in (PRIVATE_ID, "@pub", "@open"):
        world.remove_member(ref, "a")

    assert await outcome(forward(port, src, private, 10)) == "ChannelPrivateError"
    assert await outcome(forward(port, src, pub, 11)) == "ChatWriteForbiddenError"
    assert await outcome(forward(port, src, everyone, 12)) == "ChatWriteForbiddenError"
    assert await port.dialogs() == []  # gone from its dialogs
    assert await port.resolve(PRIVATE_ID) == private  # the hash it had still addresses the chat
    other = await connected(world, "b", 2)
    assert [d.peer.id for d in await other.dialogs()] == [chats[2].id]

    world.add_member(PRIVATE_ID, "a")
    world.add_member("@open", "a")

    await forward(port, src, private, 13)
    await forward(port, src, everyone, 14)
    assert len(world.deliveries) == 5
    with pytest.raises(KeyError):
        world.remove_member("@nowhere", "a")


async def test_a_banned_account_keeps_a_kicked_dialog_and_gets_channel_private(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads", members={"a"})
    world.add_group("pub", members={"a"})
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@pub")
    admin_of = world.chat("@pub")
    assert admin_of is not None
    admin_of.admins.add("a")

    world.ban("@pub", "a")

    assert "a" not in admin_of.admins and not admin_of.is_member("a")
    [dialog] = [d for d in await port.dialogs() if d.peer == dest]
    assert (dialog.kind, dialog.username, dialog.can_write, dialog.why_not) == ("group", None, False, "kicked")
    assert await outcome(forward(port, src, dest, 1)) == "ChannelPrivateError"  # public or not
    world.ban("@ads", "a")
    assert await outcome(forward(port, src, src, 2)) == "ChannelPrivateError"  # forwarding from it too
    assert await port.resolve("@pub") == dest  # its name still resolves

    world.add_member("@pub", "a")  # an admin lifts the ban and adds it back
    world.add_member("@ads", "a")

    assert await forward(port, src, dest, 3) == 1
    assert [d.why_not for d in await port.dialogs() if d.peer == dest] == [None]


async def test_what_dialogs_say_is_what_sends_do(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads", members={"a"})
    world.add_group("plain", members={"a"})
    world.add_group("muted", members={"a"}, forbidden={"a"})
    world.add_group("ro", members={"a"}, read_only=True)
    world.add_group("ro_admin", members={"a"}, read_only=True).admins.add("a")
    world.add_channel("news", members={"a"})
    world.add_channel("own_news", admins={"a"})
    world.add_group("kicked", members={"a"})
    world.ban("@kicked", "a")
    port = await connected(world, "a")
    src = world.peer_seen_by("a", "@ads")

    for n, dialog in enumerate(await port.dialogs()):
        sent = await outcome(forward(port, src, dialog.peer, n))
        assert (sent == "ok") == dialog.can_write, (dialog, sent)


# --- lenient differs only where named ------------------------------------------------------------------------


async def scenario(world: World) -> dict[str, str]:
    """The same steps on a world told the same chats: what each step came to."""
    for key in ("a", "b"):
        world.add_account(key)
    world.add_channel("ads", chat_id=1)
    world.add_group(None, chat_id=PRIVATE, members={"a"})
    world.add_group("pub", chat_id=5151, members={"a"})
    world.add_group("many", chat_id=6161, members="*")
    groups(world, 120, {"a"})
    a, b = await connected(world, "a", 1), await connected(world, "b", 2)
    src = await a.resolve("@ads")
    out: dict[str, str] = {}
    out["member resolves the private id unseen"] = await outcome(a.resolve(PRIVATE_ID))
    out["non-member resolves the private id"] = await outcome(b.resolve(PRIVATE_ID))
    out["non-member resolves @pub"] = await outcome(b.resolve("@pub"))
    out["non-member sends to @pub"] = await outcome(forward(b, await b.resolve("@ads"), await b.resolve("@pub"), 1))
    dialogs = await a.dialogs()
    out["dialogs"] = f"{len(dialogs)} in {world.request_count('a', 'dialogs')} requests"
    out["member resolves the private id seen"] = await outcome(a.resolve(PRIVATE_ID))
    out["member sends to the private group"] = await outcome(forward(a, src, await a.resolve(PRIVATE_ID), 2))
    world.remove_member(PRIVATE_ID, "a")
    out["removed member sends"] = await outcome(forward(a, src, await a.resolve(PRIVATE_ID), 3))
    world.remove_member("@many", "b")
    out["removed from an everyone group"] = await outcome(
        forward(b, await b.resolve("@ads"), await b.resolve("@many"), 4)
    )
    world.ban("@pub", "a")
    out["banned sends"] = await outcome(forward(a, src, await a.resolve("@pub"), 5))
    out["resolve an unknown @name"] = await outcome(a.resolve("@made_up"))
    out["resolve an unknown id"] = await outcome(a.resolve(marked_id("channel", 987_654)))
    out["an unknown account connects"] = await outcome(connected(world, "stranger", 3))
    return out


async def test_a_lenient_world_differs_from_a_strict_one_only_where_named(clock: FakeClock) -> None:
    strict, lenient = await scenario(World(clock)), await scenario(World(clock, lenient=True))

    differ = {step: (strict[step], lenient[step]) for step in strict if strict[step] != lenient[step]}

    assert differ == {
        # a marked id without the account having been given the hash
        "member resolves the private id unseen": ("ChannelInvalidError", "ok"),
        "non-member resolves the private id": ("ChannelInvalidError", "ChannelPrivateError"),
        # chats and accounts the world was not told about
        "resolve an unknown @name": ("UsernameNotOccupiedError", "ok"),
        "resolve an unknown id": ("ChannelInvalidError", "ok"),
        "an unknown account connects": ("AuthKeyUnregisteredError", "ok"),
    }
    assert strict["dialogs"] == "123 in 3 requests"  # 122 groups + 'many': two pages, the archive's one
    assert strict["non-member sends to @pub"] == "ChatWriteForbiddenError"
    assert strict["removed member sends"] == "ChannelPrivateError"
    assert strict["removed from an everyone group"] == "ChatWriteForbiddenError"
    assert strict["banned sends"] == "ChannelPrivateError"
    assert strict["member sends to the private group"] == "ok"
