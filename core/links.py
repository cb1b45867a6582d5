"""Parse the link of the post customers paste (or forward): ``parse_post_link``, ``post_from_origin``.

Every malformed input raises ``LinkError`` whose ``user_message`` says what was wrong and shows an
accepted example (the wording is ``core.texts.links``). Nothing else escapes, whatever the text:
``urlsplit`` and ``int`` raise ``ValueError`` on odd input, so the public parser is wrapped as a whole.
Group references are ``core.group_refs``; the pieces both share (chat ids, usernames, URL splitting)
are ``core.link_parts``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from core.errors import LinkError
from core.link_parts import (
    CHANNEL_BASE,
    HOST_RE,
    ID_RE,
    INVITE_PATHS,
    MAX_CHANNEL_ID,
    MAX_MESSAGE_ID,
    RESERVED_PATHS,
    SCHEME_RE,
    USERNAME_CHARS_RE,
    channel_id,
    channel_peer,
    clean,
    echo,
    message_id,
    needs_message_number,
    post_invite_error,
    segments,
    service_link_error,
    split_tg,
    split_url,
    too_many_parts,
    topic_id,
    username_peer,
    username_problem,
)
from core.texts import links as link_texts

logger = logging.getLogger(__name__)

__all__ = ["PostRef", "parse_post_link", "post_from_origin", "random_id_for"]


@dataclass(frozen=True)
class PostRef:
    """The message to forward: ``link`` is its canonical https://t.me/... form."""

    peer: str
    msg_id: int
    thread_id: int | None
    link: str


def parse_post_link(text: str) -> PostRef:
    """Parse one post link; raise ``LinkError`` with a user-facing reason if it is not one."""
    try:
        return _parse_post(text)
    except LinkError:
        raise
    except Exception as exc:
        logger.debug("post link parser failed unexpectedly", exc_info=True)
        raise LinkError(link_texts.post_unreadable(echo(text))) from exc


def random_id_for(campaign_id: int, cycle_no: int, group_ref: str) -> int:
    """A stable non-zero signed 64-bit ``random_id`` for one forward of one cycle to one group.

    Telegram drops a repeated send that reuses a random_id, so a retry after a lost answer cannot
    post twice. ``group_ref`` goes last, so the ``:`` separators keep the three parts apart.
    """
    material = f"adbot-forward-v1:{campaign_id}:{cycle_no}:{group_ref}".encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(material).digest()
    for start in range(0, len(digest), 8):
        value = int.from_bytes(digest[start : start + 8], "big", signed=True)
        if value != 0:
            return value
    return 1  # all 256 bits zero: not going to happen, but the contract says non-zero


# --- posts ---------------------------------------------------------------------------------------


def _parse_post(text: str) -> PostRef:
    s = clean(text, link_texts.A_POST_LINK)
    if any(ch.isspace() for ch in s):
        raise LinkError(link_texts.post_has_spaces(echo(s)))
    if s.lower().startswith("tg:"):
        return _post_from_tg(s)
    if HOST_RE.match(s):
        return _post_from_url(s)
    if SCHEME_RE.match(s):
        raise LinkError(link_texts.post_not_telegram(echo(s)))
    if s.startswith("+"):
        raise post_invite_error(s)
    name = s[1:] if s.startswith("@") else s
    if s.startswith("@") or username_problem(name) is None:
        raise needs_message_number(s)
    if ID_RE.fullmatch(s):
        raise LinkError(link_texts.post_only_number(echo(s)))
    raise LinkError(link_texts.not_a_post_link(echo(s)))


def _post_from_url(s: str) -> PostRef:
    parts = split_url(s)
    segs = segments(parts.path, s)
    if not segs:
        raise needs_message_number(s)
    head = segs[0].lower()
    if head.startswith("+") or head in INVITE_PATHS:
        raise post_invite_error(s)
    if head == "c":
        channel = channel_id(segs[1], s) if len(segs) > 1 else None
        if channel is None or len(segs) == 2:
            raise LinkError(link_texts.private_post_needs_numbers(echo(s)))
        if len(segs) > 4:
            raise too_many_parts(s)
        return _make_post(
            channel_peer(channel),
            message_id(segs[-1], s),
            topic_id(segs[2], s) if len(segs) == 4 else None,
        )
    if head == "s":
        # /s/ is the web preview of a public channel; it has no topic form.
        if len(segs) < 3:
            raise needs_message_number(s)
        if len(segs) > 3:
            raise too_many_parts(s)
        return _make_post(username_peer(segs[1], s), message_id(segs[2], s), None)
    if head in RESERVED_PATHS:
        raise service_link_error(s, head, post=True)
    peer = username_peer(segs[0], s)
    if len(segs) == 1:
        raise needs_message_number(s)
    if len(segs) > 3:
        raise too_many_parts(s)
    return _make_post(
        peer,
        message_id(segs[-1], s),
        topic_id(segs[1], s) if len(segs) == 3 else None,
    )


def _post_from_tg(s: str) -> PostRef:
    action, params = split_tg(s)
    if action in {"join", "addlist"}:
        raise post_invite_error(s)
    if action == "resolve":
        domain = params.get("domain")
        if domain is None:
            raise LinkError(link_texts.app_link_no_chat(echo(s)))
        peer = username_peer(domain, s)
    elif action == "privatepost":
        channel = params.get("channel")
        if channel is None:
            raise LinkError(link_texts.app_link_no_channel(echo(s)))
        peer = channel_peer(channel_id(channel, s))
    else:
        raise LinkError(link_texts.app_link_not_post(echo(s)))
    post = params.get("post")
    if post is None:
        raise needs_message_number(s)
    thread = params.get("thread")
    return _make_post(
        peer,
        message_id(post, s),
        None if thread is None else topic_id(thread, s),
    )


def _make_post(peer: str, msg_id: int, thread_id: int | None) -> PostRef:
    chat = peer[1:] if peer.startswith("@") else f"c/{-int(peer) - CHANNEL_BASE}"
    topic = "" if thread_id is None else f"/{thread_id}"
    return PostRef(peer=peer, msg_id=msg_id, thread_id=thread_id, link=f"https://t.me/{chat}{topic}/{msg_id}")


def post_from_origin(chat_id: int, username: str | None, msg_id: int) -> PostRef | None:
    """The post a message forwarded from a channel points to (Bot API ``MessageOriginChannel``: the
    channel's marked id, its username when public, the post's id): '@name' for a public channel, the
    marked id for a private one, as a pasted link would give. None when the values are not a channel
    post's (Telegram sends none such; a forged update could)."""
    if not 1 <= msg_id <= MAX_MESSAGE_ID or not -CHANNEL_BASE - MAX_CHANNEL_ID <= chat_id < -CHANNEL_BASE:
        return None
    if username and USERNAME_CHARS_RE.fullmatch(username) and 4 <= len(username) <= 32:
        return _make_post(f"@{username.lower()}", msg_id, None)
    return _make_post(str(chat_id), msg_id, None)
