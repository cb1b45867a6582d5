"""The customer's own media post on Telethon's side: one photo, video, document or animation, or an album.

* Upload once per session: a file is uploaded the first time a session sends it; the photo or document
  Telegram made of it (id, access hash, file reference) is kept by sha256 (``MediaUploads``, held by the
  session's ``TelethonAccount`` for its life) and every later send names it (``InputMediaPhoto`` /
  ``InputMediaDocument``): no bytes go out again. Uploads are the heavy part of a media post (a 20 MB
  video is 40 parts of 512 KB), so a cycle to fifty groups uploads it once, not fifty times.
* A file reference is not forever: Telegram answers FILE_REFERENCE_EXPIRED (or _INVALID) when it went
  stale. The kept ids are then dropped, the files uploaded again and the same request sent again, with
  the same random_id(s): the refused request created nothing, so nothing can arrive twice.
* Uploads come first and apart (``prepare_media``): each file not yet kept is uploaded and turned into a
  photo/document by ``messages.uploadMedia`` (which posts nothing; its peer is the account itself), and
  kept at once, file by file. The engine runs it before a send's intent is recorded, under a timeout of
  its own scaled to the files' size: a 20 MB video through a slow proxy takes minutes, and a send's
  ``send_timeout`` (after which a send is 'in doubt', never retried in its cycle) must never pay for it.
  A cancelled upload keeps the files it finished, so the next try goes on from there.
* The send then names what was kept: one item with ``messages.sendMedia`` (``InputMediaPhoto`` /
  ``InputMediaDocument``), an album (2..10 items) with one ``messages.sendMultiMedia`` with one random_id
  per item derived from the send's own (``engine.albums.album_random_ids``), the caption on the item that
  has it. A file not kept (never prepared, or after a stale reference) is uploaded inside the send as
  before: one item as ``InputMediaUploaded*`` (the answer's message carries the photo/document to keep),
  an album's through ``messages.uploadMedia`` (Telegram accepts only such media in an album).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from telethon import errors, functions, types

from core.ports import MediaItem
from engine.albums import album_random_ids
from engine.telethon_entities import entities_to_tl

logger = logging.getLogger(__name__)

__all__ = ["MAX_ALBUM", "MediaUploads", "prepare_media", "send_media"]

MAX_ALBUM = 10
_STALE = (errors.FileReferenceExpiredError, errors.FileReferenceInvalidError)
_DEFAULT_MIME = {"photo": "image/jpeg", "video": "video/mp4", "animation": "video/mp4",
                 "document": "application/octet-stream"}


class MediaUploads:
    """One session's uploaded files: sha256 -> the InputPhoto / InputDocument Telegram made of it."""

    def __init__(self) -> None:
        self._kept: dict[str, Any] = {}
        self.uploads = 0  # files uploaded by this session (each costs its bytes in parts)

    def get(self, sha256: str) -> Any:
        return self._kept.get(sha256)

    def keep(self, sha256: str, media: Any) -> None:
        reusable = _reusable(media)
        if reusable is not None:
            self._kept[sha256] = reusable

    def forget(self, items: Sequence[MediaItem]) -> None:
        for item in items:
            self._kept.pop(item.sha256, None)


async def prepare_media(client: Any, uploads: MediaUploads, items: Sequence[MediaItem]) -> int:
    """Upload each file of ``items`` not kept yet and keep the photo/document ``messages.uploadMedia`` made
    of it (one file after the other, each kept as soon as it is made); returns how many were uploaded.
    Posts nothing. Raises what the uploads raise (a file gone from the disk: MEDIA_EMPTY)."""
    if len(items) > MAX_ALBUM:
        raise ValueError(f"an album holds at most {MAX_ALBUM} items")
    made_now = 0
    for item in items:
        if uploads.get(item.sha256) is not None:
            continue
        await _made(client, uploads, types.InputPeerSelf(), item)
        made_now += 1
    return made_now


async def send_media(
    client: Any,
    uploads: MediaUploads,
    *,
    peer: Any,
    topic_id: int | None,
    items: Sequence[MediaItem],
    random_id: int,
    input_user: Callable[[int], Any] | None = None,
) -> Any:
    """Send ``items`` to ``peer`` (an InputPeer) in one request (after any uploads); returns Telegram's
    answer (the caller finds the new message's id in it). Raises what the send raises."""
    if not items:
        raise ValueError("a media post has at least one item")
    if len(items) > MAX_ALBUM:
        raise ValueError(f"an album holds at most {MAX_ALBUM} items")
    reply_to = (
        types.InputReplyToMessage(reply_to_msg_id=topic_id, top_msg_id=topic_id) if topic_id is not None else None
    )
    for attempt in (1, 2):
        try:
            if len(items) == 1:
                return await _send_one(client, uploads, peer, reply_to, items[0], random_id, input_user)
            return await _send_album(client, uploads, peer, reply_to, items, random_id, input_user)
        except _STALE as exc:
            if attempt == 2:
                raise
            logger.info("a kept file reference went stale (%s): uploading the post's files again", exc.message)
            uploads.forget(items)
    raise AssertionError("unreachable")


