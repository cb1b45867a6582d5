"""``World``: the simulated Telegram the engine's ports talk to (the package docstring says its rules)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from telethon import errors

from core.clock import Clock
from core.link_parts import unmark
from core.ports import AccountInfo, Dialog, Peer, SessionCredentials
from sandbox.world import frozen
from sandbox.world.dialogs import dialog_of, folders, pages
from sandbox.world.faults import Fault
from sandbox.world.identity import Identities, SeenIdentity
from sandbox.world.joins import WorldJoins
from sandbox.world.logs import WorldLogs
from sandbox.world.media import check_media
from sandbox.world.model import (
    Delivery,
    SimAccount,
    SimChat,
    Violation,
    account_key_for_file,
    stable_int,
)
from sandbox.world.port import SimPort
from sandbox.world.posts import check_source, check_topic
from sandbox.world.waits import check_flood


class World:
    """The simulated Telegram (an ``AccountFactory``)."""

    def __init__(
        self,
        clock: Clock,
        *,
        lenient: bool = False,
        latency: float = 0.0,
        upload_seconds_per_mb: float = 0.0,
        log_path: Path | None = None,
        dedupe: bool = True,
    ) -> None:
        self.clock = clock
        self.dedupe = dedupe  # False: a repeated random_id is delivered again (makes double posts visible)
        self.lenient = lenient
        self.latency = latency
        self.upload_seconds_per_mb = upload_seconds_per_mb  # how long an upload takes (sandbox.world.media)
        self.accounts: dict[str, SimAccount] = {}
        self.chats: dict[int, SimChat] = {}
        self._by_username: dict[str, SimChat] = {}
        self.faults: list[Fault] = []
        # Plain tuples, which the garbage collector stops tracking: a world that logged a million posts
        # does not lengthen every full collection (and so the pauses of the event loop it shares with
        # the engine). ``deliveries`` makes them Delivery objects on demand.
        self._delivered: list[tuple[Any, ...]] = []
        self.violations: list[Violation] = []
        self.identities = Identities()  # each account's first API id and device (sandbox.world.identity)
        self.requests: Counter[tuple[str, str]] = Counter()
        self.uploads: Counter[tuple[str, str]] = Counter()  # (account, sha256) -> files uploaded (world.media)
        self.duplicates_suppressed = 0
        self.non_member_sends = 0  # sends to a chat the account is not in (refused, as Telegram does)
        self.step_hook: Any = None  # Callable[[str, str], None]: called with (point, account key)
        self._dedupe: dict[tuple[str, int, int], int] = {}
        self._last_post: dict[tuple[str, int], float] = {}
        self._slow_told: dict[tuple[str, int], float] = {}
        self._max_msg: dict[int, int] = {}
        self._live: dict[str, SimPort] = {}
        self._hashes: dict[tuple[str, int], int] = {}
        # (account, chat id) whose access hash the account has been given (its dialogs, a username
        # resolve): what a Telethon session's entity table would hold, so a marked id resolves only then.
        self._seen: set[tuple[str, int]] = set()
        self._logs: WorldLogs | None = None
        self.joins = WorldJoins(self)  # joining: invites, approval, the channel cap (sandbox.world.joins)
        if log_path is not None:
            self._logs = WorldLogs(log_path)
            for delivery in self._logs.deliveries():
                self._remember(delivery)
            for chat in self._logs.chats():
                if chat.id not in self.chats:
                    self.add_chat(chat)

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
            user_id=user_id if user_id is not None else stable_int("user", key, bits=40),
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

    def open_groups(self, refs: Iterable[str]) -> list[SimChat]:
        """Declare groups: each '@name', '-100<id>' or '-<id>' (a '#topic' is ignored) this world does not
        know becomes a group every account is a member of, with any topic and any post, exactly like a
        chat a lenient world makes up on first sight (and logged like one). Returns the chats made."""
        made: list[SimChat] = []
        for ref in refs:
            peer = ref.partition("#")[0]
            if self.chat(peer) is not None:
                continue
            if peer.startswith("@"):
                name = peer[1:].lower()
                chat = SimChat(id=self._new_id(name), username=name, title=name)
            else:
                kind, bare = unmark(int(peer))
                chat = SimChat(id=bare, kind=kind)
            made.append(self._made_up(chat))
        return made

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
        return self.chats.get(unmark(marked)[1])

    def _new_id(self, username: str | None) -> int:
        if username:
            base = stable_int("chat", username.lstrip("@").lower(), bits=31)
        else:
            base = stable_int("chat", len(self.chats), bits=31)
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
         "open_groups": ["@dogs", "-1001234567890"],
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
        world.open_groups(str(ref) for ref in data.get("open_groups", ()))
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

    # --- memberships during a test -------------------------------------------------------------------

    def _existing(self, ref: str) -> SimChat:
        chat = self.chat(ref)
        if chat is None:
            raise KeyError(f"no chat {ref!r} in the world")
        return chat

    def remove_member(self, ref: str, account: str) -> SimChat:
        """An admin removes ``account`` from the chat (admin rights included): gone from its dialogs; its
        sends are refused as a non-member's (CHANNEL_PRIVATE in a private group, CHAT_WRITE_FORBIDDEN in
        a public one). A hash it saw earlier still addresses the chat, as in its Telethon session."""
        chat = self._existing(ref)
        chat.members.discard(account)
        chat.admins.discard(account)
        chat.removed.add(account)
        return chat

    def add_member(self, ref: str, account: str) -> SimChat:
        """``account`` is in the chat again (or for the first time), a ban lifted: an admin added it."""
        chat = self._existing(ref)
        chat.removed.discard(account)
        chat.banned.discard(account)
        chat.members.add(account)
        return chat

    def ban(self, ref: str, account: str) -> SimChat:
        """Removed and banned from the chat: it stays in the account's dialogs as kicked
        (``channelForbidden``), and every send there, or forward from it, is CHANNEL_PRIVATE."""
        chat = self.remove_member(ref, account)
        chat.banned.add(account)
        return chat

    # --- the factory -------------------------------------------------------------------------------

    def open(self, credentials: SessionCredentials) -> SimPort:
        key = account_key_for_file(credentials.path) or f"session-{credentials.session_id}"
        proxy = str(credentials.proxy) if credentials.proxy else None
        return SimPort(self, key, credentials.session_id, proxy, SeenIdentity.of(credentials))

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
        for seeding peer caches in benchmarks. The account has the hash from then on (its marked id
        resolves), as if it had resolved the chat earlier."""
        chat = self._existing(ref)
        self._seen.add((account, chat.id))
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
            kind, bare = unmark(int(ref))
            return self._made_up(SimChat(id=bare, kind=kind))
        if ref.startswith("@"):
            raise errors.UsernameNotOccupiedError(request=None)
        raise errors.ChannelPrivateError(request=None)

    def _access_hash(self, account: str, chat_id: int) -> int:
        value = self._hashes.get((account, chat_id))
        if value is None:
            value = self._hashes[(account, chat_id)] = stable_int("hash", account, chat_id)
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
        frozen.check(self, account, method, now)
        check_flood(account, method, now, self.violations)
        for fault in self.faults:
            if not fault.matches(account.key, port.session_id, method, chat):
                continue
            fault.seen += 1
            if fault.seen <= fault.after or (fault.times and fault.fired >= fault.times):
                continue
            fault.fired += 1
            return fault
        return None

    async def _connect(self, port: SimPort) -> AccountInfo:
        account = self._account(port.key)
        other = self._live.get(port.key)
        if other is not None and other is not port:
            self.violations.append(Violation("two_live_ports", port.key, self.clock.now()))
        fault = await self._enter(port, account, "connect", None)
        if fault is not None:
            await fault.strike(account, self.clock, "connect")
        self._live[port.key] = port
        return AccountInfo(user_id=account.user_id, username=account.username, phone=account.phone,
                           name=account.username or f"user{account.user_id}", premium=account.premium)

    async def _resolve(self, port: SimPort, ref: str) -> Peer:
        account = self._account(port.key)
        chat = self.chat(ref)
        fault = await self._enter(port, account, "resolve", chat)
        if fault is not None:
            await fault.strike(account, self.clock, "resolve")
        if ref.startswith("@"):
            # contacts.resolveUsername answers for a public chat the account is not in, too (with its
            # `left` flag): the account has its hash from then on.
            chat = self._chat_for_ref(ref, account.key)
            self._seen.add((account.key, chat.id))
        else:
            try:
                chat = self._seen_chat(ref, account.key)
            except (errors.ChannelInvalidError, errors.PeerIdInvalidError):
                if not self.lenient:
                    raise
                # Lenient: an id without the hash still resolves (a private chat for its members only).
                chat = self._chat_for_ref(ref, account.key)
                if not chat.username and not chat.is_member(account.key):
                    raise errors.ChannelPrivateError(request=None) from None
        return self._peer_for(chat, account.key)

    def _seen_chat(self, ref: str, account: str) -> SimChat:
        """A marked id in a strict world: only a chat whose hash this account was given (Telethon answers
        it from the session's entity table; without one, access_hash 0 gets CHANNEL_INVALID)."""
        try:
            kind, bare = unmark(int(ref.split("#", 1)[0]))
        except ValueError:
            raise errors.UsernameInvalidError(request=None) from None
        chat = self.chats.get(bare)
        if chat is not None and chat.kind == kind and (account, chat.id) in self._seen:
            return chat
        if kind == "channel":
            raise errors.ChannelInvalidError(request=None)
        raise errors.PeerIdInvalidError(request=None)

    async def _dialogs(self, port: SimPort) -> list[Dialog]:
        """The account's chats as ``messages.getDialogs`` lists them, with its own access hashes: one
        request per page, main list then archive (``sandbox.world.dialogs``); a fault or a flood wait
        can stop the scan at any page."""
        account = self._account(port.key)
        found: list[Dialog] = []
        for folder in folders(self.chats.values(), account.key):  # the main list, then the archive
            for page in pages(folder):
                fault = await self._enter(port, account, "dialogs", None)
                if fault is not None:
                    await fault.strike(account, self.clock, "dialogs")
                found += [self._dialog(chat, account.key) for chat in page]
        return found

    def _dialog(self, chat: SimChat, account: str) -> Dialog:
        """The chat as the account's dialogs show it; from then on the account knows its access hash."""
        self._seen.add((account, chat.id))
        return dialog_of(chat, account, self._peer_for(chat, account), archived=account in chat.archived)

    def _check_dest(self, account: SimAccount, dest: SimChat, topic_id: int | None) -> None:
        if account.limited is not None:
            raise getattr(errors, account.limited)(request=None)
        if account.key in dest.banned:
            raise errors.ChannelPrivateError(request=None)
        if dest.broadcast and account.key not in dest.admins:
            raise errors.ChatAdminRequiredError(request=None)
        if not dest.is_member(account.key):
            self.non_member_sends += 1
            if dest.username:
                raise errors.ChatWriteForbiddenError(request=None)
            raise errors.ChannelPrivateError(request=None)
        if (dest.read_only and account.key not in dest.admins) or account.key in dest.forbidden:
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
        msg_ids: Sequence[int] = (),
        text: str | None = None,
        drop_author: bool = False,
        media: tuple[str, ...] = (),
        shown: Mapping[str, Any] | None = None,  # more of what arrived (``sandbox.world.texts``)
    ) -> int | None:
        account = self._account(port.key)
        dest_hint = self.chats.get(dest_peer.id)
        fault = await self._enter(port, account, method, dest_hint)
        if fault is not None and not fault.deliver:
            await fault.strike(account, self.clock, method)
        dest = self._chat_for_peer(dest_peer, account.key)
        source = None if source_peer is None else check_source(self, account, source_peer, msg_ids)
        check_media(dest, source, msg_ids, media)
        self._check_dest(account, dest, topic_id)
        check_topic(dest, account.key, topic_id)
        if fault is not None and fault.kind == "dropped":
            return None  # taken, answered without a new message: nothing arrived
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
                source_msg=msg_ids[0] if source else None,
                text=text,
                drop_author=drop_author,
                media=media,
                **(shown or {}),
            )
            self._record(delivery)
        if self.step_hook is not None:
            self.step_hook(f"delivered:{method}", account.key)
        if fault is not None:  # one that delivers: the post arrived, its answer is lost
            await fault.strike(account, self.clock, method)
        return message_id

    # --- deliveries and their log ------------------------------------------------------------------

    def _record(self, delivery: Delivery) -> None:
        self._remember(delivery)
        if self._logs is not None:
            self._logs.append_delivery(delivery)

    def _remember(self, delivery: Delivery) -> None:
        self._delivered.append(tuple(delivery))
        self._dedupe[(delivery.account, delivery.chat_id, delivery.random_id)] = delivery.message_id
        self._last_post[(delivery.account, delivery.chat_id)] = delivery.at
        self._max_msg[delivery.chat_id] = max(self._max_msg.get(delivery.chat_id, 0), delivery.message_id)

    def _made_up(self, chat: SimChat) -> SimChat:
        """A chat a lenient world creates on first sight: everyone may post, any topic, any post id.
        Logged (and flushed) before its peer leaves the world, so the next process knows it too."""
        chat.everyone = chat.any_topic = chat.any_post = True
        self.add_chat(chat)
        if self._logs is not None:
            self._logs.append_chat(chat)
        return chat

    def close(self) -> None:
        if self._logs is not None:
            self._logs.close()
