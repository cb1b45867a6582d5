"""A campaign's several posts, as the chat manages them (/posts): the list, adding (the post intake's
drafts, ``services.post``), removing, reordering, the rotation, a fixed post per group, a text post's link
preview and the campaign's copy mode.

Every function checks the caller is a customer with an active plan (``require_customer``) and refuses,
with a message in the reader's language and nothing changed, what does not fit: a post that is not
theirs (``NotFound``), a full list (``InputError``), an unknown rotation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from control_bot.services.campaign import require_customer
from core.errors import InputError, NotFound
from core.texts import post as post_texts
from storage import customers, groups, post_media, posts
from storage import premium as premium_rows
from storage.customers import with_post
from storage.db import Connection, Database
from storage.post_media import MediaRow
from storage.posts import ROTATIONS, Post

if TYPE_CHECKING:
    from control_bot.services.post import PostSaved  # services.post imports this module

logger = logging.getLogger(__name__)

__all__ = [
    "LinkDraft", "OwnDraft", "PostDraft", "PostSummary", "PostsView", "add_post", "custom_emoji_count",
    "move_post", "post_for_preview", "posts_view", "remove_post", "set_copy_mode", "set_group_post",
    "set_link_preview", "set_rotation",
]


@dataclass(frozen=True)
class LinkDraft:
    """A channel's post to forward, checked by the intake (``services.post.save_link``)."""

    link: str
    peer: str
    msg_id: int


@dataclass(frozen=True)
class OwnDraft:
    """The customer's own content as the intake keeps it: a text (or caption) with its formatting and
    its media rows in order (their files already kept: ``post_intake.keep_media``)."""

    text: str
    entities: Sequence[Mapping[str, Any]] = ()
    media: Sequence[MediaRow] = field(default_factory=tuple)


PostDraft = LinkDraft | OwnDraft


@dataclass(frozen=True)
class PostSummary:
    id: int
    position: int  # 0 first
    kind: str  # 'link' | 'text' | 'media'
    title: str  # one line for the list, plain text (escape it in HTML): the link, the first words, "album of 3"
    link_preview: bool
    has_custom_emoji: bool
    media_count: int
    unusable: str | None = None  # the error Telegram refused it with for good ('' unknown): left out of rotation


@dataclass(frozen=True)
class PostsView:
    posts: tuple[PostSummary, ...]
    max_posts: int
    rotation: str  # 'order' | 'random' | 'fixed'
    drop_author: bool
    drop_media_captions: bool


def custom_emoji_count(entities: Sequence[Mapping[str, Any]], media: Sequence[MediaRow] = ()) -> int:
    """Custom emoji in a text's (or its media captions') formatting."""
    found = sum(1 for e in entities if e.get("type") == "custom_emoji")
    return found + sum(1 for row in media for e in row.entities if e.get("type") == "custom_emoji")


async def custom_emoji_note(
    db: Database, customer_id: int, entities: Sequence[Mapping[str, Any]], media: Sequence[MediaRow] = ()
) -> str | None:
    """What to tell the customer about their own post's custom emoji: only a Premium account may send them
    (Telegram shows the plain emoji otherwise), so a note unless every session of theirs is known to have
    Premium (``storage.premium``, learnt from each account's self user). None: nothing to say."""
    count = custom_emoji_count(entities, media)
    if not count:
        return None
    async with db.read() as conn:
        premium = await premium_rows.for_owner(conn, customer_id)
    if premium and all(premium.values()):
        return None
    return post_texts.custom_emoji_needs_premium(count)


def _summary(post: Post, media: Sequence[MediaRow]) -> PostSummary:
    kind = "link" if post.kind == "link" else ("media" if media else "text")
    title = post_texts.post_title(post.kind, post.link, post.text, [row.kind for row in media])
    return PostSummary(
        id=post.id, position=post.position, kind=kind, title=title, link_preview=post.link_preview,
        has_custom_emoji=custom_emoji_count(post.entities, media) > 0, media_count=len(media),
        unusable=None if post.unusable is None else (post.unusable_error or ""),
    )


async def _summary_of(conn: Connection, post: Post) -> PostSummary:
    return _summary(post, await post_media.items_of(conn, post.id) if post.media else [])


def _now(now: float | None) -> float:
    return time.time() if now is None else now


async def _own_post(conn: Connection, customer_id: int, post_id: int) -> Post:
    post = await posts.get(conn, customer_id, post_id)
    if post is None:
        raise NotFound(post_texts.POST_NOT_FOUND())
    return post


async def posts_view(db: Database, customer_id: int, *, max_posts: int, now: float | None = None) -> PostsView:
    """The campaign's posts in order, its cap (``[engine] max_posts``), rotation and copy mode."""
    customer = await require_customer(db, customer_id, _now(now))
    async with db.read() as conn:
        summaries = tuple([await _summary_of(conn, p) for p in await posts.list_for(conn, customer_id)])
    return PostsView(summaries, max_posts, customer.rotation, customer.drop_author, customer.drop_media_captions)