async def _send_one(
    client: Any, uploads: MediaUploads, peer: Any, reply_to: Any, item: MediaItem, random_id: int,
    input_user: Callable[[int], Any] | None,
) -> Any:
    kept = uploads.get(item.sha256)
    media = _named(item, kept) if kept is not None else await _uploaded(client, uploads, item)
    result = await client(functions.messages.SendMediaRequest(
        peer=peer,
        media=media,
        message=item.caption,
        entities=entities_to_tl(item.entities, input_user) or None,
        random_id=random_id,
        reply_to=reply_to,
    ))
    if kept is None:
        sent = _sent_media(result)
        if sent is not None:
            uploads.keep(item.sha256, sent)
    return result


async def _send_album(
    client: Any, uploads: MediaUploads, peer: Any, reply_to: Any, items: Sequence[MediaItem], random_id: int,
    input_user: Callable[[int], Any] | None,
) -> Any:
    singles = []
    for item, item_random_id in zip(items, album_random_ids(random_id, len(items)), strict=True):
        kept = uploads.get(item.sha256)
        if kept is None:
            kept = await _made(client, uploads, peer, item)
        singles.append(types.InputSingleMedia(
            media=_named(item, kept),
            message=item.caption,
            random_id=item_random_id,
            entities=entities_to_tl(item.entities, input_user) or None,
        ))
    return await client(functions.messages.SendMultiMediaRequest(peer=peer, multi_media=singles, reply_to=reply_to))


async def _made(client: Any, uploads: MediaUploads, peer: Any, item: MediaItem) -> Any:
    """The file uploaded and made a photo/document by ``messages.uploadMedia`` (posts nothing), kept."""
    made = await client(functions.messages.UploadMediaRequest(peer=peer, media=await _uploaded(client, uploads, item)))
    uploads.keep(item.sha256, made)
    kept = uploads.get(item.sha256)
    if kept is None:
        raise errors.MediaEmptyError(request=None)
    return kept


async def _uploaded(client: Any, uploads: MediaUploads, item: MediaItem) -> Any:
    """The file's bytes uploaded (``upload.saveFilePart``...) and wrapped as a new photo or document. A
    file that is gone from the disk is a post that cannot be sent (MEDIA_EMPTY: the campaign stops and
    the customer is asked for the post again), not a network failure to retry."""
    if not item.path.is_file():
        raise errors.MediaEmptyError(request=None)
    file = await client.upload_file(str(item.path), file_name=item.file_name or item.path.name)
    uploads.uploads += 1
    if item.kind == "photo":
        return types.InputMediaUploadedPhoto(file=file)
    attributes: list[Any] = []
    if item.kind in ("video", "animation"):
        if item.kind == "animation":
            attributes.append(types.DocumentAttributeAnimated())
        attributes.append(types.DocumentAttributeVideo(
            duration=item.duration, w=item.width, h=item.height, supports_streaming=True
        ))
    if item.file_name:
        attributes.append(types.DocumentAttributeFilename(item.file_name))
    return types.InputMediaUploadedDocument(
        file=file,
        mime_type=item.mime or _DEFAULT_MIME[item.kind],
        attributes=attributes,
        force_file=item.kind == "document" or None,
    )


def _named(item: MediaItem, kept: Any) -> Any:
    if isinstance(kept, types.InputPhoto):
        return types.InputMediaPhoto(id=kept)
    return types.InputMediaDocument(id=kept)


def _reusable(media: Any) -> Any:
    """The InputPhoto / InputDocument that names a sent or uploaded MessageMedia again; None if none."""
    if isinstance(media, types.MessageMediaPhoto) and isinstance(media.photo, types.Photo):
        photo = media.photo
        return types.InputPhoto(photo.id, photo.access_hash, photo.file_reference)
    if isinstance(media, types.MessageMediaDocument) and isinstance(media.document, types.Document):
        document = media.document
        return types.InputDocument(document.id, document.access_hash, document.file_reference)
    return None


def _sent_media(result: Any) -> Any:
    """The media of the message a sendMedia answer carries (None when it names no message with media)."""
    if isinstance(result, types.UpdateShortSentMessage):
        return result.media
    updates = [result.update] if isinstance(result, types.UpdateShort) else list(getattr(result, "updates", None) or [])
    for update in updates:
        if isinstance(update, types.UpdateNewChannelMessage | types.UpdateNewMessage):
            message = update.message
            if isinstance(message, types.Message) and message.out and message.media is not None:
                return message.media
    return None
