"""A post's formatting on Telethon's side: Bot API MessageEntity dicts as MTProto MessageEntity objects."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from telethon import types

from core.ports import EntityDict

logger = logging.getLogger(__name__)

__all__ = ["entities_to_tl"]


_SIMPLE_ENTITIES: Mapping[str, Any] = {
    "bold": types.MessageEntityBold,
    "italic": types.MessageEntityItalic,
    "underline": types.MessageEntityUnderline,
    "strikethrough": types.MessageEntityStrike,
    "spoiler": types.MessageEntitySpoiler,
    "code": types.MessageEntityCode,
    "url": types.MessageEntityUrl,
    "mention": types.MessageEntityMention,
    "hashtag": types.MessageEntityHashtag,
    "cashtag": types.MessageEntityCashtag,
    "bot_command": types.MessageEntityBotCommand,
    "email": types.MessageEntityEmail,
    "phone_number": types.MessageEntityPhone,
    "bank_card": types.MessageEntityBankCard,
    "blockquote": types.MessageEntityBlockquote,
}


def entities_to_tl(entities: Sequence[EntityDict], input_user: Callable[[int], Any] | None = None) -> list[Any]:
    """Bot API MessageEntity dicts -> MTProto MessageEntity objects (offsets are UTF-16 in both).

    ``input_user(user_id)`` returns an ``InputUser`` for a text_mention, or None when the user's
    access hash is unknown; such a mention (and any malformed or unknown entity) is left out rather
    than failing the whole post: the text is sent either way.
    """
    converted: list[Any] = []
    for entity in entities:
        try:
            tl_entity = _entity_to_tl(entity, input_user)
        except (KeyError, TypeError, ValueError):
            tl_entity = None
        if tl_entity is None:
            logger.warning("left out a %r entity that cannot be sent as MTProto", _entity_type(entity))
            continue
        converted.append(tl_entity)
    return converted


def _entity_type(entity: EntityDict) -> str:
    kind = entity.get("type") if isinstance(entity, Mapping) else None
    return kind[:32] if isinstance(kind, str) else "?"


def _entity_to_tl(entity: EntityDict, input_user: Callable[[int], Any] | None) -> Any:
    kind = entity["type"]
    offset, length = _whole(entity["offset"]), _whole(entity["length"])
    if offset < 0 or length <= 0:
        return None
    simple = _SIMPLE_ENTITIES.get(kind)
    if simple is not None:
        return simple(offset, length)
    if kind == "expandable_blockquote":
        return types.MessageEntityBlockquote(offset, length, collapsed=True)
    if kind == "pre":
        language = entity.get("language") or ""
        return types.MessageEntityPre(offset, length, language if isinstance(language, str) else "")
    if kind == "text_link":
        url = entity["url"]
        return types.MessageEntityTextUrl(offset, length, url) if isinstance(url, str) and url else None
    if kind == "custom_emoji":
        return types.MessageEntityCustomEmoji(offset, length, int(str(entity["custom_emoji_id"])))
    if kind == "text_mention" and input_user is not None:
        user = input_user(_whole(entity["user"]["id"]))
        return None if user is None else types.InputMessageEntityMentionName(offset, length, user)
    return None


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not a whole number")
    return value
