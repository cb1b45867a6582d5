"""Sandbox Telegram Bot API server: enough of the real API for aiogram long polling, offline.

The bot talks to it over HTTP exactly as to api.telegram.org (aiogram's
``TelegramAPIServer.from_base(emulator.base_url)``): ``POST /bot<token>/<method>`` with form data and
``GET /file/bot<token>/<file_path>`` for downloads. Replies use the real envelope
(``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": N, "description": ...}``) and the
real error texts where they matter to a bot (HTML parse errors, length limits, "message is not
modified", 429 with ``retry_after``), so the bot's error handling is exercised, not bypassed.

The same object holds the world state (users, chats, messages, files, the update queue) and the
primitives that play users; ``sandbox.botuser`` wraps those in a friendlier per-user API.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import mimetypes
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aiohttp import web

if TYPE_CHECKING:
    from sandbox.botuser import BotUser

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]
T = TypeVar("T")

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_BOT_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_UPDATES_PER_CALL = 100
DEFAULT_GROUP_CHAT_ID = -1001000000001

# What getUpdates delivers when allowed_updates is empty or never set (as on the real server).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_BOT_COMMAND_IN_TEXT_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


# --------------------------------------------------------------------------------------------------
# HTML parse mode, following tdlib's parse_html (the parser behind the Bot API) closely enough that
# what fails here fails on Telegram: unknown tags, unbalanced tags, a bare "<" in user text.
# --------------------------------------------------------------------------------------------------


class HtmlParseError(Exception):
    """The text is not valid Telegram HTML; str(error) is Telegram's own wording."""


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: tuple[JsonDict, ...] = ()


