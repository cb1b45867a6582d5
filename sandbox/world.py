"""The simulated Telegram: accounts, channels, groups and their rules, behind the engine's port.

``World`` implements ``core.ports.AccountFactory``; each port it opens is one account. Failures are
raised as real ``telethon.errors`` instances, so ``engine.outcomes.classify`` treats the simulation and
Telegram alike. The world enforces the rules that keep real accounts alive and records every breach in
``violations`` (tests assert it stays empty):

* a flood wait is remembered per account: a request before it ends raises ``FloodWaitError`` again;
* slow mode is a window per (account, group): a post inside it raises ``SlowModeWaitError``;
* only members may post, nobody is ever joined automatically;
* a repeated ``random_id`` from one account to one chat is delivered once (the original message id is
  returned), as Telegram does;
* one live connection per account (a second one is recorded as ``two_live_ports``).

Accounts are keyed by the sha256 of the session file's auth key (read read-only from the real file),
so an account added for a test still matches after the pool has imported and renamed the file; a
session without a readable file is keyed ``session-<id>``.

Lenient mode (the demo's default): any group reference resolves to a group every account is a member
of, and any ``@channel/<id>`` post exists. Scripted worlds come from code or a JSON file (see
``World.from_dict``). Delivered posts can be appended to a JSON-lines file, flushed per post and read back
on start, so a process killed with SIGKILL and restarted can be checked for double posts. The chats a
lenient world made up go to a file beside it (``<log>.chats.jsonl``), written before their peer is
handed out: a peer the engine cached in its database stays valid after a restart, as on Telegram.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple, TypeVar

from telethon import errors

from core.clock import Clock
from core.ports import AccountInfo, EntityDict, Peer, PeerKind, SessionCredentials
from storage.sessionfile import auth_key_sha_of_file

T = TypeVar("T")

logger = logging.getLogger(__name__)

__all__ = [
    "Delivery",
    "Fault",
    "FaultKind",
    "SimAccount",
    "SimChat",
    "SimPort",
    "Violation",
    "World",
    "account_key_for_file",
]

_CHANNEL_BASE = 10**12
SEND_METHODS = ("forward", "send_text")

FaultKind = Literal[
    "flood_wait",  # FloodWaitError(seconds); the account is under the wait afterwards
    "peer_flood",  # PeerFloodError; the account stays spam-limited
    "banned_in_channel",  # UserBannedInChannelError; the account stays limited
    "dead",  # AuthKeyUnregisteredError; the account stays dead
    "timeout",  # the request hangs for ``seconds`` (0: forever) then raises TimeoutError
    "transient",  # ConnectionError
    "error",  # any telethon.errors class named by ``error``
]


@dataclass
class Fault:
    """A scripted failure: hits the matching requests after ``after`` of them went through.

    ``deliver=True`` (timeout/transient) delivers the post first and loses the answer: the case a
    retry with the same random_id must not turn into a double post.
    """

    kind: FaultKind
    account: str | None = None  # account key; None: any account
    session: int | None = None  # or the engine's session id (handy in a JSON world file)
    group: str | None = None  # '@name' or '-100<id>' of the destination; None: any
    method: str = "send"  # 'send' (forward/send_text), 'forward', 'send_text', 'resolve', 'connect', 'any'
    after: int = 0
    times: int = 1  # 0: every matching request from then on
    seconds: float = 0
    error: str | None = None
    deliver: bool = False
    seen: int = 0
    fired: int = 0

    def matches(self, account: str, session_id: int, method: str, chat: SimChat | None) -> bool:
        if self.account is not None and self.account != account:
            return False
        if self.session is not None and self.session != session_id:
            return False
        if self.method == "send":
            if method not in SEND_METHODS:
                return False
        elif self.method not in ("any", method):
            return False
        return self.group is None or (chat is not None and chat.matches(self.group))


@dataclass
class SimAccount:
    key: str
    user_id: int
    username: str | None = None
    phone: str | None = None
    dead: bool = False
    limited: str | None = None  # the error class name every send raises (PeerFloodError, ...)
    flood_until: float = 0.0
    latency: float | None = None


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
    posts: dict[int, str] = field(default_factory=dict)
    any_post: bool = False  # every message id exists (lenient source channels)
    next_msg_id: int = 1

    @property
    def marked_id(self) -> str:
        return str(-(_CHANNEL_BASE + self.id)) if self.kind == "channel" else str(-self.id)

    @property
    def ref(self) -> str:
        return f"@{self.username}" if self.username else self.marked_id

    def matches(self, ref: str) -> bool:
        ref = ref.split("#", 1)[0]
        return ref.lower() == self.ref.lower() or ref == self.marked_id

    def is_member(self, account: str) -> bool:
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


@dataclass(frozen=True)
class Violation:
    """A rule the client broke (a real account would be punished for it)."""

    kind: str  # 'flood_wait', 'slow_mode', 'two_live_ports'
    account: str
    at: float
    detail: str = ""


def account_key_for_file(path: Path) -> str | None:
    """sha256 (hex) of the auth key in a Telethon session file; None if unreadable."""
    return auth_key_sha_of_file(path)


def _stable_int(*parts: object, bits: int = 62) -> int:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    value: int = int.from_bytes(digest, "big") % (2**bits - 1) + 1
    return value


class World:
    """The simulated Telegram (an ``AccountFactory``)."""

    def __init__(
        self,
        clock: Clock,
        *,
        lenient: bool = False,
        latency: float = 0.0,
        log_path: Path | None = None,
        dedupe: bool = True,
    ) -> None:
        self.clock = clock
        self.dedupe = dedupe  # False: a repeated random_id is delivered again (makes double posts visible)
        self.lenient = lenient
        self.latency = latency
        self.accounts: dict[str, SimAccount] = {}
        self.chats: dict[int, SimChat] = {}
        self._by_username: dict[str, SimChat] = {}
        self.faults: list[Fault] = []
        # Plain tuples, which the garbage collector stops tracking: a world that logged a million posts
        # does not lengthen every full collection (and so the pauses of the event loop it shares with
        # the engine). ``deliveries`` makes them Delivery objects on demand.
        self._delivered: list[tuple[Any, ...]] = []
        self.violations: list[Violation] = []
        self.requests: Counter[tuple[str, str]] = Counter()
        self.duplicates_suppressed = 0
        self.step_hook: Any = None  # Callable[[str, str], None]: called with (point, account key)
        self._dedupe: dict[tuple[str, int, int], int] = {}
        self._last_post: dict[tuple[str, int], float] = {}
        self._slow_told: dict[tuple[str, int], float] = {}
        self._max_msg: dict[int, int] = {}
        self._live: dict[str, SimPort] = {}
        self._hashes: dict[tuple[str, int], int] = {}
        self._log_path = log_path
        self._log: IO[str] | None = None
        self._chats_log: IO[str] | None = None
        if log_path is not None:
            self._load_log(log_path)
            self._load_chats(self._chats_path(log_path))

    # --- building the world ------------------------------------------------------------------------

    def add_account(
        self,
        key: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        phone: str | None = None,
        latency: float | None = None,
    ) -> SimAccount:
        account = SimAccount(
            key=key,
            user_id=user_id if user_id is not None else _stable_int("user", key, bits=40),
            username=username,
            phone=phone,
            latency=latency,
        )
        self.accounts[key] = account
        return account

    def add_chat(self, chat: SimChat) -> SimChat:
        if chat.id in self.chats:
            raise ValueError(f"chat {chat.id} exists")
        chat.next_msg_id = max(chat.next_msg_id, self._max_msg.get(chat.id, 0) + 1, max(chat.posts, default=0) + 1)
        self.chats[chat.id] = chat
        if chat.username:
            self._by_username[chat.username.lower()] = chat
        return chat

    def add_channel(
        self,
        username: str | None,
        *,
        chat_id: int | None = None,
        posts: Iterable[int] = (1,),
        members: Iterable[str] = (),
        noforwards: bool = False,
        admins: Iterable[str] = (),
    ) -> SimChat:
        """A broadcast channel holding posts (the source of forwards)."""
        return self.add_chat(
            SimChat(
                id=chat_id if chat_id is not None else self._new_id(username),
                username=username.lstrip("@").lower() if username else None,
                title=username or "channel",
                broadcast=True,
                members=set(members),
                admins=set(admins),
                noforwards=noforwards,
                posts={p: f"post {p}" for p in posts},
            )
        )

    def add_group(
        self,
        username: str | None,
        *,
        chat_id: int | None = None,
        members: Iterable[str] | Literal["*"] = "*",
        topics: Iterable[int] = (),
        slow_mode: int = 0,
        forbidden: Iterable[str] = (),
        read_only: bool = False,
        plain_forbidden: bool = False,
    ) -> SimChat:
        """A supergroup; ``members='*'`` makes every account a member. Topics make it a forum."""
        topic_set = set(topics)
        return self.add_chat(
            SimChat(
                id=chat_id if chat_id is not None else self._new_id(username),
                username=username.lstrip("@").lower() if username else None,
                title=username or "group",
                members=set() if members == "*" else set(members),
                everyone=members == "*",
                forum=bool(topic_set),
                topics=topic_set,
                slow_mode=slow_mode,
                forbidden=set(forbidden),
                read_only=read_only,
                plain_forbidden=plain_forbidden,
            )
        )

    def add_fault(self, fault: Fault | None = None, /, **kwargs: Any) -> Fault:
        item = fault if fault is not None else Fault(**kwargs)
        self.faults.append(item)
        return item

    def chat(self, ref: str) -> SimChat | None:
        """The chat named by '@name', '-100<id>' or '-<id>' (a '#topic' suffix is ignored)."""
        ref = ref.split("#", 1)[0]
        if ref.startswith("@"):
            return self._by_username.get(ref[1:].lower())
        try:
            marked = int(ref)
        except ValueError:
            return None
        bare = -marked - _CHANNEL_BASE if marked <= -_CHANNEL_BASE else -marked
        return self.chats.get(bare)

    def _new_id(self, username: str | None) -> int:
        if username:
            base = _stable_int("chat", username.lstrip("@").lower(), bits=31)
        else:
            base = _stable_int("chat", len(self.chats), bits=31)
        while base in self.chats:
            base += 1
        return base

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], clock: Clock, *, log_path: Path | None = None) -> World:
        """A world from JSON-like data::

        {"lenient": false, "latency": 0.05, "dedupe": true,
         "accounts": [{"key": "<sha256 of auth key>", "username": "seller1"}],
         "channels": [{"username": "ads", "posts": [1, 2], "noforwards": false}],
         "groups": [{"username": "cats", "members": "*", "slow_mode": 30, "topics": [5],
                     "forbidden": ["<key>"], "read_only": false}],
         "faults": [{"kind": "flood_wait", "account": "<key>", "after": 3, "seconds": 600}]}
        """
        world = cls(
            clock,
            lenient=bool(data.get("lenient", False)),
            latency=float(data.get("latency", 0.0)),
            log_path=log_path,
            dedupe=bool(data.get("dedupe", True)),
        )
        for item in data.get("accounts", ()):
            world.add_account(
                str(item["key"]),
                user_id=item.get("user_id"),
                username=item.get("username"),
                latency=item.get("latency"),
            )
        for item in data.get("channels", ()):
            world.add_channel(
                item.get("username"),
                chat_id=item.get("id"),
                posts=item.get("posts", (1,)),
                members=item.get("members", ()),
                noforwards=bool(item.get("noforwards", False)),
            )
        for item in data.get("groups", ()):
            world.add_group(
                item.get("username"),
                chat_id=item.get("id"),
                members=item.get("members", "*"),
                topics=item.get("topics", ()),
                slow_mode=int(item.get("slow_mode", 0)),
                forbidden=item.get("forbidden", ()),
                read_only=bool(item.get("read_only", False)),
                plain_forbidden=bool(item.get("plain_forbidden", False)),
            )
        for item in data.get("faults", ()):
            world.add_fault(Fault(**item))
        return world

    @classmethod
    def from_file(cls, path: Path, clock: Clock, *, log_path: Path | None = None) -> World:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a world file holds one JSON object")
        return cls.from_dict(data, clock, log_path=log_path)

    # --- the factory -------------------------------------------------------------------------------

    def open(self, credentials: SessionCredentials) -> SimPort:
        key = account_key_for_file(credentials.path) or f"session-{credentials.session_id}"
        return SimPort(self, key, credentials.session_id)

    def reset_connections(self) -> None:
        """Forget every live connection (the process that held them died)."""
        self._live.clear()

    # --- queries for tests -------------------------------------------------------------------------

    def request_count(self, account: str | None = None, method: str | None = None) -> int:
        return sum(
            n
            for (acc, meth), n in self.requests.items()
            if (account is None or acc == account) and (method is None or meth == method)
        )

    @property
    def deliveries(self) -> list[Delivery]:
        """Every post that arrived, in order (a new list on each call)."""
        return [Delivery._make(item) for item in self._delivered]

    def deliveries_to(self, ref: str, topic_id: int | None = None) -> list[Delivery]:
        chat = self.chat(ref)
        if chat is None:
            return []
        return [d for d in self.deliveries if d.chat_id == chat.id and (topic_id is None or d.topic_id == topic_id)]

    def duplicates(self) -> list[tuple[int, int | None, int]]:
        """(chat, topic, random_id) delivered more than once: a double post of one cycle's send."""
        seen = Counter((d.chat_id, d.topic_id, d.random_id) for d in self.deliveries)
        return [key for key, n in seen.items() if n > 1]

    def live_ports(self) -> int:
        return len(self._live)

    def peer_seen_by(self, account: str, ref: str) -> Peer:
        """The peer ``account`` would get by resolving ``ref`` (an existing chat), without a request:
        for seeding peer caches in benchmarks."""
        chat = self.chat(ref)
        if chat is None:
            raise KeyError(ref)
        return self._peer_for(chat, account)

    # --- the rules -----------------------------------------------------------------------------------

    def _account(self, key: str) -> SimAccount:
        account = self.accounts.get(key)
        if account is None:
            if not self.lenient:
                raise errors.AuthKeyUnregisteredError(request=None)
            account = self.add_account(key)
        return account

    def _chat_for_ref(self, ref: str, account: str) -> SimChat:
        chat = self.chat(ref)
        if chat is not None:
            return chat
        if self.lenient:
            if ref.startswith("@"):
                name = ref[1:].lower()
                return self._made_up(SimChat(id=self._new_id(name), username=name, title=name))
            marked = int(ref)
            bare = -marked - _CHANNEL_BASE if marked <= -_CHANNEL_BASE else -marked
            kind: PeerKind = "channel" if marked <= -_CHANNEL_BASE else "chat"
            return self._made_up(SimChat(id=bare, kind=kind))
        if ref.startswith("@"):
            raise errors.UsernameNotOccupiedError(request=None)
        raise errors.ChannelPrivateError(request=None)

    def _access_hash(self, account: str, chat_id: int) -> int:
        value = self._hashes.get((account, chat_id))
        if value is None:
            value = self._hashes[(account, chat_id)] = _stable_int("hash", account, chat_id)
        return value

    def _peer_for(self, chat: SimChat, account: str) -> Peer:
        access_hash = self._access_hash(account, chat.id) if chat.kind == "channel" else None
        return Peer(chat.kind, chat.id, access_hash)

    def _chat_for_peer(self, peer: Peer, account: str) -> SimChat:
        chat = self.chats.get(peer.id)
        if chat is None or chat.kind != peer.kind:
            raise errors.PeerIdInvalidError(request=None)
        if chat.kind == "channel" and peer.access_hash != self._access_hash(account, chat.id):
            # Access hashes are per account: a peer resolved by another session is refused.
            raise errors.ChannelInvalidError(request=None)
        return chat

    async def _enter(self, port: SimPort, account: SimAccount, method: str, chat: SimChat | None) -> Fault | None:
        """Common start of every request: latency, counting, account state and scripted faults."""
        self.requests[(account.key, method)] += 1
        if self.step_hook is not None:
            self.step_hook(f"request:{method}", account.key)
        latency = account.latency if account.latency is not None else self.latency
        if latency > 0:
            await self.clock.sleep(latency)
            if self.step_hook is not None:
                self.step_hook(f"answered:{method}", account.key)
        now = self.clock.now()
        if account.dead:
            raise errors.AuthKeyUnregisteredError(request=None)
        if account.flood_until > now:
            self.violations.append(Violation("flood_wait", account.key, now, f"{method} during a flood wait"))
            raise errors.FloodWaitError(request=None, capture=max(1, int(account.flood_until - now + 0.999)))
        for fault in self.faults:
            if not fault.matches(account.key, port.session_id, method, chat):
                continue
            fault.seen += 1
            if fault.seen <= fault.after or (fault.times and fault.fired >= fault.times):
                continue
            fault.fired += 1
            return fault
        return None

    async def _apply(self, fault: Fault, account: SimAccount, delivered: bool) -> None:
        """Raise what the fault stands for (after the delivery, if it was one that delivers)."""
        now = self.clock.now()
        if fault.kind == "flood_wait":
            account.flood_until = now + fault.seconds
            raise errors.FloodWaitError(request=None, capture=int(fault.seconds))
        if fault.kind == "peer_flood":
            account.limited = "PeerFloodError"
            raise errors.PeerFloodError(request=None)
        if fault.kind == "banned_in_channel":
            account.limited = "UserBannedInChannelError"
            raise errors.UserBannedInChannelError(request=None)
        if fault.kind == "dead":
            account.dead = True
            raise errors.AuthKeyUnregisteredError(request=None)
        if fault.kind == "timeout":
            if fault.seconds > 0:
                await self.clock.sleep(fault.seconds)
            else:
                await asyncio.get_running_loop().create_future()  # hangs until cancelled
            raise TimeoutError
        if fault.kind == "transient":
            raise ConnectionError("simulated connection reset")
        if fault.kind == "error":
            cls = getattr(errors, fault.error or "", None)
            if not (isinstance(cls, type) and issubclass(cls, errors.RPCError)):
                raise ValueError(f"unknown telethon error {fault.error!r}")
            if "capture" in inspect.signature(cls).parameters:
                raise cls(request=None, capture=int(fault.seconds))
            raise cls(request=None)
        raise ValueError(f"unknown fault kind {fault.kind!r}")

    async def _connect(self, port: SimPort) -> AccountInfo:
        account = self._account(port.key)
        other = self._live.get(port.key)
        if other is not None and other is not port:
            self.violations.append(Violation("two_live_ports", port.key, self.clock.now()))
        fault = await self._enter(port, account, "connect", None)
        if fault is not None:
            await self._apply(fault, account, False)
        self._live[port.key] = port
        return AccountInfo(
            user_id=account.user_id,
            username=account.username,
            phone=account.phone,
            name=account.username or f"user{account.user_id}",
        )

    async def _resolve(self, port: SimPort, ref: str) -> Peer:
        account = self._account(port.key)
        chat = self.chat(ref)
        fault = await self._enter(port, account, "resolve", chat)
        if fault is not None:
            await self._apply(fault, account, False)
        chat = self._chat_for_ref(ref, account.key)
        if not chat.username and not chat.is_member(account.key):
            raise errors.ChannelPrivateError(request=None)
        return self._peer_for(chat, account.key)

    def _check_dest(self, account: SimAccount, dest: SimChat, topic_id: int | None) -> None:
        if account.limited is not None:
            raise getattr(errors, account.limited)(request=None)
        if dest.broadcast and account.key not in dest.admins:
            raise errors.ChatAdminRequiredError(request=None)
        if not dest.is_member(account.key):
            if dest.username:
                raise errors.ChatWriteForbiddenError(request=None)
            raise errors.ChannelPrivateError(request=None)
        if dest.read_only or account.key in dest.forbidden:
            raise errors.ChatWriteForbiddenError(request=None)
        if topic_id is not None and not dest.any_topic and topic_id not in dest.topics:
            raise errors.TopicDeletedError(request=None)

    async def _send(
        self,
        port: SimPort,
        method: str,
        dest_peer: Peer,
        topic_id: int | None,
        random_id: int,
        *,
        source_peer: Peer | None = None,
        msg_id: int | None = None,
        text: str | None = None,
        drop_author: bool = False,
    ) -> int:
        account = self._account(port.key)
        dest_hint = self.chats.get(dest_peer.id)
        fault = await self._enter(port, account, method, dest_hint)
        if fault is not None and not fault.deliver:
            await self._apply(fault, account, False)
        dest = self._chat_for_peer(dest_peer, account.key)
        source: SimChat | None = None
        if source_peer is not None:
            source = self._chat_for_peer(source_peer, account.key)
            if not source.username and not source.is_member(account.key):
                raise errors.ChannelPrivateError(request=None)
            if msg_id is None or not (source.any_post or msg_id in source.posts):
                raise errors.MessageIdInvalidError(request=None)
            if source.noforwards:
                raise errors.ChatForwardsRestrictedError(request=None)
        elif dest.plain_forbidden:
            raise errors.ChatSendPlainForbiddenError(request=None)
        self._check_dest(account, dest, topic_id)
        existing = self._dedupe.get((account.key, dest.id, random_id)) if self.dedupe else None
        if existing is not None:
            self.duplicates_suppressed += 1
            message_id = existing
        else:
            now = self.clock.now()
            last = self._last_post.get((account.key, dest.id))
            if dest.slow_mode and last is not None and now < last + dest.slow_mode:
                # The first refusal is how a client learns a group's slow mode; asking again inside a
                # window it was told about is the breach.
                if self._slow_told.get((account.key, dest.id), 0.0) > now:
                    self.violations.append(Violation("slow_mode", account.key, now, dest.ref))
                self._slow_told[(account.key, dest.id)] = last + dest.slow_mode
                raise errors.SlowModeWaitError(request=None, capture=max(1, int(last + dest.slow_mode - now + 0.999)))
            message_id = dest.next_msg_id
            dest.next_msg_id += 1
            delivery = Delivery(
                chat_id=dest.id,
                chat_ref=dest.ref,
                topic_id=topic_id,
                account=account.key,
                message_id=message_id,
                random_id=random_id,
                at=now,
                source_chat=source.id if source else None,
                source_msg=msg_id if source else None,
                text=text,
                drop_author=drop_author,
            )
            self._record(delivery)
        if self.step_hook is not None:
            self.step_hook(f"delivered:{method}", account.key)
        if fault is not None:
            await self._apply(fault, account, True)
        return message_id

    # --- deliveries and their log ------------------------------------------------------------------

    def _record(self, delivery: Delivery) -> None:
        self._remember(delivery)
        if self._log_path is not None:
            self._log = _append_jsonl(self._log, self._log_path, delivery._asdict())

    def _remember(self, delivery: Delivery) -> None:
        self._delivered.append(tuple(delivery))
        self._dedupe[(delivery.account, delivery.chat_id, delivery.random_id)] = delivery.message_id
        self._last_post[(delivery.account, delivery.chat_id)] = delivery.at
        self._max_msg[delivery.chat_id] = max(self._max_msg.get(delivery.chat_id, 0), delivery.message_id)

    def _load_log(self, path: Path) -> None:
        for delivery in _read_jsonl(path, lambda item: Delivery(**item), "world log"):
            self._remember(delivery)

    @staticmethod
    def _chats_path(log_path: Path) -> Path:
        return log_path.with_name(log_path.stem + ".chats.jsonl")

    def _made_up(self, chat: SimChat) -> SimChat:
        """A chat a lenient world creates on first sight: everyone may post, any topic, any post id.
        Logged (and flushed) before its peer leaves the world, so the next process knows it too."""
        chat.everyone = chat.any_topic = chat.any_post = True
        self.add_chat(chat)
        if self._log_path is not None:
            self._chats_log = _append_jsonl(
                self._chats_log,
                self._chats_path(self._log_path),
                {"id": chat.id, "kind": chat.kind, "username": chat.username},
            )
        return chat

    def _load_chats(self, path: Path) -> None:
        for chat in _read_jsonl(path, _made_up_chat, "world chats"):
            if chat.id not in self.chats:
                self.add_chat(chat)

    def close(self) -> None:
        for log in (self._log, self._chats_log):
            if log is not None:
                log.close()
        self._log = self._chats_log = None


