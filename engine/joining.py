"""Joining a chat and previewing an invite with Telethon: the requests behind ``TelethonAccount.join`` and
``TelethonAccount.check_invite``.

* '@name': ``contacts.resolveUsername`` first. Its chat carries this account's ``left`` flag, so an
  account that is already a member is told so without any join request; a user or bot is no chat to
  join. Then ``channels.joinChannel`` with the chat's id and this account's access hash.
* an invite hash: ``messages.importChatInvite``. When Telegram says the account is a participant
  already, one ``messages.checkChatInvite`` fetches the chat (ChatInviteAlready) so it can be recorded.
* ``messages.checkChatInvite`` previews an invite without joining: title, channel or group, whether the
  chat's admins approve joins, whether this account is in it.

Answers that are part of joining become a ``JoinResult`` (already a member, a join request sent for
approval, too many channels, an invite or name that leads nowhere); everything else is raised as Telethon
raised it (a FloodWait included), for the caller to classify and persist. Nothing else is ever tried:
a request that needs approval is left to the chat's admins.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from telethon import errors, functions, types

from core.ports import Dialog, InvitePreview, JoinResult
from engine.dialogs import dialog_of

logger = logging.getLogger(__name__)

__all__ = ["check_invite", "join"]

_INVALID_INVITE: dict[type[Exception], str] = {
    errors.InviteHashExpiredError: "INVITE_HASH_EXPIRED",
    errors.InviteHashInvalidError: "INVITE_HASH_INVALID",
    errors.InviteHashEmptyError: "INVITE_HASH_EMPTY",
}
_INVALID_NAME: dict[type[Exception], str] = {
    errors.UsernameNotOccupiedError: "USERNAME_NOT_OCCUPIED",
    errors.UsernameInvalidError: "USERNAME_INVALID",
}
NOT_A_CHAT = "NOT_A_CHAT"  # the username is a user's or a bot's


async def join(client: Any, target: str) -> JoinResult:
    """Join '@name' or the chat of an invite ('+<hash>' or the bare hash)."""
    if target.startswith("@"):
        return await _join_public(client, target[1:].lower())
    return await _join_invite(client, target.removeprefix("+"))


async def check_invite(client: Any, invite_hash: str) -> InvitePreview:
    """What the invite leads to, without joining."""
    try:
        answer = await client(functions.messages.CheckChatInviteRequest(hash=invite_hash.removeprefix("+")))
    except tuple(_INVALID_INVITE) as exc:
        return InvitePreview(invalid=_INVALID_INVITE[type(exc)])
    if isinstance(answer, types.ChatInviteAlready | types.ChatInvitePeek):
        chat = answer.chat
        member = isinstance(answer, types.ChatInviteAlready)
        return InvitePreview(
            title=getattr(chat, "title", "") or "",
            broadcast=bool(getattr(chat, "broadcast", False)),
            already_member=member,
            participants=int(getattr(chat, "participants_count", 0) or 0),
            dialog=dialog_of(chat) if member else None,
        )
    return InvitePreview(
        title=answer.title or "",
        broadcast=bool(answer.broadcast),
        request_needed=bool(answer.request_needed),
        participants=int(answer.participants_count or 0),
    )


async def _join_public(client: Any, name: str) -> JoinResult:
    try:
        resolved = await client(functions.contacts.ResolveUsernameRequest(username=name))
    except tuple(_INVALID_NAME) as exc:
        return JoinResult("invalid", error=_INVALID_NAME[type(exc)])
    chat = _resolved_channel(resolved)
    if chat is None:
        return JoinResult("invalid", error=NOT_A_CHAT)
    if not chat.left:
        return JoinResult("already", dialog_of(chat))
    try:
        answer = await client(functions.channels.JoinChannelRequest(types.InputChannel(chat.id, chat.access_hash)))
    except errors.UserAlreadyParticipantError:
        return JoinResult("already", _as_member(chat), "USER_ALREADY_PARTICIPANT")
    except errors.InviteRequestSentError:
        return JoinResult("pending", error="INVITE_REQUEST_SENT")
    except errors.ChannelsTooMuchError:
        return JoinResult("too_many", error="CHANNELS_TOO_MUCH")
    joined = _chat_in(answer, chat.id)
    return JoinResult("joined", dialog_of(joined) if joined is not None else _as_member(chat))


async def _join_invite(client: Any, invite_hash: str) -> JoinResult:
    try:
        answer = await client(functions.messages.ImportChatInviteRequest(hash=invite_hash))
    except errors.UserAlreadyParticipantError:
        return JoinResult("already", await _member_chat(client, invite_hash), "USER_ALREADY_PARTICIPANT")
    except errors.InviteRequestSentError:
        return JoinResult("pending", error="INVITE_REQUEST_SENT")
    except errors.ChannelsTooMuchError:
        return JoinResult("too_many", error="CHANNELS_TOO_MUCH")
    except tuple(_INVALID_INVITE) as exc:
        return JoinResult("invalid", error=_INVALID_INVITE[type(exc)])
    joined = _chat_in(answer, None)
    return JoinResult("joined", dialog_of(joined) if joined is not None else None)


async def _member_chat(client: Any, invite_hash: str) -> Dialog | None:
    """The chat of an invite whose chat the account is in (to record it); None when that fails: the
    join's answer is known either way, and the session's next dialogs scan finds the chat."""
    try:
        preview = await check_invite(client, invite_hash)
    except Exception as exc:  # a wait on the preview must not pass for the join's own
        logger.info("the chat of an invite the account is in was not fetched: %s", type(exc).__name__)
        return None
    return preview.dialog


def _resolved_channel(resolved: Any) -> Any:
    """The channel or supergroup a username resolved to, with a usable access hash; None for a user."""
    peer = resolved.peer
    if not isinstance(peer, types.PeerChannel):
        return None
    for chat in resolved.chats:
        if isinstance(chat, types.Channel) and chat.id == peer.channel_id and chat.access_hash and not chat.min:
            return chat
    return None


def _chat_in(answer: Any, chat_id: int | None) -> Any:
    """The chat a join's answer (Updates) names: the one asked for, or the first real chat in it."""
    for chat in getattr(answer, "chats", None) or ():
        if not isinstance(chat, types.Channel | types.Chat) or getattr(chat, "min", False):
            continue
        if chat_id is None or chat.id == chat_id:
            return chat
    return None


def _as_member(chat: Any) -> Dialog | None:
    """The resolved chat as its member sees it (the answer did not name it: the flags are the same)."""
    member = copy.copy(chat)
    member.left = False
    return dialog_of(member)
