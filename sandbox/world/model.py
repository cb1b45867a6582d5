"""What the simulated Telegram is made of: accounts, chats, the posts that arrived, the rules broken."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from core.link_parts import marked_id
from core.ports import PeerKind
from core.waits import MethodClass
from storage.sessionfile import auth_key_sha_of_file


@dataclass
class SimAccount:
    key: str
    user_id: int
    username: str | None = None
    phone: str | None = None
    dead: bool = False
    limited: str | None = None  # the error class name every send raises (PeerFloodError, ...)
    flood_until: dict[MethodClass, float] = field(default_factory=dict)  # method class -> its wait's end
    latency: float | None = None
    routes: list[str | None] = field(default_factory=list)  # each connect's proxy (masked); None: direct
    # Frozen by Telegram (``sandbox.world.frozen``): since when, until when, where to appeal; told: a
    # request was already answered FROZEN_METHOD_INVALID (asking again is a violation).
    frozen_since: float | None = None
    frozen_until: float | None = None
    appeal_url: str | None = None
    frozen_told: bool = False
    premium: bool = False  # Telegram Premium: its own messages keep custom emoji (``sandbox.world.texts``)


@dataclass
class SimChat:
    id: int  # bare id (channel 123 is '-100' + 123 when marked)
    kind: PeerKind = "channel"
    username: str | None = None
    title: str = ""
    broadcast: bool = False  # a channel: only admins post
    members: set[str] = field(default_factory=set)
    everyone: bool = False  # every account is a member (lenient worlds)
    admins: set[str] = field(default_factory=set)
    forum: bool = False
    topics: set[int] = field(default_factory=set)
    any_topic: bool = False
    slow_mode: int = 0
    forbidden: set[str] = field(default_factory=set)  # members that may not write
    read_only: bool = False  # nobody may write
    plain_forbidden: bool = False  # text messages refused (forwards of media still pass)
    noforwards: bool = False  # posts of this chat cannot be forwarded
    media_forbidden: bool = False  # media refused (CHAT_SEND_MEDIA_FORBIDDEN): text and forwards of text pass
    posts: dict[int, str] = field(default_factory=dict)
    any_post: bool = False  # every message id exists (lenient source channels)
    next_msg_id: int = 1
    # Memberships changed during a test (``World.remove_member`` / ``add_member`` / ``ban``):
    removed: set[str] = field(default_factory=set)  # out of the chat, whatever ``everyone`` says
    banned: set[str] = field(default_factory=set)  # out and banned: a "kicked" dialog, CHANNEL_PRIVATE
    archived: set[str] = field(default_factory=set)  # accounts keeping the chat in their archive folder
    albums: dict[int, int] = field(default_factory=dict)  # post id -> its album's grouped_id
    media: dict[int, str] = field(default_factory=dict)  # post id -> its media kind ('photo', ...); none: text
    closed_topics: set[int] = field(default_factory=set)  # topics only admins may post in (TOPIC_CLOSED)

    @property
    def marked_id(self) -> str:
        return marked_id(self.kind, self.id)

    @property
    def ref(self) -> str:
        return f"@{self.username}" if self.username else self.marked_id

    def matches(self, ref: str) -> bool:
        ref = ref.split("#", 1)[0]
        return ref.lower() == self.ref.lower() or ref == self.marked_id

    def is_member(self, account: str) -> bool:
        if account in self.removed or account in self.banned:
            return False
        return self.everyone or account in self.members or account in self.admins


class Delivery(NamedTuple):
    """One post that arrived in a chat."""

    chat_id: int
    chat_ref: str
    topic_id: int | None
    account: str
    message_id: int
    random_id: int
    at: float
    source_chat: int | None = None
    source_msg: int | None = None
    text: str | None = None
    drop_author: bool = False
    media: tuple[str, ...] = ()  # own media sent (``send_media``): each item's kind, in order
    entities: tuple[str, ...] = ()  # own text's or caption's formatting as it arrived: each entity's type
    no_webpage: bool = False  # own text sent without its link preview
    captions_dropped: bool = False  # a forward without its media captions (only ever without its header)


@dataclass(frozen=True)
class Violation:
    """A rule the client broke (a real account would be punished for it)."""

    kind: str  # 'flood_wait', 'slow_mode', 'two_live_ports', 'identity_change'
    account: str
    at: float
    detail: str = ""


def account_key_for_file(path: Path) -> str | None:
    """sha256 (hex) of the auth key in a Telethon session file; None if unreadable."""
    return auth_key_sha_of_file(path)


def stable_int(*parts: object, bits: int = 62) -> int:
    """A positive id derived from ``parts`` alone: the same in every process that builds the world."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    value: int = int.from_bytes(digest, "big") % (2**bits - 1) + 1
    return value
