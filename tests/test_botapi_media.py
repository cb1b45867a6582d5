"""The emulator's media (sandbox.botapi.media) against a real aiogram 3.31 bot polling it: what people send
(forwards with their origin, formatted text, photos, videos, animations, documents, albums) arrives as
aiogram's own types, and what the bot sends back (sendVideo, sendAnimation, sendMediaGroup, copyMessage,
forwardMessage) is checked as the real server checks it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    MessageOriginChannel,
    MessageOriginHiddenUser,
)

from sandbox.botapi.media import channel_origin
from sandbox.botuser import BotApiEmulator, create_bot, running_bot


@dataclass
class Seen:
    messages: list[Message] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def build_dispatcher(seen: Seen) -> Dispatcher:
    router = Router()

    @router.message(F.text == "/echo_video")
    async def echo_video(message: Message, bot: Bot) -> None:
        await bot.send_video(message.chat.id, BufferedInputFile(b"\x00video", "v.mp4"), caption="<b>clip</b>")

    @router.message(F.text == "/group")
    async def group(message: Message, bot: Bot) -> None:
        await bot.send_media_group(message.chat.id, [
            InputMediaPhoto(media=BufferedInputFile(b"p1", "1.jpg"), caption="<i>two</i>"),
            InputMediaVideo(media=BufferedInputFile(b"v2", "2.mp4")),
        ])

    @router.message(F.text == "/bad_group")
    async def bad_group(message: Message, bot: Bot) -> None:
        try:
            await bot.send_media_group(message.chat.id, [
                InputMediaPhoto(media=BufferedInputFile(b"p1", "1.jpg")),
                InputMediaDocument(media=BufferedInputFile(b"d2", "2.pdf")),
            ])
        except TelegramBadRequest as exc:
            seen.errors.append(exc.message)
        try:
            await bot.send_media_group(message.chat.id, [InputMediaPhoto(media=BufferedInputFile(b"p", "1.jpg"))])
        except TelegramBadRequest as exc:
            seen.errors.append(exc.message)
        try:
            await bot.forward_message(message.chat.id, -1001234, 5)
        except TelegramBadRequest as exc:
            seen.errors.append(exc.message)
        await message.answer("done")

    @router.message(F.text == "/long_captions")
    async def long_captions(message: Message, bot: Bot) -> None:
        photo = BufferedInputFile(b"p1", "1.jpg")
        for caption in ("😀" * 513, "x" * 1024):  # 1,026 UTF-16 units (513 code points); exactly 1,024
            try:
                await bot.send_photo(message.chat.id, photo, caption=caption)
            except TelegramBadRequest as exc:
                seen.errors.append(exc.message)
            try:
                await bot.send_media_group(message.chat.id, [
                    InputMediaPhoto(media=BufferedInputFile(b"p1", "1.jpg"), caption=caption),
                    InputMediaPhoto(media=BufferedInputFile(b"p2", "2.jpg")),
                ])
            except TelegramBadRequest as exc:
                seen.errors.append(exc.message)
        await message.answer("done")

    @router.message()
    async def anything(message: Message, bot: Bot) -> None:
        seen.messages.append(message)
        if message.media_group_id is None:
            await bot.copy_message(message.chat.id, message.chat.id, message.message_id)
            await bot.forward_message(message.chat.id, message.chat.id, message.message_id)

    dp = Dispatcher()
    dp.include_router(router)
    return dp


async def test_a_forwarded_channel_post_carries_its_origin(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)):
        await alice.forward(channel_origin(-1001111, 42, title="Deals", username="deals"), text="Sale")
        copy, forwarded = await alice.wait_replies(2)

    origin = seen.messages[0].forward_origin
    assert isinstance(origin, MessageOriginChannel)
    assert (origin.chat.id, origin.chat.username, origin.message_id) == (-1001111, "deals", 42)
    assert copy.text == "Sale" and copy.forward_origin is None  # a copy has no "Forwarded from" header
    assert forwarded.forward_origin == channel_origin(-1001111, 42, title="Deals", username="deals") | {
        "date": forwarded.forward_origin["date"]  # type: ignore[index]
    }


async def test_a_hidden_user_and_formatted_text(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)):
        await alice.forward({"type": "hidden_user", "date": 1, "sender_user_name": "Bob"}, text="hi")
        await alice.wait_replies(2)
        bold = [{"type": "bold", "offset": 0, "length": 3}, {"type": "text_link", "offset": 4, "length": 2,
                                                              "url": "https://example.com"}]
        await alice.say_formatted("Big 😀 sale", bold)
        copy, _forward = await alice.wait_replies(2)

    assert isinstance(seen.messages[0].forward_origin, MessageOriginHiddenUser)
    formatted = seen.messages[1]
    assert formatted.entities is not None
    assert [(e.type, e.offset, e.length) for e in formatted.entities] == [("bold", 0, 3), ("text_link", 4, 2)]
    assert formatted.html_text == '<b>Big</b> <a href="https://example.com">😀</a> sale'  # offsets in UTF-16
    assert copy.entities == tuple(bold)  # copied with its formatting
    with pytest.raises(ValueError, match="entity"):
        await alice.say_formatted("short", [{"type": "bold", "offset": 3, "length": 9}])


async def test_media_kinds_arrive_as_aiogram_types_and_copy_back(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)):
        await alice.send_media("video", b"\x00" * 100, caption="Watch", entities=[
            {"type": "italic", "offset": 0, "length": 5}
        ])
        video_copy, _ = await alice.wait_replies(2)
        await alice.send_media("animation", b"gif", file_name="a.mp4")
        await alice.wait_replies(2)
        await alice.send_media("document", b"%PDF", file_name="price.pdf", mime_type="application/pdf")
        await alice.wait_replies(2)

    video, animation, document = seen.messages
    assert video.video is not None and video.video.file_size == 100 and video.caption == "Watch"
    assert video.caption_entities is not None and video.caption_entities[0].type == "italic"
    assert animation.animation is not None and animation.document is not None  # as Telegram sends it
    assert document.document is not None and document.document.file_name == "price.pdf"
    assert video_copy.video is not None and video_copy.text == "Watch"


async def test_an_album_arrives_item_by_item_with_one_media_group_id(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)) as running:
        views = await alice.send_album([("photo", b"1"), ("video", b"2"), ("photo", b"3")], caption="Three")
        await running.idle()

    assert len(seen.messages) == 3
    assert {m.media_group_id for m in seen.messages} == {views[0].media_group_id}
    assert [m.caption for m in seen.messages] == ["Three", None, None]
    assert [bool(m.photo) for m in seen.messages] == [True, False, True]
    with pytest.raises(ValueError):
        emu.user_sends_album(1001, 1001, [emu.upload_user_media(1001, "photo", b"x")])


async def test_bot_sends_video_and_media_groups_checked_like_telegram(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)):
        await alice.say("/echo_video")
        video = await alice.wait_reply()
        await alice.say("/group")
        first, second = await alice.wait_replies(2)
        await alice.say("/bad_group")
        await alice.wait_reply()

    assert video.video is not None and video.text == "clip"
    assert first.photo is not None and second.video is not None
    assert first.media_group_id == second.media_group_id is not None
    assert first.text == "two" and second.text == ""
    assert seen.errors == [
        "Bad Request: documents can't be mixed with other media types",
        "Bad Request: wrong number of media specified: must be between 2 and 10",
        "Bad Request: chat not found",
    ]


def test_the_test_bot_is_real_aiogram() -> None:
    assert create_bot is not None


async def test_captions_are_counted_in_utf16_units_as_telegram_counts(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)) as running:
        await alice.say("/long_captions")
        await running.idle()
    assert seen.errors == ["Bad Request: message caption is too long"] * 2  # the emoji ones only
    with pytest.raises(ValueError, match="1024"):  # a client sends no longer caption
        await alice.send_media("photo", b"p", caption="😀" * 513)
    premium = emu.user(1002, "Pat", is_premium=True)  # Telegram Premium: captions up to 2,048 units
    await premium.send_media("photo", b"p", caption="😀" * 1024)
    with pytest.raises(ValueError, match="2048"):
        await premium.send_media("photo", b"p", caption="😀" * 1025)


async def test_a_forwarded_channel_album_is_one_message_per_item_each_with_its_own_origin(
    emu: BotApiEmulator,
) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    origins = [channel_origin(-1001111, post, title="Deals", username="deals") for post in (7, 8, 9)]
    async with running_bot(emu, build_dispatcher(seen)) as running:
        views = await alice.forward_album(origins, [("photo", b"1"), ("video", b"2"), ("photo", b"3")],
                                          caption="Three")
        await running.idle()

    assert len(seen.messages) == 3
    assert {m.media_group_id for m in seen.messages} == {views[0].media_group_id} != {None}
    got = [m.forward_origin for m in seen.messages]
    assert all(isinstance(o, MessageOriginChannel) for o in got)
    assert [o.message_id for o in got if isinstance(o, MessageOriginChannel)] == [7, 8, 9]
    assert [m.caption for m in seen.messages] == ["Three", None, None]
    with pytest.raises(ValueError):
        emu.user_forwards_album(1001, 1001, [emu.upload_user_media(1001, "photo", b"x")] * 2, origins[:1])
