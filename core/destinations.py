"""Whether a parsed group reference can be posted to, by what sessions' dialogs say about its chat.

``core.links`` reads the form of a reference; this decides what the form means once the chat's kind is
known from any session's membership rows (``storage.memberships.chat_kinds``: a chat's kind is the
same for every session, unlike its access hash):

* a broadcast channel is not a group: only its admins post there;
* a username ending in "bot" is a bot (Telegram's rule: every bot's username ends in "bot"), unless a
  session's dialogs hold that chat as a group, which settles it;
* a number after the chat (``t.me/name/15``, ``@name#15``) is a forum topic only in a forum; in any
  other chat ``t.me/name/15`` is the link of message 15, not a place to post. While nothing is known
  of the chat the reference is kept, as a topic still to be checked.

Users cannot be told from groups without asking Telegram, so they are not judged here.
"""

from __future__ import annotations

from enum import StrEnum

from core.links import GroupRef
from core.ports import DialogKind
from core.texts import links as link_texts

__all__ = ["Verdict", "is_bot_username", "judge", "refusal"]


class Verdict(StrEnum):
    OK = "ok"
    UNCHECKED_TOPIC = "unchecked_topic"  # kept: a topic, if the chat turns out to be a forum
    CHANNEL = "channel"  # refused: a broadcast channel
    BOT = "bot"  # refused: a bot's username
    MESSAGE_LINK = "message_link"  # refused: a number after a chat that is not a forum


def is_bot_username(peer: str) -> bool:
    """Whether ``peer`` ('@name') has a bot's username: bots' usernames, and only theirs, end in "bot"."""
    return peer.startswith("@") and peer.lower().endswith("bot")


def judge(group: GroupRef, kind: DialogKind | None) -> Verdict:
    """``kind``: what the chat is as a session's dialogs say, None when no session's dialogs hold it."""
    if kind == "channel":
        return Verdict.CHANNEL
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
    user wrote it, quoted (``core.links.parse_group_items``)."""
    if verdict is Verdict.CHANNEL:
        return link_texts.group_is_channel(shown, group.peer)
    if verdict is Verdict.BOT:
        return link_texts.group_is_bot(shown, group.peer)
    if verdict is Verdict.MESSAGE_LINK:
        assert group.topic_id is not None
        return link_texts.message_link_not_topic(shown, group.peer, group.topic_id)
    return None
