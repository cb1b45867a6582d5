"""Posts in the simulated world: reading a source post (its album), and what a forward of it must get
right, as Telegram has it.

* ``read_post`` is ``channels.getMessages`` of the post: one request of method class 'read'. It is
  refused like any read of the source (CHANNEL_PRIVATE for an account banned from it or not in a private
  one) and says MESSAGE_ID_INVALID for a post that does not exist; an album's ids are the posts sharing
  its ``grouped_id`` (``SimChat.albums``); it tells a chat with forwarding off (``noforwards``), each
  item's media (``SimChat.media``) and the start of the text, as the message objects do.
* ``check_source`` is a forward's view of its source: the same refusals, CHAT_FORWARDS_RESTRICTED for a
  chat with forwarding off, and a strict rule of ours: a post of an album is forwarded as the whole album
  in one request (Telegram would forward the part; we count that as a ``partial_album`` violation).
* ``check_topic``: a closed topic refuses everyone but the chat's admins (TOPIC_CLOSED, an error
  Telethon 1.45 has no class for, so it arrives as a bare BadRequestError).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from telethon import errors

from core.ports import EXCERPT_CHARS, Peer, PostInfo
from sandbox.world.model import SimAccount, SimChat, Violation

if TYPE_CHECKING:
    from sandbox.world.port import SimPort
    from sandbox.world.simulation import World

__all__ = ["album_of", "check_source", "check_topic", "read_post"]


def album_of(chat: SimChat, msg_id: int) -> list[int]:
    """The ids of the album ``msg_id`` belongs to, in order; ``[msg_id]`` when it is none."""
    grouped = chat.albums.get(msg_id)
    if grouped is None:
        return [msg_id]
    return sorted(i for i, g in chat.albums.items() if g == grouped)


def _readable(world: World, account: SimAccount, source_peer: Peer, msg_id: int) -> SimChat:
    source = world._chat_for_peer(source_peer, account.key)
    if account.key in source.banned or (not source.username and not source.is_member(account.key)):
        raise errors.ChannelPrivateError(request=None)
    if not (source.any_post or msg_id in source.posts):
        raise errors.MessageIdInvalidError(request=None)
    return source


async def read_post(world: World, port: SimPort, source_peer: Peer, msg_id: int) -> PostInfo:
    account = world._account(port.key)
    fault = await world._enter(port, account, "read", world.chats.get(source_peer.id))
    if fault is not None:
        await fault.strike(account, world.clock)
    source = _readable(world, account, source_peer, msg_id)
    ids = album_of(source, msg_id)
    text = next((source.posts[i] for i in ids if source.posts.get(i)), "")
    return PostInfo(
        msg_id=msg_id,
        ids=tuple(ids),
        grouped_id=source.albums.get(msg_id),
        noforwards=source.noforwards,
        media=tuple(source.media.get(i, "") for i in ids),
        excerpt=text[:EXCERPT_CHARS],
    )


def check_source(world: World, account: SimAccount, source_peer: Peer, msg_ids: Sequence[int]) -> SimChat:
    """The forward's source, or the error Telegram answers a forward from it with."""
    if not msg_ids:
        raise errors.MessageIdsEmptyError(request=None)
    source = _readable(world, account, source_peer, msg_ids[0])
    for other in msg_ids[1:]:
        _readable(world, account, source_peer, other)
    if source.noforwards:
        raise errors.ChatForwardsRestrictedError(request=None)
    whole = album_of(source, msg_ids[0])
    if sorted(msg_ids) != whole:
        world.violations.append(
            Violation("partial_album", account.key, world.clock.now(), f"{source.ref}: {list(msg_ids)} of {whole}")
        )
    return source


def check_topic(dest: SimChat, account: str, topic_id: int | None) -> None:
    if topic_id is not None and topic_id in dest.closed_topics and account not in dest.admins:
        raise errors.BadRequestError(request=None, message="TOPIC_CLOSED", code=400)
