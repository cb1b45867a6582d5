"""The sandbox Bot API emulator against a real aiogram 3.31 Dispatcher polling it over HTTP."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.methods.base import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiogram.utils.text_decorations import html_decoration

from sandbox.botapi.html import HtmlParseError, parse_html
from sandbox.botuser import BotApiEmulator, create_bot, running_bot


@dataclass
class Seen:
    """What the test bot observed, for assertions from the test side."""

    texts: list[str] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    chat_types: list[str] = field(default_factory=list)
    callback_data: list[str] = field(default_factory=list)


def build_dispatcher(seen: Seen) -> Dispatcher:
    router = Router()

    @router.message(Command("commands"))
    async def register_commands(message: Message, bot: Bot) -> None:
        await bot.set_my_commands(
            [BotCommand(command="start", description="Start"), BotCommand(command="run", description="Run")]
        )
        registered = await bot.get_my_commands()
        await message.answer("registered: " + ", ".join(c.command for c in registered))

    @router.message(Command("admin"))
    async def admin_only_in_private(message: Message) -> None:
        seen.chat_types.append(message.chat.type)
        if message.chat.type != "private":
            return  # admin commands are ignored outside the private chat
        await message.answer("admin menu")

    @router.message(Command("raw"))
    async def unescaped(message: Message) -> None:
        try:
            await message.answer("broken <b>bold")
        except TelegramBadRequest as error:
            seen.errors.append(error)
            await message.answer("raw failed")

    @router.message(Command("long"))
    async def too_long(message: Message) -> None:
        await message.answer("y" * 4096)
        try:
            await message.answer("x" * 4097)
        except TelegramBadRequest as error:
            seen.errors.append(error)

    @router.message(Command("flood"))
    async def flood(message: Message) -> None:
        try:
            await message.answer("first try")
        except TelegramRetryAfter as error:
            seen.errors.append(error)
        await message.answer("second try")

    @router.message(Command("bigdata"))
    async def big_callback_data(message: Message) -> None:
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]])
        try:
            await message.answer("never", reply_markup=markup)
        except TelegramBadRequest as error:
            seen.errors.append(error)
            await message.answer("rejected")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        downloaded = await bot.download(message.document, destination=io.BytesIO())
        assert downloaded is not None
        data = downloaded.read()
        await message.answer(f"got {message.document.file_name}: {len(data)} bytes")
        await message.answer_document(BufferedInputFile(data[::-1], filename="reversed.bin"), caption="<i>back</i>")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        seen.texts.append(message.text or "")
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="▶ Run", callback_data="run:1")]])
        await message.answer(f"<b>You said:</b> {html_decoration.quote(message.text or '')}", reply_markup=markup)

    @router.callback_query()
    async def pressed(callback: CallbackQuery) -> None:
        seen.callback_data.append(callback.data or "")
        if isinstance(callback.message, Message):
            await callback.message.edit_text(f"pressed <code>{html_decoration.quote(callback.data or '')}</code>")
            await callback.answer("done")
        else:
            await callback.answer("that message is gone", show_alert=True)

    dp = Dispatcher()
    dp.include_router(router)
    return dp


async def test_text_round_trip_html_button_and_callback_edit(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice", username="alice")
    async with running_bot(emu, build_dispatcher(seen)) as running:
        sent = await alice.say("1 < 2 & <b>not bold</b>")
        reply = await alice.wait_reply()
        assert reply.text == "You said: 1 < 2 & <b>not bold</b>"
        assert "&lt;b&gt;not bold&lt;/b&gt;" in reply.html
        assert reply.entities[0] == {"offset": 0, "length": 9, "type": "bold"}
        assert reply.buttons == [["▶ Run"]]
        assert not reply.edited and reply.from_bot

        query_id = await alice.click("▶ Run")
        edited = await alice.wait_reply()
        assert edited.edited and edited.message_id == reply.message_id
        assert edited.text == "pressed run:1"
        assert edited.buttons == []  # an edit without reply_markup drops the keyboard, as on Telegram
        answer = await alice.wait_callback_answer(query_id)
        assert answer.text == "done" and answer.data == "run:1"
        await running.idle()

    assert seen.callback_data == ["run:1"]
    assert [m.message_id for m in alice.history()] == [sent.message_id, reply.message_id]
    stored = emu.message(alice.chat_id, reply.message_id)
    assert [v.text for v in stored.edits] == ["You said: 1 < 2 & <b>not bold</b>"]
    lines = emu.render_transcript().splitlines()
    assert lines[0] == "Alice: 1 < 2 & <b>not bold</b>"
    assert lines[1] == "adbot: You said: 1 < 2 & <b>not bold</b>  [▶ Run]"
    assert lines[2] == "Alice presses [▶ Run]"


async def test_reply_that_arrived_before_wait_is_not_missed(emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(Seen())) as running:
        await alice.say("first")
        await running.idle()  # the reply is already there before wait_reply is called
        assert len(alice.unread_replies()) == 1
        assert (await alice.wait_reply()).text == "You said: first"
        await alice.say("second")
        assert (await alice.wait_reply()).text == "You said: second"
        assert alice.unread_replies() == []


async def test_forged_callback_data_and_deleted_message(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)) as running:
        await alice.say("hi")
        reply = await alice.wait_reply()
        await alice.click_data(reply.message_id, "admin:delete_everything")
        assert (await alice.wait_reply()).text == "pressed admin:delete_everything"

        await alice.delete_message(reply.message_id)
        query_id = await alice.click_data(reply.message_id, "run:1")
        answer = await alice.wait_callback_answer(query_id)
        assert answer.show_alert and answer.text == "that message is gone"
        await running.idle()
    assert seen.callback_data == ["admin:delete_everything", "run:1"]
    with pytest.raises(LookupError):
        await alice.click("no such button")


async def test_document_upload_download_and_bot_document(emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    payload = bytes(range(256)) * 5
    async with running_bot(emu, build_dispatcher(Seen())):
        await alice.send_document("a.session", payload, mime_type="application/octet-stream")
        first = await alice.wait_reply()
        assert first.text == "got a.session: 1280 bytes"
        second = await alice.wait_reply()
        assert second.document is not None
        assert second.document.file_name == "reversed.bin"
        assert second.document.data == payload[::-1]
        assert second.text == "back" and second.html == "<i>back</i>"
    assert [c.method for c in emu.calls_of("getFile")] == ["getFile"]


async def test_set_my_commands(emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(Seen())):
        await alice.say("/commands")
        assert (await alice.wait_reply()).text == "registered: start, run"
    assert emu.commands == [("start", "Start"), ("run", "Run")]


async def test_html_errors_and_length_limits(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)) as running:
        await alice.say("/raw")
        assert (await alice.wait_reply()).text == "raw failed"
        await alice.say("/long")
        assert len((await alice.wait_reply()).text) == 4096
        await alice.say("/bigdata")
        assert (await alice.wait_reply()).text == "rejected"
        await running.idle()
    messages = [str(e) for e in seen.errors]
    assert messages == [
        "Telegram server says - Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        "Telegram server says - Bad Request: message is too long",
        "Telegram server says - Bad Request: BUTTON_DATA_INVALID",
    ]


async def test_retry_after_injection_surfaces_in_the_bot(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)):
        emu.inject_retry_after("sendMessage", 7)
        await alice.say("/flood")
        assert (await alice.wait_reply()).text == "second try"
    assert len(seen.errors) == 1
    error = seen.errors[0]
    assert isinstance(error, TelegramRetryAfter) and error.retry_after == 7
    assert [c.error for c in emu.calls_of("sendMessage")] == ["Too Many Requests: retry after 7", None]


async def test_group_messages_reach_the_bot_but_admin_commands_are_ignored(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    async with running_bot(emu, build_dispatcher(seen)) as running:
        await alice.say("/admin", chat_type="supergroup")
        await running.idle()
        group_id = emu.group_chat().id
        assert group_id < 0
        assert alice.unread_replies(chat_id=group_id) == []
        await alice.say("/admin")
        assert (await alice.wait_reply()).text == "admin menu"
    assert seen.chat_types == ["supergroup", "private"]


async def test_each_update_is_delivered_once_across_restarts(emu: BotApiEmulator) -> None:
    seen = Seen()
    alice = emu.user(1001, "Alice")
    dp = build_dispatcher(seen)
    async with running_bot(emu, dp) as running:
        for i in range(5):
            await alice.say(f"m{i}")
        await running.idle()
    async with running_bot(emu, dp) as running:
        await alice.say("after restart")
        await running.idle()
    assert sorted(seen.texts) == ["after restart", "m0", "m1", "m2", "m3", "m4"]
    assert emu.pending_updates == 0


async def test_get_updates_offsets_and_prompt_long_poll(emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    bot = create_bot(emu)
    try:
        await alice.say("one")
        await alice.say("two")
        first = await bot.get_updates(timeout=0)
        assert [u.message.text for u in first if u.message] == ["one", "two"]
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [u.update_id for u in first]  # not confirmed yet
        assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == []
        assert emu.pending_updates == 0

        waiting = asyncio.ensure_future(bot.get_updates(offset=first[-1].update_id + 1, timeout=30))
        await emu.wait_for(lambda: True if emu.polls_seen == 4 else None, 5, "the long poll")
        await alice.say("three")
        woken = await asyncio.wait_for(waiting, 5)  # far less than the 30 s poll: woken by the update
        assert [u.message.text for u in woken if u.message] == ["three"]
    finally:
        await bot.session.close()


class NoSuchMethod(TelegramMethod[bool]):
    __returning__ = bool
    __api_method__ = "noSuchMethod"


async def test_unknown_method_wrong_token_and_blocked_user(emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    bot = create_bot(emu)
    intruder = create_bot(emu, token="999:WRONG")
    try:
        with pytest.raises(TelegramNotFound, match="Not Found"):
            await bot(NoSuchMethod())
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await intruder.get_me()
        me = await bot.get_me()
        assert (me.id, me.username, me.is_bot) == (123456, "adbot_test_bot", True)  # conftest's emu_bot

        alice.block_bot()
        with pytest.raises(TelegramForbiddenError, match="blocked"):
            await bot.send_message(alice.chat_id, "hello?")
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(4242, "nobody here")
        sent = await bot.send_message(emu.user(1002, "Bob").chat_id, "hi Bob")
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text("hi Bob", chat_id=sent.chat.id, message_id=sent.message_id)
        with pytest.raises(TelegramBadRequest, match="message text is empty"):
            await bot.send_message(sent.chat.id, "<b> </b>")

        carol = emu.user(1003, "Carol", started=False)
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(carol.chat_id, "cold outreach")
        await carol.say("/start")
        assert (await bot.send_message(carol.chat_id, "welcome")).chat.id == carol.chat_id
    finally:
        await bot.session.close()
        await intruder.session.close()


async def test_running_bot_with_wrong_token_raises_on_enter(emu: BotApiEmulator) -> None:
    with pytest.raises(TelegramUnauthorizedError):
        async with running_bot(emu, build_dispatcher(Seen()), {"token": "999:WRONG"}):
            pytest.fail("polling must not start with a wrong token")


@pytest.mark.parametrize(
    ("source", "plain"),
    [
        ("<b>bold</b> &amp; &lt;tag&gt; &quot;q&quot; &#65;&#x42;", 'bold & <tag> "q" AB'),
        ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><blockquote expandable>q</blockquote>', "stq"),
        ("AT&T &nbsp; stays", "AT&T &nbsp; stays"),
        ("<b>a<i>b</></b>", "ab"),
    ],
)
def test_parse_html_accepts_telegram_html(source: str, plain: str) -> None:
    assert parse_html(source).text == plain


def test_parse_html_entities_use_utf16_offsets() -> None:
    parsed = parse_html('😀 <b>x</b> <a href="https://t.me">y</a>')
    assert parsed.entities == (
        {"offset": 3, "length": 1, "type": "bold"},
        {"offset": 5, "length": 1, "type": "text_link", "url": "https://t.me"},
    )


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="big">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("é<b", "Unclosed start tag at byte offset 2"),
    ],
)
def test_parse_html_rejects_what_telegram_rejects(source: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(source)
    assert str(caught.value) == error


async def test_files_resent_by_file_id_photos_and_get_file(emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    bot = create_bot(emu)
    try:
        upload = await alice.send_document("report.csv", b"a,b\n1,2\n", caption="numbers")
        assert upload.document is not None and upload.document.mime_type == "text/csv"
        resent = await bot.send_document(alice.chat_id, upload.document.file_id, caption="your <b>file</b>")
        assert resent.document is not None and resent.document.file_id == upload.document.file_id
        assert resent.caption == "your file"
        reply = await bot.send_message(
            alice.chat_id, "re", reply_parameters=ReplyParameters(message_id=upload.message_id)
        )
        assert reply.reply_to_message is not None and reply.reply_to_message.message_id == upload.message_id
        with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
            await bot.send_message(alice.chat_id, "re", reply_parameters=ReplyParameters(message_id=999))
        photo = await bot.send_photo(alice.chat_id, BufferedInputFile(b"\x89PNG fake", filename="p.png"))
        assert photo.photo is not None
        downloaded = await bot.download(photo.photo[-1].file_id)
        assert downloaded is not None and downloaded.read() == b"\x89PNG fake"
        with pytest.raises(TelegramBadRequest, match="can't use file of type Photo as Document"):
            await bot.send_document(alice.chat_id, photo.photo[-1].file_id)
        with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
            await bot.send_document(alice.chat_id, "no-such-file-id")
        with pytest.raises(TelegramBadRequest, match="invalid file_id"):
            await bot.get_file("no-such-file-id")
        views = alice.history()
        assert [(v.from_bot, v.text) for v in views] == [
            (False, "numbers"),
            (True, "your file"),
            (True, "re"),
            (True, ""),
        ]
        assert views[2].reply_to_message_id == upload.message_id
        assert views[3].photo is not None and views[3].document is None
    finally:
        await bot.session.close()
