"""The simulated Telegram's posts and media, strict like Telegram: reading a post says what it is (and a
private channel is unreadable for a non-member), own media posts arrive as media (never as text), a file
is uploaded once per connection, and chats' media rules hold."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from telethon import errors

from core.clock import FakeClock
from core.outcomes import OutcomeKind
from core.ports import MediaItem, Peer
from engine.outcomes import classify
from sandbox.world import World
from sandbox.world.port import SimPort

T0 = 1_800_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


async def connected(world: World, key: str, session_id: int = 1) -> SimPort:
    port = SimPort(world, key, session_id)
    await port.connect()
    return port


def item(tmp_path: Path, name: str, kind: Any = "photo", caption: str = "") -> MediaItem:
    data = name.encode() * 50
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(kind=kind, path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data), caption=caption)


async def send(port: SimPort, dest: Peer, items: list[MediaItem], random_id: int = 1) -> int | None:
    return await port.send_media(dest=dest, topic_id=None, items=items, random_id=random_id)


async def test_read_post_says_what_the_post_is(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    ads = world.add_channel("ads", posts=[1, 2, 3, 4])
    ads.posts[2] = "Three photos and a video"
    ads.albums.update({2: 9, 3: 9, 4: 9})
    ads.media.update({2: "photo", 3: "photo", 4: "video"})
    port = await connected(world, "a")
    src = await port.resolve("@ads")

    album = await port.read_post(src, 3)
    assert (album.ids, album.album_size, album.grouped_id) == ((2, 3, 4), 3, 9)
    assert (album.media, album.excerpt, album.noforwards) == (("photo", "photo", "video"), "Three photos and a video",
                                                               False)
    single = await port.read_post(src, 1)
    assert (single.ids, single.media, single.excerpt) == ((1,), ("",), "post 1")

    world.add_channel("locked", posts=[7], noforwards=True)
    assert (await port.read_post(await port.resolve("@locked"), 7)).noforwards


async def test_a_private_channel_is_unreadable_for_a_non_member(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("member")
    world.add_account("outsider")
    private = world.add_channel(None, chat_id=777, posts=[5], members=["member"]).marked_id
    inside = await connected(world, "member", 1)
    outside = await connected(world, "outsider", 2)

    info = await inside.read_post(world.peer_seen_by("member", private), 5)
    assert info.ids == (5,)
    with pytest.raises(errors.ChannelPrivateError) as refused:
        await outside.read_post(world.peer_seen_by("outsider", private), 5)
    assert classify(refused.value, source_failed=True).kind is OutcomeKind.SOURCE_FAILED
    with pytest.raises(errors.MessageIdInvalidError):
        await inside.read_post(world.peer_seen_by("member", private), 6)


async def test_own_media_arrives_as_media_and_is_uploaded_once_per_connection(
    clock: FakeClock, tmp_path: Path
) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_group("cats")
    world.add_group("dogs")
    port = await connected(world, "a")
    cats, dogs = await port.resolve("@cats"), await port.resolve("@dogs")
    photo = item(tmp_path, "a.jpg", caption="Sale")

    assert await send(port, cats, [photo], 1) is not None
    assert await send(port, dogs, [photo], 2) is not None

    delivered = world.deliveries_to("@cats")[0]
    assert (delivered.media, delivered.text, delivered.source_chat) == (("photo",), "Sale", None)
    assert world.uploads[("a", photo.sha256)] == 1  # the second send named the uploaded photo
    assert world.request_count("a", "send_media") == 2

    await port.close()
    again = await connected(world, "a")
    await send(again, await again.resolve("@cats"), [photo], 3)
    assert world.uploads[("a", photo.sha256)] == 2  # a new connection uploads for itself
    assert world.violations == []


async def test_an_album_is_one_delivery_and_keeps_telegrams_album_rules(clock: FakeClock, tmp_path: Path) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_group("cats")
    port = await connected(world, "a")
    cats = await port.resolve("@cats")
    album = [item(tmp_path, "1.jpg", caption="Three"), item(tmp_path, "2.mp4", "video"), item(tmp_path, "3.jpg")]

    await send(port, cats, album, 10)
    (delivered,) = world.deliveries_to("@cats")
    assert delivered.media == ("photo", "video", "photo") and delivered.text == "Three"

    with pytest.raises(errors.GroupedMediaInvalidError):
        await send(port, cats, [item(tmp_path, "g.mp4", "animation"), item(tmp_path, "4.jpg")], 11)
    with pytest.raises(errors.GroupedMediaInvalidError):
        await send(port, cats, [item(tmp_path, "d.pdf", "document"), item(tmp_path, "5.jpg")], 12)
    with pytest.raises(errors.MultiMediaTooLongError):
        await send(port, cats, [item(tmp_path, f"{i}.jpg") for i in range(11)], 13)
    with pytest.raises(errors.MediaCaptionTooLongError):
        await send(port, cats, [item(tmp_path, "c.jpg", caption="x" * 1025)], 14)
    # Counted in UTF-16 units, as Telegram counts: 513 emoji are 1,026 units; 512 are exactly 1,024.
    with pytest.raises(errors.MediaCaptionTooLongError):
        await send(port, cats, [item(tmp_path, "e.jpg", caption="😀" * 513)], 15)
    await send(port, cats, [item(tmp_path, "f.jpg", caption="😀" * 512)], 16)


async def test_a_file_that_is_not_the_stored_one_is_refused(clock: FakeClock, tmp_path: Path) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_group("cats")
    port = await connected(world, "a")
    photo = item(tmp_path, "a.jpg")
    photo.path.write_bytes(b"changed")
    with pytest.raises(errors.MediaEmptyError) as refused:
        await send(port, await port.resolve("@cats"), [photo])
    assert classify(refused.value).kind is OutcomeKind.POST_INVALID
    assert world.deliveries_to("@cats") == []


async def test_chats_that_refuse_media_or_plain_text(clock: FakeClock, tmp_path: Path) -> None:
    world = World(clock)
    world.add_account("a")
    no_media = world.add_group("nomedia")
    no_media.media_forbidden = True
    world.add_group("notext", plain_forbidden=True)
    ads = world.add_channel("ads", posts=[1, 2])
    ads.media[2] = "photo"
    port = await connected(world, "a")
    nomedia, notext = await port.resolve("@nomedia"), await port.resolve("@notext")
    src = await port.resolve("@ads")

    with pytest.raises(errors.ChatSendMediaForbiddenError):
        await send(port, nomedia, [item(tmp_path, "a.jpg")], 1)
    with pytest.raises(errors.ChatSendMediaForbiddenError):  # a forward of a photo post is media too
        await port.forward(source=src, msg_id=2, dest=nomedia, topic_id=None, random_id=2, drop_author=False)
    assert await port.forward(source=src, msg_id=1, dest=nomedia, topic_id=None, random_id=3, drop_author=False)
    assert await port.send_text(dest=nomedia, topic_id=None, text="hi", entities=[], random_id=4)

    assert await send(port, notext, [item(tmp_path, "b.jpg")], 5)  # media passes where plain text does not
    with pytest.raises(errors.ChatSendPlainForbiddenError):
        await port.send_text(dest=notext, topic_id=None, text="hi", entities=[], random_id=6)


async def test_prepare_uploads_on_the_worlds_clock_once_and_honours_an_upload_wait(
    clock: FakeClock, tmp_path: Path
) -> None:
    world = World(clock, upload_seconds_per_mb=8.0)
    world.add_account("a")
    world.add_group("g")
    port = await connected(world, "a")
    dest = await port.resolve("@g")
    data = b"x" * (2 * 1024 * 1024)
    (tmp_path / "big.jpg").write_bytes(data)
    big = MediaItem(kind="photo", path=tmp_path / "big.jpg", sha256=hashlib.sha256(data).hexdigest(), size=len(data))

    assert await port.prepare_media([big]) == 1
    assert clock.now() == pytest.approx(T0 + 16)  # 2 MB at 8 s per MB, before any send
    assert (world.request_count("a", "upload"), world.uploads[("a", big.sha256)]) == (1, 1)
    assert await send(port, dest, [big]) is not None
    assert clock.now() == pytest.approx(T0 + 16)  # the send named the uploaded file: no time, no bytes
    assert world.request_count("a", "upload") == 1

    small = item(tmp_path, "s.jpg")
    world.add_fault(kind="flood_wait", account="a", method="upload", seconds=60)
    with pytest.raises(errors.FloodWaitError):
        await port.prepare_media([small])
    assert world.accounts["a"].flood_until == {"upload": pytest.approx(clock.now() + 60)}
    assert await send(port, dest, [big], random_id=2) is not None  # a send needing no upload goes on
    with pytest.raises(errors.FloodWaitError):
        await port.prepare_media([small])  # asked inside the wait: refused, and a breach
    assert [v.kind for v in world.violations] == ["flood_wait"]
