"""Proof of posting: the public link of a message a campaign posted.

A public group (``'@name'``, a supergroup: basic groups have no usernames) has message links
``https://t.me/<name>/<id>``, and a message in one of its forum topics ``https://t.me/<name>/<topic>/<id>``
(the form Telegram's clients open in that topic; ``core.links`` parses the same shape back). A group
known by its id only is private to us: its ``t.me/c/...`` links open for members alone and we may not
even know whether it is a supergroup, so it gets none.
"""

from __future__ import annotations

from core.link_parts import MAX_MESSAGE_ID

__all__ = ["message_link"]


def message_link(group_ref: str, message_id: int | None) -> str | None:
    """The message's public link, or None (a private group, or no message id known)."""
    if message_id is None or not 1 <= message_id <= MAX_MESSAGE_ID or not group_ref.startswith("@"):
        return None
    name, _, topic = group_ref[1:].partition("#")
    if not name:
        return None
    if topic:
        if not topic.isdigit():
            return None
        return f"https://t.me/{name}/{int(topic)}/{message_id}"
    return f"https://t.me/{name}/{message_id}"
