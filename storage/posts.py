"""A campaign's posts: up to ``[engine] max_posts`` of them, in the customer's order (``position``, 0 first).

A post is a channel's post to forward (``kind = 'link'``: ``peer`` and ``msg_id``) or the customer's own
content (``kind = 'text'``: a text with its formatting, and ``media`` rows in ``post_media``, an album in
order). The campaign's rotation (``customers.rotation``) says which post a cycle carries to a group:
'order', 'random' or 'fixed' (``groups.post_id``, read here: ``group_posts``).

Positions are kept dense (0..n-1) by every write here, so "the n-th post" is always its position.
A post's content never changes once added (a new content is a new post): what a ledger row says it carried
(``sends.post_id``) stays true. A post Telegram refuses for good is marked ``unusable`` (``set_unusable``):
the rotation skips it while other posts remain; the customer's new post replaces it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.db import execute, fetchall, fetchone

__all__ = [
    "ROTATIONS", "Post", "add_link", "add_own", "count_for", "get", "group_posts", "list_for", "move",
    "remove", "remove_all", "set_group_post", "set_link_preview", "set_unusable", "usable_count",
]

ROTATIONS = ("order", "random", "fixed")


@dataclass(frozen=True)
class Post:
    id: int
    customer_id: int
    position: int
    kind: str  # 'link' | 'text' (own content: a text, media with a caption, an album)
    link: str | None
    peer: str | None
    msg_id: int | None
    text: str | None
    entities: tuple[dict[str, Any], ...]
    media: int  # post_media rows (0: a link or a plain text)
    link_preview: bool
    created_at: float
    unusable: str | None = None  # 'post_invalid' | 'source_failed': Telegram refused it for good, left out
    unusable_error: str | None = None  # the error it met (``core.texts.outcomes.reason_text``)


_COLUMNS = (
    "id, customer_id, position, kind, link, peer, msg_id, text, entities, media, link_preview, created_at,"
    " unusable, unusable_error"
)


def _post(row: sqlite3.Row) -> Post:
    return Post(
        id=row[0], customer_id=row[1], position=row[2], kind=row[3], link=row[4], peer=row[5], msg_id=row[6],
        text=row[7], entities=tuple(json.loads(row[8])) if row[8] else (), media=row[9],
        link_preview=bool(row[10]), created_at=row[11], unusable=row[12], unusable_error=row[13],
    )


async def list_for(conn: aiosqlite.Connection, customer_id: int) -> list[Post]:
    """The campaign's posts in the customer's order."""
    rows = await fetchall(
        conn, f"SELECT {_COLUMNS} FROM posts WHERE customer_id = ? ORDER BY position, id", (customer_id,)
    )
    return [_post(r) for r in rows]


async def get(conn: aiosqlite.Connection, customer_id: int, post_id: int) -> Post | None:
    """One post of the customer's (None: no such post, or another customer's)."""
    row = await fetchone(
        conn, f"SELECT {_COLUMNS} FROM posts WHERE id = ? AND customer_id = ?", (post_id, customer_id)
    )
    return _post(row) if row else None


async def count_for(conn: aiosqlite.Connection, customer_id: int) -> int:
    row = await fetchone(conn, "SELECT COUNT(*) FROM posts WHERE customer_id = ?", (customer_id,))
    return int(row[0]) if row else 0


async def _next_position(conn: aiosqlite.Connection, customer_id: int) -> int:
    row = await fetchone(conn, "SELECT COALESCE(MAX(position) + 1, 0) FROM posts WHERE customer_id = ?",
                         (customer_id,))
    return int(row[0]) if row else 0


async def add_link(
    conn: aiosqlite.Connection, customer_id: int, link: str, peer: str, msg_id: int, now: float
) -> Post:
    """A channel's post, appended last."""
    position = await _next_position(conn, customer_id)
    row = await fetchone(
        conn,
        "INSERT INTO posts (customer_id, position, kind, link, peer, msg_id, created_at)"
        f" VALUES (?, ?, 'link', ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (customer_id, position, link, peer, msg_id, now),
    )
    assert row is not None
    return _post(row)


