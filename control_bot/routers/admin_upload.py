"""Session uploads: an admin sends ``.session`` files (Telethon or Pyrogram), ``.txt`` files of session
strings, ``.json`` sidecars or ``.zip`` archives as documents and gets one summary per batch.

The name only routes a document here (the form is then told from its content, ``pool.forms``): an
admin's ``.txt`` is a pool upload, except while the admin is answering /addgroups (the bot asked for a
list of groups then, and the customer side takes it).

Telegram delivers an album, or several files sent at once, as separate messages. Each is downloaded as
it arrives; the batch is imported once no file of that admin arrived for ``DEBOUNCE`` seconds and no
download is still running, so a session and its sidecar sent as two messages pair up, and the admin
reads one summary instead of one per file. A file whose announced size is over Telegram's 20 MB bot
download limit or over ``[pool] max_upload_bytes`` is refused without downloading it.

A zip holding a Telegram Desktop tdata locked by a local passcode is refused in the summary, and the bot
asks for the passcode in a message of its own ("reply to this message with the passcode"). When the admin
replies to it with text, the bot deletes that reply at once (the passcode must not stay in the chat),
downloads the same document again and imports it with the passcode. Only Telegram's ``file_id`` and the
file name are kept for a pending request (in memory, ``PASSCODE_TTL``), never the bytes and never the
passcode, which is not logged either. A reply to an expired or forgotten request (a restart) is still
deleted, and the admin is told to send the archive again.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiogram import Bot, F, Router
from aiogram.types import Document, Message

from control_bot.routers.customer_groups import GroupsForm
from control_bot.services import admin
from core.clock import Clock
from core.config import Settings
from core.texts import admin as t
from core.texts import errors as error_texts
from core.texts import intake as intake_texts
from core.texts import tdata as tdata_texts
from core.texts.split import split_message
from pool.forms import needs_passcode
from pool.names import display_name, kind_of
from storage.db import Database

logger = logging.getLogger(__name__)

DEBOUNCE = 1.5
"""Seconds of quiet after an admin's last file before the batch is imported."""
PASSCODE_TTL = 30 * 60.0
"""Seconds a passcode request can be answered; later the archive must be sent again."""


def is_pool_upload(message: Message, raw_state: str | None = None) -> bool:
    """A document the pool takes (other documents go on to the customer side, e.g. a groups .txt sent
    while answering /addgroups)."""
    document = message.document
    if document is None:
        return False
    name = (document.file_name or "").lower()
    if name.endswith(".txt"):
        return raw_state != GroupsForm.adding.state
    return kind_of(name) in ("session", "sidecar", "zip")


@dataclass
class _Deps:
    bot: Bot
    db: Database
    settings: Settings
    clock: Clock


@dataclass
class _Batch:
    chat_id: int
    deps: _Deps
    files: list[tuple[str, bytes]] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)  # Telegram's file_id of each of ``files``
    refused: list[tuple[str, str]] = field(default_factory=list)
    downloading: int = 0
    timer: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class _Pending:
    """A passcode request: which document to download again (never its bytes), until when."""

    file_id: str
    file_name: str
    expires_at: float


def is_passcode_reply(message: Message, bot: Bot) -> bool:
    """A text reply to one of this bot's passcode requests."""
    target = message.reply_to_message
    return (
        message.text is not None
        and target is not None
        and target.from_user is not None
        and target.from_user.id == bot.id
        and tdata_texts.ASK_MARK() in (target.text or "")
    )


