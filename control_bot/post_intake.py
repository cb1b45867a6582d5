"""What a customer sends as their post, read from the message as Telegram delivers it, and the media kept.

* A message forwarded from a channel (``forward_origin`` of type ``channel``) names the post itself:
  it becomes a link post (``core.links.post_from_origin``), checked like a pasted link. A forward from a
  person (``user``, ``hidden_user``) or from an anonymous group admin (``chat``: Telegram gives no message
  id then) cannot be forwarded by reference: its content is taken as the customer's own.
* Own content: a text with its formatting, or one photo / video / animation / document with a caption,
  or an album. Telegram delivers an album as one message per item sharing a ``media_group_id``: they are
  collected until none arrived for ``ALBUM_QUIET`` seconds (``AlbumCollector``), then saved as one post.
* Media are downloaded by the bot (Telegram lets a bot download up to 20 MB) into
  ``data/media/<sha256>`` (owner-only, written once: the same file sent twice is kept once); the
  sessions upload them from there (``engine.telethon_media``).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message, MessageEntity, MessageOriginChannel

from core.links import PostRef, post_from_origin
from core.private_files import make_private_dir, write_private_file
from storage.post_media import MediaRow

logger = logging.getLogger(__name__)

__all__ = [
    "ALBUM_QUIET",
    "MAX_DOWNLOAD_BYTES",
    "AlbumCollector",
    "MediaTooBig",
    "OwnItem",
    "forwarded_post",
    "keep_media",
    "media_of",
    "prune_media",
]

ALBUM_QUIET = 1.0
"""Seconds without a new item of an album before it is taken as complete."""
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""Telegram's limit for a bot's downloads."""
MEDIA_DIR = "media"

ItemKind = Literal["photo", "video", "animation", "document"]


_ENTITY_FIELDS = ("type", "offset", "length", "url", "language", "custom_emoji_id")


def entity_dicts(entities: list[MessageEntity] | None) -> list[dict[str, Any]]:
    """Bot API entity dicts (as the engine stores them); a mentioned user is kept by id only."""
    out: list[dict[str, Any]] = []
    for entity in entities or ():
        item = {name: getattr(entity, name) for name in _ENTITY_FIELDS if getattr(entity, name) is not None}
        if entity.user is not None:
            item["user"] = {"id": entity.user.id}
        out.append(item)
    return out


class MediaTooBig(Exception):
    """A file over the bot's download limit (nothing was downloaded)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


@dataclass(frozen=True)
class OwnItem:
    """One media item of a message, before its bytes are kept."""

    kind: ItemKind
    file_id: str
    file_unique_id: str
    size: int
    mime: str | None = None
    file_name: str | None = None
    width: int = 0
    height: int = 0
    duration: float = 0.0


def forwarded_post(message: Message) -> PostRef | None:
    """The channel post a forwarded message points to; None for anything else."""
    origin = message.forward_origin
    if not isinstance(origin, MessageOriginChannel):
        return None
    return post_from_origin(origin.chat.id, origin.chat.username, origin.message_id)


def media_of(message: Message) -> OwnItem | None:
    """The message's photo (its largest size), video, animation or document; None for text or for media
    a post cannot carry (voice, sticker, poll...)."""
    if message.photo:
        best = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        return OwnItem("photo", best.file_id, best.file_unique_id, best.file_size or 0, "image/jpeg",
                       width=best.width, height=best.height)
    if message.animation is not None:  # before document: Telegram sends both for an animation
        a = message.animation
        return OwnItem("animation", a.file_id, a.file_unique_id, a.file_size or 0, a.mime_type, a.file_name,
                       a.width, a.height, float(a.duration))
    if message.video is not None:
        v = message.video
        return OwnItem("video", v.file_id, v.file_unique_id, v.file_size or 0, v.mime_type, v.file_name,
                       v.width, v.height, float(v.duration))
    if message.document is not None:
        d = message.document
        return OwnItem("document", d.file_id, d.file_unique_id, d.file_size or 0, d.mime_type, d.file_name)
    return None


async def keep_media(bot: Bot, item: OwnItem, data_dir: Path, caption: str = "",
                     entities: list[dict[str, Any]] | None = None) -> MediaRow:
    """Download ``item`` into ``data_dir/media/<sha256>`` (0600, kept once per content) and describe it
    for ``storage.post_media``.

    Refused over the bot's 20 MB limit before any byte is read: by the size the message gave, else by
    getFile's (a document may come without one; getFile refuses a file over 20 MB outright), and while
    streaming by the bytes actually read. Hashing and writing run off the event loop."""
    if item.size > MAX_DOWNLOAD_BYTES:
        raise MediaTooBig(item.size)
    try:
        found = await bot.get_file(item.file_id)
    except TelegramBadRequest as exc:
        if "too big" in exc.message.lower():
            raise MediaTooBig(item.size) from None
        raise
    if (found.file_size or 0) > MAX_DOWNLOAD_BYTES:
        raise MediaTooBig(found.file_size or 0)
    if not found.file_path:
        raise MediaTooBig(found.file_size or item.size)  # Telegram gives no path for what a bot may not take
    buffer = _CappedBuffer(MAX_DOWNLOAD_BYTES)
    await bot.download_file(found.file_path, destination=buffer)
    data = buffer.getvalue()
    folder = data_dir / MEDIA_DIR
    sha = await asyncio.to_thread(_store, folder, data)
    return MediaRow(
        kind=item.kind, file_id=item.file_id, file_unique_id=item.file_unique_id, sha256=sha, size=len(data),
        path=str(folder / sha), mime=item.mime, file_name=item.file_name, caption=caption,
        entities=tuple(entities or ()), width=item.width, height=item.height, duration=item.duration,
    )


class _CappedBuffer(io.BytesIO):
    """A download's bytes in memory, refused as soon as they pass ``cap`` (the stream stops there)."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.cap:
            raise MediaTooBig(self.tell() + len(data))
        return super().write(data)


