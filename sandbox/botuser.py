"""Play Telegram users against a bot running on the sandbox Bot API emulator.

Typical test::

    async with BotApiEmulator(token, "adbot_test_bot") as emu:
        alice = emu.user(1001, "Alice", username="alice")
        async with running_bot(emu, build_dispatcher()) as running:
            await alice.say("/start")
            reply = await alice.wait_reply()
            await alice.click("▶ Run")
            await running.idle()          # every update handled, nothing in flight

Each user keeps a cursor per chat into the bot's changes (``emulator.events``): an action moves it
to "now", ``wait_reply`` returns the next new or edited bot message after it, so a reply that came
before ``wait_reply`` was called is not missed, and an old reply is not mistaken for a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from sandbox.botapi import BotApiEmulator
from sandbox.botapi.models import (
    DEFAULT_GROUP_CHAT_ID,
    AnsweredCallback,
    BotEvent,
    DocumentView,
    FileKind,
    JsonDict,
    MessageView,
    SandboxUser,
    TranscriptEntry,
)

__all__ = [
    "WAIT_LIMIT",
    "AnsweredCallback",
    "BotApiEmulator",
    "BotEvent",
    "BotUser",
    "DocumentView",
    "MessageView",
    "RunningBot",
    "TranscriptEntry",
    "create_bot",
    "running_bot",
]

ChatType = Literal["private", "group", "supergroup"]

WAIT_LIMIT = 60.0
"""Seconds of wall clock a wait for the bot (a reply, an answer, every handler done) may take before it
fails. A guard against a hang, never a measure: each wait ends on its event, which on an idle machine
comes in milliseconds, while CI's two cores shared by several suites can take seconds to run a handler."""


