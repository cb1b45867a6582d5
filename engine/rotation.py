"""Which of the campaign's posts a cycle carries to each group (``storage.posts``, the customer's rotation).

* 'order': cycle n carries the post at position (n - 1) mod count: cycle 1 the first post, round and round.
* 'random': one post drawn per cycle from (customer, cycle number) alone.
* 'fixed': each group its own post (``groups.post_id``); a group without one (or whose post was removed or
  is unusable) follows 'order'.

A cycle's post is recorded when the cycle opens (``customers.cycle_post_id``): a cycle resumed after a crash
or a restart carries that post again, whatever the customer moved, added or removed on /posts meanwhile
(unless that post was removed or found unusable: then the pick as for a new cycle).

Posts Telegram refused for good (``posts.unusable``: deleted, their source unreachable) are left out of all
three while others remain; with none left the campaign stops (``engine.cycle``).

Every group of a cycle gets exactly one post (one ledger row per campaign, cycle and group, whichever post
it carries: ``sends.post_id``). The posts a cycle carries are read once, with their media, when the cycle
is prepared: a post edited meanwhile is carried from the next cycle on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from core.ports import MediaItem, MediaKind
from engine.reach import private_source
from storage import post_media, posts
from storage.customers import Customer, with_post
from storage.db import Connection
from storage.groups import Group
from storage.post_media import MediaRow
from storage.posts import Post

__all__ = ["CyclePost", "CyclePosts", "load", "pick"]


@dataclass(frozen=True)
class CyclePost:
    """One post as a cycle sends it: ``customer`` carries it in ``post_*`` (what ``engine.send`` reads),
    with the forward's source (``post_peer``: '@name' resolved per session, or ``private_source``: addressed
    through each session's own row) or its own media (uploaded once per session: ``engine.uploads``)."""

    post_id: int | None
    customer: Customer
    post_peer: str | None
    private_source: str | None
    media: tuple[MediaItem, ...]
    link_preview: bool = True


@dataclass(frozen=True)
class CyclePosts:
    """The post of each group of one cycle (``default`` for a group the cycle did not plan)."""

    default: CyclePost
    by_ref: Mapping[str, CyclePost]
    every: frozenset[str | None] = frozenset()  # the private sources (None: none) of every post it may carry

    def of(self, group: Group) -> CyclePost:
        return self.by_ref.get(group.ref, self.default)

    def any_of(self, groups: Iterable[Group]) -> dict[str, frozenset[str | None]]:
        """The sources of the posts each group may carry in any cycle (its own under 'fixed', else every
        post's): a group's stored reach is judged against them, not against one cycle's post."""
        return {g.ref: frozenset({self.by_ref[g.ref].private_source}) if g.ref in self.by_ref else self.every
                for g in groups}

    def sources(self) -> set[str]:
        """The private sources the cycle's posts are forwarded from (each session needs a row of each)."""
        found = {p.private_source for p in self.by_ref.values()} | {self.default.private_source}
        return {s for s in found if s is not None}


def pick(rotation: str, customer_id: int, cycle_no: int, count: int) -> int:
    """The position of the post cycle ``cycle_no`` carries ('order' and 'random'; 'fixed' groups without
    a post of their own follow 'order')."""
    if count <= 0:
        raise ValueError("a campaign without posts carries none")
    if rotation == "random":
        # From (customer, cycle) alone, the same in every process and Python version: a resumed cycle
        # carries the post it started with.
        digest = hashlib.sha256(f"adbot-rotation:{customer_id}:{cycle_no}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % count
    return (cycle_no - 1) % count


def _media(rows: Iterable[MediaRow]) -> tuple[MediaItem, ...]:
    return tuple(
        MediaItem(
            kind=cast(MediaKind, row.kind), path=Path(row.path), sha256=row.sha256, size=row.size, mime=row.mime,
            file_name=row.file_name, caption=row.caption, entities=tuple(row.entities), width=row.width,
            height=row.height, duration=row.duration,
        )
        for row in rows
    )


async def _cycle_post(conn: Connection, customer: Customer, post: Post) -> CyclePost:
    media = _media(await post_media.items_of(conn, post.id)) if post.kind == "text" and post.media else ()
    view = with_post(customer, kind=post.kind, link=post.link, peer=post.peer, msg_id=post.msg_id, text=post.text,
                     entities=list(post.entities), media=len(media))
    return CyclePost(
        post_id=post.id, customer=view, post_peer=post.peer if post.kind == "link" else None,
        private_source=private_source(view), media=media, link_preview=post.link_preview,
    )


def _none(customer: Customer) -> CyclePost:
    """No post at all (readiness stops such a campaign before it is placed), or none usable (the cycle
    stops it: ``engine.cycle``)."""
    return CyclePost(None, customer, None, None, ())


async def load(conn: Connection, customer: Customer, cycle_no: int, active: Sequence[Group]) -> CyclePosts:
    """The post each active group gets in cycle ``cycle_no``, read in one go (media rows of the posts it
    carries only)."""
    # A post Telegram refused for good is left out (``posts.set_unusable``): the others take turns.
    rows = [p for p in await posts.list_for(conn, customer.user_id) if p.unusable is None]
    if not rows:
        return CyclePosts(_none(customer), {})
    by_id = {p.id: p for p in rows}
    opened = customer.cycle_post_id if customer.cycle_in_progress and cycle_no == customer.cycle_no else None
    if opened is not None and opened in by_id:
        # The open cycle's post, recorded when it opened: its position may have changed since (/posts).
        chosen = by_id[opened]
    else:
        chosen = rows[pick(customer.rotation, customer.user_id, cycle_no, len(rows))]
    default = await _cycle_post(conn, customer, chosen)
    every = frozenset(private_source(with_post(customer, kind=p.kind, peer=p.peer)) for p in rows)
    if customer.rotation != "fixed":
        return CyclePosts(default, {}, every)
    fixed = await posts.group_posts(conn, customer.user_id)
    loaded: dict[int, CyclePost] = {chosen.id: default}
    by_ref: dict[str, CyclePost] = {}
    for group in active:
        post_id = fixed.get(group.ref)
        if post_id is None or post_id not in by_id:
            continue
        if post_id not in loaded:
            loaded[post_id] = await _cycle_post(conn, customer, by_id[post_id])
        by_ref[group.ref] = loaded[post_id]
    return CyclePosts(default, by_ref, every)