class SimPort:
    """One account's connection to the world (an ``AccountPort``)."""

    def __init__(self, world: World, key: str, session_id: int) -> None:
        self.world = world
        self.key = key
        self.session_id = session_id
        self.connected = False
        self.closed = False

    async def connect(self) -> AccountInfo:
        if self.closed:
            raise ConnectionError("port is closed")
        info = await self.world._connect(self)
        self.connected = True
        return info

    def _require(self) -> None:
        if not self.connected or self.closed:
            raise ConnectionError("not connected")

    async def resolve(self, peer: str) -> Peer:
        self._require()
        return await self.world._resolve(self, peer)

    async def forward(
        self,
        *,
        source: Peer,
        msg_id: int,
        dest: Peer,
        topic_id: int | None,
        random_id: int,
        drop_author: bool,
    ) -> int:
        self._require()
        return await self.world._send(
            self, "forward", dest, topic_id, random_id, source_peer=source, msg_id=msg_id, drop_author=drop_author
        )

    async def send_text(
        self,
        *,
        dest: Peer,
        topic_id: int | None,
        text: str,
        entities: Sequence[EntityDict],
        random_id: int,
    ) -> int:
        self._require()
        return await self.world._send(self, "send_text", dest, topic_id, random_id, text=text)

    async def close(self) -> None:
        self.closed = True
        self.connected = False
        if self.world._live.get(self.key) is self:
            del self.world._live[self.key]


# --- the world's JSON-lines logs (a world shared by the processes of a crash test) --------------------


def _append_jsonl(handle: IO[str] | None, path: Path, item: Mapping[str, Any]) -> IO[str]:
    """Append one line to ``path`` and flush it (the next process reads it back); opens the file on
    first use and returns the handle to keep."""
    if handle is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a", encoding="utf-8")
    handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    handle.flush()
    return handle


def _read_jsonl(path: Path, parse: Callable[[Any], T], what: str) -> Iterator[T]:
    """What ``parse`` makes of each line of ``path`` (none when it does not exist); a line it cannot
    read, as a write torn by a kill leaves, is skipped with a warning."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        if not line.strip():
            continue
        try:
            item = parse(json.loads(line))
        except (ValueError, TypeError, KeyError):
            logger.warning("%s %s: skipping an unreadable line (torn write?)", what, path)
            continue
        yield item


def _made_up_chat(item: Mapping[str, Any]) -> SimChat:
    return SimChat(id=int(item["id"]), kind=item["kind"], username=item["username"],
                   title=item["username"] or "", everyone=True, any_topic=True, any_post=True)
