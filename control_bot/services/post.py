"""The customer's post: setting it from a t.me link or a text (checked, trimmed to Telegram's limit).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from control_bot.services.campaign import require_customer
from core.errors import (
    InputError,
)
from core.links import parse_post_link
from core.ports import NOT_IN_CHAT
from core.texts import post as post_texts
from core.texts.split import TELEGRAM_LIMIT, utf16_len
from storage import customers, memberships
from storage import sessions as session_rows
from storage.customers import Customer
from storage.db import Connection, Database

logger = logging.getLogger(__name__)
EntityDict = dict[str, Any]
SourceAccess = Literal["member", "not_member", "unchecked"]
"""Whether a session of the customer's can read a private channel's post: "unchecked" while some of
their sessions' dialogs have never been read (or they have none yet)."""



def shift_entities(entities: Sequence[Mapping[str, Any]], cut: int, new_length: int) -> list[EntityDict]:
    """Entities re-based after ``cut`` UTF-16 units were removed from the front of the text and the
    text was cut to ``new_length`` units: clipped to what is left, dropped when nothing is."""
    out: list[EntityDict] = []
    for entity in entities:
        start = int(entity["offset"]) - cut
        end = int(entity["offset"]) + int(entity["length"]) - cut
        start, end = max(start, 0), min(end, new_length)
        if end <= start:
            continue
        moved = dict(entity)
        moved["offset"], moved["length"] = start, end - start
        out.append(moved)
    return out


def trim_post(text: str, entities: Sequence[Mapping[str, Any]]) -> tuple[str, list[EntityDict]]:
    """The text without surrounding whitespace, its entities moved to match."""
    stripped_front = text.lstrip()
    cut = utf16_len(text) - utf16_len(stripped_front)
    body = stripped_front.rstrip()
    return body, shift_entities(entities, cut, utf16_len(body))


def command_argument(text: str, entities: Sequence[Mapping[str, Any]]) -> tuple[str, list[EntityDict]]:
    """What follows ``/command[@bot]`` in a message, with the formatting entities re-based on it."""
    match = re.match(r"/\S*", text)
    cut_chars = match.end() if match else 0
    rest = text[cut_chars:]
    moved = shift_entities(entities, utf16_len(text[:cut_chars]), utf16_len(rest))
    return trim_post(rest, moved)


_LINK_START_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)(?:/|$)|[@+])", re.I)


def looks_like_link(text: str) -> bool:
    """One token that a person would mean as a link (so a parse error is reported, not sent as text)."""
    return bool(text) and not any(ch.isspace() for ch in text) and bool(_LINK_START_RE.match(text))


@dataclass(frozen=True)
class PostSaved:
    customer: Customer
    source: SourceAccess | None = None  # None: a text, or a public channel's post (no membership needed)


# A row that says the session is out of the chat: it cannot read a private channel's posts either.


async def _private_source_access(conn: Connection, user_id: int, peer: str) -> SourceAccess | None:
    """For a private channel's post (``peer`` a marked id): whether one of the customer's sessions is in
    that channel, as their stored dialogs say. A public channel's post is readable by anyone: None."""
    if peer.startswith("@"):
        return None
    owned = {s.id for s in await session_rows.list_for_owner(conn, user_id)}
    rows = await memberships.members_of(conn, peer)
    if any(m.session_id in owned and m.why_not not in NOT_IN_CHAT for m in rows):
        return "member"
    for session_id in sorted(owned):
        if await memberships.checked_at(conn, session_id) is None:
            return "unchecked"
    return "not_member" if owned else "unchecked"


async def set_post(
    db: Database, user_id: int, text: str, entities: Sequence[Mapping[str, Any]], now: float
) -> PostSaved:
    """Set the post from what the customer sent: a post link to forward, or a text with formatting.

    A private channel's post is saved whoever can read it; ``PostSaved.source`` says whether one of the
    customer's sessions can, so they learn it now rather than from a failing campaign."""
    await require_customer(db, user_id, now)
    body, moved = trim_post(text, entities)
    if not body:
        raise InputError(post_texts.POST_EMPTY())
    source: SourceAccess | None = None
    if looks_like_link(body):
        ref = parse_post_link(body)
        async with db.tx() as conn:
            await customers.set_post_link(conn, user_id, ref.link, ref.peer, ref.msg_id, False, now)
            customer = await customers.get(conn, user_id)
            source = await _private_source_access(conn, user_id, ref.peer)
        logger.info("post set to %s", ref.link, extra={"customer_id": user_id})
        if source == "not_member":
            logger.warning("no session of the customer is in the post's private channel %s", ref.peer,
                           extra={"customer_id": user_id})
    else:
        units = utf16_len(body)
        if units > TELEGRAM_LIMIT:
            raise InputError(post_texts.post_too_long(units, TELEGRAM_LIMIT))
        async with db.tx() as conn:
            await customers.set_post_text(conn, user_id, body, moved, now)
            customer = await customers.get(conn, user_id)
        logger.info("post set to a text of %d characters", units, extra={"customer_id": user_id})
    assert customer is not None
    return PostSaved(customer, source)
