"""``core.destinations.ChatLookup`` over the control bot's own Bot API: ``getChat`` for a group being added.

The bot asks, not a session: a session's ``contacts.resolveUsername`` spends the account's flood budget
(many resolves have led to hours-long limits), while the Bot API answers ``getChat("@name")`` for
any public group or channel. Whatever goes wrong (the name is no chat, the chat is private and the bot
not in it, a 429, the network) is "Telegram did not say": the group is kept and checked later.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import AiogramError

from core.destinations import ChatFacts, kind_of_chat

logger = logging.getLogger(__name__)

__all__ = ["BotChatLookup"]

# A check must not hold the customer's answer up for long (a 429 is waited out by FloodControl).
_TIMEOUT = 10.0


class BotChatLookup:
    """Asks the Bot API what a chat is (``getChat``), by '@name' or by marked id."""

    def __init__(self, bot: Bot, timeout: float = _TIMEOUT) -> None:
        self._bot = bot
        self._timeout = timeout

    async def __call__(self, peer: str) -> ChatFacts | None:
        chat_id: int | str
        if peer.startswith("@"):
            chat_id = peer
        else:
            try:
                chat_id = int(peer)
            except ValueError:
                return None
        try:
            async with asyncio.timeout(self._timeout):
                chat = await self._bot.get_chat(chat_id)
        except (AiogramError, TimeoutError, OSError) as exc:
            # "chat not found" is the usual answer: a name no public chat holds, or a private chat.
            logger.debug("getChat %s: %s", peer, exc)
            return None
        return ChatFacts(chat.id, kind_of_chat(chat.type, bool(chat.is_forum)), chat.title, chat.username)
