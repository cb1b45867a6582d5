"""The customer's own media post as the engine's sessions send it: its stored rows (``storage.post_media``)
as ``core.ports.MediaItem``, read once per cycle with the campaign."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from core.ports import MediaItem, MediaKind
from storage import post_media
from storage.customers import Customer
from storage.db import Database

__all__ = ["own_media"]


async def own_media(db: Database, customer: Customer) -> tuple[MediaItem, ...]:
    """The post's media in order; () for a link post or a text post without media."""
    if customer.post_kind != "text" or customer.post_media <= 0:
        return ()
    async with db.read() as conn:
        rows = await post_media.items(conn, customer.user_id)
    return tuple(
        MediaItem(
            kind=cast(MediaKind, row.kind),
            path=Path(row.path),
            sha256=row.sha256,
            size=row.size,
            mime=row.mime,
            file_name=row.file_name,
            caption=row.caption,
            entities=tuple(row.entities),
            width=row.width,
            height=row.height,
            duration=row.duration,
        )
        for row in rows
    )