class BotUser:
    """One Telegram user: sends texts and files, presses buttons, waits for the bot's replies."""

    def __init__(self, emulator: BotApiEmulator, record: SandboxUser) -> None:
        self._emu = emulator
        self._record = record
        self._baseline = len(emulator.events)
        self._cursors: dict[int, int] = {}

    @property
    def id(self) -> int:
        return self._record.id

    @property
    def first_name(self) -> str:
        return self._record.first_name

    @property
    def username(self) -> str | None:
        return self._record.username

    @property
    def chat_id(self) -> int:
        """The private chat with the bot (its id is the user's id)."""
        return self._record.id

    # ---- actions -------------------------------------------------------------------------------------

    async def say(
        self,
        text: str,
        *,
        reply_to: int | None = None,
        chat_type: ChatType = "private",
        chat_id: int | None = None,
    ) -> MessageView:
        """Send a text message (``/commands`` get bot_command entities, as from a real client)."""
        chat = self._chat(chat_type, chat_id)
        self._mark_action(chat)
        view = self._emu.user_sends(self.id, chat, text=text, reply_to=reply_to)
        await asyncio.sleep(0)
        return view

    async def send_document(
        self,
        file_name: str,
        data: bytes,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
        chat_type: ChatType = "private",
        chat_id: int | None = None,
    ) -> MessageView:
        chat = self._chat(chat_type, chat_id)
        stored = self._emu.upload_user_file(self.id, "document", file_name, data, mime_type)
        self._mark_action(chat)
        view = self._emu.user_sends(self.id, chat, text=caption, file=stored)
        await asyncio.sleep(0)
        return view

    async def send_photo(self, data: bytes, *, caption: str | None = None) -> MessageView:
        stored = self._emu.upload_user_file(self.id, "photo", None, data)
        self._mark_action(self.chat_id)
        view = self._emu.user_sends(self.id, self.chat_id, text=caption, file=stored)
        await asyncio.sleep(0)
        return view

    async def say_formatted(self, text: str, entities: list[JsonDict]) -> MessageView:
        """Send text with formatting (bold, links...) as a Telegram client does: entities, UTF-16 offsets."""
        self._mark_action(self.chat_id)
        view = self._emu.user_posts(self.id, self.chat_id, text=text, entities=entities)
        await asyncio.sleep(0)
        return view

    async def send_media(
        self, kind: FileKind, data: bytes, *, caption: str | None = None, entities: list[JsonDict] | None = None,
        file_name: str | None = None, mime_type: str | None = None,
    ) -> MessageView:
        """Send one photo, video, animation or document (``caption`` with its ``entities``)."""
        stored = self._emu.upload_user_media(self.id, kind, data, file_name=file_name, mime_type=mime_type)
        self._mark_action(self.chat_id)
        view = self._emu.user_posts(self.id, self.chat_id, text=caption, entities=entities, file=stored)
        await asyncio.sleep(0)
        return view

    async def send_album(
        self, items: list[tuple[FileKind, bytes]], *, caption: str | None = None,
        entities: list[JsonDict] | None = None,
    ) -> list[MessageView]:
        """Send an album: one message per item sharing a media_group_id, the caption on the first."""
        files = [self._emu.upload_user_media(self.id, kind, data) for kind, data in items]
        self._mark_action(self.chat_id)
        views = self._emu.user_sends_album(self.id, self.chat_id, files, caption=caption, caption_entities=entities)
        await asyncio.sleep(0)
        return views

    async def forward(
        self, origin: JsonDict, *, text: str | None = None, entities: list[JsonDict] | None = None,
        media: tuple[FileKind, bytes] | None = None,
    ) -> MessageView:
        """Forward a message to the bot: ``origin`` is its ``forward_origin`` (``channel_origin(...)`` for a
        channel post, ``{"type": "hidden_user", ...}``...); its content is ``text`` or ``media``."""
        stored = None if media is None else self._emu.upload_user_media(self.id, media[0], media[1])
        self._mark_action(self.chat_id)
        view = self._emu.user_posts(
            self.id, self.chat_id, text=text, entities=entities, file=stored, forward_origin=origin
        )
        await asyncio.sleep(0)
        return view

    async def forward_album(
        self, origins: list[JsonDict], items: list[tuple[FileKind, bytes]], *, caption: str | None = None,
        entities: list[JsonDict] | None = None,
    ) -> list[MessageView]:
        """Forward a channel's album to the bot: one message per item sharing a media_group_id, each with
        the ``forward_origin`` of its own post (``channel_origin(chat, id_i)``), the caption on the first."""
        files = [self._emu.upload_user_media(self.id, kind, data) for kind, data in items]
        self._mark_action(self.chat_id)
        views = self._emu.user_forwards_album(
            self.id, self.chat_id, files, origins, caption=caption, caption_entities=entities
        )
        await asyncio.sleep(0)
        return views

    def keyboard(self) -> list[list[str]]:
        """The labels of the reply keyboard under the input field of the private chat ([] when none)."""
        return [[str(b.get("text", "")) for b in row] for row in self._emu.reply_keyboard(self.chat_id)]

    def _keyboard_button(self, label: str) -> dict[str, Any]:
        for row in self._emu.reply_keyboard(self.chat_id):
            for button in row:
                if button.get("text") == label:
                    return button
        raise LookupError(f"no reply keyboard button {label!r}; keyboard: {self.keyboard()}")

    async def tap(self, label: str) -> MessageView:
        """Tap a plain reply keyboard button: the client sends its label as a message."""
        button = self._keyboard_button(label)
        if len(button) > 1:
            raise ValueError(f"{label!r} is not a plain text button: {button}")
        return await self.say(label)

    async def share_chat(self, label: str, chat_id: int) -> MessageView:
        """Tap a ``request_chat`` button and pick ``chat_id``: the bot gets a ``chat_shared`` message."""
        request = self._keyboard_button(label).get("request_chat")
        if not isinstance(request, dict):
            raise ValueError(f"{label!r} does not request a chat")
        self._mark_action(self.chat_id)
        view = self._emu.user_shares_chat(self.id, int(request["request_id"]), chat_id)
        await asyncio.sleep(0)
        return view

    async def share_users(self, label: str, user_ids: list[int]) -> MessageView:
        """Tap a ``request_users`` button and pick ``user_ids``: the bot gets a ``users_shared`` message."""
        request = self._keyboard_button(label).get("request_users")
        if not isinstance(request, dict):
            raise ValueError(f"{label!r} does not request users")
        self._mark_action(self.chat_id)
        view = self._emu.user_shares_users(self.id, int(request["request_id"]), user_ids)
        await asyncio.sleep(0)
        return view

    async def click(self, label: str, *, chat_id: int | None = None) -> str:
        """Press the inline button labelled ``label`` on the newest bot message that has one.

        Returns the callback query id (see ``wait_callback_answer``). Raises LookupError when no
        visible bot message has that button, ValueError when it is not a callback button."""
        chat = self.chat_id if chat_id is None else chat_id
        for view in reversed(self._emu.messages(chat)):
            if not view.from_bot or view.deleted:
                continue
            button = view.button(label)
            if button is None:
                continue
            data = button.get("callback_data")
            if not isinstance(data, str):
                raise ValueError(f"button {label!r} on message #{view.message_id} is not a callback button")
            self._mark_action(chat)
            query_id = self._emu.user_presses(self.id, chat, view.message_id, data, label=label)
            await asyncio.sleep(0)
            return query_id
        shown = [view.buttons for view in self._emu.messages(chat) if view.from_bot and view.buttons]
        raise LookupError(f"no bot message in chat {chat} has a button {label!r}; buttons seen: {shown}")

    async def click_data(self, message_id: int, data: str, *, chat_id: int | None = None) -> str:
        """Send a callback query with arbitrary (possibly forged) data for a message."""
        chat = self.chat_id if chat_id is None else chat_id
        self._mark_action(chat)
        query_id = self._emu.user_presses(self.id, chat, message_id, data)
        await asyncio.sleep(0)
        return query_id

    async def delete_message(self, message_id: int, *, chat_id: int | None = None) -> None:
        """Delete a message of the chat for everyone; the bot is not told, as on Telegram."""
        self._emu.user_deletes(self.chat_id if chat_id is None else chat_id, message_id)
        await asyncio.sleep(0)

    def block_bot(self) -> None:
        """The user blocks the bot: its sends to this user now fail with 403 until the user writes."""
        self._emu.set_blocked(self.id, True)

    # ---- observing -----------------------------------------------------------------------------------

    async def wait_reply(self, timeout: float = WAIT_LIMIT, *, chat_id: int | None = None) -> MessageView:  # noqa: ASYNC109
        """The next new or edited bot message in the chat since this user's last action."""
        chat = self.chat_id if chat_id is None else chat_id
        start = self._cursors.get(chat, self._baseline)

        def find() -> tuple[int, BotEvent] | None:
            events = self._emu.events
            for index in range(start, len(events)):
                event = events[index]
                if event.chat_id == chat and event.kind != "delete":
                    return index, event
            return None

        try:
            index, event = await self._emu.wait_for(find, timeout, f"a bot reply to {self.first_name}")
        except TimeoutError as error:
            raise TimeoutError(f"{error}\ntranscript:\n{self._emu.render_transcript()}") from None
        self._cursors[chat] = index + 1
        return event.message

    async def wait_replies(
        self, count: int, timeout: float = WAIT_LIMIT, *, chat_id: int | None = None  # noqa: ASYNC109
    ) -> list[MessageView]:
        return [await self.wait_reply(timeout, chat_id=chat_id) for _ in range(count)]

    def unread_replies(self, *, chat_id: int | None = None) -> list[MessageView]:
        """Bot messages/edits not yet returned by wait_reply (does not move the cursor)."""
        chat = self.chat_id if chat_id is None else chat_id
        start = self._cursors.get(chat, self._baseline)
        return [e.message for e in self._emu.events[start:] if e.chat_id == chat and e.kind != "delete"]

    async def wait_callback_answer(self, query_id: str, timeout: float = WAIT_LIMIT) -> AnsweredCallback:  # noqa: ASYNC109
        return await self._emu.wait_for(
            lambda: self._emu.callback_answer(query_id), timeout, f"an answer to callback {query_id}"
        )

    def history(self, *, chat_id: int | None = None) -> list[MessageView]:
        """Every message of the chat, both directions, in order (deleted ones flagged)."""
        return self._emu.messages(self.chat_id if chat_id is None else chat_id)

    def last_bot_message(self, *, chat_id: int | None = None) -> MessageView | None:
        for view in reversed(self.history(chat_id=chat_id)):
            if view.from_bot and not view.deleted:
                return view
        return None

    # ---- internals -----------------------------------------------------------------------------------

    def _chat(self, chat_type: ChatType, chat_id: int | None) -> int:
        if chat_type == "private":
            if chat_id not in (None, self.id):
                raise ValueError("a private chat with the bot has the user's id")
            return self.id
        return self._emu.group_chat(chat_id or DEFAULT_GROUP_CHAT_ID, chat_type=chat_type).id

    def _mark_action(self, chat_id: int) -> None:
        self._cursors[chat_id] = len(self._emu.events)


