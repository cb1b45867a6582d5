"""control_bot.post_intake on aiogram's own types: which post a forward names, a message's media, albums
collected by media_group_id, kept files (owner-only, once per content, never over 20 MB)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import GetFile
from aiogram.types import (
    Animation,
    Chat,
    Document,
    File,
    Message,
    MessageOriginChannel,
    MessageOriginHiddenUser,
    PhotoSize,
    Video,
)

from control_bot import post_intake
from control_bot.post_intake import (
    MAX_DOWNLOAD_BYTES,
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
    """getFile and the download as Telegram serves a bot: getFile refuses a file over 20 MB ("file is
    too big"), the download comes in 64 KB chunks."""

    def __init__(self, data: bytes, *, reported: int | None = None) -> None:
        self.data = data
        self.reported = len(data) if reported is None else reported
        self.downloads = 0
        self.downloaded = 0

    async def get_file(self, file_id: str) -> File:
        if self.reported > MAX_DOWNLOAD_BYTES:
            raise TelegramBadRequest(method=GetFile(file_id=file_id), message="Bad Request: file is too big")
        return File(file_id=file_id, file_unique_id="u" + file_id, file_size=self.reported or None,
                    file_path=f"photos/{file_id}.jpg")

    async def download_file(self, file_path: str, destination: Any) -> None:
        self.downloads += 1
        for start in range(0, len(self.data), 65536):
            chunk = self.data[start : start + 65536]
            destination.write(chunk)
            self.downloaded += len(chunk)


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


async def test_a_file_of_unknown_size_is_refused_by_getfile_before_downloading(tmp_path: Path) -> None:
    """A document may come with no file_size: getFile's size (or its refusal) decides, before any byte."""
    big = MAX_DOWNLOAD_BYTES + 1
    refusing = _Bot(b"", reported=big)  # Telegram: getFile fails with "file is too big"
    with pytest.raises(MediaTooBig):
        await keep_media(refusing, OwnItem("document", "d1", "ud1", 0), tmp_path)  # type: ignore[arg-type]
    assert refusing.downloads == 0
    assert not (tmp_path / "media").exists()


async def test_a_download_is_stopped_at_20_mb_whatever_the_sizes_said(tmp_path: Path) -> None:
    """Neither the message nor getFile gave a size: the stream is cut as soon as it passes 20 MB."""
    bot = _Bot(b"\0" * (MAX_DOWNLOAD_BYTES + 200_000), reported=0)
    with pytest.raises(MediaTooBig):
        await keep_media(bot, OwnItem("document", "d2", "ud2", 0), tmp_path)  # type: ignore[arg-type]
    assert bot.downloaded <= MAX_DOWNLOAD_BYTES + 65536
    assert not (tmp_path / "media").exists()


async def test_hashing_and_writing_run_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = hashlib.sha256

    def spy(data: bytes = b"") -> Any:
        threads.append(threading.get_ident())
        return real(data)

    monkeypatch.setattr(post_intake.hashlib, "sha256", spy)
    await keep_media(_Bot(b"x" * 1000), OwnItem("photo", "f9", "u9", 1000), tmp_path)  # type: ignore[arg-type]
    assert threads and threading.get_ident() not in threads


async def test_reusing_a_kept_file_refreshes_it_so_a_prune_spares_it(tmp_path: Path) -> None:
    """A copy kept long ago, no post using it, about to be reused by a post being saved (its rows not yet
    committed): the save touches it, and a prune by another customer's save in between spares it."""
    data = b"same photo"
    first = await keep_media(_Bot(data), OwnItem("photo", "a", "ua", len(data)), tmp_path)  # type: ignore[arg-type]
    path = Path(first.path)
    long_ago = path.stat().st_mtime - 10 * PRUNE_AFTER
    os.utime(path, (long_ago, long_ago))
    assert prune_media(tmp_path, set(), path.stat().st_mtime + 2 * PRUNE_AFTER) == 1  # unused and old: goes
    await keep_media(_Bot(data), OwnItem("photo", "a", "ua", len(data)), tmp_path)  # type: ignore[arg-type]
    os.utime(path, (long_ago, long_ago))

    again = await keep_media(_Bot(data), OwnItem("photo", "b", "ub", len(data)), tmp_path)  # type: ignore[arg-type]
    assert again.path == first.path
    assert prune_media(tmp_path, set(), time.time()) == 0  # another save's prune, before this one commits
    assert path.read_bytes() == data


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
