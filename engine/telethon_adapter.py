"""The account port on real Telegram, through Telethon: one long-lived client per session.

What it does and does not do, and why:

* One ``TelegramClient`` per session, kept connected across cycles; never ``start()`` or ``async with``
  (both prompt on stdin). A connection costs Telegram's init request (``initConnection`` carrying
  ``help.getConfig``) and nothing else: Telethon's own ``connect`` would add ``users.getUsers`` of itself,
  ``updates.getState`` and ``updates.getDifference`` (to start following updates, which a posting session
  never reads); ``_SendOnlyClient`` stops them (``_NoUpdateState``), and the ``getUsers`` Telethon adds
  after each reconnect of its own (``_handle_auto_reconnect``). Those reconnects (a dropped connection,
  ``auto_reconnect``) happen inside Telethon's sender, outside ``[engine] connects_per_second``
  (docs/SCALING.md). Who the account is comes from the
  credentials (``SessionCredentials.self_user``, stored at the session's first connect); only when they
  do not carry it does ``connect`` ask ``users.getUsers([self])``, directly, not through ``get_me``
  (which turns a 401 into None): a 401 surfaces as its own class (AuthKeyUnregistered, SessionRevoked,
  ...: ACCOUNT_DEAD, the class recorded as the reason); an empty answer is ``AccountNotAuthorizedError``.
  With the self user known, a dead account is recognised by its first real request, which meets the same
  401 classes. A key Telegram forgot answers -404 at transport level: Telethon raises ``AuthKeyNotFound``
  (ACCOUNT_DEAD too), already to the init request. ``account_status`` reads ``help.getAppConfig``
  (``engine.app_config``: is the account frozen).
* The engine owns waiting and retrying: ``flood_sleep_threshold`` 0 by default (Telethon raises every
  flood wait instead of sleeping through it), few request/connection retries, and
  ``raise_last_call_error`` so a failure surfaces as the RPC error itself, not a ValueError.
* A forward or a text is exactly one raw request built from cached ids and access hashes: no
  ``get_entity``/``get_messages``/resolve on the way; the ``random_id`` is the caller's, so a retry
  after a lost answer is dropped by Telegram instead of posting twice. An album is forwarded whole in
  that one request (``read_post`` found its ids once; ``engine.albums``). An answer that names no new
  message returns None: not a delivery (the engine records it in doubt).
* No update handling at all. Even with ``receive_updates=False`` Telethon feeds each request's own
  answer into its update state: every group posted to gets tracked, and a gap (other members wrote in
  between, i.e. always) or 15 idle minutes makes it call ``updates.getChannelDifference`` for that group
  in the background. ``_SendOnlyClient`` drains those updates unread. (It overrides the private
  ``_update_loop`` and reads ``_updates_queue``/``_updates_handle``: Telethon is pinned to 1.45.x.)
* Telethon does not remember flood waits here: it files them under the InvokeWithoutUpdates wrapper's
  id but checks the inner request's, so a request during a wait really goes out. Honouring FLOOD_WAIT
  is the engine's job alone.
* A session file is opened by one client at a time (two clients on one file lock the database; one
  key used from two places is AUTH_KEY_DUPLICATED and the account is lost): ``TelethonFactory`` refuses
  a second live account for the same session id or file until the first is closed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telethon import TelegramClient, errors, functions, types, utils
from telethon._updates.messagebox import MessageBox
from telethon.network.connection import ConnectionTcpMTProxyRandomizedIntermediate
from telethon.sessions import Session

from core.ports import (
    AccountInfo,
    AccountStatus,
    Dialog,
    EntityDict,
    InvitePreview,
    JoinResult,
    MediaItem,
    Peer,
    PostInfo,
    SessionCredentials,
)
from core.proxy import ProxySpec
from engine import albums, joining
from engine.albums import album_random_ids
from engine.app_config import status_from_app_config
from engine.dialogs import dialog_of
from engine.outcomes import AccountNotAuthorizedError, PeerNotCachedError
from engine.session_address import open_session_file, pin_address
from engine.telethon_entities import entities_to_tl
from engine.telethon_media import MediaUploads, prepare_media, send_media
from engine.telethon_peers import find_new_message_id, input_peer, peer_from_input, peer_from_resolved

logger = logging.getLogger(__name__)

__all__ = [
    "ClientBuilder",
    "ClientSettings",
    "TelethonAccount",
    "TelethonFactory",
    "build_client",
    "entities_to_tl",
    "self_info",
    "session_file",
]

SESSION_SUFFIX = ".session"  # Telethon's SQLiteSession appends it to a name that lacks it
_DEVICE_KEYS = ("device_model", "system_version", "app_version", "lang_code", "system_lang_code")
"""The device fields ``TelegramClient`` takes as arguments; ``lang_pack`` it does not (see ``build_client``)."""
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}$")
_MARKED_ID_RE = re.compile(r"^-?[0-9]{1,19}$")
_IDLE_CHECK_S = 30.0  # how often the drain loop notices a connection that dropped


@dataclass(frozen=True)
class ClientSettings:
    """How each ``TelegramClient`` is built. Small numbers on purpose: the engine waits and retries."""

    flood_sleep_threshold: int = 0  # seconds Telethon may sleep through a flood wait itself (keep 0..5)
    request_retries: int = 1  # one retry lets Telethon finish a DC migration; the engine retries the rest
    connection_retries: int = 2
    retry_delay: int = 1
    timeout: int = 10  # seconds to connect
    entity_cache_limit: int = 5000
    ipv6: bool = False  # [pool] ipv6: the DC address family (engine.session_address) and Telethon's use_ipv6


ClientBuilder = Callable[[SessionCredentials, ClientSettings], Any]
"""Makes the (not yet connected) ``TelegramClient`` for a session; tests inject one with a fake sender."""


class _NoUpdateState(MessageBox):  # type: ignore[misc]  # telethon is untyped
    """Telethon's update state for a client that follows no updates.

    ``TelegramClient.connect`` (1.45) asks ``users.getUsers`` of itself and then, through ``_on_login``,
    ``updates.getState`` and ``updates.getDifference`` whenever its message box "is empty" (holds no
    account-wide pts yet): the start of following updates. A posting session never reads updates, so this
    box is never empty and those three requests are never made; its state stays empty (nothing to
    save at disconnect beyond the zero state Telethon writes). Only the replaced update loop
    (``_SendOnlyClient._update_loop``) would have read it."""

    def is_empty(self) -> bool:
        return False


class _SendOnlyClient(TelegramClient):  # type: ignore[misc]  # telethon is untyped
    """A ``TelegramClient`` that never processes updates (see the module docstring for why)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._message_box = _NoUpdateState(self._log["messagebox"])
        # What ``_on_login`` set after its getUsers: a posting session is logged in (were it not, its
        # requests answer 401, classified ACCOUNT_DEAD). Left unknown, Telethon would ask updates.getState
        # to find out (``is_user_authorized``) when a request meets PHONE_MIGRATE / NETWORK_MIGRATE.
        self._authorized = True

    async def _handle_auto_reconnect(self) -> None:
        # Telethon's sender calls this after each reconnect it makes by itself (a dropped connection): its
        # body is ``get_me()``, a ``users.getUsers`` of self "to say we still want updates". A posting session
        # follows no updates and knows who it is: the reconnect costs the init request alone (issue 22).
        return None

    async def _update_loop(self) -> None:
        # Replaces Telethon's update loop: a task started by every connect() and cancelled by disconnect().
        # The queue must still be drained (the sender keeps putting each answer's Updates into it), and
        # the task must end by itself once the connection is gone or a reconnect started a successor,
        # or every reconnect after a dropped connection would leave one more task behind.
        queue = self._updates_queue
        this = asyncio.current_task()
        while self.is_connected() and self._updates_handle is this:
            try:
                await asyncio.wait_for(queue.get(), timeout=_IDLE_CHECK_S)
            except TimeoutError:
                continue