def _store(folder: Path, data: bytes) -> str:
    """Keep ``data`` under its sha256 (in a worker thread: hashing 20 MB takes tens of ms); returns the
    hash. A copy kept already gets a fresh mtime: ``prune_media`` spares it while this post is saved."""
    sha = hashlib.sha256(data).hexdigest()
    make_private_dir(folder)
    path = folder / sha
    if path.is_file() and path.stat().st_size == len(data):
        try:
            os.utime(path)
            return sha  # the same content, kept already (named by its hash)
        except FileNotFoundError:
            pass  # pruned just now: written again below
    path.unlink(missing_ok=True)
    try:
        write_private_file(path, data)
    except FileExistsError:
        pass  # another save of the same content wrote it just now (named by its hash: the same bytes)
    return sha


PRUNE_AFTER = 3600.0
"""Seconds a kept file no post uses stays on disk after it was last written or reused by a save: long
enough for a post being saved (its files kept, its rows not yet committed) never to lose one, and for the
files of a post saved within that window (a cycle may be sending it) to stay."""
_PRUNING = ".pruning"


def prune_media(data_dir: Path, in_use: set[str], now: float) -> int:
    """Delete kept files no post uses any more, untouched for ``PRUNE_AFTER``; returns how many went.

    A file is first moved aside and its mtime read again there: a save that reused it in between (its
    ``os.utime``) either touched it before the move (it is put back) or finds it gone and writes it anew."""
    folder = data_dir / MEDIA_DIR
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        if path.name.endswith(_PRUNING):  # left aside by a prune that stopped halfway (a crash)
            if _untouched(path, now):
                path.unlink(missing_ok=True)
            continue
        if path.name in in_use or not _untouched(path, now):
            continue
        aside = path.with_name(path.name + _PRUNING)
        try:
            path.rename(aside)
            if not _untouched(aside, now):
                aside.replace(path)  # reused just now: the same bytes go back under their name
                continue
            aside.unlink()
        except OSError as exc:  # tidying up: never a reason to fail saving a post
            logger.warning("could not remove an unused media file: %s", exc)
            continue
        removed += 1
    return removed


def _untouched(path: Path, now: float) -> bool:
    try:
        return path.is_file() and path.stat().st_mtime < now - PRUNE_AFTER
    except OSError:
        return False


AlbumHandler = Callable[[list[Message]], Awaitable[None]]


@dataclass
class _Album:
    messages: list[Message] = field(default_factory=list)
    timer: asyncio.Task[None] | None = None


class AlbumCollector:
    """Collects the messages of one album (per user and ``media_group_id``) and hands them over, in
    message order, once ``quiet`` seconds passed without another one."""

    def __init__(self, quiet: float = ALBUM_QUIET) -> None:
        self.quiet = quiet
        self._albums: dict[tuple[int, str], _Album] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, user_id: int, message: Message, handler: AlbumHandler) -> None:
        group_id = message.media_group_id
        assert group_id is not None
        key = (user_id, group_id)
        album = self._albums.setdefault(key, _Album())
        album.messages.append(message)
        if album.timer is not None:
            album.timer.cancel()
        album.timer = asyncio.get_running_loop().create_task(self._later(key, handler))

    async def _later(self, key: tuple[int, str], handler: AlbumHandler) -> None:
        await asyncio.sleep(self.quiet)
        album = self._albums.pop(key, None)
        if album is None:
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await handler(sorted(album.messages, key=lambda m: m.message_id))
        except Exception:
            logger.exception("saving an album as the post failed (user %d)", key[0])
        finally:
            self._tasks.discard(task)

    async def flush(self) -> None:
        """Shutdown: albums still being collected are dropped (the customer sends them again); the ones
        being saved finish."""
        for album in self._albums.values():
            if album.timer is not None:
                album.timer.cancel()
        self._albums.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
