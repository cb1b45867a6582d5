"""Own media posts and post reads through the Telethon adapter, against a real TelegramClient whose network
sender is scripted (tests/fake_sender.py): real TL objects, real RPC errors, Telethon's own upload code.

What must hold: a file is uploaded once per session and named again afterwards; a stale file reference
uploads it again and repeats the very same request (same random_id: nothing can arrive twice); an album
is one messages.sendMultiMedia with one random_id per item derived from the send's own; ``read_post``
says what the post is (its album, forwarding allowed or not, media kinds, the start of its text).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telethon import errors, functions, types

from core.outcomes import OutcomeKind
from core.ports import MediaItem, Peer
from engine.albums import album_random_ids
from engine.outcomes import classify
from engine.telethon_adapter import TelethonAccount, TelethonFactory
from tests.fake_sender import NOW, FakeSender, RpcFail
from tests.test_telethon_adapter import Rig, connected

DEST = Peer("channel", 2222222222, 922)
OTHER = Peer("channel", 3333333333, 933)
SOURCE = Peer("channel", 1111111111, 911)
RANDOM_ID = -4_242_424_242_424_242
SendMedia = functions.messages.SendMediaRequest
SendMulti = functions.messages.SendMultiMediaRequest
UploadMedia = functions.messages.UploadMediaRequest
SavePart = functions.upload.SaveFilePartRequest


@pytest.fixture
def rig(telethon_sleeps: list[float]) -> Rig:
    return Rig(sleeps=telethon_sleeps)


@pytest.fixture
async def factory(rig: Rig) -> AsyncIterator[TelethonFactory]:
    made = TelethonFactory(client_builder=rig.builder())
    yield made
    for client in rig.clients:
        if client.is_connected():
            await client.disconnect()


def item(
    tmp_path: Path, name: str, kind: Any = "photo", *, caption: str = "", size: int = 3000, **kw: Any
) -> MediaItem:
    data = (name.encode() * (size // len(name) + 1))[:size]
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(kind=kind, path=path, sha256=hashlib.sha256(data).hexdigest(), size=size, caption=caption, **kw)


async def send(account: TelethonAccount, items: list[MediaItem], dest: Peer = DEST, topic_id: int | None = None,
               random_id: int = RANDOM_ID) -> int | None:
    return await account.send_media(dest=dest, topic_id=topic_id, items=items, random_id=random_id)


async def test_a_photo_is_uploaded_once_per_session_then_named_again(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    photo = item(tmp_path, "a.jpg", caption="Sale today", entities=[{"type": "bold", "offset": 0, "length": 4}])

    first = await send(account, [photo])

    assert first == 9001
    assert len(rig.fake.of(SavePart)) == 1  # 3 KB: one part
    request = rig.fake.of(SendMedia)[-1]
    assert isinstance(request.media, types.InputMediaUploadedPhoto)
    assert (request.message, request.random_id) == ("Sale today", RANDOM_ID)
    assert request.entities == [types.MessageEntityBold(0, 4)]
    assert request.peer == types.InputPeerChannel(DEST.id, DEST.access_hash)

    second = await send(account, [photo], dest=OTHER, topic_id=15, random_id=RANDOM_ID + 1)

    assert second == 9002
    assert len(rig.fake.of(SavePart)) == 1  # no bytes went out again
    again = rig.fake.of(SendMedia)[-1]
    assert again.media == types.InputMediaPhoto(id=types.InputPhoto(700001, 700001 * 7, b"ref700001"))
    assert again.reply_to == types.InputReplyToMessage(reply_to_msg_id=15, top_msg_id=15)
    assert again.random_id == RANDOM_ID + 1
    await account.close()


async def test_another_session_uploads_for_itself(factory: TelethonFactory, rig: Rig, tmp_path: Path) -> None:
    photo = item(tmp_path, "a.jpg")
    one = await connected(factory, tmp_path, 1)
    await send(one, [photo])
    two = await connected(factory, tmp_path, 2)
    await send(two, [photo])
    # Uploaded files belong to the account that uploaded them: each session sends its own bytes once.
    assert [len(fake.of(SavePart)) for fake in rig.fakes] == [1, 1]
    assert isinstance(rig.fakes[1].of(SendMedia)[-1].media, types.InputMediaUploadedPhoto)
    await one.close()
    await two.close()


async def test_a_stale_file_reference_uploads_again_and_repeats_the_same_request(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    video = item(tmp_path, "clip.mp4", "video", width=640, height=360, duration=12.0, mime="video/mp4",
                 file_name="clip.mp4")
    await send(account, [video])
    rig.fake.script(SendMedia, RpcFail(400, "FILE_REFERENCE_EXPIRED"))

    new_id = await send(account, [video], random_id=RANDOM_ID + 5)

    assert new_id is not None
    reused, resent = rig.fake.of(SendMedia)[-2:]
    assert isinstance(reused.media, types.InputMediaDocument)
    assert isinstance(resent.media, types.InputMediaUploadedDocument)
    assert reused.random_id == resent.random_id == RANDOM_ID + 5  # the refused request created nothing
    assert len(rig.fake.of(SavePart)) == 2
    attributes = resent.media.attributes
    assert types.DocumentAttributeVideo(duration=12.0, w=640, h=360, supports_streaming=True) in attributes
    assert types.DocumentAttributeFilename("clip.mp4") in attributes
    assert resent.media.mime_type == "video/mp4"
    await account.close()


async def test_a_second_stale_reference_is_raised_not_looped(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    photo = item(tmp_path, "a.jpg")
    await send(account, [photo])
    rig.fake.script(SendMedia, RpcFail(400, "FILE_REFERENCE_EXPIRED"), RpcFail(400, "FILE_REFERENCE_EXPIRED"))
    with pytest.raises(errors.FileReferenceExpiredError):
        await send(account, [photo])
    await account.close()


async def test_an_album_is_one_send_multi_media_with_one_random_id_per_item(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    items = [item(tmp_path, "1.jpg", caption="Three photos"), item(tmp_path, "2.mp4", "video"),
             item(tmp_path, "3.jpg")]

    new_id = await send(account, items)

    assert new_id == 9001  # the first item's message: its random_id is the send's own
    uploads = rig.fake.of(UploadMedia)
    assert [type(u.media).__name__ for u in uploads] == [
        "InputMediaUploadedPhoto", "InputMediaUploadedDocument", "InputMediaUploadedPhoto"
    ]
    (multi,) = rig.fake.of(SendMulti)
    assert [s.random_id for s in multi.multi_media] == album_random_ids(RANDOM_ID, 3)
    assert [s.message for s in multi.multi_media] == ["Three photos", "", ""]
    assert [type(s.media).__name__ for s in multi.multi_media] == [
        "InputMediaPhoto", "InputMediaDocument", "InputMediaPhoto"
    ]
    assert rig.fake.of(SendMedia) == []  # nothing posted one by one

    await send(account, items, dest=OTHER, random_id=RANDOM_ID + 1)
    assert len(rig.fake.of(UploadMedia)) == 3  # every file kept: the second album uploads nothing
    assert len(rig.fake.of(SendMulti)) == 2
    await account.close()


async def test_a_stale_reference_in_an_album_uploads_the_album_again(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    items = [item(tmp_path, "1.jpg"), item(tmp_path, "2.jpg")]
    await send(account, items)
    rig.fake.script(SendMulti, RpcFail(400, "FILE_REFERENCE_EXPIRED"))

    assert await send(account, items, random_id=RANDOM_ID + 9) is not None

    refused, resent = rig.fake.of(SendMulti)[-2:]
    assert [s.random_id for s in refused.multi_media] == [s.random_id for s in resent.multi_media]
    assert len(rig.fake.of(UploadMedia)) == 4
    await account.close()


async def test_media_refused_by_the_group_is_the_groups_refusal(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(SendMedia, RpcFail(403, "CHAT_SEND_MEDIA_FORBIDDEN"))
    with pytest.raises(errors.ChatSendMediaForbiddenError) as refused:
        await send(account, [item(tmp_path, "a.jpg")])
    assert classify(refused.value).kind is not OutcomeKind.SENT
    await account.close()


# --- prepare_media: the upload apart from the send -------------------------------------------------


async def test_prepare_uploads_and_makes_each_file_then_the_send_only_names_them(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    photo = item(tmp_path, "a.jpg", caption="Sale today")

    assert await account.prepare_media([photo]) == 1

    (made,) = rig.fake.of(UploadMedia)
    assert made.peer == types.InputPeerSelf()  # posts nothing, anywhere
    assert isinstance(made.media, types.InputMediaUploadedPhoto)
    assert len(rig.fake.of(SavePart)) == 1
    assert rig.fake.of(SendMedia) == []
    assert await account.prepare_media([photo]) == 0  # kept: nothing goes out again
    assert len(rig.fake.of(UploadMedia)) == 1

    new_id = await send(account, [photo])

    assert new_id == 9001
    (sent,) = rig.fake.of(SendMedia)
    assert sent.media == types.InputMediaPhoto(id=types.InputPhoto(700001, 700001 * 7, b"ref700001"))
    assert (sent.message, sent.random_id) == ("Sale today", RANDOM_ID)
    assert len(rig.fake.of(SavePart)) == 1  # the send carried no bytes
    await account.close()


async def test_a_prepared_album_is_one_send_multi_media_without_uploads(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    items = [item(tmp_path, "1.jpg", caption="Two"), item(tmp_path, "2.mp4", "video", width=640, height=360,
                                                          duration=3.0)]

    assert await account.prepare_media(items) == 2
    uploads = rig.fake.of(UploadMedia)
    assert [type(u.media).__name__ for u in uploads] == ["InputMediaUploadedPhoto", "InputMediaUploadedDocument"]
    parts = len(rig.fake.of(SavePart))

    await send(account, items)

    (multi,) = rig.fake.of(SendMulti)
    assert [type(s.media).__name__ for s in multi.multi_media] == ["InputMediaPhoto", "InputMediaDocument"]
    assert [s.random_id for s in multi.multi_media] == album_random_ids(RANDOM_ID, 2)
    assert (len(rig.fake.of(UploadMedia)), len(rig.fake.of(SavePart))) == (2, parts)
    await account.close()


async def test_a_stale_reference_after_prepare_uploads_once_more_with_the_same_random_id(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    photo = item(tmp_path, "a.jpg")
    await account.prepare_media([photo])
    rig.fake.script(SendMedia, RpcFail(400, "FILE_REFERENCE_EXPIRED"))

    assert await send(account, [photo], random_id=RANDOM_ID + 3) is not None

    refused, resent = rig.fake.of(SendMedia)
    assert isinstance(refused.media, types.InputMediaPhoto)
    assert isinstance(resent.media, types.InputMediaUploadedPhoto)
    assert refused.random_id == resent.random_id == RANDOM_ID + 3
    assert len(rig.fake.of(SavePart)) == 2
    await account.close()


async def test_a_flood_wait_on_an_upload_is_raised_and_the_files_made_before_it_are_kept(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    items = [item(tmp_path, "1.jpg"), item(tmp_path, "2.jpg"), item(tmp_path, "3.jpg")]
    rig.fake.script(UploadMedia, rig.fake.made_media(types.InputMediaUploadedPhoto(
        file=types.InputFile(1, 1, "1.jpg", ""))), RpcFail(420, "FLOOD_WAIT_120"))

    with pytest.raises(errors.FloodWaitError) as waited:
        await account.prepare_media(items)

    outcome = classify(waited.value)
    assert (outcome.kind, outcome.seconds) == (OutcomeKind.FLOOD_WAIT, 120)
    assert rig.fake.of(SendMedia) == rig.fake.of(SendMulti) == []  # nothing was sent
    assert await account.prepare_media(items) == 2  # the first file stayed kept: two go up now
    assert len(rig.fake.of(UploadMedia)) == 4
    await account.close()


async def test_a_file_gone_from_the_disk_fails_the_prepare_as_an_invalid_post(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    photo = item(tmp_path, "a.jpg")
    photo.path.unlink()
    with pytest.raises(errors.MediaEmptyError) as gone:
        await account.prepare_media([photo])
    assert classify(gone.value).kind is OutcomeKind.POST_INVALID
    assert rig.fake.of(SavePart) == []
    await account.close()


# --- read_post: what the post is --------------------------------------------------------------------


def _message(msg_id: int, text: str = "", grouped_id: int | None = None, media: Any = None,
             noforwards: bool = False) -> Any:
    return types.Message(id=msg_id, peer_id=types.PeerChannel(SOURCE.id), date=NOW, message=text,
                         grouped_id=grouped_id, media=media, noforwards=noforwards)


def _answer(*messages: Any, chat_noforwards: bool = False) -> Any:
    chat = types.Channel(id=SOURCE.id, title="src", photo=types.ChatPhotoEmpty(), date=NOW,
                         access_hash=SOURCE.access_hash, broadcast=True, noforwards=chat_noforwards)
    return types.messages.ChannelMessages(pts=1, count=len(messages), messages=list(messages), topics=[],
                                          chats=[chat], users=[])


def _video_media() -> Any:
    doc = types.Document(id=5, access_hash=1, file_reference=b"", date=NOW, mime_type="video/mp4", size=1, dc_id=2,
                         attributes=[types.DocumentAttributeVideo(duration=1.0, w=1, h=1)])
    return types.MessageMediaDocument(document=doc)


async def test_read_post_says_album_media_text_and_forwarding(
    factory: TelethonFactory, rig: Rig, tmp_path: Path
) -> None:
    account = await connected(factory, tmp_path)
    photo = types.MessageMediaPhoto(photo=types.Photo(id=1, access_hash=1, file_reference=b"", date=NOW, sizes=[],
                                                      dc_id=2))
    rig.fake.script(
        functions.channels.GetMessagesRequest,
        _answer(_message(10, "Big sale", 4, photo), _message(11, "", 4, _video_media()), _message(12, "", 4, photo)),
        _answer(_message(20, "Just text " * 30)),
        _answer(_message(30, "kept"), chat_noforwards=True),
        _answer(_message(40, "protected", noforwards=True)),
    )

    album = await account.read_post(SOURCE, 11)
    assert (album.ids, album.grouped_id, album.album_size) == ((10, 11, 12), 4, 3)
    assert (album.media, album.excerpt, album.noforwards) == (("photo", "video", "photo"), "Big sale", False)

    text = await account.read_post(SOURCE, 20)
    assert (text.ids, text.media, text.grouped_id) == ((20,), ("",), None)
    assert len(text.excerpt) == 120 and text.excerpt.startswith("Just text")

    assert (await account.read_post(SOURCE, 30)).noforwards  # the channel forbids forwarding
    assert (await account.read_post(SOURCE, 40)).noforwards  # this message does
    await account.close()


def test_the_fake_sender_serves_media_with_real_tl_objects() -> None:
    fake = FakeSender()
    made = fake.made_media(types.InputMediaUploadedPhoto(file=types.InputFile(1, 1, "a.jpg", "")))
    assert isinstance(made, types.MessageMediaPhoto)
    assert bytes(made)  # serialisable as Telegram would send it
