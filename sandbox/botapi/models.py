"""What the Bot API emulator holds: users, chats, messages, files, and the record of what the bot did.

The ``Stored*`` classes are the emulator's own state; the frozen ones (``MessageView``, ``BotEvent``,
``TranscriptEntry``, ``AnsweredCallback``, ``ApiCall``) are snapshots handed to tests.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

JsonDict = dict[str, Any]
FileKind = Literal["document", "photo", "video", "animation"]

# Telegram's limits, enforced as the real server enforces them.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_PREMIUM_CAPTION_LENGTH = 2048
"""Telegram Premium users' captions (a bot receives them; it still sends at most 1,024)."""
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_BOT_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_UPDATES_PER_CALL = 100

DEFAULT_GROUP_CHAT_ID = -1001000000001  # the group group_chat() opens when given no id


@dataclass
class SandboxUser:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    blocked_bot: bool = False
    is_premium: bool = False

    def caption_limit(self) -> int:
        """The longest caption this user's client sends, in UTF-16 units (Telegram Premium doubles it)."""
        return MAX_PREMIUM_CAPTION_LENGTH if self.is_premium else MAX_CAPTION_LENGTH

    def to_json(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.is_premium:
            data["is_premium"] = True
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class SandboxChat:
    id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    user: SandboxUser | None = None
    next_message_id: int = 1
    username: str | None = None
    reply_keyboard: JsonDict | None = None  # the reply keyboard the bot last sent here (None: removed)

    def to_json(self) -> JsonDict:
        if self.user is not None:
            data = self.user.to_json()
            data.pop("is_bot")
            data.pop("language_code", None)
            data["type"] = "private"
            return data
        data = {"id": self.id, "type": self.type, "title": self.title or "Sandbox group"}
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: FileKind
    file_name: str | None
    mime_type: str | None
    data: bytes
    file_path: str
    uploaded_by: int
    width: int = 0  # videos and animations (the emulator does not decode the bytes: what the sender said)
    height: int = 0
    duration: int = 0

    @property
    def file_size(self) -> int:
        return len(self.data)

    def document_json(self) -> JsonDict:
        data: JsonDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def video_json(self) -> JsonDict:
        """A Video or Animation object (both carry dimensions and duration)."""
        return {**self.document_json(), "width": self.width, "height": self.height, "duration": self.duration}

    def photo_json(self) -> list[JsonDict]:
        # Dimensions are not decoded from the bytes: nothing in adbot looks at them.
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": 512,
                "height": 512,
                "file_size": self.file_size,
            }
        ]


