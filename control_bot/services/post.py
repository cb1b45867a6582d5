"""The customer's post, as people send it: a channel's post (a forward from the channel or a pasted link,
checked through a connected session of theirs: ``engine.post_check``), or their own content (a formatted
text, a photo, video, GIF or file with a caption, an album), kept and sent by the sessions as their own
message (``storage.post_media``). Trimmed and checked against Telegram's limits; nothing changes when a
post is refused.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aiogram import Bot
from aiogram.types import Message

from control_bot.post_intake import (
    MAX_DOWNLOAD_BYTES,
    MediaTooBig,
    OwnItem,
    entity_dicts,
    keep_media,
    media_of,
    prune_media,
)
from control_bot.services import posts as posts_service
from control_bot.services.campaign import require_customer
from control_bot.services.posts import OwnDraft
from core.customer_log import LogKey
from core.errors import InputError
from core.links import PostRef, parse_post_link
from core.ports import NOT_IN_CHAT, PostInfo
from core.texts import post as post_texts
from core.texts.split import TELEGRAM_LIMIT, char_count, utf16_len
from engine.customer_log import customer_log
from engine.post_check import PostCheck
from storage import customers, memberships, post_media
from storage import posts as post_rows
from storage import sessions as session_rows
from storage.customers import Customer, with_post
from storage.db import Connection, Database
from storage.post_media import MediaRow

if TYPE_CHECKING:
    from control_bot.services.posts import PostSummary

logger = logging.getLogger(__name__)
customer_line = customer_log(logger)
EntityDict = dict[str, Any]
MAX_CAPTION = 1024  # Telegram's limit for a caption under a photo, video or file
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




# --- the post as people send it (issue 18 part E) ----------------------------------------------------------


class PostEngine(Protocol):
    """What setting the post needs from ``engine.engine.Engine``: a check through a connected session."""

    async def check_post(self, customer_id: int, peer: str, msg_id: int) -> PostCheck: ...


@dataclass(frozen=True)
class PostSaved:
    """A post just saved: the customer after it, what to tell them, and what the preview shows."""

    customer: Customer
    text: str
    info: PostInfo | None = None  # a link post a session read just now
    media: tuple[MediaRow, ...] = ()  # an own media post's items
    source: SourceAccess | None = None  # a private channel's post: whether a session of theirs is in it
    added: PostSummary | None = None  # add mode (``add_max_posts``): the post appended; ``customer``'s post_* are its
    held: Held | None = None  # ``hold=True``: checked and kept, nothing saved (the customer chooses: ``commit``)


@dataclass(frozen=True)
class HeldLink:
    """A channel's post received while the campaign has several, checked when it came."""

    ref: PostRef
    check: PostCheck


Held = HeldLink | OwnDraft
"""A post received and checked (own media kept on disk) but not saved yet: replace or add, as chosen."""


async def current(db: Database, user_id: int, now: float) -> tuple[Customer, list[str]]:
    """The customer (with an active plan) and their post's media kinds ([] for a link or a text)."""
    customer = await require_customer(db, user_id, now)
    if not customer.post_media:
        return customer, []
    async with db.read() as conn:
        return customer, [row.kind for row in await post_media.items(conn, user_id)]


async def require(db: Database, user_id: int, now: float) -> Customer:
    return await require_customer(db, user_id, now)


def _running(customer: Customer) -> bool:
    return customer.status == "running"


async def set_post(
    db: Database, user_id: int, text: str, entities: Sequence[Mapping[str, Any]], now: float,
    *, engine: PostEngine | None = None, link_allowed: bool = True, add_max_posts: int | None = None,
    hold: bool = False,
) -> PostSaved:
    """A text the customer sent: a post link (checked through ``engine`` when given: ``save_link``), or
    their own formatted text. ``link_allowed=False``: a forwarded person's text that is a link is their text.
    ``add_max_posts``: add mode (/posts' Add): appended to the campaign's posts, at most that many."""
    await require_customer(db, user_id, now)
    body, moved = trim_post(text, entities)
    if not body:
        raise InputError(post_texts.POST_EMPTY())
    if link_allowed and looks_like_link(body):
        return await save_link(db, engine, user_id, parse_post_link(body), now, add_max_posts=add_max_posts,
                               hold=hold)
    units = utf16_len(body)
    if units > TELEGRAM_LIMIT:
        raise InputError(post_texts.post_too_long(body))
    if add_max_posts is not None or hold:
        return await _save_own(db, user_id, body, moved, [], now, add_max_posts=add_max_posts, hold=hold)
    async with db.tx() as conn:
        await post_media.set_own_post(conn, user_id, body, moved, [], now)
        customer = await customers.get(conn, user_id)
    assert customer is not None
    customer_line(user_id, logging.INFO, LogKey.POST_SET_TEXT, characters=char_count(body))
    text = post_texts.post_saved_text(body, _running(customer))
    return PostSaved(customer, await _with_emoji_note(db, user_id, text, moved, []))


