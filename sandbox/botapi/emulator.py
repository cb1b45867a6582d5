"""``BotApiEmulator``: the HTTP server in front of the emulator's state and Bot API methods, the test
controls, and the primitives that play users (``sandbox.botuser`` wraps those per user)."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Literal

from aiohttp import web

from sandbox.botapi.html import command_entities, utf16_len
from sandbox.botapi.media import MediaMethods
from sandbox.botapi.models import (
    DEFAULT_GROUP_CHAT_ID,
    MAX_TEXT_LENGTH,
    MAX_UPLOAD_BYTES,
    AnsweredCallback,
    ApiCall,
    JsonDict,
    MessageView,
    SandboxChat,
    SandboxUser,
    SentCallback,
    StoredFile,
)
from sandbox.botapi.profile import ProfileMethods
from sandbox.botapi.protocol import ApiError, Handler, error_response, read_params
from sandbox.botapi.public_chats import PublicChats
from sandbox.botapi.webhook import WebhookMethods

if TYPE_CHECKING:
    from sandbox.botuser import BotUser

logger = logging.getLogger(__name__)


class BotApiEmulator(MediaMethods, PublicChats, WebhookMethods, ProfileMethods):
    """An in-process Telegram Bot API server plus the world it serves (see the package docstring).
    ``local``: behave as a local Bot API server (``telegram-bot-api --local``): webhooks may be plain HTTP on
    any port and address (``sandbox.botapi.webhook``); otherwise as strict as api.telegram.org."""

    def __init__(
        self,
        token: str,
        bot_username: str = "adbot_test_bot",
        *,
        bot_name: str = "adbot",
        host: str = "127.0.0.1",
        port: int = 0,
        local: bool = False,
    ) -> None:
        bot_id, sep, secret = token.partition(":")
        if not sep or not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '<digits>:<secret>'")
        super().__init__(int(bot_id), bot_username, bot_name)
        self.token = token
        self.local_mode = local
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._bot_users: dict[int, BotUser] = {}
        self._injected: dict[str, list[ApiError]] = {}
        self.calls: list[ApiCall] = []

        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmydescription": self._set_my_description,
            "getmydescription": self._get_my_description,
            "setmyshortdescription": self._set_my_short_description,
            "getmyshortdescription": self._get_my_short_description,
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
            # media (sandbox.botapi.media)
            "sendvideo": self._send_video,
            "sendanimation": self._send_animation,
            "sendmediagroup": self._send_media_group,
            "copymessage": self._copy_message,
            "forwardmessage": self._forward_message,
        }

    # ---- lifecycle -------------------------------------------------------------------------------

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
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- test controls ---------------------------------------------------------------------------

    def inject_error(self, method: str, status: int, description: str, *, retry_after: int | None = None) -> None:
        """Make the next call of ``method`` fail with this error (queued: call again for more)."""
        self._injected.setdefault(method.lower(), []).append(ApiError(status, description, retry_after=retry_after))

    def inject_retry_after(self, method: str, seconds: int) -> None:
        """Make the next call of ``method`` answer 429 Too Many Requests with ``retry_after``."""
        self.inject_error(method, 429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    # ---- playing users ---------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        started: bool = True,
        is_premium: bool = False,
    ) -> BotUser:
        """A user to play. ``started=False``: the user never opened the bot, so the bot may not write
        to them first ("chat not found") until they send something. ``is_premium``: their client sends
        captions up to 2,048 units."""
        from sandbox.botuser import BotUser  # botuser builds on this module

        if user_id <= 0:
            raise ValueError("user ids are positive")
        existing = self._bot_users.get(user_id)
        if existing is not None:
            return existing
        record = SandboxUser(user_id, first_name, username, last_name, language_code, is_premium=is_premium)
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
        limit = user.caption_limit() if file is not None else MAX_TEXT_LENGTH
        if text is not None and utf16_len(text) > limit:
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
        self._callbacks[query_id] = SentCallback(query_id, user_id, chat_id, message_id, data)
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

    def reply_keyboard(self, chat_id: int) -> list[list[JsonDict]]:
        """The reply keyboard under the chat's input field (buttons as dicts; [] when none)."""
        chat = self._chats.get(chat_id)
        markup = None if chat is None else chat.reply_keyboard
        rows = [] if markup is None else markup.get("keyboard", [])
        return [[b if isinstance(b, dict) else {"text": b} for b in row] for row in rows]

    def _request_button(self, user_id: int, request_id: int, kind: str) -> JsonDict:
        """The ``kind`` ('request_chat' | 'request_users') button with this id on the user's keyboard."""
        for row in self.reply_keyboard(user_id):
            for button in row:
                request = button.get(kind)
                if isinstance(request, dict) and request.get("request_id") == request_id:
                    return request
        raise LookupError(f"no {kind} button with request_id {request_id} on the keyboard of chat {user_id}")

    def _share(self, user_id: int, shared: JsonDict, shown: str) -> MessageView:
        user = self._users[user_id]
        chat = self._private_chat(user)
        user.blocked_bot = False
        stored = self._new_message(
            chat, user.id, from_bot=False, text=None, html=None, parse_mode=None, entities=[]
        )
        stored.shared = shared
        self._queue_update("message", self._message_json(stored))
        self._record(chat.id, user.first_name, "user_message", shown, message_id=stored.message_id)
        return stored.view()

    def user_shares_chat(self, user_id: int, request_id: int, chat_id: int) -> MessageView:
        """The user taps a ``request_chat`` button and picks a chat: a ``chat_shared`` message. The chat must
        fit the button's criteria, as Telegram's picker only offers those."""
        request = self._request_button(user_id, request_id, "request_chat")
        chat = self._chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise LookupError(f"no group or channel {chat_id} to share")
        is_channel = str(chat.type) == "channel"
        if request["chat_is_channel"] != is_channel:
            raise ValueError("the picker offers only " + ("channels" if request["chat_is_channel"] else "groups"))
        if request.get("chat_has_username") is not None and bool(chat.username) != request["chat_has_username"]:
            raise ValueError("the picker offers only chats " + ("with" if request["chat_has_username"] else "without")
                             + " a username")
        shared: JsonDict = {"request_id": request_id, "chat_id": chat_id}
        if request.get("request_title") and chat.title:
            shared["title"] = chat.title
        if request.get("request_username") and chat.username:
            shared["username"] = chat.username
        return self._share(user_id, {"chat_shared": shared}, f"<shares chat {chat.title or chat_id}>")

    def user_shares_users(self, user_id: int, request_id: int, user_ids: list[int]) -> MessageView:
        """The user taps a ``request_users`` button and picks people: a ``users_shared`` message."""
        request = self._request_button(user_id, request_id, "request_users")
        if not 1 <= len(user_ids) <= int(request.get("max_quantity", 1)):
            raise ValueError(f"the picker allows 1 to {request.get('max_quantity', 1)} users")
        picked: list[JsonDict] = []
        for shared_id in user_ids:
            is_bot = shared_id == self.bot_id
            if request.get("user_is_bot") is not None and request["user_is_bot"] != is_bot:
                raise ValueError("the picker offers only " + ("bots" if request["user_is_bot"] else "people"))
            person = self._users.get(shared_id)
            entry: JsonDict = {"user_id": shared_id}
            if person is not None and request.get("request_name"):
                entry["first_name"] = person.first_name
                if person.last_name:
                    entry["last_name"] = person.last_name
            if person is not None and request.get("request_username") and person.username:
                entry["username"] = person.username
            picked.append(entry)
        shared = {"users_shared": {"request_id": request_id, "users": picked}}
        return self._share(user_id, shared, f"<shares users {', '.join(map(str, user_ids))}>")

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """A user deletes a message for everyone (bots get no update for that, as on Telegram)."""
        self.message(chat_id, message_id).deleted = True
        self.notify_changed()

    def callback_answer(self, query_id: str) -> AnsweredCallback | None:
        sent = self._callbacks.get(query_id)
        return None if sent is None else sent.answer

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        self._users[user_id].blocked_bot = blocked

    # ---- HTTP ------------------------------------------------------------------------------------

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return error_response(ApiError(404, "Not Found"))

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        handler = self._methods.get(method.lower())
        if handler is None:
            return error_response(ApiError(404, "Not Found"))
        try:
            params = await read_params(request)
        except ApiError as error:
            self.calls.append(ApiCall(method, {}, error.description))
            return error_response(error)
        logger.debug("bot -> emulator: %s", method)
        try:
            injected = self._injected.get(method.lower())
            if injected:
                raise injected.pop(0)
            result = await handler(params)
        except ApiError as error:
            self.calls.append(ApiCall(method, params.loggable(), error.description))
            return error_response(error)
        self.calls.append(ApiCall(method, params.loggable()))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")
