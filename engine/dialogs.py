"""What a chat in an account's dialogs says about the account: member or not, allowed to write or not.

Read from the chat objects ``messages.getDialogs`` returns (Telethon's ``types.Channel`` / ``Chat`` and
their ``Forbidden`` forms), never from a send: knowing before trying is what spares the account a
refusal, and each refusal is a signal against it.
"""

from __future__ import annotations

from typing import Any

from telethon.tl import types

from core.ports import Dialog, DialogKind, Peer, WriteBlock


def _may_post(admin_rights: Any) -> bool:
    return admin_rights is not None and bool(getattr(admin_rights, "post_messages", False))


def _channel(entity: Any, archived: bool) -> Dialog:
    kind: DialogKind = "channel" if entity.broadcast else "forum" if entity.forum else "group"
    admin = bool(entity.creator) or entity.admin_rights is not None
    banned, default = entity.banned_rights, entity.default_banned_rights
    why_not: WriteBlock | None = None
    if entity.left:
        why_not = "left"
    elif entity.broadcast:
        why_not = None if entity.creator or _may_post(entity.admin_rights) else "broadcast"
    elif banned is not None and (banned.view_messages or banned.send_messages):
        why_not = "banned"  # until_date only says when it ends: it holds now
    elif default is not None and default.send_messages and not admin:
        why_not = "read_only"
    username = entity.username or next((u.username for u in entity.usernames or () if u.active), None)
    return Dialog(
        peer=Peer("channel", int(entity.id), entity.access_hash),
        kind=kind,
        title=entity.title or "",
        username=username,
        can_write=why_not is None,
        why_not=why_not,
        archived=archived,
    )


def _chat(entity: Any, archived: bool) -> Dialog | None:
    if entity.deactivated or entity.migrated_to is not None:
        return None  # a basic group that became a supergroup: the supergroup is its own dialog
    admin = bool(entity.creator) or entity.admin_rights is not None
    default = entity.default_banned_rights
    why_not: WriteBlock | None = None
    if entity.left:
        why_not = "left"
    elif default is not None and default.send_messages and not admin:
        why_not = "read_only"
    return Dialog(
        peer=Peer("chat", int(entity.id)),
        kind="group",
        title=entity.title or "",
        can_write=why_not is None,
        why_not=why_not,
        archived=archived,
    )


def dialog_of(entity: Any, *, archived: bool = False) -> Dialog | None:
    """The dialog a chat entity stands for; None for users, bots and chats that no longer exist.

    Slow mode: a chat object only says whether it is on (``slowmode_enabled``), not for how long; the
    seconds come from the first ``SLOWMODE_WAIT`` (``engine.slowmode``), so ``slow_mode`` stays 0 here."""
    if isinstance(entity, types.Channel):
        return _channel(entity, archived)
    if isinstance(entity, types.Chat):
        return _chat(entity, archived)
    if isinstance(entity, types.ChannelForbidden):
        kind: DialogKind = "channel" if entity.broadcast else "group"
        peer = Peer("channel", int(entity.id), entity.access_hash)
        return Dialog(peer, kind, entity.title or "", can_write=False, why_not="kicked", archived=archived)
    if isinstance(entity, types.ChatForbidden):
        peer = Peer("chat", int(entity.id))
        return Dialog(peer, "group", entity.title or "", can_write=False, why_not="kicked", archived=archived)
    return None
