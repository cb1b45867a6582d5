"""The customer's own media post: its photos, videos, documents and animations (one row each, an album in
order), kept next to the post's text in ``customers`` (``post_kind = 'text'``, ``post_media`` = how many
rows: a media post needs no text). The bytes are in ``data/media/<sha256>`` (0600), written by the bot
when the customer sent them; the engine's sessions upload them from there (``core.ports.MediaItem``).

A post is set whole: ``set_own_post`` replaces the text, its formatting and every media row in one
transaction (the caller's), so a cycle never reads half of an old post and half of a new one; setting a
link post (``customers.set_post_link``) drops the rows (``clear``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from storage import customers
from storage.db import execute, fetchall

__all__ = ["MediaRow", "clear", "items", "set_own_post"]


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
) -> None:
    """The customer's post becomes their own content: ``text`` (the caption of a media post, may be
    empty then) with its formatting, and ``media`` in order (none: a text post)."""
    await customers.set_post_text(conn, user_id, text, entities, now)
    await clear(conn, user_id)
    for position, item in enumerate(media):
        await execute(
            conn,
            "INSERT INTO post_media (customer_id, position, kind, file_id, file_unique_id, sha256, size, path, mime,"
            " file_name, caption, entities, width, height, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?)",
            (
                user_id, position, item.kind, item.file_id, item.file_unique_id, item.sha256, item.size, item.path,
                item.mime, item.file_name, item.caption,
                json.dumps(list(item.entities), ensure_ascii=False) if item.entities else None,
                item.width, item.height, item.duration,
            ),
        )
    await execute(conn, "UPDATE customers SET post_media = ? WHERE user_id = ?", (len(media), user_id))


async def clear(conn: aiosqlite.Connection, user_id: int) -> None:
    """No media any more (a link post, or a text post replacing a media one)."""
    await execute(conn, "DELETE FROM post_media WHERE customer_id = ?", (user_id,))
    await execute(conn, "UPDATE customers SET post_media = 0 WHERE user_id = ?", (user_id,))


async def items(conn: aiosqlite.Connection, user_id: int) -> list[MediaRow]:
    """The post's media in order ([] for a text or link post)."""
    rows = await fetchall(conn, "SELECT * FROM post_media WHERE customer_id = ? ORDER BY position", (user_id,))
    return [_row(row) for row in rows]


async def files_in_use(conn: aiosqlite.Connection) -> set[str]:
    """The sha256 of every kept file some post still uses (the others may be deleted)."""
    rows = await fetchall(conn, "SELECT DISTINCT sha256 FROM post_media")
    return {str(row["sha256"]) for row in rows}
