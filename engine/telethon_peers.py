"""Peers and answers on Telethon's side: the port's ``Peer`` as an InputPeer (no lookup: cached id and
access hash), a resolved or cached entity back as a ``Peer``, and the new message's id in a send's answer."""

from __future__ import annotations

from typing import Any

from telethon import types, utils

from core.ports import Peer, PeerKind
from engine.outcomes import PeerNotCachedError

__all__ = ["find_new_message_id", "input_peer", "marked", "peer_from_input", "peer_from_resolved"]




def marked(peer: Peer) -> str:
    peer_type = {"user": types.PeerUser, "chat": types.PeerChat, "channel": types.PeerChannel}[peer.kind]
    return str(utils.get_peer_id(peer_type(peer.id)))


def input_peer(peer: Peer) -> Any:
    """The InputPeer for a resolved peer, with no lookup: what the port's Peer is for."""
    if peer.kind == "chat":
        return types.InputPeerChat(peer.id)
    if peer.access_hash is None:
        raise PeerNotCachedError(marked(peer))
    if peer.kind == "channel":
        return types.InputPeerChannel(peer.id, peer.access_hash)
    return types.InputPeerUser(peer.id, peer.access_hash)


def peer_from_input(input_peer: Any, text: str) -> Peer:
    if isinstance(input_peer, types.InputPeerChannel) and input_peer.access_hash:
        return Peer("channel", input_peer.channel_id, input_peer.access_hash)
    if isinstance(input_peer, types.InputPeerUser) and input_peer.access_hash:
        return Peer("user", input_peer.user_id, input_peer.access_hash)
    if isinstance(input_peer, types.InputPeerChat):
        return Peer("chat", input_peer.chat_id)
    raise PeerNotCachedError(text)


def peer_from_resolved(resolved: Any, text: str) -> Peer:
    peer = resolved.peer
    if isinstance(peer, types.PeerChat):
        return Peer("chat", peer.chat_id)
    kind: PeerKind
    if isinstance(peer, types.PeerChannel):
        kind, bare_id, candidates = "channel", peer.channel_id, resolved.chats
    elif isinstance(peer, types.PeerUser):
        kind, bare_id, candidates = "user", peer.user_id, resolved.users
    else:
        raise PeerNotCachedError(text)
    for entity in candidates:
        # A "min" entity's access hash is not usable for addressing (Telethon skips them too).
        if entity.id == bare_id and getattr(entity, "access_hash", None) and not getattr(entity, "min", False):
            return Peer(kind, bare_id, entity.access_hash)
    raise PeerNotCachedError(text)


def _same_peer(tl_peer: Any, dest: Peer) -> bool:
    if isinstance(tl_peer, types.PeerChannel):
        return dest.kind == "channel" and tl_peer.channel_id == dest.id
    if isinstance(tl_peer, types.PeerChat):
        return dest.kind == "chat" and tl_peer.chat_id == dest.id
    if isinstance(tl_peer, types.PeerUser):
        return dest.kind == "user" and tl_peer.user_id == dest.id
    return False


def find_new_message_id(result: Any, random_id: int, dest: Peer) -> int | None:
    """The new message's id from a send's answer: the random_id mapping first, then the message itself."""
    if isinstance(result, types.UpdateShortSentMessage):
        return int(result.id)
    updates = [result.update] if isinstance(result, types.UpdateShort) else list(getattr(result, "updates", None) or [])
    for update in updates:
        if isinstance(update, types.UpdateMessageID) and update.random_id == random_id:
            return int(update.id)
    for update in updates:
        if isinstance(update, types.UpdateNewChannelMessage | types.UpdateNewMessage):
            message = update.message
            if isinstance(message, types.Message) and message.out and _same_peer(message.peer_id, dest):
                return int(message.id)
    return None