def self_info(me: Any) -> AccountInfo:
    """Who the account is, from its own ``User`` (``users.getUsers`` of itself). Issue 19 part A reads the
    account's Premium flag (``me.premium``) here too: the same answer, no request of its own."""
    return AccountInfo(
        user_id=int(me.id),
        username=me.username or None,
        phone=me.phone or None,
        name=" ".join(part for part in (me.first_name, me.last_name) if part),
        premium=bool(me.premium),
    )


def session_file(path: Path) -> Path:
    """The file Telethon's ``SQLiteSession`` opens for ``path`` (it appends ``.session`` when missing)."""
    return path if path.name.endswith(SESSION_SUFFIX) else path.with_name(path.name + SESSION_SUFFIX)


def build_client(credentials: SessionCredentials, settings: ClientSettings, *, session: Session | None = None) -> Any:
    """A ``TelegramClient`` for the session, not connected. ``session`` overrides the file (tests).
    It connects to its DC id's published address, never its file's (``engine.session_address``)."""
    if session is None:
        file = session_file(credentials.path)
        # SQLiteSession creates a missing file: the client would then make a new, unauthorised key
        # and leave an empty session behind instead of saying the account is gone.
        if not file.is_file():
            raise AccountNotAuthorizedError("the session file is missing", message="SESSION_FILE_MISSING")
        session = open_session_file(file, ipv6=settings.ipv6, test=credentials.test_mode)
    else:
        pin_address(session, ipv6=settings.ipv6, test=credentials.test_mode)
    device = {key: str(credentials.device[key]) for key in _DEVICE_KEYS if credentials.device.get(key)}
    try:
        client = _SendOnlyClient(
            session,
            credentials.api_id,
            credentials.api_hash,
            use_ipv6=settings.ipv6,
            receive_updates=False,
            flood_sleep_threshold=settings.flood_sleep_threshold,
            request_retries=settings.request_retries,
            connection_retries=settings.connection_retries,
            retry_delay=settings.retry_delay,
            timeout=settings.timeout,
            raise_last_call_error=True,
            entity_cache_limit=settings.entity_cache_limit,
            **device,
            **proxy_args(credentials.proxy),
        )
    except BaseException:
        session.close()
        raise
    # Telethon 1.45 has no ``lang_pack`` argument: it builds ``InitConnectionRequest(lang_pack='')`` once in
    # the constructor and sends that object on every (re)connect, so the stored pack (an official app's,
    # from a sidecar with that app's id) is set on it here. Without one it stays '' as Telethon sends it.
    client._init_request.lang_pack = str(credentials.device.get("lang_pack") or "")
    return client


