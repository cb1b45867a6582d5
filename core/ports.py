"""The engine's ports: what it talks to, implemented by the layers around it.

- ``AccountPort`` / ``AccountFactory``: one Telegram account, and what its requests give back (peers,
  dialogs, new message ids). Two implementations: ``engine.telethon_adapter`` (real Telegram through
  Telethon) and ``sandbox.world`` (the simulated Telegram). Both raise Telethon's own exception classes
  (``telethon.errors``), so ``engine.outcomes.classify`` is the one place that turns failures into
  outcomes; ``Classifier`` is its type, for code that is handed it (``pool.health``).
- ``SessionSupply``: where the engine's sessions come from and where it reports on them, implemented
  by the pool (``pool.supply``) and wired in by the control bot's composition root.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from core.errors import PoolError
from core.outcomes import Outcome
from core.outcomes import Retirement as Retirement
from core.proxy import ProxySpec

PeerKind = Literal["user", "chat", "channel"]

# A text post's formatting, as Bot API MessageEntity dicts:
# {"type": "bold", "offset": 0, "length": 4} (+ "url", "language", "custom_emoji_id", "user": {"id":..}).
# Offsets and lengths are UTF-16 code units, as in both the Bot API and MTProto.
EntityDict = Mapping[str, Any]

MediaKind = Literal["photo", "video", "document", "animation"]
"""What a message's media is, as the Bot API names it (a voice note, sticker, poll... is 'document' or
not media we send: ``PostInfo.media`` says 'other' for those)."""

EXCERPT_CHARS = 120  # how much of a post's text ``PostInfo.excerpt`` keeps (a preview line, not the post)


@dataclass(frozen=True)
class PostInfo:
    """What one read of a post (``AccountPort.read_post``) says about it, as the reading account sees it:
    it exists (else the read raised MESSAGE_ID_INVALID), which ids a forward of it must carry (its album,
    in order, else the post alone), whether its chat or the message forbids forwarding (``noforwards``:
    a forward would fail CHAT_FORWARDS_RESTRICTED), each item's media kind ('' for text, 'other' for media
    we do not send ourselves), and the start of its text or caption."""

    msg_id: int
    ids: tuple[int, ...]
    grouped_id: int | None = None
    noforwards: bool = False
    media: tuple[str, ...] = ()  # per id of ``ids``: a MediaKind, '' (text only) or 'other'
    excerpt: str = ""

    @property
    def album_size(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class MediaItem:
    """One photo, video, document or animation of a post the customer sent the bot (kept in
    ``data/media/<sha256>``), as a session sends it: the file is uploaded once per session and the
    uploaded photo/document reused (``engine.telethon_media``). The caption and its formatting (Bot API
    entity dicts, UTF-16 offsets) go with the item that carries them (an album's caption: its first)."""

    kind: MediaKind
    path: Path
    sha256: str
    size: int
    mime: str | None = None
    file_name: str | None = None
    caption: str = ""
    entities: Sequence[EntityDict] = ()
    width: int = 0
    height: int = 0
    duration: float = 0.0


@dataclass(frozen=True)
class AccountInfo:
    """Who the account is (the answer to connect/check)."""

    user_id: int
    username: str | None = None
    phone: str | None = None
    name: str = ""
    premium: bool | None = None  # Telegram Premium (custom emoji in own posts); None: not known


UNKNOWN_SELF = AccountInfo(user_id=0)
"""Who the account is, not read yet, on purpose: credentials carrying it connect without asking
``users.getUsers`` (a connection costs the init request and at most one other, and the app-config check
takes that place when both are due, issue 22); the answer names no one and is never stored. The self
user is read by a later connection of the session (``engine.accounts``)."""


@dataclass(frozen=True)
class Peer:
    """A resolved peer: enough to address it without another request (id + access hash)."""

    kind: PeerKind
    id: int  # bare id as MTProto has it (channel 123, not -100123)
    access_hash: int | None = None


DialogKind = Literal["group", "forum", "channel"]
"""A basic group or supergroup ('group'), a supergroup with topics ('forum'), a broadcast channel."""

WriteBlock = Literal["left", "kicked", "banned", "read_only", "broadcast"]
"""Why an account may not post in a chat of its dialogs: it left, was removed, is banned from sending
(``banned_rights``), nobody but admins may send (``default_banned_rights``), or the chat is a broadcast
channel it does not administer."""

NOT_IN_CHAT: frozenset[WriteBlock] = frozenset({"left", "kicked"})
"""Blocks that mean the account is not in the chat at all, though its dialogs still list it."""


@dataclass(frozen=True)
class Dialog:
    """One chat in an account's own dialogs: what membership discovery learns and stores.

    Users and bots are never dialogs here: only chats a post can go to. ``peer`` carries this account's
    access hash (hashes are per account: never used for another session)."""

    peer: Peer
    kind: DialogKind
    title: str = ""
    username: str | None = None  # without '@'
    can_write: bool = True
    why_not: WriteBlock | None = None  # set exactly when ``can_write`` is False
    slow_mode: int = 0  # seconds between two posts of a member; 0: none
    archived: bool = False


JoinStatus = Literal["joined", "already", "pending", "too_many", "invalid"]
"""How a join ended: the account is now a member ('joined'), was one already ('already'), asked to join
a chat whose admins approve members (INVITE_REQUEST_SENT: 'pending'), is in as many channels as
Telegram allows (CHANNELS_TOO_MUCH: 'too_many'), or the target leads nowhere (an expired or unknown
invite, an unknown username, a user rather than a chat: 'invalid')."""


@dataclass(frozen=True)
class JoinResult:
    """What ``AccountPort.join`` came to. A flood wait is not a result: it is raised (the caller keeps it)."""

    status: JoinStatus
    dialog: Dialog | None = None  # the chat as this account now sees it (joined; already, when known)
    error: str | None = None  # Telegram's error name behind a status other than 'joined'


@dataclass(frozen=True)
class InvitePreview:
    """What an invite link leads to, as ``messages.checkChatInvite`` shows it to one account (no join)."""

    title: str = ""
    broadcast: bool = False  # a channel (only its admins post), not a group
    request_needed: bool = False  # joining sends a request its admins approve (or not)
    already_member: bool = False  # this account is in the chat (ChatInviteAlready)
    participants: int = 0
    dialog: Dialog | None = None  # when already a member: the chat with this account's access hash
    invalid: str | None = None  # 'INVITE_HASH_EXPIRED' / 'INVITE_HASH_INVALID': the link leads nowhere


@dataclass(frozen=True)
class AccountStatus:
    """What Telegram's app config (``help.getAppConfig``) says about the account itself: whether it is
    frozen (``freeze_since_date``), until when (``freeze_until_date``: then it is deleted unless an appeal
    succeeds) and where to appeal (``freeze_appeal_url``). Unix seconds; None when the config does not say."""

    frozen_since: float | None = None
    frozen_until: float | None = None
    appeal_url: str | None = None

    @property
    def frozen(self) -> bool:
        return self.frozen_since is not None


@dataclass(frozen=True)
class SessionCredentials:
    """What is needed to open one account: its session file and its identity (the API id/hash and device
    profile chosen once for the session and stored: it connects with nothing else)."""

    session_id: int
    path: Path
    api_id: int
    api_hash: str = field(repr=False)
    device: Mapping[str, str] = field(default_factory=dict)  # device_model, system_version, app_version,
    # lang_code, system_lang_code, lang_pack (the sidecar's, else a generated profile: pool.devices)
    proxy: ProxySpec | None = None  # the session's own proxy for life (None: it connects directly)
    test_mode: bool = False  # a session of Telegram's test servers: it connects to the test DC table only
    self_user: AccountInfo | None = None  # who the account is, as stored at its first connect (None: never read;
    # the port then asks Telegram once, ``users.getUsers`` of itself, and the caller stores the answer;
    # ``UNKNOWN_SELF``: not read and not to be asked by this connection, returned as is)


class AccountPort(Protocol):
    """One Telegram account, connected once and reused across cycles."""

    async def connect(self) -> AccountInfo:
        """Connect (if needed); returns who the account is: ``SessionCredentials.self_user`` when the
        credentials carry it (no request beyond Telegram's init: a dead account is then recognised by its
        first real request's 401), else asked once (``users.getUsers`` of itself, which checks the account
        is authorised) for the caller to store."""
        ...

    async def resolve(self, peer: str) -> Peer:
        """Resolve '@username' or '-100<id>' once; callers cache the answer."""
        ...

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
        """Forward the post in one request: ``msg_id`` alone, or every message of its ``album`` (the ids
        ``read_post`` gave, in order; one random_id each, the first ``random_id``, the rest
        ``album_random_ids``). Returns the new message's id in ``dest``; None when Telegram's answer
        carries no new message (nothing is known to have arrived: the send is *in doubt*).
        ``drop_author``: without the "Forwarded from" header; ``drop_media_captions`` (with it only, as
        Telegram's ForwardMessages flags): without the media's captions too."""
        ...

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
        """Send a text post with its formatting in one request; returns the new message id (None: the
        answer carries no new message, as for ``forward``). ``no_webpage``: no link preview. Custom emoji
        stay only when the account has Premium (Telegram shows the plain emoji otherwise)."""
        ...

    async def prepare_media(self, items: Sequence[MediaItem]) -> int:
        """Upload the files of ``items`` this session has not uploaded yet (``upload.saveFilePart`` ...,
        then ``messages.uploadMedia``, which posts nothing) and keep the photo/document Telegram made of
        each, for ``send_media`` to name. Posts nothing, so it runs before a send's intent is recorded,
        under its own timeout (uploads take as long as the bytes take): cancelled half-way, the files
        already made stay kept. Returns how many files it uploaded (0: all were kept). Requests of method
        class 'upload'; raises what they raise (a FloodWait, MEDIA_EMPTY for a file gone from the disk)."""
        ...

    async def send_media(
        self,
        *,
        dest: Peer,
        topic_id: int | None,
        items: Sequence[MediaItem],
        random_id: int,
    ) -> int | None:
        """Send the customer's own media post in one request: one item with ``messages.sendMedia``, an
        album (2..10 items) with ``messages.sendMultiMedia`` (one random_id per item, the first
        ``random_id``, the rest ``album_random_ids``). Names the files ``prepare_media`` kept; a file not
        kept (never prepared) is uploaded here, inside the send; an expired file reference uploads them
        again once and repeats the request with the same random_id(s). Returns the (first) new message's
        id; None as for ``forward``."""
        ...

    async def read_post(self, source: Peer, msg_id: int) -> PostInfo:
        """Read the post (``channels.getMessages``, ``messages.getMessages`` for a basic group): its album
        (messages sharing its ``grouped_id``, in order; ``(msg_id,)`` when it is none), whether it may be
        forwarded, its media and text (``PostInfo``). Raises MessageIdInvalidError when it no longer exists
        and what the source raises (CHANNEL_PRIVATE when this account may not read it, a flood wait, ...).
        One request of method class 'read'."""
        ...

    async def dialogs(self) -> Sequence[Dialog]:
        """The chats of the account's dialogs, every page of the main list and the archive folder
        (``messages.getDialogs``); raises like any request (a FloodWait included)."""
        ...

    async def join(self, target: str) -> JoinResult:
        """Join '@name' (``channels.joinChannel``) or the chat of an invite hash '+<hash>'
        (``messages.importChatInvite``); only ever because an admin asked. Raises a FloodWait and any
        failure that is not one of ``JoinStatus``."""
        ...

    async def check_invite(self, invite_hash: str) -> InvitePreview:
        """Preview an invite ('+<hash>' or the bare hash) without joining (``messages.checkChatInvite``)."""
        ...

    async def account_status(self) -> AccountStatus:
        """The account's own standing from its app config (``help.getAppConfig``, class 'read'): frozen
        or not. Asked at connect and then daily (``[pool] frozen_check_hours``)."""
        ...

    async def close(self) -> None:
        """Disconnect and release the session file."""
        ...


Classifier = Callable[[BaseException], Outcome]
"""Turns what a port raised into an outcome (``engine.outcomes.classify``, the one table)."""


class AccountFactory(Protocol):
    """Makes the port for one session (does not connect yet)."""

    def open(self, credentials: SessionCredentials) -> AccountPort: ...


@dataclass(frozen=True)
class PlanFill:
    """What filling a customer's plan came to: the sessions they hold now, and why fewer than the plan
    (the pool's error, when it could not give them all)."""

    held: Sequence[int]
    short_because: PoolError | None = None


class SessionSupply(Protocol):
    """Where the engine's sessions come from, and where it reports on them (implemented by the pool).

    The engine never moves a session file or picks a session itself: it asks for credentials and for
    the customer's plan to be filled, and reports an account that died or was limited."""

    async def credentials(self, session_id: int) -> SessionCredentials:
        """What opening the session needs; raises NotFound / NoPairCapacity when it cannot be opened."""
        ...

    async def ensure_plan(self, customer_id: int, now: float) -> list[int]:
        """Top the customer's healthy sessions up to their plan; returns every session they hold.
        Raises a PoolError when the pool cannot fill it (what it could give stays given)."""
        ...

    async def fill_plan(self, customer_id: int, now: float) -> PlanFill:
        """``ensure_plan``, and when the pool cannot fill the plan, whatever it can give now: a campaign
        runs short rather than not at all (its cycles top the plan up as sessions come back)."""
        ...

    async def retire(
        self, session_id: int, state: Retirement, reason: str, now: float, *, status: AccountStatus | None = None
    ) -> int | None:
        """The account is dead, limited or frozen (``status``: what its app config said, when known): out
        of its customer's hands; returns a replacement's id."""
        ...
