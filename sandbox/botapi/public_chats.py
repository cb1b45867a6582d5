"""Public chats the bot is not in: what ``getChat("@username")`` answers for them.

On Telegram a bot may ask ``getChat`` about any public group or channel by its username, member or not
(by numeric id only about chats it is in). Tests register such chats with ``public_chat``; a username
nobody registered answers "chat not found", as the real server does for a name no chat holds (and for
people's usernames, which the Bot API does not resolve).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

from sandbox.botapi.methods import BotMethods
from sandbox.botapi.models import JsonDict
from sandbox.botapi.protocol import Params, bad_request

PublicChatType = Literal["group", "supergroup", "channel"]

# What every ChatFullInfo carries (aiogram requires these fields of a getChat answer).
_FULL_INFO: JsonDict = {
    "accent_color_id": 0,
    "max_reaction_count": 11,
    "accepted_gift_types": {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    },
}

# Ids the emulator gives public chats registered without one (supergroups and channels: '-100…').
_FIRST_PUBLIC_ID = -1002000000001


@dataclass
class PublicChat:
    id: int
    username: str
    type: PublicChatType
    title: str
    is_forum: bool = False

    def to_json(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "type": self.type, "title": self.title, "username": self.username}
        if self.is_forum:
            data["is_forum"] = True
        return data


class PublicChats(BotMethods):
    """The registry of public chats and ``getChat`` by ``@username``."""

    def __init__(self, bot_id: int, bot_username: str, bot_name: str) -> None:
        super().__init__(bot_id, bot_username, bot_name)
        self._public_chats: dict[str, PublicChat] = {}

    def public_chat(
        self,
        username: str,
        *,
        title: str | None = None,
        chat_type: PublicChatType = "supergroup",
        is_forum: bool = False,
        chat_id: int | None = None,
    ) -> PublicChat:
        """Register (or replace) a public chat; usernames are case-insensitive, as on Telegram."""
        name = username.removeprefix("@")
        if not name:
            raise ValueError("a public chat has a username")
        if is_forum and chat_type != "supergroup":
            raise ValueError("only supergroups are forums")
        if chat_id is None:
            chat_id = _FIRST_PUBLIC_ID - len(self._public_chats)
        if chat_id >= 0:
            raise ValueError("chat ids are negative")
        chat = PublicChat(chat_id, name, chat_type, title or name, is_forum)
        self._public_chats[name.lower()] = chat
        return chat

    async def _get_chat(self, params: Params) -> JsonDict:
        raw = params.get_str("chat_id") or ""
        if raw.startswith("@"):
            name = raw[1:].lower()
            chat = self._public_chats.get(name)
            if chat is not None:
                return {**copy.deepcopy(_FULL_INFO), **chat.to_json()}
            # A group the emulator holds (the bot is in it, or users share it) that has a username.
            for known in self._chats.values():
                if known.user is None and known.username and known.username.lower() == name:
                    return {**copy.deepcopy(_FULL_INFO), **known.to_json()}
            raise bad_request("chat not found")
        return {**copy.deepcopy(_FULL_INFO), **await super()._get_chat(params)}