def proxy_args(spec: ProxySpec | None) -> dict[str, Any]:
    """Telethon's arguments for the session's proxy (none: direct).

    SOCKS5 / HTTP: ``proxy=`` in the dict form Telethon 1.45 hands to python-socks (``Connection.
    _parse_proxy``), names resolved at the proxy (``rdns``). MTProxy: the MTProxy connection class with
    ``proxy=(host, port, secret)``; the randomized-intermediate codec works for plain and 'dd' secrets
    (Telethon strips the 'dd' before building the header), and Telethon puts the proxy in InitConnection
    as Telegram's own apps do."""
    if spec is None:
        return {}
    if spec.scheme == "mtproxy":
        return {"connection": ConnectionTcpMTProxyRandomizedIntermediate, "proxy": (spec.host, spec.port, spec.secret)}
    return {
        "proxy": {
            "proxy_type": spec.scheme,
            "addr": spec.host,
            "port": spec.port,
            "username": spec.username,
            "password": spec.password,
            "rdns": True,
        }
    }


class TelethonAccount:
    """``AccountPort`` for one session. Open it through ``TelethonFactory`` (one live client per session)."""

    def __init__(
        self,
        credentials: SessionCredentials,
        *,
        settings: ClientSettings | None = None,
        client_builder: ClientBuilder = build_client,
        on_close: Callable[[], None] | None = None,
        media: MediaUploads | None = None,
    ) -> None:
        self._credentials = credentials
        self._settings = settings or ClientSettings()
        self._build = client_builder
        self._on_close = on_close
        self._client: Any = None
        self._closed = False
        self._media = media if media is not None else MediaUploads()  # the files this session uploaded: each
        # is uploaded once (engine.telethon_media), also across the ports of its life (``TelethonFactory``)
        self._self_user = credentials.self_user  # who the account is (asked once when the credentials lack it)

    @property
    def session_id(self) -> int:
        return self._credentials.session_id

    @property
    def closed(self) -> bool:
        return self._closed

    async def connect(self) -> AccountInfo:
        """Connect when not connected (a live connection is reused); returns who the account is.

        A new connection costs Telegram's init request (``help.getConfig`` inside ``initConnection``) and
        nothing more when the credentials carry the account's self user (``SessionCredentials.self_user``);
        otherwise, or on a live connection whose self user this port never learned, one
        ``users.getUsers`` of itself, once per port: the caller stores its answer."""
        client = self._client_or_build()
        fresh = not client.is_connected()
        if fresh:
            await client.connect()
        info = self._self_user
        if info is None:
            info = self._self_user = await self._ask_self(client)
        if fresh:  # the engine's accounts log the connect at INFO (with its peers): one line of each is enough
            logger.debug("session %s connected as user %s", self.session_id, info.user_id)
        return info

    @staticmethod
    async def _ask_self(client: Any) -> AccountInfo:
        # Not is_user_authorized(): it turns *any* RPC error (a flood wait, a 500) into False, which
        # would condemn a live account. Not get_me() either: it swallows the 401 that says why.
        users = await client(functions.users.GetUsersRequest([types.InputUserSelf()]))
        me = users[0] if users else None
        if not isinstance(me, types.User):
            raise AccountNotAuthorizedError("the session is not logged in")
        return self_info(me)

    async def resolve(self, peer: str) -> Peer:
        """'@name' (or 'name') through contacts.resolveUsername unless this session already knows it;
        a marked id ('-100<id>', '-<id>', '<user id>') from the session's cache, without a request."""
        text = peer.strip()
        if _MARKED_ID_RE.fullmatch(text):
            return await self._resolve_id(text)
        name = text.removeprefix("@")
        if not _USERNAME_RE.fullmatch(name):
            raise errors.UsernameInvalidError(request=None)
        return await self._resolve_username(name.lower())

    async def forward(
        self,
        *,
        source: Peer,
        msg_id: int,
        dest: Peer,
        topic_id: int | None,
        random_id: int,
        drop_author: bool,
        album: Sequence[int] = (),
        drop_media_captions: bool = False,
    ) -> int | None:
        """One messages.forwardMessages of the post (the whole ``album`` when it is one, one random_id per
        message: ``engine.albums``); returns the new message's id, None if the answer names none.
        ``drop_author`` / ``drop_media_captions``: the request's flags of those names."""
        client = await self._ready()
        ids = list(album) or [msg_id]
        request = functions.messages.ForwardMessagesRequest(
            from_peer=input_peer(source),
            id=ids,
            to_peer=input_peer(dest),
            random_id=album_random_ids(random_id, len(ids)),
            drop_author=drop_author,
            drop_media_captions=drop_media_captions,
            top_msg_id=topic_id,
        )
        result = await client(request)
        return self._new_message_id(result, random_id, dest)

    async def send_text(
        self,
        *,
        dest: Peer,
        topic_id: int | None,
        text: str,
        entities: Sequence[EntityDict],
        random_id: int,
        no_webpage: bool = False,
    ) -> int | None:
        """One messages.sendMessage with the post's formatting (custom emoji too: Telegram keeps them for a
        Premium account, shows the plain emoji otherwise); returns the new message's id (None: the answer
        names none). ``no_webpage``: without the link preview."""
        client = await self._ready()
        tl_entities = entities_to_tl(entities, lambda user_id: self._cached_input_user(client, user_id))
        request = functions.messages.SendMessageRequest(
            peer=input_peer(dest),
            message=text,
            entities=tl_entities or None,
            random_id=random_id,
            reply_to=(
                types.InputReplyToMessage(reply_to_msg_id=topic_id, top_msg_id=topic_id)
                if topic_id is not None
                else None
            ),
            no_webpage=no_webpage,
        )
        result = await client(request)
        return self._new_message_id(result, random_id, dest)

    async def prepare_media(self, items: Sequence[MediaItem]) -> int:
        """Upload the post's files this session has not uploaded yet, each made a photo/document by
        ``messages.uploadMedia`` and kept for ``send_media`` (``engine.telethon_media``); posts nothing."""
        return await prepare_media(await self._ready(), self._media, items)

    async def send_media(
        self,
        *,
        dest: Peer,
        topic_id: int | None,
        items: Sequence[MediaItem],
        random_id: int,
    ) -> int | None:
        """The customer's own media post: one messages.sendMedia, or one messages.sendMultiMedia for an
        album, naming the files ``prepare_media`` kept (``engine.telethon_media``); returns the (first) new
        message's id, None if the answer names none."""
        client = await self._ready()
        result = await send_media(
            client, self._media, peer=input_peer(dest), topic_id=topic_id, items=items, random_id=random_id,
            input_user=lambda user_id: self._cached_input_user(client, user_id),
        )
        return self._new_message_id(result, random_id, dest)

    async def read_post(self, source: Peer, msg_id: int) -> PostInfo:
        """What the post is (its album, whether it may be forwarded, media, text) in one read: see
        ``engine.albums.read_post``."""
        return await albums.read_post(await self._ready(), input_peer(source), msg_id)

    async def dialogs(self) -> Sequence[Dialog]:
        """Every chat of the account's dialogs: the main list, then the archive (folder 1), each read to
        its end by Telethon's ``iter_dialogs`` (``messages.getDialogs`` pages). Telethon keeps each
        chat's access hash in the session's entity table as it goes, so marked ids resolve afterwards.

        Cost: pages of 100, and Telethon asks until a page comes back short, so a folder of n dialogs is
        n // 100 + 1 requests (50 dialogs and an empty archive: 2; 500: 7). A FloodWait on any page is
        raised (nothing is slept through); the pages read before it are in the session already."""
        client = await self._ready()
        found: dict[tuple[str, int], Dialog] = {}
        for folder in (0, 1):
            async for item in client.iter_dialogs(folder=folder):
                dialog = dialog_of(item.entity, archived=folder == 1)
                if dialog is not None:
                    found.setdefault((dialog.peer.kind, dialog.peer.id), dialog)
        return list(found.values())

    async def join(self, target: str) -> JoinResult:
        """Join '@name' or an invite's chat ('+<hash>'): see ``engine.joining``. Telethon keeps the
        joined chat's access hash in the session's entity table, as for any answer naming a chat."""
        return await joining.join(await self._ready(), target)

    async def check_invite(self, invite_hash: str) -> InvitePreview:
        """Preview an invite without joining (``messages.checkChatInvite``)."""
        return await joining.check_invite(await self._ready(), invite_hash)

    async def account_status(self) -> AccountStatus:
        """One ``help.getAppConfig`` (hash 0: the whole config): frozen or not (``engine.app_config``)."""
        client = await self._ready()
        return status_from_app_config(await client(functions.help.GetAppConfigRequest(hash=0)))

    async def close(self) -> None:
        """Disconnect and close the session file; idempotent, never raises (failures are logged)."""
        if self._closed:
            return
        self._closed = True
        client, self._client = self._client, None
        try:
            if client is not None:
                await client.disconnect()
        except Exception as exc:  # closing on the way out: report, don't mask the caller's own error
            logger.warning("session %s: closing its client failed: %s", self.session_id, type(exc).__name__)
        finally:
            if self._on_close is not None:
                self._on_close()

    # --- internals ------------------------------------------------------------------------------------

    def _client_or_build(self) -> Any:
        if self._closed:
            raise RuntimeError(f"session {self.session_id}: the account was closed")
        if self._client is None:
            self._client = self._build(self._credentials, self._settings)
        return self._client

    async def _ready(self) -> Any:
        client = self._client_or_build()
        if not client.is_connected():
            await self.connect()
        return client

    async def _resolve_id(self, text: str) -> Peer:
        bare_id, peer_type = utils.resolve_id(int(text))
        if bare_id <= 0:  # id 0 is where Telethon's session keeps its own "who am I" row
            raise PeerNotCachedError(text)
        if peer_type is types.PeerChat:
            return Peer("chat", bare_id)  # basic groups need no access hash
        client = self._client_or_build()
        try:
            cached = await utils.maybe_async(client.session.get_input_entity(int(text)))
        except ValueError:
            raise PeerNotCachedError(text) from None
        return peer_from_input(cached, text)

    async def _resolve_username(self, name: str) -> Peer:
        client = await self._ready()
        # Telethon's own get_input_entity also trusts the session's username rows; resolving is the
        # expensive call in flood terms, so a known name costs nothing.
        row = await utils.maybe_async(client.session.get_entity_rows_by_username(name))
        if row:
            marked_id, access_hash = row
            bare_id, peer_type = utils.resolve_id(marked_id)
            if peer_type is types.PeerChat:
                return Peer("chat", bare_id)
            if access_hash:
                return Peer("channel" if peer_type is types.PeerChannel else "user", bare_id, access_hash)
        resolved = await client(functions.contacts.ResolveUsernameRequest(username=name))
        return peer_from_resolved(resolved, f"@{name}")

    @staticmethod
    def _cached_input_user(client: Any, user_id: int) -> Any:
        try:
            cached = client.session.get_input_entity(user_id)
        except ValueError:
            return None
        if isinstance(cached, types.InputPeerUser):
            return types.InputUser(cached.user_id, cached.access_hash)
        return None

    def _new_message_id(self, result: Any, random_id: int, dest: Peer) -> int | None:
        new_id = find_new_message_id(result, random_id, dest)
        if new_id is None:
            # Telegram took the request but names no new message (it may have dropped it silently):
            # not a delivery. The engine records the send in doubt and does not repeat it this cycle.
            logger.warning(
                "session %s: sent to %s %s but the answer (%s) names no new message",
                self.session_id,
                dest.kind,
                dest.id,
                type(result).__name__,
            )
        return new_id


