"""The Bot API methods that send, edit and delete messages, and their checks of what the bot sends
(text and caption limits, parse mode and entities, keyboards, replies, files)."""

from __future__ import annotations

import time
from typing import Any

from sandbox.botapi.html import FormattedText, HtmlParseError, parse_html, utf16_len
from sandbox.botapi.models import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    FileKind,
    JsonDict,
    SandboxChat,
    StoredFile,
    StoredMessage,
)
from sandbox.botapi.protocol import Params, bad_request
from sandbox.botapi.state import EmulatorState

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
_REPLY_BUTTON_ACTIONS = (
    "request_users",
    "request_chat",
    "request_contact",
    "request_location",
    "request_poll",
    "web_app",
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class MessageMethods(EmulatorState):
    """Handlers of sendMessage, sendDocument, sendPhoto, editMessageText/Caption/ReplyMarkup and
    deleteMessage."""

    async def _send_message(self, params: Params) -> JsonDict:
        chat = self._target_chat(params)
        raw = params.get_str("text")
        if not raw:
            raise bad_request("message text is empty")
        formatted = self._format(params, raw, "entities")
        if not formatted.text.strip():
            raise bad_request("message text is empty")
        if utf16_len(formatted.text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        markup = self._reply_markup(params)
        self._check_keyboard_chat(chat, markup)
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
        options = params.get_json("link_preview_options", "can't parse link preview options") or {}
        stored.link_preview = not (isinstance(options, dict) and options.get("is_disabled") is True)
        self._keyboard_shown(chat, markup)
        self._bot_changed("new", stored)
        return self._message_json(stored)

    async def _send_document(self, params: Params) -> JsonDict:
        return self._send_file(params, "document")

    async def _send_photo(self, params: Params) -> JsonDict:
        return self._send_file(params, "photo")

    def _send_file(self, params: Params, kind: FileKind) -> JsonDict:
        chat = self._target_chat(params)
        stored_file = self._input_file(params, kind)
        raw = params.get_str("caption")
        formatted = self._format(params, raw, "caption_entities") if raw else FormattedText("")
        if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        markup = self._reply_markup(params)
        self._check_keyboard_chat(chat, markup)
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
        self._keyboard_shown(chat, markup)
        self._bot_changed("new", stored)
        return self._message_json(stored)

    async def _edit_message_text(self, params: Params) -> JsonDict:
        stored = self._message_to_edit(params)
        if stored.file is not None:
            raise bad_request("there is no text in the message to edit")
        raw = params.get_str("text")
        if not raw:
            raise bad_request("text must be non-empty")
        formatted = self._format(params, raw, "entities")
        if not formatted.text.strip():
            raise bad_request("message text is empty")
        if utf16_len(formatted.text) > MAX_TEXT_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        # As on Telegram: an edit without reply_markup removes the inline keyboard.
        markup = self._reply_markup(params, inline_only=True)
        self._apply_edit(stored, formatted, raw, params.get_str("parse_mode"), markup)
        return self._message_json(stored)

    async def _edit_message_caption(self, params: Params) -> JsonDict:
        stored = self._message_to_edit(params)
        if stored.file is None:
            raise bad_request("there is no caption in the message to edit")
        raw = params.get_str("caption") or ""
        formatted = self._format(params, raw, "caption_entities") if raw else FormattedText("")
        if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        markup = self._reply_markup(params, inline_only=True)
        self._apply_edit(stored, formatted, raw, params.get_str("parse_mode"), markup)
        return self._message_json(stored)

    async def _edit_message_reply_markup(self, params: Params) -> JsonDict:
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
            raise bad_request(_NOT_MODIFIED)
        stored.edits.append(stored.view(edited=bool(stored.edits)))
        stored.text = formatted.text or None
        stored.html = raw
        stored.parse_mode = parse_mode
        stored.entities = list(formatted.entities)
        stored.reply_markup = markup
        stored.edit_date = int(time.time())
        self._bot_changed("edit", stored)

    def _message_to_edit(self, params: Params) -> StoredMessage:
        if params.get_str("inline_message_id"):
            raise bad_request("the sandbox emulator does not implement inline messages")
        chat = self._target_chat(params, for_sending=False)
        message_id = params.get_int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._messages[chat.id].get(message_id)
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return stored

    async def _delete_message(self, params: Params) -> bool:
        chat = self._target_chat(params, for_sending=False)
        message_id = params.get_int("message_id")
        stored = self._messages[chat.id].get(message_id) if message_id is not None else None
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        stored.deleted = True
        self._bot_changed("delete", stored)
        return True

    # ---- checks of what the bot sends ------------------------------------------------------------

    def _format(self, params: Params, raw: str, entities_field: str) -> FormattedText:
        mode = (params.get_str("parse_mode") or "").lower()
        if mode:
            if mode == "html":
                try:
                    return parse_html(raw)
                except HtmlParseError as error:
                    raise bad_request(f"can't parse entities: {error}") from None
            if mode in {"markdown", "markdownv2"}:
                raise bad_request("the sandbox emulator implements only parse_mode HTML")
            raise bad_request("unsupported parse_mode")
        entities = params.get_json(entities_field, "can't parse entities JSON object")
        if entities is None:
            return FormattedText(raw)
        limit = utf16_len(raw)
        if not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        for entity in entities:
            if not (
                isinstance(entity, dict)
                and isinstance(entity.get("type"), str)
                and isinstance(entity.get("offset"), int)
                and isinstance(entity.get("length"), int)
                and 0 <= entity["offset"] <= entity["offset"] + entity["length"] <= limit
            ):
                raise bad_request(f"can't parse entities: invalid entity {entity!r}")
        return FormattedText(raw, tuple(entities))

    def _reply_markup(self, params: Params, *, inline_only: bool = False) -> JsonDict | None:
        markup = params.get_json("reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
            return markup
        if inline_only:
            raise bad_request("inline keyboard expected")
        if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "keyboard" in markup:
            self._check_reply_keyboard(markup["keyboard"])
        return markup

    def _check_keyboard_chat(self, chat: SandboxChat, markup: JsonDict | None) -> None:
        if markup is not None and chat.type != "private" and self._has_request_buttons(markup):
            raise bad_request("keyboard buttons requesting users or chats are allowed only in private chats")

    @staticmethod
    def _keyboard_shown(chat: SandboxChat, markup: JsonDict | None) -> None:
        """A reply keyboard stays under the chat's input field until another one or a removal comes."""
        if markup is None:
            return
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    @staticmethod
    def _has_request_buttons(markup: JsonDict) -> bool:
        return any(
            isinstance(b, dict) and ("request_chat" in b or "request_users" in b)
            for row in markup.get("keyboard", [])
            for b in row
        )

    @staticmethod
    def _check_reply_keyboard(rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('can\'t parse keyboard button: field "keyboard" must be an Array')
        for row in rows:
            for button in row:
                if isinstance(button, str):
                    button = {"text": button}
                if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
                    raise bad_request("can't parse keyboard button: Text must be a String")
                actions = [a for a in _REPLY_BUTTON_ACTIONS if a in button]
                if len(actions) > 1:
                    raise bad_request("can't parse keyboard button: only one of the optional fields can be used")
                if "request_users" in button:
                    request = button["request_users"]
                    if not isinstance(request, dict) or not _is_int32(request.get("request_id")):
                        raise bad_request(
                            "can't parse KeyboardButtonRequestUsers: field \"request_id\" must be a Number"
                        )
                    quantity = request.get("max_quantity", 1)
                    if not isinstance(quantity, int) or not 1 <= quantity <= 10:
                        raise bad_request("REQUEST_PEER_INVALID")
                if "request_chat" in button:
                    request = button["request_chat"]
                    if not isinstance(request, dict) or not _is_int32(request.get("request_id")):
                        raise bad_request(
                            "can't parse KeyboardButtonRequestChat: field \"request_id\" must be a Number"
                        )
                    if not isinstance(request.get("chat_is_channel"), bool):
                        raise bad_request(
                            "can't parse KeyboardButtonRequestChat: field \"chat_is_channel\" must be a Boolean"
                        )

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button: Text must be a String")
                if not button["text"]:
                    raise bad_request("BUTTON_TEXT_INVALID")
                actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
                if len(actions) != 1:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = button["url"]
                    if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
                        raise bad_request("BUTTON_URL_INVALID")

    def _reply_to(self, params: Params, chat: SandboxChat) -> int | None:
        reply = params.get_json("reply_parameters", "can't parse reply parameters JSON object")
        allow_missing = params.get_bool("allow_sending_without_reply")
        message_id: Any = params.get_int("reply_to_message_id")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
            if reply.get("chat_id") not in (None, chat.id, str(chat.id)):
                raise bad_request("the sandbox emulator does not implement replies to other chats")
        elif reply is not None:
            raise bad_request("can't parse reply parameters JSON object")
        if message_id is None:
            return None
        target = self._messages[chat.id].get(int(message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return target.message_id

    def _input_file(self, params: Params, kind: FileKind) -> StoredFile:
        upload = params.uploads.get(kind)
        value = params.get_str(kind)
        if upload is None and value is not None and value.startswith("attach://"):
            upload = params.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = None
            return self._store_file(kind, upload.filename, upload.data, mime, uploaded_by=self.bot_id)
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")  # offline by design
        existing = self._files.get(value)
        if existing is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if existing.kind != kind:
            raise bad_request(f"can't use file of type {existing.kind.title()} as {kind.title()}")
        return existing


def _is_int32(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