async def _with_emoji_note(
    db: Database, user_id: int, text: str, entities: Sequence[Mapping[str, Any]], rows: Sequence[MediaRow]
) -> str:
    note = await posts_service.custom_emoji_note(db, user_id, entities, rows)
    return text if note is None else f"{text}\n\n{note}"


async def save_link(
    db: Database, engine: PostEngine | None, user_id: int, ref: PostRef, now: float,
    *, add_max_posts: int | None = None, hold: bool = False,
) -> PostSaved:
    """A channel post (a pasted link or a forward from the channel), checked through a connected session
    of the customer first: a post that is gone, that their sessions cannot read or whose channel forbids
    forwarding is refused (nothing changes); with no session connected it is saved unchecked.
    ``hold``: checked only, nothing saved (``PostSaved.held``)."""
    before = await require_customer(db, user_id, now)
    if add_max_posts is not None:
        await posts_service.check_room(db, user_id, max_posts=add_max_posts)
    check = PostCheck("unchecked") if engine is None else await engine.check_post(user_id, ref.peer, ref.msg_id)
    if check.verdict == "missing":
        raise InputError(post_texts.post_missing(ref.link))
    if check.verdict == "unreadable":
        raise InputError(post_texts.post_unreadable(ref.link))
    if check.verdict == "no_forwards":
        raise InputError(post_texts.post_no_forwards(ref.link))
    if hold:
        return PostSaved(before, "", held=HeldLink(ref, check))
    return await _save_link(db, user_id, before, ref, check, now, add_max_posts=add_max_posts)


async def _save_link(
    db: Database, user_id: int, before: Customer, ref: PostRef, check: PostCheck, now: float,
    *, add_max_posts: int | None,
) -> PostSaved:
    added = None
    if add_max_posts is not None:
        draft = posts_service.LinkDraft(ref.link, ref.peer, ref.msg_id)
        added = await posts_service.add_post(db, user_id, draft, max_posts=add_max_posts, now=now)
    else:
        keep_header = before.drop_author if before.post_kind == "link" else False
        async with db.tx() as conn:
            await customers.set_post_link(conn, user_id, ref.link, ref.peer, ref.msg_id, keep_header, now)
    async with db.read() as conn:
        customer = await customers.get(conn, user_id)
        source = None if check.verdict == "ok" else await _private_source_access(conn, user_id, ref.peer)
    assert customer is not None
    if added is not None:
        customer = with_post(customer, kind="link", link=ref.link, peer=ref.peer, msg_id=ref.msg_id)
    customer_line(user_id, logging.INFO, LogKey.POST_SET_LINK, link=ref.link, checked=check.verdict == "ok")
    if source == "not_member":
        customer_line(user_id, logging.WARNING, LogKey.POST_SOURCE_NOT_MEMBER, link=ref.link)
    info = check.info
    text = post_texts.post_saved_link(
        ref.link, _running(customer), source, checked=check.verdict == "ok",
        album=info.album_size if info is not None else 1,
    )
    return PostSaved(customer, text, info, source=source, added=added)


async def save_media(
    db: Database, bot: Bot, user_id: int, item: OwnItem, caption: str, entities: Sequence[Mapping[str, Any]],
    data_dir: Path, now: float, *, cap_bytes: int, add_max_posts: int | None = None, hold: bool = False,
) -> PostSaved:
    """One photo, video, GIF or file with its caption: kept (``post_intake.keep_media``) and saved;
    ``cap_bytes``: what one post may keep on disk (``[engine] max_post_media_mb``)."""
    await require_customer(db, user_id, now)
    if add_max_posts is not None:
        await posts_service.check_room(db, user_id, max_posts=add_max_posts)
    body, moved = _caption(caption, entities)
    _within_cap(item.size, cap_bytes)
    row = await _keep(bot, item, data_dir, body, moved)
    _within_cap(row.size, cap_bytes)
    return await _save_own(db, user_id, body, moved, [row], now, add_max_posts=add_max_posts, hold=hold)


async def save_album(
    db: Database, bot: Bot, user_id: int, messages: Sequence[Message], data_dir: Path, now: float,
    *, cap_bytes: int, add_max_posts: int | None = None, hold: bool = False,
) -> PostSaved:
    """An album (its messages in order): every item kept, the caption on the item that carries it; the
    whole album refused over ``cap_bytes`` (before any download when the sizes Telegram gave say so)."""
    await require_customer(db, user_id, now)
    if add_max_posts is not None:
        await posts_service.check_room(db, user_id, max_posts=add_max_posts)
    items = [media_of(message) for message in messages]
    if any(item is None for item in items):
        raise InputError(post_texts.POST_NOT_SUPPORTED())
    kinds = {item.kind for item in items if item is not None}
    if "document" in kinds and kinds != {"document"}:
        raise InputError(post_texts.ALBUM_MIXED())
    _within_cap(sum(item.size for item in items if item is not None), cap_bytes)
    captions = [_caption(message.caption or "", entity_dicts(message.caption_entities)) for message in messages]
    rows: list[MediaRow] = []
    text, text_entities = "", []
    for (body, moved), item in zip(captions, items, strict=True):
        assert item is not None
        if body and not text:
            text, text_entities = body, moved
        rows.append(await _keep(bot, item, data_dir, body, moved))
        _within_cap(sum(row.size for row in rows), cap_bytes)
    return await _save_own(db, user_id, text, text_entities, rows, now, add_max_posts=add_max_posts, hold=hold)