class TelethonFactory:
    """``AccountFactory`` for real Telegram; enforces one live client per session id and file."""

    def __init__(self, settings: ClientSettings | None = None, *, client_builder: ClientBuilder = build_client) -> None:
        self._settings = settings or ClientSettings()
        self._build = client_builder
        self._live_ids: set[int] = set()
        self._live_files: set[Path] = set()
        # The files each session uploaded, kept across its ports: a port closed while its session idles
        # (``engine.accounts``) and opened again names them instead of uploading them again.
        self._media: dict[int, MediaUploads] = {}

    def open(self, credentials: SessionCredentials) -> TelethonAccount:
        file = session_file(credentials.path).absolute()
        if credentials.session_id in self._live_ids or file in self._live_files:
            raise RuntimeError(
                f"session {credentials.session_id} already has a live client; close it before opening another"
            )
        self._live_ids.add(credentials.session_id)
        self._live_files.add(file)

        def release() -> None:
            self._live_ids.discard(credentials.session_id)
            self._live_files.discard(file)

        media = self._media.setdefault(credentials.session_id, MediaUploads())
        return TelethonAccount(
            credentials, settings=self._settings, client_builder=self._build, on_close=release, media=media
        )

    @property
    def live_sessions(self) -> frozenset[int]:
        return frozenset(self._live_ids)
