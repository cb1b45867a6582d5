"""Albums: a post that is one message of an album is forwarded as the whole album, in one request.

Telegram groups an album's messages by ``grouped_id`` (2 to 10 of them, consecutive ids in their
chat). Forwarding one id of it forwards one item only, so the engine reads the post once per session
(``AccountPort.read_post``: which ids share its ``grouped_id``), keeps the answer for the session's life
(``Account.albums``) and forwards every id in one ``messages.forwardMessages``, with one random_id per
message. Those random ids derive from the send's own (``album_random_ids``): a retry after a lost answer
repeats all of them, and Telegram drops the copy, as for a single message.
"""

from __future__ import annotations

import hashlib
from typing import Any

from telethon import errors, functions, types

from core.ports import EXCERPT_CHARS, PostInfo

__all__ = ["ALBUM_SPAN", "album_random_ids", "media_kind", "read_post"]

ALBUM_SPAN = 9
"""An album holds at most 10 messages: its ids lie within 9 of any one of them."""


def album_random_ids(random_id: int, count: int) -> list[int]:
    """``count`` distinct non-zero signed 64-bit random ids, the first ``random_id`` itself (the one the
    ledger keeps and the answer's UpdateMessageID names), the others derived from it alone."""
    ids = [random_id]
    index = 0
    while len(ids) < count:
        index += 1
        digest = hashlib.sha256(f"adbot-album-v1:{random_id}:{index}".encode()).digest()
        value = int.from_bytes(digest[:8], "big", signed=True)
        if value != 0 and value not in ids:
            ids.append(value)
    return ids


async def read_post(client: Any, source: Any, msg_id: int) -> PostInfo:
    """One ``channels.getMessages`` (``messages.getMessages`` for a basic group) of the post and the ids
    around it, through a connected Telethon client; ``source`` is the source's InputPeer. Says which ids
    a forward carries (the album's in order, or the post alone), whether the chat or the message forbids
    forwarding (``noforwards``, from the answer's chat and message), each item's media and the start of
    the text. A post that is gone (messageEmpty, or missing from the answer) raises
    MessageIdInvalidError, as forwarding it would."""
    ids = [types.InputMessageID(i) for i in range(max(1, msg_id - ALBUM_SPAN), msg_id + ALBUM_SPAN + 1)]
    request: Any
    if isinstance(source, types.InputPeerChannel):
        request = functions.channels.GetMessagesRequest(
            channel=types.InputChannel(source.channel_id, source.access_hash), id=ids
        )
    else:
        request = functions.messages.GetMessagesRequest(id=ids)
    result = await client(request)
    messages = [m for m in getattr(result, "messages", None) or [] if isinstance(m, types.Message)]
    post = next((m for m in messages if m.id == msg_id), None)
    if post is None:
        raise errors.MessageIdInvalidError(request=request)
    album = [post] if post.grouped_id is None else sorted(
        (m for m in messages if m.grouped_id == post.grouped_id), key=lambda m: m.id
    )
    chat_id = getattr(post.peer_id, "channel_id", None) or getattr(post.peer_id, "chat_id", None)
    chat_noforwards = any(
        getattr(chat, "noforwards", False) for chat in getattr(result, "chats", None) or [] if chat.id == chat_id
    )
    text = next((m.message for m in album if m.message), "") or ""
    return PostInfo(
        msg_id=msg_id,
        ids=tuple(m.id for m in album),
        grouped_id=post.grouped_id,
        noforwards=chat_noforwards or any(bool(m.noforwards) for m in album),
        media=tuple(media_kind(m.media) for m in album),
        excerpt=text[:EXCERPT_CHARS],
    )


def media_kind(media: Any) -> str:
    """A message's media as the Bot API names it: 'photo', 'video', 'animation', 'document'; '' for none
    (a link preview is no media of the post's own); 'other' for a poll, a location, a sticker..."""
    if media is None or isinstance(media, types.MessageMediaEmpty | types.MessageMediaWebPage):
        return ""
    if isinstance(media, types.MessageMediaPhoto):
        return "photo"
    if isinstance(media, types.MessageMediaDocument) and isinstance(media.document, types.Document):
        attributes = media.document.attributes
        if any(isinstance(a, types.DocumentAttributeSticker | types.DocumentAttributeAudio) for a in attributes):
            return "other"
        if any(isinstance(a, types.DocumentAttributeAnimated) for a in attributes):
            return "animation"
        if any(isinstance(a, types.DocumentAttributeVideo) and not a.round_message for a in attributes):
            return "video"
        return "document"
    return "other"