class UploadBatcher:
    """Per-admin batches of uploaded documents (one instance per router, so per dispatcher), and the
    pending passcode requests of locked tdata archives."""

    def __init__(self, debounce: float = DEBOUNCE) -> None:
        self.debounce = debounce
        self._open: dict[int, _Batch] = {}
        self._importing: set[asyncio.Task[None]] = set()
        self._pending: dict[tuple[int, int], _Pending] = {}

    async def on_document(
        self,
        message: Message,
        bot: Bot,
        db: Database,
        settings: Settings,
        clock: Clock,
    ) -> None:
        document = message.document
        if document is None or message.from_user is None:  # the filters exclude both
            return
        admin_id = message.from_user.id
        batch = self._open.get(admin_id)
        if batch is None:
            batch = self._open[admin_id] = _Batch(message.chat.id, _Deps(bot, db, settings, clock))
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        batch.downloading += 1
        try:
            await self._receive(batch, bot, document, settings.pool.max_upload_bytes)
        finally:
            batch.downloading -= 1
            if batch.downloading == 0 and self._open.get(admin_id) is batch:
                batch.timer = asyncio.create_task(self._import_later(admin_id, batch), name="admin-upload")

    @staticmethod
    async def _receive(batch: _Batch, bot: Bot, document: Document, max_bytes: int) -> None:
        name = document.file_name or intake_texts.UNNAMED()
        reason = admin.refuse_before_download(document.file_size, max_bytes)
        if reason is not None:
            batch.refused.append((name, reason))
            return
        buffer = io.BytesIO()
        try:
            await bot.download(document, destination=buffer)
        except Exception as exc:  # network, Telegram, timeout: this file failed, the batch goes on
            logger.warning("download of an uploaded file failed: %s", type(exc).__name__)
            batch.refused.append((name, intake_texts.DOWNLOAD_FAILED()))
            return
        batch.files.append((name, buffer.getvalue()))
        batch.file_ids.append(document.file_id)

    async def _import_later(self, admin_id: int, batch: _Batch) -> None:
        await asyncio.sleep(self.debounce)
        if self._open.get(admin_id) is not batch or batch.downloading:
            return
        del self._open[admin_id]
        batch.timer = None
        # From here on the import must not be cancelled by a new file (it starts a new batch).
        task = asyncio.create_task(self._import(batch), name="admin-upload-import")
        self._importing.add(task)
        task.add_done_callback(self._importing.discard)

    async def _import(self, batch: _Batch) -> None:
        deps = batch.deps
        report = None
        try:
            report = await admin.import_uploads(
                deps.db,
                deps.settings.paths.sessions_dir,
                batch.files,
                refused=batch.refused,
                max_bytes=deps.settings.pool.max_upload_bytes,
                now=deps.clock.now(),
                ipv6=deps.settings.pool.ipv6,
                allow_test_servers=deps.settings.pool.allow_test_servers,
            )
            text = t.upload_summary(report)
        except Exception:
            logger.exception("importing %d uploaded file(s) failed", len(batch.files))
            text = error_texts.GENERIC_ERROR()
        try:
            await _send_chunks(deps.bot, batch.chat_id, text)
        except Exception:
            logger.warning("could not send the upload summary", exc_info=True)
        if report is None or not any(r.needs_passcode for r in report.rejected):
            return
        for (name, data), file_id in zip(batch.files, batch.file_ids, strict=True):
            if await asyncio.to_thread(needs_passcode, data):  # which of the batch's archives is locked
                await self._ask_passcode(deps, batch.chat_id, file_id, name, tdata_texts.ask_passcode)

    async def _ask_passcode(
        self, deps: _Deps, chat_id: int, file_id: str, name: str, text: Callable[[str], str]
    ) -> None:
        now = deps.clock.now()
        self._pending = {k: v for k, v in self._pending.items() if v.expires_at > now}
        try:
            sent = await deps.bot.send_message(chat_id, text(display_name(name)), parse_mode=None)
        except Exception:
            logger.warning("could not ask for a tdata passcode", exc_info=True)
            return
        self._pending[(chat_id, sent.message_id)] = _Pending(file_id, name, now + PASSCODE_TTL)

    async def on_passcode_reply(
        self, message: Message, bot: Bot, db: Database, settings: Settings, clock: Clock
    ) -> None:
        """The admin's passcode, as a reply to a passcode request: deleted from the chat first, then the
        archive is downloaded again and imported with it. The passcode is never logged or kept."""
        target = message.reply_to_message
        passcode = message.text
        if target is None or passcode is None:  # the filter excludes both
            return
        try:
            await message.delete()
        except Exception as exc:
            logger.warning("could not delete a message holding a tdata passcode: %s", type(exc).__name__)
        pending = self._pending.pop((message.chat.id, target.message_id), None)
        if pending is None or pending.expires_at <= clock.now():
            await message.answer(tdata_texts.PASSCODE_EXPIRED(), parse_mode=None)
            return
        buffer = io.BytesIO()
        try:
            await bot.download(pending.file_id, destination=buffer)
        except Exception as exc:
            logger.warning("download of an archive for its passcode failed: %s", type(exc).__name__)
            await message.answer(tdata_texts.PASSCODE_DOWNLOAD_FAILED(), parse_mode=None)
            return
        deps = _Deps(bot, db, settings, clock)
        try:
            report = await admin.import_uploads(
                db,
                settings.paths.sessions_dir,
                [(pending.file_name, buffer.getvalue())],
                max_bytes=settings.pool.max_upload_bytes,
                now=clock.now(),
                ipv6=settings.pool.ipv6,
                allow_test_servers=settings.pool.allow_test_servers,
                passcode=passcode,
            )
            text = t.upload_summary(report)
        except Exception:
            logger.exception("importing an archive with its passcode failed")  # a traceback holds no locals
            text = error_texts.GENERIC_ERROR()
            report = None
        await _send_chunks(bot, message.chat.id, text)
        if report is not None and any(r.needs_passcode for r in report.rejected):  # a wrong passcode
            await self._ask_passcode(deps, message.chat.id, pending.file_id, pending.file_name, tdata_texts.ask_again)

    async def flush(self) -> None:
        """Import every pending batch now and wait for running imports (at shutdown)."""
        for admin_id, batch in list(self._open.items()):
            if batch.timer is not None:
                batch.timer.cancel()
            del self._open[admin_id]
            if batch.files or batch.refused:
                await self._import(batch)
        if self._importing:
            await asyncio.gather(*self._importing, return_exceptions=True)


async def _send_chunks(bot: Bot, chat_id: int, text: str) -> None:
    for chunk in split_message(text):
        await bot.send_message(chat_id, chunk)


def setup(debounce: float | None = None) -> Router:
    router = Router(name="admin_upload")
    batcher = UploadBatcher(DEBOUNCE if debounce is None else debounce)
    router.message.register(batcher.on_document, F.document, is_pool_upload)
    router.message.register(batcher.on_passcode_reply, F.text, is_passcode_reply)
    router.shutdown.register(batcher.flush)
    return router
