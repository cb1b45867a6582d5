"""The world the emulated Bot API serves: users, chats, messages, files, the update queue.

``EmulatorState`` holds it and the primitives every part of the emulator builds on: waking waiters,
storing messages and files, rendering a message as the Bot API's JSON, queueing an update, and
recording what the bot did (``events``, ``transcript``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from sandbox.botapi.models import (
    AnsweredCallback,
    BotEvent,
    JsonDict,
    MessageView,
    SandboxChat,
    SandboxUser,
    SentCallback,
    StoredFile,
    StoredMessage,
    TranscriptEntry,
    TranscriptKind,
)
from sandbox.botapi.protocol import ApiError, Params, bad_request

T = TypeVar("T")


class EmulatorState:
    """The emulator's state (``BotApiEmulator`` is this plus the HTTP server and the Bot API methods)."""

    def __init__(self, bot_id: int, bot_username: str, bot_name: str) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self._stopping = False  # the server is stopping: long polls answer now
        self._changed = asyncio.Event()

        self._users: dict[int, SandboxUser] = {}
        self._chats: dict[int, SandboxChat] = {}
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = 0
        self._updates: list[JsonDict] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._polls_seen = 0
        self._callbacks: dict[str, SentCallback] = {}
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._descriptions: dict[str, str] = {}  # language code ("" = default) -> description
        self._short_descriptions: dict[str, str] = {}

        self.events: list[BotEvent] = []
        self.transcript: list[TranscriptEntry] = []
        self.answered_callbacks: list[AnsweredCallback] = []

    # ---- waiting ---------------------------------------------------------------------------------

    def notify_changed(self) -> None:
        """Wake every waiter (long polls, wait_reply, idle checks) to re-check its condition."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float, what: str = "a condition") -> T:  # noqa: ASYNC109
        """Wait until ``predicate()`` returns something other than None (or False) and return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass

    # ---- queries for tests -----------------------------------------------------------------------

    @property
    def polls_seen(self) -> int:
        """How many authorised getUpdates requests arrived so far."""
        return self._polls_seen

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot (via a later getUpdates offset)."""
        return len(self._updates)

    @property
    def commands(self) -> list[tuple[str, str]]:
        """(command, description) pairs registered by setMyCommands for the default scope."""
        return self.commands_for()

    def commands_for(self, scope: JsonDict | None = None, language_code: str = "") -> list[tuple[str, str]]:
        registered = self._commands.get((self._scope_key(scope), language_code), [])
        return [(str(c["command"]), str(c["description"])) for c in registered]

    def messages(self, chat_id: int) -> list[MessageView]:
        """Every message of the chat (both directions, deleted ones flagged), oldest first."""
        return [m.view(edited=bool(m.edits)) for m in self._messages.get(chat_id, {}).values()]

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        try:
            return self._messages[chat_id][message_id]
        except KeyError:
            raise LookupError(f"no message {message_id} in chat {chat_id}") from None

    def file(self, file_id: str) -> StoredFile:
        return self._files[file_id]

    def render_transcript(self) -> str:
        return "\n".join(entry.render() for entry in self.transcript)

    # ---- building blocks -------------------------------------------------------------------------

    def _bot_json(self) -> JsonDict:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope or scope == {"type": "default"}:
            return "default"
        return json.dumps(scope, sort_keys=True)

    def _target_chat(self, params: Params, *, for_sending: bool = True) -> SandboxChat:
        """The chat named by the request's chat_id; sending to a user who blocked the bot is refused."""
        raw = params.get_str("chat_id")
        if not raw:
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None  # @usernames: no public chats here
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if for_sending and chat.user is not None and chat.user.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _store_file(
        self,
        kind: Literal["document", "photo"],
        file_name: str | None,
        data: bytes,
        mime_type: str | None,
        *,
        uploaded_by: int,
    ) -> StoredFile:
        self._file_counter += 1
        if kind == "document" and mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        if kind == "photo":
            file_name, mime_type = None, None
        suffix = ".jpg" if kind == "photo" else ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1][:16]
        prefix = "AgAC" if kind == "photo" else "BQAC"
        stored = StoredFile(
            file_id=f"{prefix}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AgAD{secrets.token_urlsafe(8)}",
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            data=bytes(data),
            file_path=f"{kind}s/file_{self._file_counter}{suffix}",
            uploaded_by=uploaded_by,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _private_chat(self, user: SandboxUser) -> SandboxChat:
        chat = self._chats.get(user.id)
        if chat is None:
            chat = SandboxChat(user.id, "private", user=user)
            self._chats[user.id] = chat
            self._messages[user.id] = {}
        return chat

    def _new_message(
        self,
        chat: SandboxChat,
        sender_id: int,
        *,
        from_bot: bool,
        text: str | None,
        html: str | None,
        parse_mode: str | None,
        entities: list[JsonDict],
        file: StoredFile | None = None,
    ) -> StoredMessage:
        stored = StoredMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            date=int(time.time()),
            sender_id=sender_id,
            from_bot=from_bot,
            text=text,
            html=html,
            parse_mode=parse_mode,
            entities=entities,
            file=file,
        )
        chat.next_message_id += 1
        self._messages[chat.id][stored.message_id] = stored
        return stored

    def _message_json(self, stored: StoredMessage, *, nested: bool = False) -> JsonDict:
        chat = self._chats[stored.chat_id]
        sender = self._bot_json() if stored.from_bot else self._users[stored.sender_id].to_json()
        data: JsonDict = {
            "message_id": stored.message_id,
            "from": sender,
            "chat": chat.to_json(),
            "date": stored.date,
        }
        body_key, entities_key = "text", "entities"
        if stored.file is not None:
            body_key, entities_key = "caption", "caption_entities"
            if stored.file.kind == "photo":
                data["photo"] = stored.file.photo_json()
            else:
                data["document"] = stored.file.document_json()
        if stored.text:
            data[body_key] = stored.text
            if stored.entities:
                data[entities_key] = copy.deepcopy(stored.entities)
        if stored.shared:
            data.update(copy.deepcopy(stored.shared))
        if stored.reply_markup and "inline_keyboard" in stored.reply_markup:
            data["reply_markup"] = copy.deepcopy(stored.reply_markup)
        if stored.edit_date is not None:
            data["edit_date"] = stored.edit_date
        if stored.reply_to_message_id is not None and not nested:
            target = self._messages[stored.chat_id].get(stored.reply_to_message_id)
            if target is not None and not target.deleted:
                data["reply_to_message"] = self._message_json(target, nested=True)
        return data

    def _queue_update(self, kind: str, payload: JsonDict) -> None:
        self._updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self.notify_changed()

    def _bot_changed(self, kind: Literal["new", "edit", "delete"], stored: StoredMessage) -> None:
        view = stored.view(edited=kind == "edit")
        self.events.append(BotEvent(len(self.events), kind, view))
        kinds: dict[str, TranscriptKind] = {"new": "bot_message", "edit": "bot_edit", "delete": "bot_delete"}
        transcript_kind = kinds[kind]
        self._record(
            stored.chat_id,
            self.bot_name,
            transcript_kind,
            "" if kind == "delete" else view.text,
            buttons=tuple(tuple(row) for row in view.buttons) if kind != "delete" else (),
            message_id=stored.message_id,
            file=stored.file if kind == "new" else None,
        )
        self.notify_changed()

    def _record(
        self,
        chat_id: int,
        actor: str,
        kind: TranscriptKind,
        text: str,
        *,
        buttons: tuple[tuple[str, ...], ...] = (),
        message_id: int | None = None,
        file: StoredFile | None = None,
    ) -> None:
        self.transcript.append(
            TranscriptEntry(
                seq=len(self.transcript),
                chat_id=chat_id,
                actor=actor,
                kind=kind,
                text=text,
                buttons=buttons,
                message_id=message_id,
                file_name=None if file is None else (file.file_name or file.kind),
                file_size=None if file is None else file.file_size,
            )
        )