def _caption(caption: str, entities: Sequence[Mapping[str, Any]]) -> tuple[str, list[EntityDict]]:
    body, moved = trim_post(caption, entities)
    if utf16_len(body) > MAX_CAPTION:  # Telegram counts a caption in UTF-16 units, as a text
        raise InputError(post_texts.caption_too_long(body, MAX_CAPTION))
    return body, moved


_MB = 1024 * 1024


def _within_cap(size: int, cap_bytes: int) -> None:
    """A post whose files would keep more than ``cap_bytes`` on disk is refused (nothing is saved; what
    was downloaded already is pruned as no post's)."""
    if size > cap_bytes:
        raise InputError(post_texts.media_over_cap(-(-size // _MB), cap_bytes // _MB))


async def _keep(bot: Bot, item: OwnItem, data_dir: Path, caption: str, entities: list[EntityDict]) -> MediaRow:
    try:
        return await keep_media(bot, item, data_dir, caption, entities)
    except MediaTooBig:
        raise InputError(post_texts.media_too_big(MAX_DOWNLOAD_BYTES // (1024 * 1024))) from None


async def _save_own(
    db: Database, user_id: int, text: str, entities: list[EntityDict], rows: list[MediaRow], now: float,
    *, add_max_posts: int | None = None, hold: bool = False,
) -> PostSaved:
    if hold:  # the files are kept (``prune_media`` spares them for an hour): the choice references them
        return PostSaved(await require_customer(db, user_id, now), "", held=OwnDraft(text, entities, tuple(rows)))
    added = None
    if add_max_posts is not None:
        draft = posts_service.OwnDraft(text, entities, tuple(rows))
        added = await posts_service.add_post(db, user_id, draft, max_posts=add_max_posts, now=now)
    else:
        async with db.tx() as conn:
            await post_media.set_own_post(conn, user_id, text, entities, rows, now)
    async with db.read() as conn:
        customer = await customers.get(conn, user_id)
    assert customer is not None
    if added is not None:
        customer = with_post(customer, kind="text", text=text, entities=entities, media=len(rows))
    if rows:
        customer_line(user_id, logging.INFO, LogKey.POST_SET_MEDIA, kinds=[row.kind for row in rows])
    else:
        customer_line(user_id, logging.INFO, LogKey.POST_SET_TEXT, characters=char_count(text))
    summary = post_texts.post_summary("text", None, text, [row.kind for row in rows])
    if not rows:
        saved = post_texts.post_saved_text(text, _running(customer))
        return PostSaved(customer, await _with_emoji_note(db, user_id, saved, entities, rows), added=added)
    saved = post_texts.post_saved_own(_running(customer), summary)
    return PostSaved(customer, await _with_emoji_note(db, user_id, saved, entities, rows), media=tuple(rows),
                     added=added)


async def commit(db: Database, user_id: int, held: Held, now: float, *, add_max_posts: int | None) -> PostSaved:
    """A held post saved as chosen: replacing the campaign's posts (``add_max_posts`` None, as /post does)
    or appended to them. Refused, nothing changed, when a held file is no longer on disk."""
    before = await require_customer(db, user_id, now)
    if isinstance(held, HeldLink):
        return await _save_link(db, user_id, before, held.ref, held.check, now, add_max_posts=add_max_posts)
    if not all([await asyncio.to_thread(Path(row.path).is_file) for row in held.media]):
        raise InputError(post_texts.CHOICE_GONE())
    return await _save_own(db, user_id, held.text, [dict(e) for e in held.entities], list(held.media), now,
                           add_max_posts=add_max_posts)


async def prune_kept_media(db: Database, data_dir: Path) -> int:
    """Kept files of posts replaced since go (``post_intake.prune_media``); called after a post is saved.

    Decided and done inside a write transaction: no post's rows can commit between reading which files
    are in use and deleting the others. A file being kept for a post not yet committed was written or
    touched just now, and ``prune_media`` spares what is that recent."""
    async with db.tx() as conn:
        in_use = await post_media.files_in_use(conn)
        removed = await asyncio.to_thread(prune_media, data_dir, in_use, time.time())
    if removed:
        logger.info("removed %d kept media file(s) no post uses any more", removed)
    return removed


async def set_drop_author(db: Database, user_id: int, drop: bool, now: float) -> Customer | None:
    """Forward the campaign's link posts with ("Forwarded from") or without their header; None when none of
    its posts is a link."""
    await require_customer(db, user_id, now)
    async with db.tx() as conn:
        customer = await customers.get(conn, user_id)
        if customer is None or not any(p.kind == "link" for p in await post_rows.list_for(conn, user_id)):
            return None
        await customers.set_drop_author(conn, user_id, drop, now)
        return await customers.get(conn, user_id)