async def add_own(
    conn: aiosqlite.Connection, customer_id: int, text: str, entities: Sequence[dict[str, Any]], media: int,
    now: float, *, link_preview: bool = True,
) -> Post:
    """The customer's own content, appended last; its ``media`` rows are the caller's to insert
    (``post_media.add_items``) in the same transaction."""
    position = await _next_position(conn, customer_id)
    row = await fetchone(
        conn,
        "INSERT INTO posts (customer_id, position, kind, text, entities, media, link_preview, created_at)"
        f" VALUES (?, ?, 'text', ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (customer_id, position, text, json.dumps(list(entities), ensure_ascii=False), media, int(link_preview), now),
    )
    assert row is not None
    return _post(row)


async def remove_all(conn: aiosqlite.Connection, customer_id: int) -> None:
    """No posts any more (their media rows go with them; groups' fixed posts fall back to the order)."""
    await execute(conn, "DELETE FROM posts WHERE customer_id = ?", (customer_id,))


async def _renumber(conn: aiosqlite.Connection, customer_id: int, ordered: Sequence[int]) -> None:
    for position, post_id in enumerate(ordered):
        await execute(conn, "UPDATE posts SET position = ? WHERE id = ? AND position != ?",
                      (position, post_id, position))


async def remove(conn: aiosqlite.Connection, customer_id: int, post_id: int) -> bool:
    """One post gone (False: no such post of theirs); the others keep their order, renumbered."""
    if not await execute(conn, "DELETE FROM posts WHERE id = ? AND customer_id = ?", (post_id, customer_id)):
        return False
    await _renumber(conn, customer_id, [p.id for p in await list_for(conn, customer_id)])
    return True


async def move(conn: aiosqlite.Connection, customer_id: int, post_id: int, delta: int) -> bool:
    """The post moved ``delta`` places (-1 up, +1 down), clamped to the list (False: no such post)."""
    order = [p.id for p in await list_for(conn, customer_id)]
    if post_id not in order:
        return False
    index = order.index(post_id)
    target = min(max(index + delta, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    await _renumber(conn, customer_id, order)
    return True


async def set_link_preview(conn: aiosqlite.Connection, customer_id: int, post_id: int, on: bool) -> bool:
    """Whether a text post's link gets Telegram's web page preview (False: no such post)."""
    changed = await execute(
        conn, "UPDATE posts SET link_preview = ? WHERE id = ? AND customer_id = ?", (int(on), post_id, customer_id)
    )
    return changed > 0


async def set_group_post(conn: aiosqlite.Connection, customer_id: int, group_ref: str, post_id: int | None) -> bool:
    """The post a group always gets under rotation 'fixed' (None: it follows the order). False: no such
    group of the customer's (the post is the caller's to check: ``get``)."""
    changed = await execute(
        conn, "UPDATE groups SET post_id = ? WHERE customer_id = ? AND ref = ?", (post_id, customer_id, group_ref)
    )
    return changed > 0


async def set_unusable(
    conn: aiosqlite.Connection, customer_id: int, post_id: int, reason: str, error: str | None
) -> bool:
    """The post cannot be sent any more (``reason``: 'post_invalid' | 'source_failed'): the rotation leaves
    it out. False: already so, or no such post. A post's content never changes, so only a new post (the
    customer's replacement, added or saved again) is usable again."""
    changed = await execute(
        conn, "UPDATE posts SET unusable = ?, unusable_error = ? WHERE id = ? AND customer_id = ? AND unusable IS NULL",
        (reason, error, post_id, customer_id),
    )
    return changed > 0


async def usable_count(conn: aiosqlite.Connection, customer_id: int) -> int:
    """The campaign's posts the rotation may carry."""
    row = await fetchone(conn, "SELECT COUNT(*) FROM posts WHERE customer_id = ? AND unusable IS NULL", (customer_id,))
    return int(row[0]) if row else 0


async def group_posts(conn: aiosqlite.Connection, customer_id: int) -> dict[str, int]:
    """The groups with a fixed post: group ref -> post id."""
    rows = await fetchall(
        conn, "SELECT ref, post_id FROM groups WHERE customer_id = ? AND post_id IS NOT NULL", (customer_id,)
    )
    return {str(r[0]): int(r[1]) for r in rows}
