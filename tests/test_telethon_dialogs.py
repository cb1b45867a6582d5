"""Membership discovery on the Telethon adapter: ``TelethonAccount.dialogs()`` against a real
``TelegramClient`` whose network sender is the offline fake (tests/fake_sender.py), Telegram's side of
``messages.getDialogs`` played by ``tests.fake_dialogs.DialogsServer`` (pages of 100, offsets checked).

What is proven here: every page of the main list and then of the archive is read, with the offsets
Telethon's ``iter_dialogs`` sends; users are skipped; each chat's rights become ``Dialog.can_write`` /
``why_not``; after a scan a marked id resolves from the session's own entity table with no request
(before one it cannot); a FloodWait on getDialogs is raised, not slept through; the requests one scan
costs for 50 and 500 dialogs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telethon import functions, types
from telethon._updates import messagebox
from telethon.crypto import AuthKey
from telethon.errors import FloodWaitError
from telethon.sessions import SQLiteSession, StringSession

from core.link_parts import marked_id
from core.outcomes import Outcome, OutcomeKind
from core.ports import Dialog, Peer, SessionCredentials
from engine.outcomes import PeerNotCachedError, classify
from engine.telethon_adapter import ClientSettings, TelethonAccount, TelethonFactory, build_client
from tests.fake_dialogs import Asked, DialogsServer, supergroups
from tests.fake_sender import NOW, FakeSender, RpcFail

GetDialogs = functions.messages.GetDialogsRequest
READ_ONLY = types.ChatBannedRights(until_date=None, send_messages=True)


def creds(tmp_path: Path, session_id: int = 1) -> SessionCredentials:
    return SessionCredentials(
        session_id=session_id, path=tmp_path / f"{session_id}.session", api_id=1, api_hash="0" * 32
    )


def channel(channel_id: int, **kw: Any) -> Any:
    base: dict[str, Any] = dict(
        id=channel_id,
        title=f"chat {channel_id}",
        photo=types.ChatPhotoEmpty(),
        date=NOW,
        access_hash=channel_id * 10 + 1,
        megagroup=True,
    )
    base.update(kw)
    if base.get("broadcast"):
        base["megagroup"] = False
    return types.Channel(**base)


def basic_group(chat_id: int, **kw: Any) -> Any:
    return types.Chat(
        id=chat_id,
        title=f"basic {chat_id}",
        photo=types.ChatPhotoEmpty(),
        participants_count=3,
        date=NOW,
        version=1,
        **kw,
    )


def user(user_id: int) -> Any:
    return types.User(
        id=user_id,
        access_hash=user_id + 5,
        first_name="someone",
        bot=True,
        bot_info_version=1,
        username=f"bot{user_id}",
    )


# Each kind of chat a bought session meets, with what its dialog must say.
CASES: list[tuple[Any, Dialog | None]] = [
    (channel(101, username="Writable"), Dialog(Peer("channel", 101, 1011), "group", "chat 101", "Writable")),
    (channel(102, left=True), Dialog(Peer("channel", 102, 1021), "group", "chat 102", None, False, "left")),
    (
        channel(103, banned_rights=types.ChatBannedRights(until_date=NOW, send_messages=True)),
        Dialog(Peer("channel", 103, 1031), "group", "chat 103", None, False, "banned"),
    ),
    (
        channel(104, default_banned_rights=READ_ONLY),
        Dialog(Peer("channel", 104, 1041), "group", "chat 104", None, False, "read_only"),
    ),
    (
        channel(105, default_banned_rights=READ_ONLY, admin_rights=types.ChatAdminRights(delete_messages=True)),
        Dialog(Peer("channel", 105, 1051), "group", "chat 105"),  # an admin writes where others may not
    ),
    (channel(106, broadcast=True), Dialog(Peer("channel", 106, 1061), "channel", "chat 106", None, False, "broadcast")),
    (
        channel(107, broadcast=True, admin_rights=types.ChatAdminRights(post_messages=True)),
        Dialog(Peer("channel", 107, 1071), "channel", "chat 107"),
    ),
    (channel(108, forum=True), Dialog(Peer("channel", 108, 1081), "forum", "chat 108")),
    (
        types.ChannelForbidden(id=109, access_hash=1091, title="gone", megagroup=True),
        Dialog(Peer("channel", 109, 1091), "group", "gone", None, False, "kicked"),
    ),
    (basic_group(110), Dialog(Peer("chat", 110), "group", "basic 110")),
    (
        basic_group(111, default_banned_rights=READ_ONLY),
        Dialog(Peer("chat", 111), "group", "basic 111", None, False, "read_only"),
    ),
    (types.ChatForbidden(id=112, title="old"), Dialog(Peer("chat", 112), "group", "old", None, False, "kicked")),
    (basic_group(113, migrated_to=types.InputChannel(101, 1011)), None),  # its supergroup is its own dialog
    (user(114), None),  # users and bots are never dialogs here
]


class Rig:
    """Accounts whose clients talk to FakeSenders on an in-memory (or file) session."""

    def __init__(self) -> None:
        self.fakes: list[FakeSender] = []
        self.clients: list[Any] = []

    def build(self, credentials: SessionCredentials, settings: ClientSettings, *, on_file: bool = False) -> Any:
        client = build_client(credentials, settings, session=None if on_file else StringSession())
        self.clients.append(client)
        self.fakes.append(FakeSender.install(client))
        return client

    @property
    def fake(self) -> FakeSender:
        return self.fakes[-1]

    def sent(self, since: int = 0) -> list[str]:
        return [type(r).__name__ for r in self.fake.requests[since:]]


@pytest.fixture
async def rig(telethon_sleeps: list[float]) -> AsyncIterator[Rig]:
    made = Rig()
    yield made
    for client in made.clients:
        if client.is_connected():
            await client.disconnect()


async def connected(rig: Rig, tmp_path: Path, *, on_file: bool = False, session_id: int = 1) -> TelethonAccount:
    factory = TelethonFactory(client_builder=lambda c, s: rig.build(c, s, on_file=on_file))
    account = factory.open(creds(tmp_path, session_id))
    await account.connect()
    return account


async def test_a_scan_reads_every_page_of_both_folders_and_maps_the_rights(rig: Rig, tmp_path: Path) -> None:
    account = await connected(rig, tmp_path)
    filler = supergroups(200)  # the cases land on the third page of the main list
    archived = channel(201, username="old_haunt")
    server = DialogsServer(main=[*filler, *(entity for entity, _ in CASES)], archive=[archived, user(202)])
    server.install(rig.fake)
    before = len(rig.fake.requests)

    found = await account.dialogs()

    # 214 dialogs in the main list: pages of 100, 100, 14; then the archive (folder 1) in one page
    assert server.pages == [(0, 0, 100), (0, 100, 100), (0, 200, 14), (1, 0, 2)]
    assert rig.sent(before) == ["GetDialogsRequest"] * 4
    first, second, third, archive = server.asked
    assert first == Asked(0, 100, 0, None, types.InputPeerEmpty(), False)
    # the next page: after the last dialog read, by its top message, pinned dialogs not again
    assert (second.offset_peer, second.exclude_pinned) == (
        types.InputPeerChannel(filler[99].id, filler[99].access_hash),
        True,
    )
    assert third.offset_peer == types.InputPeerChannel(filler[199].id, filler[199].access_hash)
    assert archive == Asked(1, 100, 0, None, types.InputPeerEmpty(), False)  # the archive from its start

    by_id = {d.peer.id: d for d in found}
    assert len(found) == len(by_id) == 200 + 12 + 1  # users and the migrated basic group left out
    for entity, expected in CASES:
        assert by_id.get(entity.id) == expected, entity
    assert all(by_id[g.id].can_write and not by_id[g.id].archived for g in filler)
    assert by_id[201] == Dialog(Peer("channel", 201, 2011), "group", "chat 201", "old_haunt", archived=True)
    assert all(d.can_write == (d.why_not is None) for d in found)
    await account.close()


@pytest.mark.parametrize(
    ("main", "archive", "requests"),
    [
        (50, 0, 2),  # one page, then the (empty) archive: the common case
        (500, 0, 7),  # five full pages; a full page makes Telethon ask once more (an empty sixth)
        (499, 0, 6),
        (0, 0, 2),
        (150, 120, 4),
    ],
)
async def test_what_one_scan_costs_in_requests(
    rig: Rig, tmp_path: Path, main: int, archive: int, requests: int
) -> None:
    account = await connected(rig, tmp_path)
    server = DialogsServer(main=supergroups(main), archive=supergroups(archive, first_id=4_000_000_000))
    server.install(rig.fake)
    before = len(rig.fake.requests)

    found = await account.dialogs()

    assert rig.sent(before) == ["GetDialogsRequest"] * requests
    assert len(found) == main + archive
    assert sum(d.archived for d in found) == archive
    await account.close()


async def test_after_a_scan_marked_ids_resolve_from_the_sessions_own_cache(rig: Rig, tmp_path: Path) -> None:
    account = await connected(rig, tmp_path)
    kicked = types.ChannelForbidden(id=109, access_hash=1091, title="gone", megagroup=True)
    server = DialogsServer(
        main=[*supergroups(120), channel(101, username="Writable"), kicked, user(114)], archive=[channel(201)]
    )
    server.install(rig.fake)
    before = len(rig.fake.requests)

    for marked in ("-1003000000005", marked_id("channel", 101), marked_id("channel", 201)):
        with pytest.raises(PeerNotCachedError):  # a fresh session knows no access hash: no guessing
            await account.resolve(marked)
    assert rig.sent(before) == []

    await account.dialogs()
    scanned = len(rig.fake.requests)

    assert await account.resolve("-1003000000005") == Peer("channel", 3_000_000_005, 3_000_000_022)  # first page
    assert await account.resolve("-1003000000119") == Peer("channel", 3_000_000_119, 3_000_000_136)  # second page
    assert await account.resolve(marked_id("channel", 101)) == Peer("channel", 101, 1011)
    assert await account.resolve("@writable") == Peer("channel", 101, 1011)  # its username row too
    # kicked from 109: the chat is gone for the account, its hash is still known
    assert await account.resolve(marked_id("channel", 109)) == Peer("channel", 109, 1091)
    assert await account.resolve(marked_id("channel", 201)) == Peer("channel", 201, 2011)  # from the archive
    assert rig.sent(scanned) == []  # all from the session's entity table, not one request
    with pytest.raises(PeerNotCachedError):
        await account.resolve("-1009999999999")  # a chat the account is not in stays unknown
    await account.close()


async def test_a_scan_outlives_the_process_in_the_session_file(rig: Rig, tmp_path: Path) -> None:
    session = SQLiteSession(str(tmp_path / "1.session"))
    session.set_dc(2, "149.154.167.51", 443)
    session.auth_key = AuthKey(bytes(range(256)))
    session.save()
    session.close()
    first = await connected(rig, tmp_path, on_file=True)
    DialogsServer(main=[channel(101)]).install(rig.fake)
    await first.dialogs()
    await first.close()

    second = await connected(rig, tmp_path, on_file=True)
    before = len(rig.fake.requests)

    assert await second.resolve(marked_id("channel", 101)) == Peer("channel", 101, 1011)
    assert rig.sent(before) == []
    await second.close()


async def test_a_flood_wait_on_getdialogs_is_raised_for_the_engine(
    rig: Rig, tmp_path: Path, telethon_sleeps: list[float]
) -> None:
    account = await connected(rig, tmp_path)
    server = DialogsServer(main=supergroups(250))
    rig.fake.script(GetDialogs, server.answer, RpcFail(420, "FLOOD_WAIT_45"))
    before = len(rig.fake.requests)

    with pytest.raises(FloodWaitError) as caught:
        await account.dialogs()

    assert caught.value.seconds == 45
    assert classify(caught.value) == Outcome(OutcomeKind.FLOOD_WAIT, "FloodWaitError", 45)
    assert telethon_sleeps == []  # never slept through: the engine decides when to scan again
    assert rig.sent(before) == ["GetDialogsRequest"] * 2  # the scan stopped at the wait, no archive read
    await account.close()


async def test_a_scan_starts_nothing_in_the_background(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each channel dialog carries its pts, which Telethon files in its update state; the adapter's client
    # processes no updates, so no getChannelDifference follows, however long the session stays open.
    monkeypatch.setattr(messagebox, "POSSIBLE_GAP_TIMEOUT", 0.01)
    monkeypatch.setattr(messagebox, "NO_UPDATES_TIMEOUT", 0.01)
    account = await connected(rig, tmp_path)
    DialogsServer(main=supergroups(30)).install(rig.fake)
    before = len(rig.fake.requests)

    await account.dialogs()
    await asyncio.sleep(0.05)

    assert rig.sent(before) == ["GetDialogsRequest", "GetDialogsRequest"]
    assert rig.fake.queued_updates == 0
    await account.close()
