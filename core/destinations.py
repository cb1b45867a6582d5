"""Whether a parsed group reference can be posted to, by what sessions' dialogs say about its chat.

``core.group_refs`` reads the form of a reference; this decides what the form means once the chat's kind is
known from any session's membership rows (``storage.memberships.chat_kinds``: a chat's kind is the
same for every session, unlike its access hash):

* a broadcast channel is not a group: only its admins post there;
* a username ending in "bot" is a bot (Telegram's rule: every bot's username ends in "bot"), unless a
  session's dialogs hold that chat as a group, which settles it;
* a number after the chat (``t.me/name/15``, ``@name#15``) is a forum topic only in a forum; in any
  other chat ``t.me/name/15`` is the link of message 15, not a place to post. While nothing is known
  of the chat the reference is kept, as a topic still to be checked.

What the chat is comes from the sessions' dialogs when any holds it (free), else from the bot's own
``getChat`` (``ChatLookup``: the Bot API answers for a public chat by its username, with ``is_forum``),
never from a session's ``contacts.resolveUsername``, which spends the accounts' flood budget. When neither
says (the Bot API does not show the chat, or the check was not made), the group is kept *unchecked*: the
customer is told it will be checked, and it is never shown as checked until something said what it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from core.group_refs import GroupRef
from core.ports import DialogKind
from core.texts import links as link_texts

__all__ = [
    "MAX_LOOKUPS",
    "ChatFacts",
    "ChatKind",
    "ChatLookup",
    "Checked",
    "Verdict",
    "check_groups",
    "is_bot_username",
    "judge",
    "kind_of_chat",
    "refusal",
]

ChatKind = Literal["group", "forum", "channel", "user"]
"""``core.ports.DialogKind`` and a person's (or bot's) private chat, which only the Bot API can show."""

# How many chats one addition asks the Bot API about (the rest are kept unchecked): a pasted list of
# 500 groups must not become 500 requests in a row from the control bot.
MAX_LOOKUPS = 50
_LOOKUPS_AT_ONCE = 4


@dataclass(frozen=True)
class ChatFacts:
    """What the Bot API's ``getChat`` says of a chat: its kind, title and username."""

    chat_id: int  # the Bot API's id: '-100<id>' for a supergroup or channel, '-<id>' for a basic group
    kind: ChatKind
    title: str | None = None
    username: str | None = None  # without '@'


def kind_of_chat(chat_type: str, is_forum: bool) -> ChatKind:
    """A Bot API ``Chat.type`` (+ ``is_forum``) as the kind the checks use."""
    if chat_type == "channel":
        return "channel"
    if chat_type in ("group", "supergroup"):
        return "forum" if is_forum else "group"
    return "user"


class ChatLookup(Protocol):
    """Asks Telegram what the chat ``peer`` ('@name' or a marked id) is; None when it did not say (not
    found, not visible to the bot, or the request failed): the chat is then checked later."""

    async def __call__(self, peer: str) -> ChatFacts | None: ...


class Verdict(StrEnum):
    OK = "ok"
    UNCHECKED_TOPIC = "unchecked_topic"  # kept: a topic, if the chat turns out to be a forum
    CHANNEL = "channel"  # refused: a broadcast channel
    BOT = "bot"  # refused: a bot's username
    MESSAGE_LINK = "message_link"  # refused: a number after a chat that is not a forum
    USER = "user"  # refused: a person's (or a bot's) username, not a chat


def is_bot_username(peer: str) -> bool:
    """Whether ``peer`` ('@name') has a bot's username: bots' usernames, and only theirs, end in "bot"."""
    return peer.startswith("@") and peer.lower().endswith("bot")


def judge(group: GroupRef, kind: ChatKind | DialogKind | None) -> Verdict:
    """``kind``: what the chat is as a session's dialogs (or the Bot API) say, None when nothing said."""
    if kind == "channel":
        return Verdict.CHANNEL
    if kind == "user":
        return Verdict.USER
    if kind is None and is_bot_username(group.peer):
        return Verdict.BOT
    if group.topic_id is not None:
        if kind is None:
            return Verdict.UNCHECKED_TOPIC
        if kind != "forum":
            return Verdict.MESSAGE_LINK
    return Verdict.OK


def refusal(verdict: Verdict, shown: str, group: GroupRef) -> str | None:
    """Why the reference is refused (plain text), or None when it is kept. ``shown``: the item as the
    user wrote it, quoted (``core.group_refs.parse_group_items``)."""
    if verdict is Verdict.CHANNEL:
        return link_texts.group_is_channel(shown, group.peer)
    if verdict is Verdict.BOT:
        return link_texts.group_is_bot(shown, group.peer)
    if verdict is Verdict.MESSAGE_LINK:
        assert group.topic_id is not None
        return link_texts.message_link_not_topic(shown, group.peer, group.topic_id)
    if verdict is Verdict.USER:
        return link_texts.group_is_person(shown, group.peer)
    return None


@dataclass(frozen=True)
class Checked:
    """One reference as checked on add: what is known of its chat and what that means for it."""

    shown: str  # the item as the user wrote it, quoted
    group: GroupRef
    verdict: Verdict
    kind: ChatKind | None  # None: nothing said what the chat is (kept unchecked)
    title: str | None = None

    @property
    def checked(self) -> bool:
        """Whether what the chat is was confirmed (by the sessions' dialogs or the Bot API)."""
        return self.kind is not None

    @property
    def refusal(self) -> str | None:
        return refusal(self.verdict, self.shown, self.group)


async def check_groups(
    items: Sequence[tuple[str, GroupRef]],
    known: Mapping[str, DialogKind],
    lookup: ChatLookup | None,
    *,
    max_lookups: int = MAX_LOOKUPS,
) -> list[Checked]:
    """Check each ``(shown, group)``: ``known`` is what the sessions' dialogs say of the chats (by peer,
    ``storage.memberships.chat_kinds``); the chats they do not hold are asked of ``lookup`` (at most
    ``max_lookups`` of them, a few at once), the others stay unchecked."""
    asked = [peer for peer in dict.fromkeys(g.peer for _, g in items) if peer not in known]
    facts: dict[str, ChatFacts] = {}
    if lookup is not None and asked:
        gate = asyncio.Semaphore(_LOOKUPS_AT_ONCE)

        async def one(peer: str) -> None:
            async with gate:
                found = await lookup(peer)
            if found is not None:
                facts[peer] = found

        await asyncio.gather(*(one(peer) for peer in asked[:max_lookups]))
    checked: list[Checked] = []
    for shown, group in items:
        kind: ChatKind | None = known.get(group.peer)
        title = None
        if kind is None and group.peer in facts:
            kind, title = facts[group.peer].kind, facts[group.peer].title
        checked.append(Checked(shown, group, judge(group, kind), kind, title))
    return checked
