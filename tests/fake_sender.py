"""An offline stand-in for Telethon's network sender (``TelegramClient._sender``).

A real ``TelegramClient`` is built and its private ``_sender`` (an ``MTProtoSender``) is replaced by
``FakeSender``, which answers each request from a script instead of a socket. Everything above the
sender is Telethon's own code: request building and ``resolve``, ``_call`` with its flood-wait
bookkeeping and retries, error construction from RPC error strings, result parsing (each answer is
serialised to bytes and read back through the request's own ``read_result``, as the real sender
does) and the handling of the client's own updates (the real ``_store_own_updates`` is reused).

The parts of ``MTProtoSender`` that ``TelegramClient`` touches (read in telethon 1.45
``client/telegrambaseclient.py``, ``client/users.py``, ``client/updates.py``): ``connect(connection)``
returning False when already connected, ``disconnect()``, ``is_connected()``, ``send(request,
ordered)`` returning a future, ``disconnected``, ``auth_key``, ``_transport_connected()`` and
``_keepalive_ping()``.

``FakeSender.install`` is the one place that touches the client's private parts (``_sender``, and the
``_updates_queue`` the real sender writes into): tests assert on what the fake saw go out (``requests``,
``sent``) and on what it handed back (``queued_updates``), never on the client's private attributes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telethon import errors, functions, types
from telethon.extensions import BinaryReader
from telethon.network.mtprotosender import MTProtoSender

SELF_ID = 5000
NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

_WRAPPERS = (
    functions.InvokeWithLayerRequest,
    functions.InvokeWithoutUpdatesRequest,
    functions.InitConnectionRequest,
)
_VECTOR = 0x1CB5C415
_BOOL_TRUE = 0x997275B5


@dataclass(frozen=True)
class RpcFail:
    """An RPC error as Telegram sends it; turned into an exception by Telethon's own mapping."""

    code: int
    message: str


Reply = Any  # a TLObject, a list of TLObjects, an exception, an RpcFail, or a callable(request) -> Reply


def unwrap(request: Any) -> Any:
    """The request inside Telethon's InvokeWithLayer/InitConnection/InvokeWithoutUpdates wrappers."""
    while isinstance(request, _WRAPPERS):
        request = request.query
    return request


def self_user(user_id: int = SELF_ID) -> Any:
    return types.User(
        id=user_id,
        is_self=True,
        access_hash=1234,
        first_name="Ada",
        last_name="Seller",
        username="ada",
        phone="15550000",
    )