# --------------------------------------------------------------------------------------------------
# Running a real aiogram bot against the emulator
# --------------------------------------------------------------------------------------------------


class _LocalAiohttpSession(AiohttpSession):
    """aiogram's session without the 250 ms pause on close: the pause lets TLS connections shut down,
    and the emulator is plain HTTP on localhost (it made every test that stops a bot slower)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def create_bot(
    emulator: BotApiEmulator,
    *,
    token: str | None = None,
    default: DefaultBotProperties | None = None,
    **bot_kwargs: Any,
) -> Bot:
    """An aiogram Bot wired to the emulator (HTML parse mode by default, like the control bot)."""
    session = _LocalAiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    return Bot(
        token or emulator.token,
        session=session,
        default=default or DefaultBotProperties(parse_mode=ParseMode.HTML),
        **bot_kwargs,
    )


@dataclass
class RunningBot:
    bot: Bot
    dispatcher: Dispatcher
    emulator: BotApiEmulator
    task: asyncio.Task[None]

    async def idle(self, timeout: float = WAIT_LIMIT) -> None:  # noqa: ASYNC109
        """Wait until every queued update was fetched and its handler finished.

        Lets a test assert that the bot did *not* answer without sleeping for a guessed time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._raise_if_polling_died()
            await self.emulator.wait_for(
                lambda: True if self.emulator.pending_updates == 0 or self.task.done() else None,
                max(deadline - loop.time(), 0.0),
                "the bot to fetch all updates",
            )
            self._raise_if_polling_died()
            in_flight = self._handler_tasks()
            if not in_flight:
                if self.emulator.pending_updates == 0:
                    return
                continue
            _, pending = await asyncio.wait(in_flight, timeout=max(deadline - loop.time(), 0.0))
            if pending:
                raise TimeoutError(f"{len(pending)} update handler(s) still running after {timeout:g}s")

    def _handler_tasks(self) -> set[asyncio.Task[Any]]:
        # aiogram 3.31 keeps handler tasks (handle_as_tasks=True) in this private set; pinned version.
        tasks: set[asyncio.Task[Any]] = getattr(self.dispatcher, "_handle_update_tasks", set())
        return {t for t in tasks if not t.done()}

    def _raise_if_polling_died(self) -> None:
        if self.task.done():
            self.task.result()  # re-raises what killed polling
            raise RuntimeError("polling stopped unexpectedly")

    async def _wait_started(self, polls_before: int, timeout: float) -> None:  # noqa: ASYNC109
        await self.emulator.wait_for(
            lambda: True if self.emulator.polls_seen > polls_before or self.task.done() else None,
            timeout,
            "the bot to start polling",
        )
        self._raise_if_polling_died()

    async def _shutdown(self, handler_timeout: float) -> None:
        try:
            if not self.task.done():
                # Let handlers finish first: a handler calling the API after the session was closed
                # would open a new, never-closed session.
                in_flight = self._handler_tasks()
                if in_flight:
                    _, pending = await asyncio.wait(in_flight, timeout=handler_timeout)
                    for task in pending:
                        task.cancel()
                    if pending:
                        await asyncio.wait(pending)
                try:
                    await self.dispatcher.stop_polling()
                except RuntimeError:  # polling had not taken its lock yet
                    self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        finally:
            await self.bot.session.close()


@contextlib.asynccontextmanager
async def running_bot(
    emulator: BotApiEmulator,
    dispatcher: Dispatcher,
    bot_kwargs: dict[str, Any] | None = None,
    *,
    polling_timeout: int = 1,
    startup_timeout: float = WAIT_LIMIT,
    handler_timeout: float = 5.0,
    **workflow_data: Any,
) -> AsyncIterator[RunningBot]:
    """Run ``dispatcher.start_polling`` against the emulator for the duration of the block.

    Entering waits until the bot's first getUpdates arrived (startup hooks done); a failure during
    startup (bad token, a raising startup hook) is raised here. Leaving waits for running handlers,
    stops polling, re-raises what polling died of, and closes the bot session."""
    bot = create_bot(emulator, **(bot_kwargs or {}))
    polls_before = emulator.polls_seen
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=polling_timeout, **workflow_data),
        name="sandbox-polling",
    )
    task.add_done_callback(lambda _: emulator.notify_changed())
    running = RunningBot(bot, dispatcher, emulator, task)
    try:
        await running._wait_started(polls_before, startup_timeout)
        yield running
    finally:
        await running._shutdown(handler_timeout)