@dataclass(frozen=True)
class DocumentView:
    file_id: str
    file_name: str | None
    mime_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class MessageView:
    """A snapshot of one message as a Telegram client would show it."""

    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    text: str  # plain text (tags stripped, entities unescaped), or the caption of a document/photo
    html: str  # the raw text as sent (with tags when parse_mode was HTML)
    parse_mode: str | None
    entities: tuple[JsonDict, ...]
    reply_markup: JsonDict | None
    document: DocumentView | None
    photo: DocumentView | None
    reply_to_message_id: int | None
    date: int
    edited: bool = False
    deleted: bool = False
    video: DocumentView | None = None
    animation: DocumentView | None = None
    media_group_id: str | None = None
    forward_origin: JsonDict | None = None  # a forwarded message's origin (channel, chat, user, hidden user)
    link_preview: bool = True  # False: sent with link_preview_options.is_disabled (no web page preview)

    @property
    def buttons(self) -> list[list[str]]:
        """Inline keyboard labels, row by row ([] without an inline keyboard)."""
        return [[str(b.get("text", "")) for b in row] for row in self._inline_rows()]

    @property
    def keyboard(self) -> list[list[str]]:
        """Reply keyboard labels, row by row ([] when the message carries no reply keyboard)."""
        rows = (self.reply_markup or {}).get("keyboard")
        if not isinstance(rows, list):
            return []
        return [[b if isinstance(b, str) else str(b.get("text", "")) for b in row] for row in rows]

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    def button(self, label: str) -> JsonDict | None:
        for row in self._inline_rows():
            for button in row:
                if button.get("text") == label:
                    return button
        return None

    def callback_data(self, label: str) -> str | None:
        button = self.button(label)
        data = None if button is None else button.get("callback_data")
        return data if isinstance(data, str) else None

    def _inline_rows(self) -> list[list[JsonDict]]:
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard")
        return rows if isinstance(rows, list) else []


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    date: int
    sender_id: int
    from_bot: bool
    text: str | None  # plain text, or the caption when ``file`` is set
    html: str | None
    parse_mode: str | None
    entities: list[JsonDict]
    reply_markup: JsonDict | None = None
    file: StoredFile | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    edits: list[MessageView] = field(default_factory=list)  # earlier versions, oldest first
    deleted: bool = False
    media_group_id: str | None = None
    forward_origin: JsonDict | None = None
    shared: JsonDict | None = None  # a user's chat_shared / users_shared payload ({"chat_shared": {...}})
    link_preview: bool = True  # a text message's web page preview (``link_preview_options.is_disabled``)

    def view(self, *, edited: bool = False) -> MessageView:
        file_view = None
        kind = None if self.file is None else self.file.kind
        if self.file is not None:
            f = self.file
            file_view = DocumentView(f.file_id, f.file_name, f.mime_type, f.data)
        return MessageView(
            chat_id=self.chat_id,
            message_id=self.message_id,
            sender_id=self.sender_id,
            from_bot=self.from_bot,
            text=self.text or "",
            html=self.html or "",
            parse_mode=self.parse_mode,
            entities=tuple(copy.deepcopy(self.entities)),
            reply_markup=copy.deepcopy(self.reply_markup),
            document=file_view if kind == "document" else None,
            photo=file_view if kind == "photo" else None,
            reply_to_message_id=self.reply_to_message_id,
            date=self.date,
            edited=edited,
            deleted=self.deleted,
            video=file_view if kind == "video" else None,
            animation=file_view if kind == "animation" else None,
            media_group_id=self.media_group_id,
            forward_origin=copy.deepcopy(self.forward_origin),
            link_preview=self.link_preview,
        )


@dataclass(frozen=True)
class BotEvent:
    """A change the bot made to a chat: what a user's client would notice."""

    seq: int
    kind: Literal["new", "edit", "delete"]
    message: MessageView

    @property
    def chat_id(self) -> int:
        return self.message.chat_id


TranscriptKind = Literal[
    "user_message", "user_document", "user_click", "bot_message", "bot_edit", "bot_delete", "callback_answer"
]


@dataclass(frozen=True)
class TranscriptEntry:
    seq: int
    chat_id: int
    actor: str
    kind: TranscriptKind
    text: str = ""
    buttons: tuple[tuple[str, ...], ...] = ()
    message_id: int | None = None
    file_name: str | None = None
    file_size: int | None = None

    def render(self) -> str:
        """One human-readable line, for the demo printer and for test failure messages."""
        where = "" if self.chat_id > 0 else f" [chat {self.chat_id}]"
        if self.kind == "user_click":
            line = f"{self.actor} presses [{self.text}]"
        elif self.kind == "callback_answer":
            line = f"{self.actor} answers the button press" + (f": {self.text}" if self.text else "")
        elif self.kind == "bot_delete":
            line = f"{self.actor} deletes message #{self.message_id}"
        else:
            verb = f" (edits #{self.message_id})" if self.kind == "bot_edit" else ""
            parts = [self.text] if self.text else []
            if self.file_name is not None:
                parts.append(f"<file {self.file_name}, {self.file_size} bytes>")
            line = f"{self.actor}{verb}: {' '.join(parts)}"
        if self.buttons:
            line += "  " + " / ".join(" ".join(f"[{label}]" for label in row) for row in self.buttons)
        return line + where


@dataclass(frozen=True)
class AnsweredCallback:
    query_id: str
    user_id: int
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass
class SentCallback:
    """A button press delivered to the bot, and its answer once the bot gave one."""

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: AnsweredCallback | None = None


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made (file contents summarised), for assertions on the bot's behaviour."""

    method: str
    params: Mapping[str, str]
    error: str | None = None
