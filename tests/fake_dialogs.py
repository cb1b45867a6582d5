"""Telegram's side of ``messages.getDialogs`` for the offline Telethon rig (tests/fake_sender.py).

``DialogsServer`` holds one account's chats, the main list and the archive folder (folder 1), each in
dialog order (most recent top message first), and answers every ``GetDialogsRequest`` as Telegram does:
``messages.dialogsSlice`` pages of at most 100 dialogs (``count`` = the folder's total), each dialog with
its top message, the page's chats and users alongside. The next page starts after the dialog named by
``offset_peer``; the request's ``offset_id`` / ``offset_date`` must be that dialog's top message and
``exclude_pinned`` set, or the answer is an ``AssertionError`` (the paging Telethon does is what is under
test, so a client that pages differently fails loudly instead of reading the same page again).

Every answer goes through the fake sender's round trip (serialised and parsed by the request's own
reader) and through Telethon's ``_call``, which stores the entities in the session: what a real scan
leaves behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from telethon import functions, types

from tests.fake_sender import NOW, FakeSender

PAGE_CAP = 100  # Telegram answers at most 100 dialogs per request


def peer_of(entity: Any) -> Any:
    """The Peer a dialog of this entity carries."""
    if isinstance(entity, types.Channel | types.ChannelForbidden):
        return types.PeerChannel(entity.id)
    if isinstance(entity, types.Chat | types.ChatForbidden):
        return types.PeerChat(entity.id)
    if isinstance(entity, types.User):
        return types.PeerUser(entity.id)
    raise TypeError(f"not a dialog entity: {type(entity).__name__}")


def _same(input_peer: Any, peer: Any) -> bool:
    if isinstance(peer, types.PeerChannel):
        return isinstance(input_peer, types.InputPeerChannel) and input_peer.channel_id == peer.channel_id
    if isinstance(peer, types.PeerChat):
        return isinstance(input_peer, types.InputPeerChat) and input_peer.chat_id == peer.chat_id
    return isinstance(input_peer, types.InputPeerUser) and input_peer.user_id == peer.user_id


@dataclass(frozen=True)
class Asked:
    """What one getDialogs request asked for (Telethon reuses one request object from page to page, so
    the fake sender's log shows only its last state: this is each page's own)."""

    folder: int
    limit: int
    offset_id: int
    offset_date: dt.datetime | None
    offset_peer: Any
    exclude_pinned: bool


@dataclass
class DialogsServer:
    """One account's dialogs, answered page by page; ``pages`` records each answer (folder, first, size)
    and ``asked`` each request."""

    main: list[Any]
    archive: list[Any] = field(default_factory=list)
    pages: list[tuple[int, int, int]] = field(default_factory=list)
    asked: list[Asked] = field(default_factory=list)

    def install(self, fake: FakeSender) -> DialogsServer:
        fake.always(functions.messages.GetDialogsRequest, self.answer)
        return self

    @staticmethod
    def _top(position: int) -> tuple[int, dt.datetime]:
        """The top message of the dialog at ``position`` of its folder: newer first, one minute apart."""
        return 100_000 - position, NOW - dt.timedelta(minutes=position)

    def _start(self, entries: list[Any], request: Any) -> int:
        if isinstance(request.offset_peer, types.InputPeerEmpty):
            assert request.offset_id == 0 and request.offset_date is None, "an offset without a peer"
            return 0
        for position, entity in enumerate(entries):
            if _same(request.offset_peer, peer_of(entity)):
                msg_id, date = self._top(position)
                assert request.offset_id == msg_id, f"offset_id {request.offset_id} is not {msg_id}"
                assert request.offset_date == date, f"offset_date {request.offset_date} is not {date}"
                assert request.exclude_pinned, "a next page without exclude_pinned"
                return position + 1
        raise AssertionError(f"offset_peer {request.offset_peer} is in no dialog of folder {request.folder_id}")

    def answer(self, request: Any) -> Any:
        folder = request.folder_id or 0
        self.asked.append(
            Asked(
                folder,
                request.limit,
                request.offset_id,
                request.offset_date,
                request.offset_peer,
                bool(request.exclude_pinned),
            )
        )
        entries = self.archive if folder == 1 else self.main
        first = self._start(entries, request)
        size = min(request.limit, PAGE_CAP)
        dialogs, messages, chats, users = [], [], [], []
        for position in range(first, min(first + size, len(entries))):
            entity = entries[position]
            peer = peer_of(entity)
            msg_id, date = self._top(position)
            channel = isinstance(peer, types.PeerChannel)
            dialogs.append(
                types.Dialog(
                    peer=peer,
                    top_message=msg_id,
                    read_inbox_max_id=msg_id,
                    read_outbox_max_id=msg_id,
                    unread_count=0,
                    unread_mentions_count=0,
                    unread_reactions_count=0,
                    unread_poll_votes_count=0,
                    notify_settings=types.PeerNotifySettings(),
                    pts=msg_id + 7 if channel else None,
                    folder_id=1 if folder == 1 else None,
                )
            )
            messages.append(types.Message(id=msg_id, peer_id=peer, date=date, message=f"message {msg_id}"))
            (users if isinstance(entity, types.User) else chats).append(entity)
        self.pages.append((folder, first, len(dialogs)))
        return types.messages.DialogsSlice(
            count=len(entries), dialogs=dialogs, messages=messages, chats=chats, users=users
        )


def supergroups(count: int, *, first_id: int = 3_000_000_000) -> list[Any]:
    """``count`` supergroups the account may write to, ids from ``first_id``, access hash = id + 17."""
    return [
        types.Channel(
            id=first_id + n,
            title=f"group {n}",
            photo=types.ChatPhotoEmpty(),
            date=NOW,
            access_hash=first_id + n + 17,
            megagroup=True,
        )
        for n in range(count)
    ]