class FakeSender:
    """Records every request and answers it from per-request-type scripts (or sane defaults)."""

    def __init__(self, auth_key: Any = None, updates_queue: asyncio.Queue[Any] | None = None) -> None:
        self.auth_key = auth_key
        self._updates_queue = updates_queue
        self.requests: list[Any] = []  # inner requests, in order, wrappers stripped
        self.sent: list[Any] = []  # the same requests as they went out, in Telethon's wrappers
        self.connects = 0
        self.dialed: list[tuple[str, int, int]] = []  # (address, port, dc id) of each connect: where a socket would go
        self.disconnects = 0
        self.pings = 0
        self.refuse_connect: BaseException | None = None
        self._connected = False
        self._disconnected: asyncio.Future[None] | None = None
        self._scripts: defaultdict[type[Any], deque[Reply]] = defaultdict(deque)
        self._fallback: dict[type[Any], Reply] = {
            # TelegramClient.connect discards help.getConfig's answer: any TL object will do.
            functions.help.GetConfigRequest: types.help.ConfigSimple(date=NOW, expires=NOW, rules=[]),
            functions.users.GetUsersRequest: lambda _r: [self_user()],
            functions.updates.GetStateRequest: types.updates.State(pts=10, qts=0, date=NOW, seq=1, unread_count=0),
            functions.updates.GetDifferenceRequest: types.updates.DifferenceEmpty(date=NOW, seq=1),
            # A read of a channel's posts: each id asked for is a plain post (no album). Tests of
            # albums, deleted posts and unreadable sources script their own answer (``channel_posts``).
            functions.channels.GetMessagesRequest: lambda r: channel_posts(
                r.channel.channel_id, *(i.id for i in r.id if isinstance(i, types.InputMessageID))
            ),
            # An account Telegram did not freeze: its app config has no freeze_* keys.
            functions.help.GetAppConfigRequest: types.help.AppConfig(hash=1, config=types.JsonObject([])),
            # Uploads: every part is taken (the answer is boolTrue); what a file becomes is made by
            # messages.uploadMedia / sendMedia below, each time a new photo or document with its own id.
            functions.upload.SaveFilePartRequest: True,
            functions.upload.SaveBigFilePartRequest: True,
            functions.messages.UploadMediaRequest: lambda r: self.made_media(r.media),
            functions.messages.SendMediaRequest: lambda r: media_sent(
                r.peer.channel_id, self.next_message_id(), r.random_id, self.made_media(r.media)
            ),
            functions.messages.SendMultiMediaRequest: lambda r: album_sent(
                r.peer.channel_id,
                [(self.next_message_id(), s.random_id, self.made_media(s.media)) for s in r.multi_media],
            ),
        }
        self._made = 0  # photos/documents this fake Telegram made of uploads (their ids: 700001, ...)
        self._message_ids = 0

    @classmethod
    def install(cls, client: Any) -> FakeSender:
        """Replace ``client._sender`` (never connected yet) with a fake sharing its key and update queue."""
        real = client._sender
        fake = cls(auth_key=real.auth_key, updates_queue=client._updates_queue)
        client._sender = fake
        return fake

    # --- scripting --------------------------------------------------------------------------------

    def script(self, request_type: type[Any], *replies: Reply) -> None:
        """Queue answers for the next requests of this type (after them, the default applies)."""
        self._scripts[request_type].extend(replies)

    def always(self, request_type: type[Any], reply: Reply) -> None:
        """Answer every request of this type with ``reply`` once the script queue is empty."""
        self._fallback[request_type] = reply

    def next_message_id(self) -> int:
        self._message_ids += 1
        return 9000 + self._message_ids

    def made_media(self, media: Any) -> Any:
        """The MessageMedia Telegram makes of an InputMedia: a new photo/document for an upload, the
        same one (same id, fresh file reference) for a photo/document named again."""
        if isinstance(media, types.InputMediaUploadedPhoto):
            self._made += 1
            return types.MessageMediaPhoto(photo=photo(700000 + self._made))
        if isinstance(media, types.InputMediaUploadedDocument):
            self._made += 1
            return types.MessageMediaDocument(document=document(700000 + self._made, media.mime_type, media.attributes))
        if isinstance(media, types.InputMediaPhoto):
            return types.MessageMediaPhoto(photo=photo(media.id.id))
        if isinstance(media, types.InputMediaDocument):
            return types.MessageMediaDocument(document=document(media.id.id, "application/octet-stream", []))
        raise AssertionError(f"FakeSender makes no media of {type(media).__name__}")

    def of(self, request_type: type[Any]) -> list[Any]:
        return [r for r in self.requests if isinstance(r, request_type)]

    @property
    def queued_updates(self) -> int:
        """Updates this sender handed to the client (from the answers' ``Updates``) that nobody took yet."""
        return 0 if self._updates_queue is None else self._updates_queue.qsize()

    # --- the MTProtoSender surface TelegramClient uses ------------------------------------------

    async def connect(self, connection: Any) -> bool:
        # Never opened (no socket in tests); where it would have gone is what Telethon built it with.
        self.dialed.append((connection._ip, connection._port, connection._dc_id))
        if self._connected:
            return False
        if self.refuse_connect is not None:
            raise self.refuse_connect
        self.connects += 1
        self._connected = True
        self._disconnected = asyncio.get_running_loop().create_future()
        return True

    def is_connected(self) -> bool:
        return self._connected

    def _transport_connected(self) -> bool:
        return self._connected

    async def disconnect(self) -> None:
        if not self._connected:
            return
        self.disconnects += 1
        self._connected = False
        if self._disconnected is not None and not self._disconnected.done():
            self._disconnected.set_result(None)

    @property
    def disconnected(self) -> asyncio.Future[None]:
        if self._disconnected is None:
            self._disconnected = asyncio.get_running_loop().create_future()
            self._disconnected.set_result(None)
        return asyncio.shield(self._disconnected)

    def _keepalive_ping(self, rnd_id: int) -> None:
        del rnd_id
        self.pings += 1

    # The real sender puts the Updates a request returned into the client's update queue.
    _store_own_updates = MTProtoSender._store_own_updates

    def send(self, request: Any, ordered: bool = False) -> asyncio.Future[Any]:
        del ordered
        if not self._connected:
            raise ConnectionError("Cannot send requests while disconnected")
        bytes(request)  # the real sender serialises on send: a malformed request fails here too
        inner = unwrap(request)
        self.sent.append(request)
        self.requests.append(inner)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        reply: Any = self._reply_for(inner)
        while callable(reply) and not isinstance(reply, type):
            reply = reply(inner)
        if isinstance(reply, type) and issubclass(reply, BaseException):
            error_type: Any = reply  # Telethon's generated error classes take the request
            reply = error_type(request=request) if issubclass(reply, errors.RPCError) else error_type()
        if isinstance(reply, RpcFail):
            future.set_exception(errors.rpc_message_to_error(types.RpcError(reply.code, reply.message), request))
        elif isinstance(reply, BaseException):
            future.set_exception(reply)
        else:
            result = _round_trip(request, reply)
            self._store_own_updates(result)
            future.set_result(result)
        return future

    def _reply_for(self, inner: Any) -> Reply:
        for request_type, queue in self._scripts.items():
            if isinstance(inner, request_type) and queue:
                return queue.popleft()
        for request_type, reply in self._fallback.items():
            if isinstance(inner, request_type):
                return reply
        raise AssertionError(f"FakeSender has no answer scripted for {type(inner).__name__}")