async def add_post(
    db: Database, customer_id: int, draft: PostDraft, *, max_posts: int, now: float | None = None
) -> PostSummary:
    """The draft appended as the campaign's last post; refused (nothing changed) at ``max_posts``. The
    count is read in the same write transaction as the insert: two adds at once cannot pass the cap."""
    at = _now(now)
    await require_customer(db, customer_id, at)
    async with db.tx() as conn:
        if await posts.count_for(conn, customer_id) >= max_posts:
            raise InputError(post_texts.posts_full(max_posts))
        if isinstance(draft, LinkDraft):
            post = await posts.add_link(conn, customer_id, draft.link, draft.peer, draft.msg_id, at)
            media: Sequence[MediaRow] = ()
        else:
            media = tuple(draft.media)
            post = await post_media.add_own_post(
                conn, customer_id, draft.text, [dict(e) for e in draft.entities], media, at
            )
    logger.info("customer %d added post %d (%s, %d media)", customer_id, post.id, post.kind, len(media))
    return _summary(post, media)


async def check_room(db: Database, customer_id: int, *, max_posts: int) -> None:
    """Refuses (InputError) before the intake downloads anything when the list is already full."""
    async with db.read() as conn:
        if await posts.count_for(conn, customer_id) >= max_posts:
            raise InputError(post_texts.posts_full(max_posts))


async def remove_post(db: Database, customer_id: int, post_id: int, *, now: float | None = None) -> None:
    """The post removed (the last one too: the campaign then has none and its cycles send nothing)."""
    await require_customer(db, customer_id, _now(now))
    async with db.tx() as conn:
        if not await posts.remove(conn, customer_id, post_id):
            raise NotFound(post_texts.POST_NOT_FOUND())
    logger.info("customer %d removed post %d", customer_id, post_id)


async def move_post(db: Database, customer_id: int, post_id: int, delta: int, *, now: float | None = None) -> None:
    """The post moved ``delta`` places (-1 up, +1 down), clamped to the list."""
    await require_customer(db, customer_id, _now(now))
    async with db.tx() as conn:
        if not await posts.move(conn, customer_id, post_id, delta):
            raise NotFound(post_texts.POST_NOT_FOUND())


async def set_rotation(db: Database, customer_id: int, mode: str, *, now: float | None = None) -> None:
    """'order' (cycle n carries the n-th post, round and round), 'random' (one drawn per cycle) or
    'fixed' (each group its own post: ``set_group_post``; a group without one follows the order)."""
    at = _now(now)
    await require_customer(db, customer_id, at)
    if mode not in ROTATIONS:
        raise InputError(post_texts.ROTATION_UNKNOWN())
    async with db.tx() as conn:
        await customers.set_rotation(conn, customer_id, mode, at)
    logger.info("customer %d set rotation %s", customer_id, mode)


async def set_group_post(
    db: Database, customer_id: int, group_ref: str, post_id: int | None, *, now: float | None = None
) -> None:
    """The post ``group_ref`` always gets under rotation 'fixed' (None: it follows the order)."""
    await require_customer(db, customer_id, _now(now))
    async with db.tx() as conn:
        if post_id is not None:
            await _own_post(conn, customer_id, post_id)
        if await groups.get(conn, customer_id, group_ref) is None:
            raise NotFound(post_texts.group_not_found(group_ref))
        await posts.set_group_post(conn, customer_id, group_ref, post_id)


async def set_link_preview(db: Database, customer_id: int, post_id: int, on: bool, *, now: float | None = None) -> None:
    """Whether a text post's link shows Telegram's web page preview (sent with ``no_webpage`` when off)."""
    await require_customer(db, customer_id, _now(now))
    async with db.tx() as conn:
        post = await _own_post(conn, customer_id, post_id)
        if post.kind != "text" or post.media:
            raise InputError(post_texts.LINK_PREVIEW_ONLY_TEXT())
        await posts.set_link_preview(conn, customer_id, post_id, on)


async def set_copy_mode(
    db: Database, customer_id: int, *, drop_author: bool, drop_media_captions: bool, now: float | None = None
) -> None:
    """How channel posts are forwarded: with the "Forwarded from" header, without it, or without it and
    without their media captions. Telegram drops captions only from a forward without the header
    (``drop_media_captions`` needs ``drop_author``), so captions dropped imply the header dropped."""
    at = _now(now)
    await require_customer(db, customer_id, at)
    drop_author = drop_author or drop_media_captions
    async with db.tx() as conn:
        await customers.set_copy_mode(conn, customer_id, drop_author, drop_media_captions, at)
    logger.info("customer %d set copy mode drop_author=%s drop_media_captions=%s", customer_id, drop_author,
                drop_media_captions)


async def post_for_preview(db: Database, customer_id: int, post_id: int, *, now: float | None = None) -> PostSaved:
    """One post as the /post router's preview takes it (``PostSaved``: the customer with that post's
    fields in ``post_*``, its media rows, and the line saying what it is)."""
    customer = await require_customer(db, customer_id, _now(now))
    async with db.read() as conn:
        post = await _own_post(conn, customer_id, post_id)
        media = tuple(await post_media.items_of(conn, post.id)) if post.media else ()
    from control_bot.services.post import PostSaved  # a cycle at import time otherwise

    as_customer = with_post(customer, kind=post.kind, link=post.link, peer=post.peer, msg_id=post.msg_id,
                            text=post.text, entities=list(post.entities), media=len(media))
    summary = post_texts.post_summary(post.kind, post.link, post.text, [row.kind for row in media])
    return PostSaved(as_customer, post_texts.post_current_one(post.position, summary), media=media)