_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}
_SPACES = " \t\r\n\v\f"
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_html_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``pos`` the way Telegram does (only lt/gt/amp/quot and numeric references;
    the ``;`` is optional). None means "not an entity": the ``&`` is then literal text."""
    n = len(source)
    end = pos + 1
    if end < n and source[end] == "#":
        end += 1
        code = 0
        hexadecimal = end < n and source[end] == "x"
        if hexadecimal:
            end += 1
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < n and source[end] in digits:
            code = code * (16 if hexadecimal else 10) + int(source[end], 16)
            end += 1
            if code >= 0x10FFFF:
                return None
        if code == 0 or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < n and source[end].isascii() and source[end].isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(source[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and source[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the plain text where the tag's content starts
    language: str = ""


def parse_html(source: str) -> FormattedText:
    """Parse Telegram HTML into plain text + entities; raise HtmlParseError like the real server."""
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[JsonDict] = []
    n = len(source)

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    def skip_spaces(index: int) -> int:
        while index < n and source[index] in _SPACES:
            index += 1
        return index

    i = 0
    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_html_entity(source, i)
            if decoded is not None:
                out.append(decoded[0])
                offset += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if char != "<":
            out.append(char)
            offset += utf16_len(char)
            i += 1
            continue

        begin = i
        at = byte_offset(begin)
        i += 1
        if i < n and source[i] == "/":
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {at}")
            i += 1
            name_start = i
            while i < n and source[i] not in _SPACES and source[i] != ">":
                i += 1
            end_name = source[name_start:i].lower()
            i = skip_spaces(i)
            if i >= n or source[i] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {at}")
            i += 1
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag.name}>", found "</{end_name}>"'
                )
            _close_tag(tag, offset, "".join(out), stack, entities)
            continue

        while i < n and source[i] not in _SPACES and source[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {at}")
        tag_name = source[begin + 1 : i].lower()
        if tag_name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag_name}" at byte offset {at}')
        argument = ""
        while True:
            i = skip_spaces(i)
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {at}")
            if source[i] == ">":
                break
            attr_start = i
            while i < n and source[i] not in _SPACES and source[i] not in "=>":
                i += 1
            attr_name = source[attr_start:i].lower()
            if not attr_name:
                raise HtmlParseError(f'Empty attribute name in the tag "{tag_name}" at byte offset {at}')
            i = skip_spaces(i)
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag_name}" at byte offset {at}')
            if source[i] != "=":
                if tag_name == "blockquote" and attr_name == "expandable":
                    argument = "1"
                continue
            i = skip_spaces(i + 1)
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag_name}" at byte offset {at}')
            if source[i] in "'\"":
                quote = source[i]
                i += 1
                value_chars: list[str] = []
                while i < n and source[i] != quote:
                    if source[i] == "&":
                        decoded = _decode_html_entity(source, i)
                        if decoded is not None:
                            value_chars.append(decoded[0])
                            i = decoded[1]
                            continue
                    value_chars.append(source[i])
                    i += 1
                if i < n:
                    i += 1
                value = "".join(value_chars)
            else:
                token_start = i
                while i < n and source[i].isascii() and (source[i].isalnum() or source[i] in ".-"):
                    i += 1
                value = source[token_start:i].lower()
                if i < n and source[i] not in _SPACES and source[i] != ">":
                    raise HtmlParseError(f"Unexpected end of name token at byte offset {byte_offset(token_start)}")
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {at}")
            if tag_name == "a" and attr_name == "href":
                argument = value
            elif tag_name == "code" and attr_name == "class" and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif tag_name == "span" and attr_name == "class" and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
            elif tag_name == "tg-emoji" and attr_name == "emoji-id":
                argument = value
        if tag_name == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        if tag_name == "tg-emoji" and not argument.isdigit():
            raise HtmlParseError("Invalid custom emoji identifier specified")
        i += 1
        stack.append(_OpenTag(tag_name, argument, offset))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return FormattedText("".join(out), tuple(entities))


def _close_tag(tag: _OpenTag, offset: int, text: str, stack: list[_OpenTag], entities: list[JsonDict]) -> None:
    length = offset - tag.offset
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, as on Telegram.
        stack[-1].language = tag.argument
        return
    if length <= 0:
        return
    entity: JsonDict = {"offset": tag.offset, "length": length}
    if tag.name in _SIMPLE_TAG_ENTITY:
        entity["type"] = _SIMPLE_TAG_ENTITY[tag.name]
    elif tag.name == "a":
        entity["type"] = "text_link"
        entity["url"] = tag.argument or _utf16_slice(text, tag.offset, length)
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
    else:  # tg-emoji
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.argument
    entities.append(entity)


def _utf16_slice(text: str, offset: int, length: int) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le")


def command_entities(text: str) -> list[JsonDict]:
    """bot_command entities the Telegram client attaches to /commands in a user's text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _BOT_COMMAND_IN_TEXT_RE.finditer(text)
    ]


