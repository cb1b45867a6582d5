"""control_bot.post_intake on aiogram's own types: which post a forward names, a message's media, albums
collected by media_group_id, kept files (owner-only, once per content, never over 20 MB)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import (
    Animation,
    Chat,
    Document,
    Message,
    MessageOriginChannel,
    MessageOriginHiddenUser,
    PhotoSize,
    Video,
)

from control_bot.post_intake import (
    PRUNE_AFTER,
    AlbumCollector,
    MediaTooBig,
    OwnItem,
    forwarded_post,
    keep_media,
    media_of,
    prune_media,
)

DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CHAT = Chat(id=1, type="private")


def message(message_id: int = 1, **fields: Any) -> Message:
    return Message(message_id=message_id, date=DATE, chat=CHAT, **fields)


def test_a_forward_from_a_channel_names_its_post() -> None:
    public = MessageOriginChannel(date=DATE, chat=Chat(id=-1001234567890, type="channel", username="Deals"),
                                  message_id=42)
    private = MessageOriginChannel(date=DATE, chat=Chat(id=-1001234567890, type="channel"), message_id=7)
    assert forwarded_post(message(forward_origin=public, text="x")).link == "https://t.me/deals/42"  # type: ignore[union-attr]
    ref = forwarded_post(message(forward_origin=private, text="x"))
    assert ref is not None and (ref.peer, ref.msg_id) == ("-1001234567890", 7)
    hidden = MessageOriginHiddenUser(date=DATE, sender_user_name="Bob")
    assert forwarded_post(message(forward_origin=hidden, text="x")) is None
    assert forwarded_post(message(text="x")) is None


def test_media_of_a_message() -> None:
    sizes = [PhotoSize(file_id="s", file_unique_id="us", width=90, height=90, file_size=10),
             PhotoSize(file_id="b", file_unique_id="ub", width=800, height=600, file_size=900)]
    photo = media_of(message(photo=sizes))
    assert photo is not None and (photo.kind, photo.file_id, photo.size) == ("photo", "b", 900)
    gif = Animation(file_id="a", file_unique_id="ua", width=1, height=1, duration=2, file_size=5)
    doc = Document(file_id="a", file_unique_id="ua", file_name="a.mp4")
    animation = media_of(message(animation=gif, document=doc))
    assert animation is not None and animation.kind == "animation"  # not the document Telegram also sends
    video = media_of(message(video=Video(file_id="v", file_unique_id="uv", width=640, height=360, duration=9)))
    assert video is not None and (video.kind, video.width, video.duration) == ("video", 640, 9.0)
    assert media_of(message(text="hello")) is None


class _Bot:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.downloads = 0

    async def download(self, file_id: str, destination: Any) -> None:
        self.downloads += 1
        destination.write(self.data)


async def test_kept_files_are_owner_only_once_per_content_and_at_most_20_mb(tmp_path: Path) -> None:
    bot = _Bot(b"photo bytes")
    item = OwnItem("photo", "f1", "u1", 11)
    row = await keep_media(bot, item, tmp_path, "Sale", [{"type": "bold", "offset": 0, "length": 4}])  # type: ignore[arg-type]
    path = Path(row.path)
    assert path == tmp_path / "media" / hashlib.sha256(b"photo bytes").hexdigest()
    assert path.read_bytes() == b"photo bytes" and row.size == 11 and row.caption == "Sale"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = await keep_media(bot, OwnItem("photo", "f2", "u2", 11), tmp_path)  # type: ignore[arg-type]
    assert again.path == row.path
    with pytest.raises(MediaTooBig):
        await keep_media(bot, OwnItem("video", "f3", "u3", 20 * 1024 * 1024 + 1), tmp_path)  # type: ignore[arg-type]
    assert bot.downloads == 2  # the big one was refused before downloading


async def test_an_album_is_handed_over_whole_after_a_quiet_second() -> None:
    collector = AlbumCollector(quiet=0.05)
    got: list[list[int]] = []

    async def handler(messages: list[Message]) -> None:
        got.append([m.message_id for m in messages])

    for message_id in (3, 1, 2):
        collector.add(7, message(message_id, media_group_id="g", text="x"), handler)
        await asyncio.sleep(0.01)
    collector.add(8, message(9, media_group_id="g", text="x"), handler)  # another user's album
    assert got == []
    await asyncio.sleep(0.15)
    assert sorted(got) == [[1, 2, 3], [9]]
    await collector.flush()


def test_files_no_post_uses_are_pruned_once_old(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    for name in ("used", "fresh", "old"):
        (folder / name).write_bytes(b"x")
    now = (folder / "old").stat().st_mtime + 2 * PRUNE_AFTER
    os.utime(folder / "fresh", (now, now))  # written just now: a post being saved may be about to use it
    assert prune_media(tmp_path, {"used"}, now) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["fresh", "used"]
    assert prune_media(tmp_path / "nowhere", set(), now) == 0