def _round_trip(request: Any, reply: Any) -> Any:
    """Serialise the answer and read it back with the request's own parser, as the real sender does."""
    if reply is True:
        data = struct.pack("<I", _BOOL_TRUE)
    elif isinstance(reply, list):
        data = struct.pack("<Ii", _VECTOR, len(reply)) + b"".join(bytes(item) for item in reply)
    else:
        data = bytes(reply)
    with BinaryReader(data) as reader:
        return request.read_result(reader)


# --- answers a test builds often -------------------------------------------------------------------


def channel(channel_id: int, access_hash: int, username: str | None = None, *, megagroup: bool = True) -> Any:
    return types.Channel(
        id=channel_id,
        title=f"group {channel_id}",
        photo=types.ChatPhotoEmpty(),
        date=NOW,
        access_hash=access_hash,
        username=username,
        megagroup=megagroup,
    )


def channel_message_sent(
    channel_id: int, new_id: int, random_id: int, *, pts: int = 100, chats: list[Any] | None = None
) -> Any:
    """What messages.forwardMessages/sendMessage answer for a supergroup: the id mapping + the message."""
    return types.Updates(
        updates=[
            types.UpdateMessageID(id=new_id, random_id=random_id),
            types.UpdateNewChannelMessage(
                message=types.Message(
                    id=new_id,
                    peer_id=types.PeerChannel(channel_id),
                    date=NOW,
                    message="hello",
                    out=True,
                    from_id=types.PeerUser(SELF_ID),
                ),
                pts=pts,
                pts_count=1,
            ),
        ],
        users=[],
        chats=chats or [],
        date=NOW,
        seq=0,
    )


ReplyFactory = Callable[[Any], Reply]


