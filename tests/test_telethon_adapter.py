"""engine.telethon_adapter against a real TelegramClient whose network sender is a scripted fake.

Every request goes through Telethon's own code (request resolve, ``_call`` with its flood-wait memory
and retries, error construction, result parsing); only the socket is replaced (tests/fake_sender.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from telethon import TelegramClient, errors, functions, types
from telethon._updates import messagebox
from telethon.crypto import AuthKey
from telethon.sessions import SQLiteSession, StringSession

from core.outcomes import MembershipLoss, Outcome, OutcomeKind, RefusalReason
from core.ports import AccountFactory, AccountInfo, AccountPort, AccountStatus, Peer, SessionCredentials
from engine import telethon_adapter
from engine.albums import album_random_ids
from engine.outcomes import AccountNotAuthorizedError, PeerNotCachedError, classify
from engine.telethon_adapter import (
    ClientSettings,
    TelethonAccount,
    TelethonFactory,
    build_client,
    entities_to_tl,
    session_file,
)
from tests.fake_sender import (
    NOW,
    SELF_ID,
    FakeSender,
    RpcFail,
    channel,
    channel_message_sent,
    frozen_app_config,
)

K = OutcomeKind
SOURCE = Peer("channel", 1111111111, 911)
DEST = Peer("channel", 2222222222, 922)
RANDOM_ID = -4_242_424_242_424_242
DEVICE = {
    "device_model": "Pixel 7",
    "system_version": "Android 14",
    "app_version": "10.14.5",
    "lang_code": "de",
    "system_lang_code": "de-DE",
}
Forward = functions.messages.ForwardMessagesRequest
Send = functions.messages.SendMessageRequest


def credentials(tmp_path: Path, session_id: int = 1, name: str | None = None) -> SessionCredentials:
    return SessionCredentials(
        session_id=session_id,
        path=tmp_path / (name or f"{session_id}.session"),
        api_id=1,
        api_hash="0" * 32,
        device=DEVICE,
    )


@dataclass
class Rig:
    """Builds accounts whose clients talk to FakeSenders, and remembers them for the assertions."""

    fakes: list[FakeSender] = field(default_factory=list)
    clients: list[Any] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)  # what Telethon's request loop asked to sleep

    def builder(self, session: Callable[[SessionCredentials], Any] | None = None) -> Any:
        def build(creds: SessionCredentials, settings: ClientSettings) -> Any:
            client = build_client(creds, settings, session=StringSession() if session is None else session(creds))
            self.clients.append(client)
            self.fakes.append(FakeSender.install(client))
            return client

        return build

    @property
    def fake(self) -> FakeSender:
        return self.fakes[-1]


@pytest.fixture
def rig(telethon_sleeps: list[float]) -> Rig:
    return Rig(sleeps=telethon_sleeps)


@pytest.fixture
async def factory(rig: Rig) -> AsyncIterator[TelethonFactory]:
    made = TelethonFactory(client_builder=rig.builder())
    yield made
    for client in rig.clients:  # a test that left a client open must not leave tasks behind
        if client.is_connected():
            await client.disconnect()


async def connected(factory: TelethonFactory, tmp_path: Path, session_id: int = 1) -> TelethonAccount:
    account = factory.open(credentials(tmp_path, session_id))
    await account.connect()
    return account


async def forward(account: TelethonAccount, dest: Peer = DEST, topic_id: int | None = None) -> int:
    return await account.forward(
        source=SOURCE, msg_id=55, dest=dest, topic_id=topic_id, random_id=RANDOM_ID, drop_author=True
    )


def test_the_adapter_implements_the_port(tmp_path: Path) -> None:
    made: AccountFactory = TelethonFactory()
    account: AccountPort = made.open(credentials(tmp_path))
    assert isinstance(account, TelethonAccount)


# --- connect -------------------------------------------------------------------------------------


async def test_connect_builds_a_send_only_client_and_says_who_the_account_is(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = factory.open(credentials(tmp_path))
    assert rig.clients == []  # opening does not touch the session yet

    info = await account.connect()

    assert (info.user_id, info.username, info.phone, info.name) == (SELF_ID, "ada", "15550000", "Ada Seller")
    client = rig.clients[0]
    assert client.flood_sleep_threshold == 0
    # Telegram's init, then (the credentials do not say who the account is) one getUsers of itself: none of
    # Telethon's own start-up requests (its getUsers, getState, getDifference: following updates)
    assert [type(r).__name__ for r in rig.fake.requests] == ["GetConfigRequest", "GetUsersRequest"]
    # The first request introduces the client with the session's device (initConnection, in the layer).
    first = rig.fake.sent[0]
    assert isinstance(first, functions.InvokeWithLayerRequest)
    assert isinstance(first.query, functions.InvokeWithoutUpdatesRequest)
    init = first.query.query
    assert isinstance(init, functions.InitConnectionRequest)
    assert isinstance(init.query, functions.help.GetConfigRequest)
    assert init.api_id == 1
    assert (init.device_model, init.system_version, init.app_version) == ("Pixel 7", "Android 14", "10.14.5")
    assert (init.lang_code, init.system_lang_code) == ("de", "de-DE")
    # receive_updates=False: every request asks Telegram not to push updates for it
    assert all(isinstance(r, functions.InvokeWithoutUpdatesRequest) for r in rig.fake.sent[1:])
    await account.close()


async def test_a_request_telegram_keeps_failing_goes_out_twice_then_raises_telegrams_error(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    # request_retries=1 and raise_last_call_error: a call Telegram keeps failing goes out twice, then
    # Telegram's own error is raised (not Telethon's "Request was unsuccessful" ValueError)
    account = factory.open(credentials(tmp_path))
    account._client_or_build()
    rig.fake.always(functions.users.GetUsersRequest, RpcFail(500, "RPC_CALL_FAIL"))

    with pytest.raises(errors.RpcCallFailError):
        await account.connect()

    assert [type(r).__name__ for r in rig.fake.requests] == ["GetConfigRequest"] + ["GetUsersRequest"] * 2
    await account.close()


async def test_a_connect_asks_nothing_but_the_init_when_the_self_user_is_known(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    known = AccountInfo(user_id=SELF_ID, username="ada", phone="15550000", name="Ada Seller")
    account = factory.open(dataclasses.replace(credentials(tmp_path), self_user=known))

    info = await account.connect()
    again = await account.connect()  # a live connection: nothing at all

    assert info == again == known
    assert [type(r).__name__ for r in rig.fake.requests] == ["GetConfigRequest"]
    for banned in (functions.users.GetUsersRequest, functions.updates.GetStateRequest,
                   functions.updates.GetDifferenceRequest, functions.updates.GetChannelDifferenceRequest):
        assert rig.fake.of(banned) == []
    # and after the connection dropped and was made again: the init alone, once more
    await rig.fake.disconnect()
    await account.connect()
    assert [type(r).__name__ for r in rig.fake.requests] == ["GetConfigRequest"] * 2
    await account.close()


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        (RpcFail(401, "AUTH_KEY_UNREGISTERED"), "AuthKeyUnregisteredError"),
        (RpcFail(401, "SESSION_REVOKED"), "SessionRevokedError"),
        (RpcFail(401, "USER_DEACTIVATED_BAN"), "UserDeactivatedBanError"),
    ],
)
async def test_a_dead_account_whose_self_user_is_known_is_recognised_at_its_first_real_request(
    factory: TelethonFactory, rig: Rig, tmp_path: Path, fail: RpcFail, error: str
) -> None:
    # help.getConfig needs no authorisation: a dead key connects. Its first real request says it is dead,
    # with the same 401 class a getUsers at connect would have met.
    known = AccountInfo(user_id=SELF_ID)
    account = factory.open(dataclasses.replace(credentials(tmp_path), self_user=known))
    account._client_or_build()
    rig.fake.always(Forward, fail)
    rig.fake.always(functions.help.GetAppConfigRequest, fail)
    await account.connect()

    with pytest.raises(errors.RPCError) as caught:
        await forward(account)
    assert type(caught.value).__name__ == error
    assert classify(caught.value) == Outcome(K.ACCOUNT_DEAD, error)
    with pytest.raises(errors.RPCError) as status_caught:
        await account.account_status()
    assert classify(status_caught.value) == Outcome(K.ACCOUNT_DEAD, error)
    assert rig.fake.of(functions.users.GetUsersRequest) == []
    await account.close()


async def test_connect_again_reuses_the_connection_and_asks_who_the_account_is_once(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)

    info = await account.connect()
    await account.connect()

    assert info.user_id == SELF_ID
    assert rig.fake.connects == 1
    assert len(rig.clients) == 1
    assert rig.fake.requests[before:] == []  # this port learnt who the account is at its first connect
    await account.close()


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        (RpcFail(401, "AUTH_KEY_UNREGISTERED"), "AuthKeyUnregisteredError"),
        (RpcFail(401, "SESSION_REVOKED"), "SessionRevokedError"),
        (RpcFail(401, "USER_DEACTIVATED"), "UserDeactivatedError"),
    ],
)
async def test_a_401_at_connect_surfaces_as_its_own_class_and_is_a_dead_account(
    factory: TelethonFactory, rig: Rig, tmp_path: Path, fail: RpcFail, error: str
) -> None:
    # get_me() would turn the 401 into None and lose why: connect asks users.getUsers itself.
    account = factory.open(credentials(tmp_path))
    account._client_or_build()
    rig.fake.always(functions.users.GetUsersRequest, fail)

    with pytest.raises(errors.UnauthorizedError) as caught:
        await account.connect()

    assert type(caught.value).__name__ == error
    assert classify(caught.value) == Outcome(K.ACCOUNT_DEAD, error)
    [ours] = [r for r in rig.fake.of(functions.users.GetUsersRequest) if r is rig.fake.requests[-1]]
    assert [type(u) for u in ours.id] == [types.InputUserSelf]
    await account.close()


async def test_a_key_telegram_forgot_404_at_connect_is_a_dead_account(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    # The real sender answers every pending request with AuthKeyNotFound when the transport says -404.
    account = factory.open(credentials(tmp_path))
    account._client_or_build()
    rig.fake.always(functions.help.GetConfigRequest, errors.AuthKeyNotFound())

    with pytest.raises(errors.AuthKeyNotFound) as caught:
        await account.connect()

    assert classify(caught.value) == Outcome(K.ACCOUNT_DEAD, "AuthKeyNotFound")
    await account.close()


async def test_account_status_reads_the_app_config_once(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)

    status = await account.account_status()

    assert status == AccountStatus() and not status.frozen
    [request] = rig.fake.requests[before:]
    assert isinstance(request, functions.help.GetAppConfigRequest) and request.hash == 0
    await account.close()


async def test_a_frozen_account_status_carries_telegrams_dates_and_appeal_link(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(functions.help.GetAppConfigRequest, frozen_app_config(1_735_000_000, 1_767_000_000))

    status = await account.account_status()

    assert status == AccountStatus(1_735_000_000.0, 1_767_000_000.0, "https://t.me/spambot")
    assert status.frozen
    # frozen accounts still connect (the check itself must not fail them)
    assert (await account.connect()).user_id == SELF_ID
    await account.close()


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        (RpcFail(406, "AUTH_KEY_DUPLICATED"), "AuthKeyDuplicatedError"),
        (RpcFail(401, "USER_DEACTIVATED_BAN"), "UserDeactivatedBanError"),
    ],
)
async def test_connect_on_a_dead_key_classifies_as_dead(
    factory: TelethonFactory, rig: Rig, tmp_path: Path, fail: RpcFail, error: str
) -> None:
    account = factory.open(credentials(tmp_path))
    account._client_or_build()
    rig.fake.always(functions.users.GetUsersRequest, fail)
    rig.fake.always(functions.updates.GetStateRequest, fail)

    with pytest.raises((errors.UnauthorizedError, errors.AuthKeyError)) as caught:
        await account.connect()

    assert classify(caught.value).kind is K.ACCOUNT_DEAD
    await account.close()


async def test_a_network_failure_on_connect_is_transient_and_a_later_connect_works(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = factory.open(credentials(tmp_path))
    account._client_or_build()
    rig.fake.refuse_connect = ConnectionRefusedError(111, "refused")

    with pytest.raises(ConnectionRefusedError) as caught:
        await account.connect()
    assert classify(caught.value).kind is K.TRANSIENT

    rig.fake.refuse_connect = None
    assert (await account.connect()).user_id == SELF_ID
    await account.close()


# --- forward -------------------------------------------------------------------------------------


async def test_forward_is_one_raw_request_with_the_callers_random_id(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)
    rig.fake.script(Forward, channel_message_sent(DEST.id, 77, RANDOM_ID))

    new_id = await forward(account, topic_id=5)

    assert new_id == 77
    sent = rig.fake.requests[before:]
    assert len(sent) == 1
    request = sent[0]
    assert isinstance(request, Forward)
    assert request.from_peer == types.InputPeerChannel(SOURCE.id, SOURCE.access_hash)
    assert request.to_peer == types.InputPeerChannel(DEST.id, DEST.access_hash)
    assert request.id == [55]
    assert request.random_id == [RANDOM_ID]
    assert request.drop_author is True
    assert request.top_msg_id == 5
    await account.close()


async def test_forward_without_a_topic_and_keeping_the_author(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(Forward, channel_message_sent(DEST.id, 78, RANDOM_ID))

    await account.forward(source=SOURCE, msg_id=56, dest=DEST, topic_id=None, random_id=RANDOM_ID, drop_author=False)

    request = rig.fake.of(Forward)[-1]
    assert request.top_msg_id is None
    assert not request.drop_author
    await account.close()


async def test_steady_state_is_exactly_one_request_per_forward(
    factory: TelethonFactory, rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)
    # pts jumps between our posts (other members wrote in between): a stock client would now
    # schedule getChannelDifference for the group; ours must not (see the contrast test below).
    monkeypatch.setattr(messagebox, "POSSIBLE_GAP_TIMEOUT", 0.01)
    chats = [channel(DEST.id, 922)]  # Telegram's answer carries the group, as for the stock client below
    answers = [channel_message_sent(DEST.id, 100 + n, RANDOM_ID + n, pts=100 + 40 * n, chats=chats) for n in range(5)]
    rig.fake.script(Forward, *answers)

    ids = [
        await account.forward(
            source=SOURCE, msg_id=55, dest=DEST, topic_id=None, random_id=RANDOM_ID + n, drop_author=True
        )
        for n in range(5)
    ]
    await asyncio.sleep(0.05)  # past the (shortened) gap timeout

    assert ids == [100, 101, 102, 103, 104]
    assert [type(r).__name__ for r in rig.fake.requests[before:]] == ["ForwardMessagesRequest"] * 5
    assert rig.fake.queued_updates == 0  # the own-updates queue is drained, not growing
    await account.close()


async def test_contrast_a_stock_client_fetches_channel_differences_after_posting(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why the adapter replaces Telethon's update loop: with receive_updates=False the stock client
    # still tracks each group it posts to and asks for its difference on a pts gap.
    monkeypatch.setattr(messagebox, "POSSIBLE_GAP_TIMEOUT", 0.01)
    client = TelegramClient(StringSession(), 1, "0" * 32, receive_updates=False, flood_sleep_threshold=0)
    fake = FakeSender.install(client)
    fake.always(
        functions.updates.GetChannelDifferenceRequest, types.updates.ChannelDifferenceEmpty(pts=500, final=True)
    )
    await client.connect()
    chats = [channel(DEST.id, 922)]
    fake.script(
        Forward, *(channel_message_sent(DEST.id, 100 + n, n + 1, pts=100 + 40 * n, chats=chats) for n in range(2))
    )
    for n in range(2):
        await client(
            Forward(
                from_peer=types.InputPeerChannel(SOURCE.id, 9),
                id=[1],
                to_peer=types.InputPeerChannel(DEST.id, 9),
                random_id=[n + 1],
            )
        )
    for _ in range(50):
        if fake.of(functions.updates.GetChannelDifferenceRequest):
            break
        await asyncio.sleep(0.01)
    await client.disconnect()
    assert fake.of(functions.updates.GetChannelDifferenceRequest)


async def test_forward_to_a_basic_group_finds_the_id_in_the_new_message(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    chat = Peer("chat", 4321)
    message = types.Message(id=9, peer_id=types.PeerChat(4321), date=NOW, message="hi", out=True)
    rig.fake.script(
        Forward,
        types.Updates(
            updates=[types.UpdateNewMessage(message=message, pts=20, pts_count=1)],
            users=[],
            chats=[],
            date=NOW,
            seq=2,
        ),
    )

    assert await forward(account, dest=chat) == 9
    assert rig.fake.of(Forward)[-1].to_peer == types.InputPeerChat(4321)
    await account.close()


async def test_forward_to_a_user_uses_the_users_access_hash(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    account = await connected(factory, tmp_path)
    user = Peer("user", 777, 888)
    rig.fake.script(
        Forward,
        types.Updates(updates=[types.UpdateMessageID(id=31, random_id=RANDOM_ID)], users=[], chats=[], date=NOW, seq=0),
    )

    assert await forward(account, dest=user) == 31
    assert rig.fake.of(Forward)[-1].to_peer == types.InputPeerUser(777, 888)
    await account.close()


async def test_an_answer_that_names_no_message_is_no_delivery(
    factory: TelethonFactory, rig: Rig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram took the request but its answer names no new message of ours (dropped silently, or an
    # answer about something else): the port says None, and the engine records the send in doubt.
    account = await connected(factory, tmp_path)
    other = types.UpdateMessageID(id=5, random_id=RANDOM_ID + 1)  # someone else's random_id
    rig.fake.script(Forward, types.Updates(updates=[other], users=[], chats=[], date=NOW, seq=0))
    rig.fake.script(Send, types.Updates(updates=[], users=[], chats=[], date=NOW, seq=0))

    with caplog.at_level(logging.WARNING, logger="engine.telethon_adapter"):
        assert await forward(account) is None
        assert await account.send_text(dest=DEST, topic_id=None, text="t", entities=[], random_id=RANDOM_ID) is None

    assert "names no new message" in caplog.text
    assert len(rig.fake.of(Forward)) == len(rig.fake.of(Send)) == 1  # no retry of a request that went through
    await account.close()


def _post(msg_id: int, grouped_id: int | None = None) -> Any:
    return types.Message(
        id=msg_id, peer_id=types.PeerChannel(SOURCE.id), date=NOW, message=f"p{msg_id}", grouped_id=grouped_id
    )


def _channel_messages(*messages: Any) -> Any:
    return types.messages.ChannelMessages(pts=1, count=len(messages), messages=list(messages), topics=[], chats=[],
                                          users=[])


async def test_read_post_finds_the_whole_album_in_one_request(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)
    # The album 54..56 around the post 55; 53 and 57 are other posts (one of another album).
    rig.fake.script(
        functions.channels.GetMessagesRequest,
        _channel_messages(_post(53), _post(54, 7), _post(55, 7), _post(56, 7), _post(57, 8),
                          types.MessageEmpty(id=58, peer_id=types.PeerChannel(SOURCE.id))),
    )

    assert list((await account.read_post(SOURCE, 55)).ids) == [54, 55, 56]

    assert len(rig.fake.requests) == before + 1
    request = rig.fake.of(functions.channels.GetMessagesRequest)[-1]
    assert request.channel == types.InputChannel(SOURCE.id, SOURCE.access_hash)
    assert [i.id for i in request.id] == list(range(46, 65))  # an album lies within 9 of any of its ids
    await account.close()


async def test_read_post_of_a_single_post_and_of_a_deleted_one(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(
        functions.channels.GetMessagesRequest,
        _channel_messages(_post(54, 7), _post(55), _post(56, 7)),
        _channel_messages(types.MessageEmpty(id=55, peer_id=types.PeerChannel(SOURCE.id))),
        RpcFail(400, "CHANNEL_PRIVATE"),
    )

    assert list((await account.read_post(SOURCE, 55)).ids) == [55]
    with pytest.raises(errors.MessageIdInvalidError) as gone:
        await account.read_post(SOURCE, 55)
    with pytest.raises(errors.ChannelPrivateError) as private:
        await account.read_post(SOURCE, 55)

    assert classify(gone.value, source_failed=True).kind is K.SOURCE_FAILED
    assert classify(private.value, source_failed=True) == Outcome(K.SOURCE_FAILED, "ChannelPrivateError")
    await account.close()


async def test_an_album_is_forwarded_whole_in_one_request_with_a_random_id_each(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(Forward, channel_message_sent(DEST.id, 90, RANDOM_ID))

    new_id = await account.forward(
        source=SOURCE, msg_id=55, dest=DEST, topic_id=None, random_id=RANDOM_ID, drop_author=True, album=[54, 55, 56]
    )

    assert new_id == 90
    request = rig.fake.of(Forward)[-1]
    assert request.id == [54, 55, 56]
    assert request.random_id[0] == RANDOM_ID and len(set(request.random_id)) == 3
    assert request.random_id == album_random_ids(RANDOM_ID, 3)  # derived: a retry repeats all of them
    assert album_random_ids(RANDOM_ID, 3) == album_random_ids(RANDOM_ID, 3)
    await account.close()


async def test_a_peer_without_an_access_hash_fails_before_any_request(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)

    with pytest.raises(PeerNotCachedError) as caught:
        await forward(account, dest=Peer("channel", 3333333333))

    assert len(rig.fake.requests) == before
    assert classify(caught.value) == Outcome(K.GROUP_FAILED, "PEER_NOT_CACHED")
    assert "-1003333333333" in str(caught.value)
    await account.close()


async def test_forward_connects_first_when_the_engine_did_not(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = factory.open(credentials(tmp_path))
    account._client_or_build()
    rig.fake.script(Forward, channel_message_sent(DEST.id, 40, RANDOM_ID))

    assert await forward(account) == 40
    assert rig.fake.connects == 1
    await account.close()


async def test_a_dropped_connection_is_made_again_on_the_next_send(
    factory: TelethonFactory, rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telethon_adapter, "_IDLE_CHECK_S", 0.5)
    account = await connected(factory, tmp_path)
    await asyncio.sleep(0.01)  # the connection's tasks (the drain loop, Telethon's keepalive) are waiting
    old_tasks = asyncio.all_tasks() - {asyncio.current_task()}
    await rig.fake.disconnect()  # the sender gave up reconnecting by itself
    # The next send comes a moment later: Telethon's keepalive notices the drop and ends; the drain loop,
    # waiting up to 0.5 s for an update, wakes only after the reconnect and must see it was replaced.
    await asyncio.sleep(0.05)
    rig.fake.script(Forward, channel_message_sent(DEST.id, 90, RANDOM_ID))

    assert await forward(account) == 90

    assert rig.fake.connects == 2
    _, left_over = await asyncio.wait(old_tasks, timeout=2)
    assert left_over == set()  # every task of the dropped connection ended on its own
    await asyncio.sleep(0.05)
    assert rig.fake.queued_updates == 0  # the new connection has its own drain loop
    await account.close()


# --- errors surfacing from a forward ------------------------------------------------------------------

ERROR_ROWS: list[tuple[Any, OutcomeKind, str, int | None]] = [
    (RpcFail(420, "FLOOD_WAIT_30"), K.FLOOD_WAIT, "FloodWaitError", 30),
    (errors.FloodWaitError(None, capture=30), K.FLOOD_WAIT, "FloodWaitError", 30),
    (RpcFail(420, "FLOOD_PREMIUM_WAIT_12"), K.FLOOD_WAIT, "FloodPremiumWaitError", 12),
    (RpcFail(420, "SLOWMODE_WAIT_60"), K.SLOW_MODE, "SlowModeWaitError", 60),
    (RpcFail(420, "FROZEN_METHOD_INVALID"), K.ACCOUNT_FROZEN, "FrozenMethodInvalidError", None),
    (RpcFail(400, "PEER_FLOOD"), K.ACCOUNT_LIMITED, "PeerFloodError", None),
    (RpcFail(400, "USER_BANNED_IN_CHANNEL"), K.ACCOUNT_LIMITED, "UserBannedInChannelError", None),
    (RpcFail(401, "AUTH_KEY_UNREGISTERED"), K.ACCOUNT_DEAD, "AuthKeyUnregisteredError", None),
    (RpcFail(406, "AUTH_KEY_DUPLICATED"), K.ACCOUNT_DEAD, "AuthKeyDuplicatedError", None),
    (RpcFail(401, "SESSION_REVOKED"), K.ACCOUNT_DEAD, "SessionRevokedError", None),
    (RpcFail(401, "SESSION_EXPIRED"), K.ACCOUNT_DEAD, "SessionExpiredError", None),
    (RpcFail(401, "USER_DEACTIVATED"), K.ACCOUNT_DEAD, "UserDeactivatedError", None),
    (RpcFail(401, "USER_DEACTIVATED_BAN"), K.ACCOUNT_DEAD, "UserDeactivatedBanError", None),
    (errors.rpcerrorlist.ChatWriteForbiddenError(None), K.REFUSED, "ChatWriteForbiddenError", None),
    (RpcFail(403, "CHAT_WRITE_FORBIDDEN"), K.REFUSED, "ChatWriteForbiddenError", None),
    (RpcFail(403, "CHAT_SEND_PLAIN_FORBIDDEN"), K.REFUSED, "ChatSendPlainForbiddenError", None),
    (RpcFail(403, "CHAT_SEND_MEDIA_FORBIDDEN"), K.REFUSED, "ChatSendMediaForbiddenError", None),
    (RpcFail(400, "CHAT_ADMIN_REQUIRED"), K.REFUSED, "ChatAdminRequiredError", None),
    (RpcFail(400, "CHANNEL_PRIVATE"), K.GROUP_FAILED, "ChannelPrivateError", None),
    (RpcFail(400, "USER_NOT_PARTICIPANT"), K.GROUP_FAILED, "UserNotParticipantError", None),
    (RpcFail(400, "CHANNEL_INVALID"), K.GROUP_FAILED, "ChannelInvalidError", None),
    (RpcFail(400, "PEER_ID_INVALID"), K.GROUP_FAILED, "PeerIdInvalidError", None),
    (RpcFail(400, "CHAT_ID_INVALID"), K.GROUP_FAILED, "ChatIdInvalidError", None),
    (RpcFail(400, "CHAT_RESTRICTED"), K.GROUP_FAILED, "ChatRestrictedError", None),
    (RpcFail(403, "CHAT_GUEST_SEND_FORBIDDEN"), K.REFUSED, "ChatGuestSendForbiddenError", None),
    (RpcFail(400, "TOPIC_DELETED"), K.REFUSED, "TopicDeletedError", None),
    (RpcFail(400, "TOPIC_CLOSED"), K.REFUSED, "TOPIC_CLOSED", None),
    (RpcFail(400, "INPUT_USER_DEACTIVATED"), K.GROUP_FAILED, "InputUserDeactivatedError", None),
    (RpcFail(400, "MESSAGE_ID_INVALID"), K.SOURCE_FAILED, "MessageIdInvalidError", None),
    (RpcFail(400, "CHAT_FORWARDS_RESTRICTED"), K.SOURCE_FAILED, "ChatForwardsRestrictedError", None),
    (RpcFail(400, "MESSAGE_IDS_EMPTY"), K.SOURCE_FAILED, "MessageIdsEmptyError", None),
    (ConnectionResetError(104, "reset"), K.TRANSIENT, "ConnectionResetError", None),
    (TimeoutError(), K.TRANSIENT, "TimeoutError", None),
    (RpcFail(500, "RPC_CALL_FAIL"), K.TRANSIENT, "RpcCallFailError", None),
    (RpcFail(-500, "No workers running"), K.TRANSIENT, "No workers running", None),
    (RpcFail(-503, "Timeout"), K.TRANSIENT, "TimeoutError", None),
    (RpcFail(500, "RANDOM_ID_DUPLICATE"), K.SENT, "RandomIdDuplicateError", None),
    (RpcFail(400, "SOMETHING_NEW"), K.UNKNOWN, "SOMETHING_NEW", None),
]
_RETRIED = (errors.ServerError, errors.TimedOutError)  # Telethon retries these request_retries (1) times
_MEMBERSHIP: dict[str, MembershipLoss] = {
    "ChannelPrivateError": "left",
    "UserNotParticipantError": "left",
    "ChatGuestSendForbiddenError": "left",
    "ChatWriteForbiddenError": "blocked",
}
_REFUSAL: dict[str, RefusalReason] = {
    "ChatWriteForbiddenError": "write_forbidden",
    "ChatSendPlainForbiddenError": "plain_forbidden",
    "ChatSendMediaForbiddenError": "media_forbidden",
    "ChatAdminRequiredError": "admin_required",
    "ChatGuestSendForbiddenError": "guest_forbidden",
    "TopicDeletedError": "topic_deleted",
    "TOPIC_CLOSED": "topic_closed",
}


@pytest.mark.parametrize(("reply", "kind", "error", "seconds"), ERROR_ROWS, ids=[r[2] + "-" + r[1] for r in ERROR_ROWS])
async def test_errors_surface_from_forward_and_classify(
    factory: TelethonFactory,
    rig: Rig,
    tmp_path: Path,
    reply: Any,
    kind: OutcomeKind,
    error: str,
    seconds: int | None,
) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)
    rig.fake.always(Forward, reply)

    with pytest.raises(BaseException) as caught:  # the class varies by row
        await forward(account)

    stale_peer = error in ("ChannelInvalidError", "PeerIdInvalidError", "ChatIdInvalidError")
    # The refusals that say the session is not in the group, or may not write there (its row is updated).
    membership = _MEMBERSHIP.get(error)
    refusal = _REFUSAL.get(error)
    assert classify(caught.value) == Outcome(
        kind, error, seconds, stale_peer=stale_peer, membership=membership, refusal=refusal
    )
    attempts = len(rig.fake.requests) - before
    if isinstance(caught.value, _RETRIED):
        assert attempts == 2
        assert rig.sleeps == [2, 2]  # Telethon's fixed pause between attempts (and after the last)
    else:
        assert attempts == 1
        assert rig.sleeps == []  # flood_sleep_threshold=0: Telethon never sleeps through a wait
    await account.close()


async def test_frozen_account_error_does_not_break_the_account(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(Forward, RpcFail(420, "FROZEN_METHOD_INVALID"), channel_message_sent(DEST.id, 61, RANDOM_ID))

    with pytest.raises(errors.FloodError) as caught:
        await forward(account)
    outcome = classify(caught.value)

    assert outcome == Outcome(K.ACCOUNT_FROZEN, "FrozenMethodInvalidError", None)
    # no flood-wait memory was set for it (it has no seconds): the next request really goes out
    assert await forward(account) == 61
    assert (await account.connect()).user_id == SELF_ID
    await account.close()


async def test_telethon_does_not_remember_flood_waits_so_the_engine_must(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    # Telethon 1.45 stores a flood wait under the *wrapped* request's constructor id
    # (InvokeWithoutUpdates, because receive_updates=False) but checks the inner one, so its
    # "raise locally until the wait is over" never fires: a second forward really goes out.
    # Honouring FLOOD_WAIT is the engine's job alone.
    account = await connected(factory, tmp_path)
    rig.fake.script(Forward, RpcFail(420, "FLOOD_WAIT_300"), RpcFail(420, "FLOOD_WAIT_299"))
    with pytest.raises(errors.FloodWaitError) as first:
        await forward(account)
    sent = len(rig.fake.requests)

    with pytest.raises(errors.FloodWaitError) as second:
        await forward(account, dest=Peer("channel", 5555, 55))

    assert len(rig.fake.requests) == sent + 1
    assert classify(first.value) == Outcome(K.FLOOD_WAIT, "FloodWaitError", 300)
    assert classify(second.value) == Outcome(K.FLOOD_WAIT, "FloodWaitError", 299)
    assert rig.sleeps == []
    await account.close()


async def test_a_zero_second_flood_wait_is_raised_not_slept(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(Forward, RpcFail(420, "FLOOD_WAIT_0"))

    with pytest.raises(errors.FloodWaitError) as caught:
        await forward(account)

    assert classify(caught.value) == Outcome(K.FLOOD_WAIT, "FloodWaitError", 1)  # Telethon rounds 0 up to 1
    assert rig.sleeps == []
    await account.close()


# --- send_text -----------------------------------------------------------------------------------

ALL_ENTITIES: list[dict[str, Any]] = [
    {"type": "bold", "offset": 0, "length": 4},
    {"type": "italic", "offset": 5, "length": 3},
    {"type": "underline", "offset": 9, "length": 2},
    {"type": "strikethrough", "offset": 12, "length": 2},
    {"type": "spoiler", "offset": 15, "length": 2},
    {"type": "code", "offset": 18, "length": 2},
    {"type": "pre", "offset": 21, "length": 3, "language": "python"},
    {"type": "text_link", "offset": 25, "length": 4, "url": "https://example.com/x"},
    {"type": "url", "offset": 30, "length": 5},
    {"type": "mention", "offset": 36, "length": 5},
    {"type": "hashtag", "offset": 42, "length": 3},
    {"type": "email", "offset": 46, "length": 5},
    {"type": "phone_number", "offset": 52, "length": 5},
    {"type": "blockquote", "offset": 58, "length": 4},
    {"type": "expandable_blockquote", "offset": 63, "length": 4},
    {"type": "custom_emoji", "offset": 68, "length": 2, "custom_emoji_id": "5368324170671202286"},
    {"type": "text_mention", "offset": 71, "length": 3, "user": {"id": 4040, "first_name": "Bo"}},
]
EXPECTED_TL = [
    types.MessageEntityBold(0, 4),
    types.MessageEntityItalic(5, 3),
    types.MessageEntityUnderline(9, 2),
    types.MessageEntityStrike(12, 2),
    types.MessageEntitySpoiler(15, 2),
    types.MessageEntityCode(18, 2),
    types.MessageEntityPre(21, 3, "python"),
    types.MessageEntityTextUrl(25, 4, "https://example.com/x"),
    types.MessageEntityUrl(30, 5),
    types.MessageEntityMention(36, 5),
    types.MessageEntityHashtag(42, 3),
    types.MessageEntityEmail(46, 5),
    types.MessageEntityPhone(52, 5),
    types.MessageEntityBlockquote(58, 4),
    types.MessageEntityBlockquote(63, 4, collapsed=True),
    types.MessageEntityCustomEmoji(68, 2, 5368324170671202286),
    types.InputMessageEntityMentionName(71, 3, types.InputUser(4040, 6060)),
]


async def test_send_text_is_one_request_with_converted_entities_and_the_topic(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    client = rig.clients[0]
    # the mentioned user is known to this session (seen in an earlier answer)
    client.session.process_entities(
        types.contacts.ResolvedPeer(
            peer=types.PeerUser(4040), chats=[], users=[types.User(id=4040, access_hash=6060, first_name="Bo")]
        )
    )
    before = len(rig.fake.requests)
    rig.fake.script(Send, types.UpdateShortSentMessage(id=501, pts=7, pts_count=1, date=NOW, out=True))

    new_id = await account.send_text(dest=DEST, topic_id=12, text="x" * 80, entities=ALL_ENTITIES, random_id=RANDOM_ID)

    assert new_id == 501
    sent = rig.fake.requests[before:]
    assert len(sent) == 1
    request = sent[0]
    assert isinstance(request, Send)
    assert request.peer == types.InputPeerChannel(DEST.id, DEST.access_hash)
    assert request.message == "x" * 80
    assert request.random_id == RANDOM_ID
    assert request.entities == EXPECTED_TL
    assert request.reply_to == types.InputReplyToMessage(reply_to_msg_id=12, top_msg_id=12)
    assert not request.no_webpage
    await account.close()


async def test_send_text_without_topic_or_entities(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(Send, channel_message_sent(DEST.id, 502, RANDOM_ID))

    assert await account.send_text(dest=DEST, topic_id=None, text="plain", entities=[], random_id=RANDOM_ID) == 502

    request = rig.fake.of(Send)[-1]
    assert request.reply_to is None
    assert request.entities is None
    await account.close()


async def test_send_text_errors_classify_like_forward_errors(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(Send, RpcFail(403, "CHAT_SEND_PLAIN_FORBIDDEN"), RpcFail(400, "ENTITY_BOUNDS_INVALID"))

    outcomes = []
    for _ in range(2):
        with pytest.raises(errors.RPCError) as caught:
            await account.send_text(dest=DEST, topic_id=None, text="t", entities=[], random_id=RANDOM_ID)
        outcomes.append(classify(caught.value).kind)

    assert outcomes == [K.REFUSED, K.POST_INVALID]
    await account.close()


def test_unknown_malformed_and_unaddressable_entities_are_left_out(caplog: pytest.LogCaptureFixture) -> None:
    odd: list[dict[str, Any]] = [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "date_time", "offset": 0, "length": 1},  # a type MTProto input has no mapping for
        {"type": "italic", "offset": "0", "length": 1},  # offset not an int
        {"type": "italic", "offset": True, "length": 1},  # bool is not an offset
        {"type": "underline", "offset": 0, "length": 0},  # empty
        {"type": "text_link", "offset": 0, "length": 1},  # no url
        {"type": "custom_emoji", "offset": 0, "length": 1, "custom_emoji_id": "not-a-number"},
        {"type": "text_mention", "offset": 0, "length": 1, "user": {"id": 1}},  # hash unknown
        {"offset": 0, "length": 1},  # no type
        {"type": "pre", "offset": 2, "length": 1},  # no language: fine
    ]

    with caplog.at_level(logging.WARNING, logger="engine.telethon_adapter"):
        converted = entities_to_tl(odd, lambda _user_id: None)

    assert converted == [types.MessageEntityBold(0, 1), types.MessageEntityPre(2, 1, "")]
    assert caplog.text.count("left out") == 8


# --- resolve -------------------------------------------------------------------------------------


async def test_resolve_username_once_then_from_the_session(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)
    rig.fake.script(
        functions.contacts.ResolveUsernameRequest,
        types.contacts.ResolvedPeer(
            peer=types.PeerChannel(DEST.id), chats=[channel(DEST.id, 922, "adgroup")], users=[]
        ),
    )

    first = await account.resolve("@AdGroup")
    again = await account.resolve("adgroup")
    by_id = await account.resolve(f"-100{DEST.id}")

    assert first == again == by_id == Peer("channel", DEST.id, 922)
    sent = rig.fake.requests[before:]
    assert len(sent) == 1
    assert isinstance(sent[0], functions.contacts.ResolveUsernameRequest)
    assert sent[0].username == "adgroup"
    await account.close()


async def test_resolve_a_user_and_a_basic_group(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(
        functions.contacts.ResolveUsernameRequest,
        types.contacts.ResolvedPeer(
            peer=types.PeerUser(4242), chats=[], users=[types.User(id=4242, access_hash=77, username="some_bot")]
        ),
    )
    before = len(rig.fake.requests)

    assert await account.resolve("@some_bot") == Peer("user", 4242, 77)
    assert await account.resolve("-4321") == Peer("chat", 4321)  # basic groups need no hash, no request
    assert await account.resolve("4242") == Peer("user", 4242, 77)
    assert len(rig.fake.requests) == before + 1
    await account.close()


async def test_an_unknown_numeric_peer_is_a_clear_group_failure(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)

    with pytest.raises(PeerNotCachedError) as caught:
        await account.resolve("-1009999999999")

    assert len(rig.fake.requests) == before  # no guessing with access_hash 0
    assert classify(caught.value).kind is K.GROUP_FAILED
    assert classify(caught.value, source_failed=True).kind is K.SOURCE_FAILED
    with pytest.raises(PeerNotCachedError):
        await account.resolve("0")  # Telethon's own "who am I" row is not a peer
    await account.close()


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (RpcFail(400, "USERNAME_NOT_OCCUPIED"), K.GROUP_FAILED),
        (RpcFail(400, "USERNAME_INVALID"), K.GROUP_FAILED),
        (RpcFail(420, "FLOOD_WAIT_3600"), K.FLOOD_WAIT),
    ],
)
async def test_resolve_failures_classify(
    factory: TelethonFactory, rig: Rig, tmp_path: Path, reply: RpcFail, kind: OutcomeKind
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(functions.contacts.ResolveUsernameRequest, reply)

    with pytest.raises(errors.RPCError) as caught:
        await account.resolve("@nobody_here")

    assert classify(caught.value).kind is kind
    await account.close()


@pytest.mark.parametrize("text", ["bad name!", "@ab", "", "--5", "@" + "a" * 40])
async def test_a_malformed_peer_is_an_invalid_username(
    factory: TelethonFactory, rig: Rig, tmp_path: Path, text: str
) -> None:
    account = await connected(factory, tmp_path)
    before = len(rig.fake.requests)

    with pytest.raises(errors.UsernameInvalidError) as caught:
        await account.resolve(text)

    assert len(rig.fake.requests) == before
    assert classify(caught.value).kind is K.GROUP_FAILED
    await account.close()


async def test_a_resolved_channel_without_a_usable_hash_is_not_cached(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    min_channel = channel(DEST.id, 922, "adgroup")
    min_channel.min = True
    rig.fake.script(
        functions.contacts.ResolveUsernameRequest,
        types.contacts.ResolvedPeer(peer=types.PeerChannel(DEST.id), chats=[min_channel], users=[]),
    )

    with pytest.raises(PeerNotCachedError):
        await account.resolve("@adgroup")
    await account.close()


# --- close and the one-client-per-session rule ----------------------------------------------------------


async def test_close_disconnects_once_and_is_idempotent(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    account = await connected(factory, tmp_path)
    client = rig.clients[0]

    await account.close()
    await account.close()

    assert rig.fake.disconnects == 1
    assert not client.is_connected()
    assert account.closed
    with pytest.raises(RuntimeError, match="closed"):
        await account.connect()


async def test_close_before_connect_touches_nothing(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    account = factory.open(credentials(tmp_path))
    await account.close()
    assert rig.clients == []
    assert factory.live_sessions == frozenset()


async def test_one_live_client_per_session(factory: TelethonFactory, tmp_path: Path) -> None:
    first = factory.open(credentials(tmp_path, 1))
    other = factory.open(credentials(tmp_path, 2))

    with pytest.raises(RuntimeError, match="already has a live client"):
        factory.open(credentials(tmp_path, 1))
    # the same file under another id (or without its suffix) is the same session
    with pytest.raises(RuntimeError, match="already has a live client"):
        factory.open(credentials(tmp_path, 3, name="1.session"))
    with pytest.raises(RuntimeError, match="already has a live client"):
        factory.open(credentials(tmp_path, 4, name="1"))
    assert factory.live_sessions == {1, 2}

    await first.connect()
    await first.close()
    again = factory.open(credentials(tmp_path, 1))
    assert factory.live_sessions == {1, 2}

    await again.close()
    await other.close()
    await first.close()  # a second close of the old account must not release the new one's slot
    assert factory.live_sessions == frozenset()


# --- real session files --------------------------------------------------------------------------


def make_session_file(path: Path) -> None:
    session = SQLiteSession(str(path))
    session.set_dc(2, "149.154.167.51", 443)
    session.auth_key = AuthKey(bytes(range(256)))
    session.save()
    session.close()


def test_session_file_appends_the_suffix_telethon_would() -> None:
    assert session_file(Path("/s/12.session")) == Path("/s/12.session")
    assert session_file(Path("/s/12")) == Path("/s/12.session")
    assert session_file(Path("/s/12.sqlite")) == Path("/s/12.sqlite.session")


async def test_build_client_opens_the_session_file_itself(tmp_path: Path) -> None:
    make_session_file(tmp_path / "7.session")
    creds = credentials(tmp_path, 7, name="7")  # no suffix: Telethon adds it

    client = build_client(creds, ClientSettings(flood_sleep_threshold=3))
    try:
        assert client.session.filename == str(tmp_path / "7.session")
        assert client.session.dc_id == 2
        assert client.session.auth_key.key == bytes(range(256))
        assert client.flood_sleep_threshold == 3
    finally:
        client.session.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["7.session"]


async def test_a_missing_session_file_is_a_dead_account_and_creates_nothing(tmp_path: Path) -> None:
    account = TelethonFactory().open(credentials(tmp_path, 8))

    with pytest.raises(AccountNotAuthorizedError) as caught:
        await account.connect()

    assert classify(caught.value) == Outcome(K.ACCOUNT_DEAD, "SESSION_FILE_MISSING")
    assert list(tmp_path.iterdir()) == []
    await account.close()


async def test_a_resolved_peer_survives_a_restart_in_the_session_file(rig: Rig, tmp_path: Path) -> None:
    make_session_file(tmp_path / "9.session")
    fakes: list[FakeSender] = []

    def file_backed(creds: SessionCredentials, settings: ClientSettings) -> Any:
        client = build_client(creds, settings)
        fakes.append(FakeSender.install(client))
        return client

    made = TelethonFactory(client_builder=file_backed)
    first = made.open(credentials(tmp_path, 9))
    await first.connect()
    fakes[0].script(
        functions.contacts.ResolveUsernameRequest,
        types.contacts.ResolvedPeer(
            peer=types.PeerChannel(DEST.id), chats=[channel(DEST.id, 922, "adgroup")], users=[]
        ),
    )
    assert await first.resolve("@adgroup") == Peer("channel", DEST.id, 922)
    await first.close()

    second = made.open(credentials(tmp_path, 9))
    await second.connect()
    before = len(fakes[1].requests)
    assert await second.resolve(f"-100{DEST.id}") == Peer("channel", DEST.id, 922)
    assert await second.resolve("@adgroup") == Peer("channel", DEST.id, 922)
    assert len(fakes[1].requests) == before
    await second.close()