# --------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API (``ok: false``)."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class SandboxUser:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    blocked_bot: bool = False

    def to_json(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
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

    def to_json(self) -> JsonDict:
        if self.user is not None:
            data = self.user.to_json()
            data.pop("is_bot")
            data.pop("language_code", None)
            data["type"] = "private"
            return data
        return {"id": self.id, "type": self.type, "title": self.title or "Sandbox group"}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: Literal["document", "photo"]
    file_name: str | None
    mime_type: str | None
    data: bytes
    file_path: str
    uploaded_by: int

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

    @property
    def buttons(self) -> list[list[str]]:
        """Inline keyboard labels, row by row ([] without an inline keyboard)."""
        return [[str(b.get("text", "")) for b in row] for row in self._inline_rows()]

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

    def view(self, *, edited: bool = False) -> MessageView:
        file_view = None
        if self.file is not None:
            f = self.file
            file_view = DocumentView(f.file_id, f.file_name, f.mime_type, f.data)
        is_photo = self.file is not None and self.file.kind == "photo"
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
            document=None if is_photo else file_view,
            photo=file_view if is_photo else None,
            reply_to_message_id=self.reply_to_message_id,
            date=self.date,
            edited=edited,
            deleted=self.deleted,
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
class _SentCallback:
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


@dataclass(frozen=True)
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


class _Params:
    """Request parameters as aiogram sends them: strings, with nested values as JSON strings."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, _Upload]) -> None:
        self._values = values
        self.uploads = uploads

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def get_int(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1", "yes"}
        return bool(value)

    def get_json(self, name: str, error: str) -> Any:
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(error) from None

    def loggable(self) -> dict[str, str]:
        shown = {key: self.get_str(key) or "" for key in self._values}
        for key, upload in self.uploads.items():
            shown[key] = f"<upload {upload.filename!r}, {len(upload.data)} bytes>"
        return shown


_Handler = Callable[[_Params], Awaitable[Any]]


# --------------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------------


class BotApiEmulator:
    """An in-process Telegram Bot API server plus the world it serves (see module docstring)."""

    def __init__(
        self,
        token: str,
        bot_username: str = "adbot_test_bot",
        *,
        bot_name: str = "adbot",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        bot_id, sep, secret = token.partition(":")
        if not sep or not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '<digits>:<secret>'")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_username = bot_username
        self.bot_name = bot_name
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._stopping = False
        self._changed = asyncio.Event()

        self._users: dict[int, SandboxUser] = {}
        self._bot_users: dict[int, BotUser] = {}
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
        self._callbacks: dict[str, _SentCallback] = {}
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._injected: dict[str, list[ApiError]] = {}

        self.events: list[BotEvent] = []
        self.transcript: list[TranscriptEntry] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.calls: list[ApiCall] = []

        self._methods: dict[str, _Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "deletemessage": self._delete_message,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "getfile": self._get_file,
            "sendchataction": self._send_chat_action,
            "getchat": self._get_chat,
        }

    # ---- lifecycle ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the emulator is not started")
        return self._base_url

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # Short shutdown: long polls are woken by _stopping, nothing else is slow.
        runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"http://{self._host}:{port}"
        self._stopping = False
        logger.info("Bot API emulator listening on %s for @%s", self._base_url, self.bot_username)

    async def stop(self) -> None:
        self._stopping = True
        self.notify_changed()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- waiting -----------------------------------------------------------------------------------

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

    # ---- test controls -------------------------------------------------------------------------------

    def inject_error(self, method: str, status: int, description: str, *, retry_after: int | None = None) -> None:
        """Make the next call of ``method`` fail with this error (queued: call again for more)."""
        self._injected.setdefault(method.lower(), []).append(ApiError(status, description, retry_after=retry_after))

    def inject_retry_after(self, method: str, seconds: int) -> None:
        """Make the next call of ``method`` answer 429 Too Many Requests with ``retry_after``."""
        self.inject_error(method, 429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

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

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

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

    # ---- playing users -------------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        started: bool = True,
    ) -> BotUser:
        """A user to play. ``started=False``: the user never opened the bot, so the bot may not write
        to them first ("chat not found") until they send something."""
        from sandbox.botuser import BotUser  # botuser builds on this module

        if user_id <= 0:
            raise ValueError("user ids are positive")
        existing = self._bot_users.get(user_id)
        if existing is not None:
            return existing
        record = SandboxUser(user_id, first_name, username, last_name, language_code)
        self._users[user_id] = record
        if started:
            self._private_chat(record)
        bot_user = BotUser(self, record)
        self._bot_users[user_id] = bot_user
        return bot_user

    def group_chat(
        self,
        chat_id: int = DEFAULT_GROUP_CHAT_ID,
        *,
        title: str = "Sandbox group",
        chat_type: Literal["group", "supergroup"] = "supergroup",
    ) -> SandboxChat:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = SandboxChat(chat_id, chat_type, title=title)
            self._chats[chat_id] = chat
            self._messages[chat_id] = {}
        return chat

    def upload_user_file(
        self,
        user_id: int,
        kind: Literal["document", "photo"],
        file_name: str | None,
        data: bytes,
        mime_type: str | None = None,
    ) -> StoredFile:
        return self._store_file(kind, file_name, data, mime_type, uploaded_by=user_id)

    def user_sends(
        self,
        user_id: int,
        chat_id: int,
        *,
        text: str | None = None,
        file: StoredFile | None = None,
        reply_to: int | None = None,
    ) -> MessageView:
        """A user posts a message (text, or a file with ``text`` as caption); queues the update."""
        user = self._users[user_id]
        chat = self._private_chat(user) if chat_id == user_id else self._chats[chat_id]
        if chat.type == "private":
            user.blocked_bot = False  # writing to a bot you blocked unblocks it
        if file is None and not text:
            raise ValueError("a text message needs text")
        limit = MAX_CAPTION_LENGTH if file is not None else MAX_TEXT_LENGTH
        if text is not None and len(text) > limit:
            raise ValueError(f"Telegram clients do not send texts over {limit} characters in one message")
        if reply_to is not None and reply_to not in self._messages[chat.id]:
            raise LookupError(f"no message {reply_to} in chat {chat.id} to reply to")
        entities = command_entities(text) if text and file is None else []
        stored = self._new_message(
            chat, user.id, from_bot=False, text=text, html=text, parse_mode=None, entities=entities, file=file
        )
        stored.reply_to_message_id = reply_to
        self._queue_update("message", self._message_json(stored))
        self._record(
            chat.id,
            user.first_name,
            "user_document" if file is not None else "user_message",
            text or "",
            message_id=stored.message_id,
            file=file,
        )
        return stored.view()

    def user_presses(self, user_id: int, chat_id: int, message_id: int, data: str, *, label: str | None = None) -> str:
        """A user presses an inline button (or forges a callback with arbitrary data); returns the
        callback query id. The message may be deleted: the bot then gets an inaccessible message."""
        user = self._users[user_id]
        stored = self.message(chat_id, message_id)
        query_id = str(secrets.randbits(63))
        message_json: JsonDict
        if stored.deleted:
            message_json = {"chat": self._chats[chat_id].to_json(), "message_id": message_id, "date": 0}
        else:
            message_json = self._message_json(stored)
        self._callbacks[query_id] = _SentCallback(query_id, user_id, chat_id, message_id, data)
        self._queue_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_json(),
                "message": message_json,
                "chat_instance": str(abs(chat_id) * 7919 + self.bot_id),
                "data": data,
            },
        )
        shown = label if label is not None else f"forged data {data!r} on #{message_id}"
        self._record(chat_id, user.first_name, "user_click", shown, message_id=message_id)
        return query_id

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """A user deletes a message for everyone (bots get no update for that, as on Telegram)."""
        self.message(chat_id, message_id).deleted = True
        self.notify_changed()

    def callback_answer(self, query_id: str) -> AnsweredCallback | None:
        sent = self._callbacks.get(query_id)
        return None if sent is None else sent.answer

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        self._users[user_id].blocked_bot = blocked

    # ---- HTTP ----------------------------------------------------------------------------------------

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return self._error_response(ApiError(404, "Not Found"))

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        handler = self._methods.get(method.lower())
        if handler is None:
            return self._error_response(ApiError(404, "Not Found"))
        try:
            params = await self._read_params(request)
        except ApiError as error:
            self.calls.append(ApiCall(method, {}, error.description))
            return self._error_response(error)
        logger.debug("bot -> emulator: %s", method)
        try:
            injected = self._injected.get(method.lower())
            if injected:
                raise injected.pop(0)
            result = await handler(params)
        except ApiError as error:
            self.calls.append(ApiCall(method, params.loggable(), error.description))
            return self._error_response(error)
        self.calls.append(ApiCall(method, params.loggable()))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    @staticmethod
    def _error_response(error: ApiError) -> web.Response:
        return web.json_response(error.payload(), status=error.status)

    async def _read_params(self, request: web.Request) -> _Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        try:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise _bad_request("request body must be a JSON object")
                values.update(body)
            elif request.can_read_body:
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        uploads[key] = _Upload(value.filename, value.content_type, value.file.read())
                    elif isinstance(value, bytes | bytearray):
                        values[key] = bytes(value).decode("utf-8", "replace")
                    else:
                        values[key] = value
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        except ValueError:
            raise _bad_request("can't parse request body") from None
        return _Params(values, uploads)

    # ---- Bot API methods -------------------------------------------------------------------------------

    def _bot_json(self) -> JsonDict:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    async def _get_me(self, params: _Params) -> JsonDict:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: _Params) -> list[JsonDict]:
        offset = params.get_int("offset")
        limit = min(max(params.get_int("limit") or MAX_UPDATES_PER_CALL, 1), MAX_UPDATES_PER_CALL)
        timeout = max(params.get_int("timeout") or 0, 0)
        allowed = params.get_json("allowed_updates", "can't parse allowed_updates JSON object")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise _bad_request("allowed_updates must be an array of strings")
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._confirm(offset)
        self._polls_seen += 1
        # Like Telegram, a newer getUpdates ends an older one still waiting (409 to the older).
        self._poll_generation += 1
        generation = self._poll_generation
        self.notify_changed()

        def ready() -> list[JsonDict] | None:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            batch = self._deliverable(limit)
            return batch if batch or self._stopping else None

        try:
            return await self.wait_for(ready, float(timeout), "updates")
        except TimeoutError:
            return []

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        before = len(self._updates)
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if len(self._updates) != before:
            self.notify_changed()

    def _deliverable(self, limit: int) -> list[JsonDict]:
        def wanted(update: JsonDict) -> bool:
            kind = next(k for k in update if k != "update_id")
            if self._allowed_updates is None:
                return kind not in _DEFAULT_EXCLUDED_UPDATES
            return kind in self._allowed_updates

        # Updates of unwanted types are never delivered; drop them so they don't count as pending.
        kept = [u for u in self._updates if wanted(u)]
        if len(kept) != len(self._updates):
            self._updates = kept
            self.notify_changed()
        return kept[:limit]

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.get_bool("drop_pending_updates") and self._updates:
            self._updates.clear()
            self.notify_changed()
        return True

    async def _get_webhook_info(self, params: _Params) -> JsonDict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope or scope == {"type": "default"}:
            return "default"
        return json.dumps(scope, sort_keys=True)

    def _commands_key(self, params: _Params) -> tuple[str, str]:
        scope = params.get_json("scope", "can't parse BotCommandScope JSON object")
        if scope is not None and not (isinstance(scope, dict) and isinstance(scope.get("type"), str)):
            raise _bad_request("can't parse BotCommandScope JSON object")
        return self._scope_key(scope), params.get_str("language_code") or ""

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.get_json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JsonDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.match(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        self._commands[self._commands_key(params)] = cleaned
        return True

    async def _get_my_commands(self, params: _Params) -> list[JsonDict]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    async def _send_chat_action(self, params: _Params) -> bool:
        self._target_chat(params)
        return True

    async def _get_chat(self, params: _Params) -> JsonDict:
        chat = self._target_chat(params, for_sending=False)
        return {**chat.to_json(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _send_message(self, params: _Params) -> JsonDict:
        chat = self._target_chat(params)
        raw = params.get_str("text")
        if not raw:
            raise _bad_request("message text is empty")
        formatted = self._format(params, raw, "entities")
        if not formatted.text.strip():
            raise _bad_request("message text is empty")
        if len(formatted.text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        markup = self._reply_markup(params)
        reply_to = self._reply_to(params, chat)
        stored = self._new_message(
            chat,
            self.bot_id,
            from_bot=True,
            text=formatted.text,
            html=raw,
            parse_mode=params.get_str("parse_mode"),
            entities=list(formatted.entities),
        )
        stored.reply_markup = markup
        stored.reply_to_message_id = reply_to
        self._bot_changed("new", stored)
        return self._message_json(stored)

    async def _send_document(self, params: _Params) -> JsonDict:
        return self._send_file(params, "document")

    async def _send_photo(self, params: _Params) -> JsonDict:
        return self._send_file(params, "photo")

    def _send_file(self, params: _Params, kind: Literal["document", "photo"]) -> JsonDict:
        chat = self._target_chat(params)
        stored_file = self._input_file(params, kind)
        raw = params.get_str("caption")
        formatted = self._format(params, raw, "caption_entities") if raw else FormattedText("")
        if len(formatted.text) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        markup = self._reply_markup(params)
        reply_to = self._reply_to(params, chat)
        stored = self._new_message(
            chat,
            self.bot_id,
            from_bot=True,
            text=formatted.text or None,
            html=raw,
            parse_mode=params.get_str("parse_mode") if raw else None,
            entities=list(formatted.entities),
            file=stored_file,
        )
        stored.reply_markup = markup
        stored.reply_to_message_id = reply_to
        self._bot_changed("new", stored)
        return self._message_json(stored)

    async def _edit_message_text(self, params: _Params) -> JsonDict:
        stored = self._message_to_edit(params)
        if stored.file is not None:
            raise _bad_request("there is no text in the message to edit")
        raw = params.get_str("text")
        if not raw:
            raise _bad_request("text must be non-empty")
        formatted = self._format(params, raw, "entities")
        if not formatted.text.strip():
            raise _bad_request("message text is empty")
        if len(formatted.text) > MAX_TEXT_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        # As on Telegram: an edit without reply_markup removes the inline keyboard.
        markup = self._reply_markup(params, inline_only=True)
        self._apply_edit(stored, formatted, raw, params.get_str("parse_mode"), markup)
        return self._message_json(stored)

    async def _edit_message_caption(self, params: _Params) -> JsonDict:
        stored = self._message_to_edit(params)
        if stored.file is None:
            raise _bad_request("there is no caption in the message to edit")
        raw = params.get_str("caption") or ""
        formatted = self._format(params, raw, "caption_entities") if raw else FormattedText("")
        if len(formatted.text) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        markup = self._reply_markup(params, inline_only=True)
        self._apply_edit(stored, formatted, raw, params.get_str("parse_mode"), markup)
        return self._message_json(stored)

    async def _edit_message_reply_markup(self, params: _Params) -> JsonDict:
        stored = self._message_to_edit(params)
        markup = self._reply_markup(params, inline_only=True)
        formatted = FormattedText(stored.text or "", tuple(stored.entities))
        self._apply_edit(stored, formatted, stored.html, stored.parse_mode, markup)
        return self._message_json(stored)

    def _apply_edit(
        self,
        stored: StoredMessage,
        formatted: FormattedText,
        raw: str | None,
        parse_mode: str | None,
        markup: JsonDict | None,
    ) -> None:
        if (
            (stored.text or "") == formatted.text
            and stored.entities == list(formatted.entities)
            and stored.reply_markup == markup
        ):
            raise _bad_request(_NOT_MODIFIED)
        stored.edits.append(stored.view(edited=bool(stored.edits)))
        stored.text = formatted.text or None
        stored.html = raw
        stored.parse_mode = parse_mode
        stored.entities = list(formatted.entities)
        stored.reply_markup = markup
        stored.edit_date = int(time.time())
        self._bot_changed("edit", stored)

    def _message_to_edit(self, params: _Params) -> StoredMessage:
        if params.get_str("inline_message_id"):
            raise _bad_request("the sandbox emulator does not implement inline messages")
        chat = self._target_chat(params, for_sending=False)
        message_id = params.get_int("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        stored = self._messages[chat.id].get(message_id)
        if stored is None or stored.deleted:
            raise _bad_request("message to edit not found")
        if not stored.from_bot:
            raise _bad_request("message can't be edited")
        return stored

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._target_chat(params, for_sending=False)
        message_id = params.get_int("message_id")
        stored = self._messages[chat.id].get(message_id) if message_id is not None else None
        if stored is None or stored.deleted:
            raise _bad_request("message to delete not found")
        stored.deleted = True
        self._bot_changed("delete", stored)
        return True

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.get_str("callback_query_id") or ""
        sent = self._callbacks.get(query_id)
        if sent is None or sent.answer is not None:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        answer = AnsweredCallback(
            query_id=query_id,
            user_id=sent.user_id,
            data=sent.data,
            text=text,
            show_alert=params.get_bool("show_alert"),
            url=params.get_str("url"),
            cache_time=params.get_int("cache_time"),
        )
        sent.answer = answer
        self.answered_callbacks.append(answer)
        self._record(sent.chat_id, self.bot_name, "callback_answer", text or "", message_id=sent.message_id)
        self.notify_changed()
        return True

    async def _get_file(self, params: _Params) -> JsonDict:
        stored = self._files.get(params.get_str("file_id") or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_BOT_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    # ---- helpers -------------------------------------------------------------------------------------

    def _target_chat(self, params: _Params, *, for_sending: bool = True) -> SandboxChat:
        raw = params.get_str("chat_id")
        if not raw:
            raise _bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except ValueError:
            raise _bad_request("chat not found") from None  # @usernames: no public chats here
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad_request("chat not found")
        if for_sending and chat.user is not None and chat.user.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _format(self, params: _Params, raw: str, entities_field: str) -> FormattedText:
        mode = (params.get_str("parse_mode") or "").lower()
        if mode:
            if mode == "html":
                try:
                    return parse_html(raw)
                except HtmlParseError as error:
                    raise _bad_request(f"can't parse entities: {error}") from None
            if mode in {"markdown", "markdownv2"}:
                raise _bad_request("the sandbox emulator implements only parse_mode HTML")
            raise _bad_request("unsupported parse_mode")
        entities = params.get_json(entities_field, "can't parse entities JSON object")
        if entities is None:
            return FormattedText(raw)
        limit = utf16_len(raw)
        if not isinstance(entities, list):
            raise _bad_request("can't parse entities JSON object")
        for entity in entities:
            if not (
                isinstance(entity, dict)
                and isinstance(entity.get("type"), str)
                and isinstance(entity.get("offset"), int)
                and isinstance(entity.get("length"), int)
                and 0 <= entity["offset"] <= entity["offset"] + entity["length"] <= limit
            ):
                raise _bad_request(f"can't parse entities: invalid entity {entity!r}")
        return FormattedText(raw, tuple(entities))

    def _reply_markup(self, params: _Params, *, inline_only: bool = False) -> JsonDict | None:
        markup = params.get_json("reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
            return markup
        if inline_only:
            raise _bad_request("inline keyboard expected")
        if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad_request("can't parse inline keyboard button: Text must be a String")
                if not button["text"]:
                    raise _bad_request("BUTTON_TEXT_INVALID")
                actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
                if len(actions) != 1:
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = button["url"]
                    if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
                        raise _bad_request("BUTTON_URL_INVALID")

    def _reply_to(self, params: _Params, chat: SandboxChat) -> int | None:
        reply = params.get_json("reply_parameters", "can't parse reply parameters JSON object")
        allow_missing = params.get_bool("allow_sending_without_reply")
        message_id: Any = params.get_int("reply_to_message_id")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
            if reply.get("chat_id") not in (None, chat.id, str(chat.id)):
                raise _bad_request("the sandbox emulator does not implement replies to other chats")
        elif reply is not None:
            raise _bad_request("can't parse reply parameters JSON object")
        if message_id is None:
            return None
        target = self._messages[chat.id].get(int(message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return target.message_id

    def _input_file(self, params: _Params, kind: Literal["document", "photo"]) -> StoredFile:
        upload = params.uploads.get(kind)
        value = params.get_str(kind)
        if upload is None and value is not None and value.startswith("attach://"):
            upload = params.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if upload is not None:
            if not upload.data:
                raise _bad_request("file must be non-empty")
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = None
            return self._store_file(kind, upload.filename, upload.data, mime, uploaded_by=self.bot_id)
        if not value:
            raise _bad_request(f"there is no {kind} in the request")
        if value.startswith(("http://", "https://")):
            raise _bad_request("failed to get HTTP URL content")  # offline by design
        existing = self._files.get(value)
        if existing is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if existing.kind != kind:
            raise _bad_request(f"can't use file of type {existing.kind.title()} as {kind.title()}")
        return existing

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
