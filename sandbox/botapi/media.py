"""Media in the Bot API emulator: what people send a bot (photos, videos, documents, animations, albums,
formatted text, messages forwarded from a channel) and the methods that send media back (sendVideo,
sendAnimation, sendMediaGroup, copyMessage, forwardMessage), checked as the real server checks them.

* A user's album arrives as one message per item sharing a ``media_group_id``, each its own update (the
  caption on the item that has it): a bot sees them one by one, as from Telegram.
* A message forwarded by a user carries ``forward_origin``: ``channel`` (chat + message_id: the post
  itself), ``chat`` (an anonymous group admin: no message id), ``user``, or ``hidden_user`` (a user
  whose privacy hides them: a name only). A forwarded album is one message per item with a new
  ``media_group_id``, each item's origin naming its own post.
* Lengths (captions, texts) are counted in UTF-16 units, as Telegram counts them; a Premium user's
  client sends captions up to 2,048.
* The text of a user's message may carry formatting entities (bold, links...), offsets in UTF-16 units.
* sendMediaGroup takes 2..10 InputMedia (photo/video mixed, documents only with documents), files by
  file_id or ``attach://`` upload, one caption per item, and answers the array of messages.
* copyMessage copies a message the bot can see (a user's message in a chat with the bot, or its own)
  without the "Forwarded from" header (caption replaceable) and answers only ``{message_id}``;
  forwardMessage keeps the header (``forward_origin``). A chat the bot is not in (a customer's channel)
  is "chat not found", as for the real bot.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from sandbox.botapi.html import FormattedText, utf16_len
from sandbox.botapi.messages import MessageMethods
from sandbox.botapi.models import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    FileKind,
    JsonDict,
    MessageView,
    StoredFile,
    StoredMessage,
)
from sandbox.botapi.protocol import Params, bad_request

__all__ = ["MediaMethods", "channel_origin"]

MAX_GROUP = 10
_INPUT_MEDIA_KINDS: dict[str, FileKind] = {"photo": "photo", "video": "video", "document": "document"}


def channel_origin(chat_id: int, message_id: int, *, title: str = "Channel", username: str | None = None) -> JsonDict:
    """The ``forward_origin`` of a channel post (MessageOriginChannel)."""
    chat: JsonDict = {"id": chat_id, "type": "channel", "title": title}
    if username:
        chat["username"] = username
    return {"type": "channel", "date": int(time.time()) - 60, "chat": chat, "message_id": message_id}


class MediaMethods(MessageMethods):
    """Handlers of sendVideo, sendAnimation, sendMediaGroup, copyMessage, forwardMessage, and the user
    actions that send media, albums, formatted text and forwards."""

    # ---- Bot API methods -------------------------------------------------------------------------

    async def _send_video(self, params: Params) -> JsonDict:
        return self._send_file(params, "video")

    async def _send_animation(self, params: Params) -> JsonDict:
        return self._send_file(params, "animation")

    async def _send_media_group(self, params: Params) -> list[JsonDict]:
        chat = self._target_chat(params)
        media = params.get_json("media", "can't parse media JSON object")
        if not isinstance(media, list):
            raise bad_request("can't parse media JSON object")
        if not 2 <= len(media) <= MAX_GROUP:
            raise bad_request("wrong number of media specified: must be between 2 and 10")
        kinds = [self._group_kind(item) for item in media]
        if "document" in kinds and set(kinds) != {"document"}:
            raise bad_request("documents can't be mixed with other media types")
        reply_to = self._reply_to(params, chat)
        prepared: list[tuple[StoredFile, FormattedText, JsonDict]] = []
        for item, kind in zip(media, kinds, strict=True):
            stored_file = self._group_file(params, item, kind)
            raw = item.get("caption")
            formatted = self._format(_ItemParams(item), raw, "caption_entities") if raw else FormattedText("")
            if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
            prepared.append((stored_file, formatted, item))
        group_id = str(secrets.randbits(62))
        answers: list[JsonDict] = []
        for stored_file, formatted, item in prepared:
            stored = self._new_message(
                chat, self.bot_id, from_bot=True, text=formatted.text or None, html=item.get("caption"),
                parse_mode=item.get("parse_mode") if item.get("caption") else None,
                entities=list(formatted.entities), file=stored_file,
            )
            stored.media_group_id = group_id
            stored.reply_to_message_id = reply_to
            self._bot_changed("new", stored)
            answers.append(self._message_json(stored))
        return answers

    async def _copy_message(self, params: Params) -> JsonDict:
        source = self._source_message(params, "copy")
        chat = self._target_chat(params)
        text, html, parse_mode, entities = source.text, source.html, source.parse_mode, list(source.entities)
        if source.file is not None and params.get_str("caption") is not None:
            raw = params.get_str("caption") or ""
            formatted = self._format(params, raw, "caption_entities") if raw else FormattedText("")
            if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
            text, html, parse_mode, entities = formatted.text or None, raw, params.get_str("parse_mode"), list(
                formatted.entities
            )
        stored = self._new_message(
            chat, self.bot_id, from_bot=True, text=text, html=html, parse_mode=parse_mode, entities=entities,
            file=source.file,
        )
        stored.reply_markup = self._reply_markup(params)
        stored.reply_to_message_id = self._reply_to(params, chat)
        self._bot_changed("new", stored)
        return {"message_id": stored.message_id}

    async def _forward_message(self, params: Params) -> JsonDict:
        source = self._source_message(params, "forward")
        chat = self._target_chat(params)
        stored = self._new_message(
            chat, self.bot_id, from_bot=True, text=source.text, html=source.html, parse_mode=source.parse_mode,
            entities=list(source.entities), file=source.file,
        )
        stored.forward_origin = source.forward_origin or self._origin_of(source)
        self._bot_changed("new", stored)
        return self._message_json(stored)

    # ---- user actions (test controls) ------------------------------------------------------------

    def upload_user_media(
        self,
        user_id: int,
        kind: FileKind,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
        duration: int = 0,
    ) -> StoredFile:
        stored = self._store_file(kind, file_name, data, mime_type, uploaded_by=user_id)
        if kind in ("video", "animation"):
            stored.mime_type = mime_type or "video/mp4"
            stored.width, stored.height, stored.duration = width or 640, height or 360, duration or 5
        return stored

    def user_posts(
        self,
        user_id: int,
        chat_id: int,
        *,
        text: str | None = None,
        entities: list[JsonDict] | None = None,
        file: StoredFile | None = None,
        media_group_id: str | None = None,
        forward_origin: JsonDict | None = None,
    ) -> MessageView:
        """A user's message with what ``user_sends`` has not: formatting entities, any media kind, an album
        item, a forward's origin. Queues the update and returns the message."""
        user = self._users[user_id]
        chat = self._private_chat(user) if chat_id == user_id else self._chats[chat_id]
        if chat.type == "private":
            user.blocked_bot = False
        if file is None and not text:
            raise ValueError("a text message needs text")
        limit = user.caption_limit() if file is not None else MAX_TEXT_LENGTH
        if text is not None and utf16_len(text) > limit:
            raise ValueError(f"Telegram clients do not send texts over {limit} characters in one message")
        checked = _checked_entities(text or "", entities or [])
        stored = self._new_message(
            chat, user.id, from_bot=False, text=text, html=text, parse_mode=None, entities=checked, file=file
        )
        stored.media_group_id = media_group_id
        stored.forward_origin = forward_origin
        self._queue_update("message", self._message_json(stored))
        self._record(
            chat.id, user.first_name, "user_document" if file is not None else "user_message", text or "",
            message_id=stored.message_id, file=file,
        )
        return stored.view()

    def user_sends_album(
        self, user_id: int, chat_id: int, files: list[StoredFile], *, caption: str | None = None,
        caption_entities: list[JsonDict] | None = None,
    ) -> list[MessageView]:
        """An album as a Telegram client sends it: one message per item, one ``media_group_id``, the
        caption on the first item."""
        if not 2 <= len(files) <= MAX_GROUP:
            raise ValueError("an album has 2 to 10 items")
        group_id = str(secrets.randbits(62))
        return [
            self.user_posts(
                user_id, chat_id, file=file, media_group_id=group_id,
                text=caption if index == 0 else None, entities=caption_entities if index == 0 else None,
            )
            for index, file in enumerate(files)
        ]

    def user_forwards_album(
        self, user_id: int, chat_id: int, files: list[StoredFile], origins: list[JsonDict], *,
        caption: str | None = None, caption_entities: list[JsonDict] | None = None,
    ) -> list[MessageView]:
        """A channel's album forwarded as a Telegram client forwards it: one message per item, sharing a new
        ``media_group_id``, each with the ``forward_origin`` of its own post (``origins[i]``, one per
        file); the caption on the item that carried it (the first here)."""
        if not 2 <= len(files) <= MAX_GROUP:
            raise ValueError("an album has 2 to 10 items")
        if len(origins) != len(files):
            raise ValueError("each forwarded item has its own origin")
        group_id = str(secrets.randbits(62))
        return [
            self.user_posts(
                user_id, chat_id, file=file, media_group_id=group_id, forward_origin=origin,
                text=caption if index == 0 else None, entities=caption_entities if index == 0 else None,
            )
            for index, (file, origin) in enumerate(zip(files, origins, strict=True))
        ]

    # ---- helpers ---------------------------------------------------------------------------------

    def _group_kind(self, item: Any) -> FileKind:
        if not isinstance(item, dict) or item.get("type") not in _INPUT_MEDIA_KINDS:
            raise bad_request("can't parse InputMedia: unsupported media type")
        return _INPUT_MEDIA_KINDS[item["type"]]

    def _group_file(self, params: Params, item: JsonDict, kind: FileKind) -> StoredFile:
        value = item.get("media")
        if not isinstance(value, str) or not value:
            raise bad_request("there is no media in the request")
        if value.startswith("attach://"):
            upload = params.uploads.get(value.removeprefix("attach://"))
            if upload is None or not upload.data:
                raise bad_request("wrong file identifier/HTTP URL specified")
            mime = upload.content_type if upload.content_type not in (None, "application/octet-stream") else None
            return self._store_file(kind, upload.filename, upload.data, mime, uploaded_by=self.bot_id)
        existing = self._files.get(value)
        if existing is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if existing.kind != kind and not (existing.kind == "animation" and kind == "video"):
            raise bad_request(f"can't use file of type {existing.kind.title()} as {kind.title()}")
        return existing

    def _source_message(self, params: Params, verb: str) -> StoredMessage:
        raw = params.get_str("from_chat_id")
        if not raw:
            raise bad_request("chat_id is empty")
        try:
            chat = self._chats.get(int(raw))
        except ValueError:
            chat = None  # '@channel': the bot is in no channel here
        if chat is None:
            raise bad_request("chat not found")
        message_id = params.get_int("message_id")
        stored = self._messages[chat.id].get(message_id) if message_id is not None else None
        if stored is None or stored.deleted:
            raise bad_request(f"message to {verb} not found")
        return stored

    def _origin_of(self, stored: StoredMessage) -> JsonDict:
        if stored.from_bot:
            return {"type": "user", "date": stored.date, "sender_user": self._bot_json()}
        return {"type": "user", "date": stored.date, "sender_user": self._users[stored.sender_id].to_json()}


class _ItemParams(Params):
    """One InputMedia of sendMediaGroup read like request parameters (its caption fields)."""

    def __init__(self, item: JsonDict) -> None:
        super().__init__(dict(item), {})


def _checked_entities(text: str, entities: list[JsonDict]) -> list[JsonDict]:
    limit = utf16_len(text)
    for entity in entities:
        offset, length = entity.get("offset"), entity.get("length")
        if not (isinstance(entity.get("type"), str) and isinstance(offset, int) and isinstance(length, int)
                and offset >= 0 and length > 0 and offset + length <= limit):
            raise ValueError(f"an entity a Telegram client would not send: {entity!r}")
    return [dict(e) for e in entities]