def dialogs_of(chats: list[Any]) -> Any:
    """What messages.getDialogs answers for an account in these chats: one complete page (not a slice),
    each chat a dialog without a top message."""
    dialogs = []
    for chat in chats:
        peer = types.PeerChannel(chat.id) if isinstance(chat, types.Channel) else types.PeerChat(chat.id)
        dialogs.append(
            types.Dialog(
                peer=peer, top_message=0, read_inbox_max_id=0, read_outbox_max_id=0, unread_count=0,
                unread_mentions_count=0, unread_reactions_count=0, unread_poll_votes_count=0,
                notify_settings=types.PeerNotifySettings(),
            )
        )
    return types.messages.Dialogs(dialogs=dialogs, messages=[], chats=list(chats), users=[])


def channel_posts(channel_id: int, *posts: int | tuple[int, int]) -> Any:
    """A ``channels.getMessages`` answer holding these posts of the channel: an id, or (id, grouped_id)
    for a message of an album. The ids asked for that are not listed are simply absent, as deleted ones."""
    messages = []
    for post in posts:
        msg_id, grouped_id = post if isinstance(post, tuple) else (post, None)
        messages.append(types.Message(
            id=msg_id, peer_id=types.PeerChannel(channel_id), date=NOW, message=f"post {msg_id}", grouped_id=grouped_id
        ))
    return types.messages.ChannelMessages(pts=1, count=len(messages), messages=messages, topics=[], chats=[], users=[])


def frozen_app_config(since: int, until: int, appeal_url: str = "https://t.me/spambot") -> Any:
    """What help.getAppConfig answers for a frozen account (Telegram's keys, unix seconds)."""
    return types.help.AppConfig(
        hash=2,
        config=types.JsonObject([
            types.JsonObjectValue("freeze_since_date", types.JsonNumber(float(since))),
            types.JsonObjectValue("freeze_until_date", types.JsonNumber(float(until))),
            types.JsonObjectValue("freeze_appeal_url", types.JsonString(appeal_url)),
            types.JsonObjectValue("reactions_uniq_max", types.JsonNumber(11.0)),
        ]),
    )


def photo(photo_id: int) -> Any:
    """A photo as Telegram describes it (its access hash and file reference derive from its id)."""
    return types.Photo(
        id=photo_id, access_hash=photo_id * 7, file_reference=b"ref%d" % photo_id, date=NOW,
        sizes=[types.PhotoSize(type="x", w=800, h=600, size=1000)], dc_id=2,
    )


def document(document_id: int, mime_type: str, attributes: list[Any]) -> Any:
    return types.Document(
        id=document_id, access_hash=document_id * 7, file_reference=b"ref%d" % document_id, date=NOW,
        mime_type=mime_type, size=1000, dc_id=2, attributes=list(attributes),
    )


def media_sent(channel_id: int, new_id: int, random_id: int, media: Any) -> Any:
    """What messages.sendMedia answers in a supergroup: the id mapping + the new message with its media."""
    return album_sent(channel_id, [(new_id, random_id, media)])


def album_sent(channel_id: int, items: list[tuple[int, int, Any]]) -> Any:
    """What messages.sendMultiMedia answers: per item (new id, random_id, media) its id mapping and message."""
    updates: list[Any] = []
    for new_id, random_id, _media in items:
        updates.append(types.UpdateMessageID(id=new_id, random_id=random_id))
    for index, (new_id, _random_id, media) in enumerate(items):
        updates.append(types.UpdateNewChannelMessage(
            message=types.Message(
                id=new_id, peer_id=types.PeerChannel(channel_id), date=NOW, message="", out=True,
                from_id=types.PeerUser(SELF_ID), media=media, grouped_id=77 if len(items) > 1 else None,
            ),
            pts=100 + index,
            pts_count=1,
        ))
    return types.Updates(updates=updates, users=[], chats=[], date=NOW, seq=0)
