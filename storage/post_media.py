"""Own content's media: the photos, videos, documents and animations of a post (``storage.posts``, kind
'text'), one row each, an album in order; ``posts.media`` counts them (a media post needs no text). The bytes
are in ``data/media/<sha256>`` (0600), written by the bot when the customer sent them; the engine's sessions
upload them from there (``core.ports.MediaItem``).

A post is added whole: ``add_own_post`` inserts the post and every media row in one transaction (the
caller's), so a cycle never reads half a post; ``set_own_post`` makes it the campaign's only post (the
/post flow); a post's rows go with it (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from storage import customers, posts
from storage.db import execute, fetchall

__all__ = ["MediaRow", "add_own_post", "files_in_use", "items", "items_of", "set_own_post"]


@dataclass(frozen=True)
class MediaRow:
    """One item of the post, as the bot received it (``file_id`` lets the bot send it back: the preview)."""

    kind: str  # 'photo' | 'video' | 'document' | 'animation'
    file_id: str
    file_unique_id: str
    sha256: str
    size: int
    path: str  # the kept file (data/media/<sha256>)
    mime: str | None = None
    file_name: str | None = None
    caption: str = ""
    entities: Sequence[dict[str, Any]] = field(default_factory=tuple)
    width: int = 0
    height: int = 0
    duration: float = 0.0


def _row(row: sqlite3.Row) -> MediaRow:
    return MediaRow(
        kind=row["kind"],
        file_id=row["file_id"],
        file_unique_id=row["file_unique_id"],
        sha256=row["sha256"],
        size=row["size"],
        path=row["path"],
        mime=row["mime"],
        file_name=row["file_name"],
        caption=row["caption"],
        entities=tuple(json.loads(row["entities"])) if row["entities"] else (),
        width=row["width"],
        height=row["height"],
        duration=row["duration"],
    )


async def set_own_post(
    conn: aiosqlite.Connection,
    user_id: int,
    text: str,
    entities: Sequence[dict[str, Any]],
    media: Sequence[MediaRow],
    now: float,
) -> posts.Post:
    """The campaign's posts become this one own content (the /post flow): ``text`` (the caption of a media
    post, may be empty then) with its formatting, and ``media`` in order (none: a text post)."""
    await customers.set_post_text(conn, user_id, text, entities, now, media=len(media))
    post = (await posts.list_for(conn, user_id))[0]
    await _insert(conn, post, media)
    return post


async def add_own_post(
    conn: aiosqlite.Connection,
    user_id: int,
    text: str,
    entities: Sequence[dict[str, Any]],
    media: Sequence[MediaRow],
    now: float,
) -> posts.Post:
    """Own content appended to the campaign's posts (the caller checks the cap)."""
    post = await posts.add_own(conn, user_id, text, entities, len(media), now)
    await _insert(conn, post, media)
    return post


async def _insert(conn: aiosqlite.Connection, post: posts.Post, media: Sequence[MediaRow]) -> None:
    for position, item in enumerate(media):
        await execute(
            conn,
            "INSERT INTO post_media (post_id, customer_id, position, kind, file_id, file_unique_id, sha256, size,"
            " path, mime, file_name, caption, entities, width, height, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?)",
            (
                post.id, post.customer_id, position, item.kind, item.file_id, item.file_unique_id, item.sha256,
                item.size, item.path, item.mime, item.file_name, item.caption,
                json.dumps(list(item.entities), ensure_ascii=False) if item.entities else None,
                item.width, item.height, item.duration,
            ),
        )


async def items(conn: aiosqlite.Connection, user_id: int) -> list[MediaRow]:
    """The campaign's first post's media in order ([] for a text or link post, or no post)."""
    rows = await fetchall(
        conn,
        "SELECT m.* FROM post_media m WHERE m.post_id = (SELECT id FROM posts WHERE customer_id = ?"
        " ORDER BY position, id LIMIT 1) ORDER BY m.position",
        (user_id,),
    )
    return [_row(row) for row in rows]


async def items_of(conn: aiosqlite.Connection, post_id: int) -> list[MediaRow]:
    """One post's media in order ([] for a text or link post)."""
    rows = await fetchall(conn, "SELECT * FROM post_media WHERE post_id = ? ORDER BY position", (post_id,))
    return [_row(row) for row in rows]


async def files_in_use(conn: aiosqlite.Connection) -> set[str]:
    """The sha256 of every kept file some post still uses (the others may be deleted)."""
    rows = await fetchall(conn, "SELECT DISTINCT sha256 FROM post_media")
    return {str(row["sha256"]) for row in rows}
