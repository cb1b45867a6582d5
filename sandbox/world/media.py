"""Media in the simulated world, as Telegram has it: own media posts (a photo, video, document or
animation, or an album of them) and the rules a send of media must keep.

* A file reaches Telegram by an upload; the client keeps what Telegram made of it and names it again
  later (``engine.telethon_media``). The world counts uploads per (account, file) in ``World.uploads``:
  a session that uploads the same file twice while its connection lives wasted its traffic, and tests
  assert one upload per session per file. An upload is one request of class 'upload' per file (flood
  waits and scripted faults with ``method='upload'`` hit it) and takes ``World.upload_seconds_per_mb``
  per MB of the file on the world's clock (0: instant): ``prepare_media`` pays it before the send; a
  send of a file not prepared pays it inside the send request, as a real client would. A file the port
  is asked to send must be the one the service stored (its sha256 matches), or the send is refused
  (MEDIA_EMPTY): a post never goes out altered.
* An album has 2..10 items (MULTI_MEDIA_TOO_LONG above), photos and videos may mix, documents only with
  documents, an animation never goes in an album (GROUPED_MEDIA_INVALID); a caption is at most 1,024
  UTF-16 units (MEDIA_CAPTION_TOO_LONG).
* A chat may refuse media (``SimChat.media_forbidden``: CHAT_SEND_MEDIA_FORBIDDEN), own or forwarded,
  while it takes text; one that refuses plain text (``plain_forbidden``) still takes media.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telethon import errors

from core.ports import MediaItem
from core.texts.split import utf16_len
from sandbox.world.model import SimChat

if TYPE_CHECKING:
    from sandbox.world.port import SimPort

__all__ = ["MAX_CAPTION", "MB", "check_items", "check_media", "upload", "upload_all"]

MAX_CAPTION = 1024
MAX_ALBUM = 10
MB = 1024 * 1024


def check_items(items: Sequence[MediaItem]) -> None:
    """What Telegram refuses about the post itself, whatever the chat."""
    if not items:
        raise errors.MediaEmptyError(request=None)
    if len(items) > MAX_ALBUM:
        raise errors.MultiMediaTooLongError(request=None)
    if any(utf16_len(item.caption) > MAX_CAPTION for item in items):  # UTF-16 units, as Telegram counts
        raise errors.MediaCaptionTooLongError(request=None)
    if len(items) > 1:
        kinds = {item.kind for item in items}
        if "animation" in kinds or ("document" in kinds and kinds != {"document"}):
            raise errors.GroupedMediaInvalidError(request=None)


async def upload_all(port: SimPort, items: Sequence[MediaItem]) -> int:
    """Upload each file of ``items`` the port has not uploaded yet: one 'upload' request each (flood waits,
    faults), taking ``World.upload_seconds_per_mb`` per MB on the world's clock; returns how many."""
    world = port.world
    account = world._account(port.key)
    made = 0
    for item in items:
        if item.sha256 in port.uploaded:
            continue
        fault = await world._enter(port, account, "upload", None)
        if fault is not None:
            await fault.strike(account, world.clock, "upload")
        seconds = world.upload_seconds_per_mb * item.size / MB
        if seconds > 0:
            await world.clock.sleep(seconds)
        upload(port, item)
        made += 1
    return made


def upload(port: SimPort, item: MediaItem) -> None:
    """The port's client uploads ``item`` unless it already did while connected (then it names it)."""
    if item.sha256 in port.uploaded:
        return
    try:
        data = item.path.read_bytes()
    except OSError:
        raise errors.MediaEmptyError(request=None) from None
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise errors.MediaEmptyError(request=None)
    port.world.uploads[(port.key, item.sha256)] += 1
    port.uploaded.add(item.sha256)


def check_media(dest: SimChat, source: SimChat | None, msg_ids: Sequence[int], media: tuple[str, ...]) -> None:
    """A send's content against the chat's rules: plain text, own media, a forward carrying media."""
    carries_media = bool(media) or (source is not None and any(source.media.get(i) for i in msg_ids))
    if carries_media and dest.media_forbidden:
        raise errors.ChatSendMediaForbiddenError(request=None)
    if source is None and not media and dest.plain_forbidden:
        raise errors.ChatSendPlainForbiddenError(request=None)
