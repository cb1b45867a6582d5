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
"""

from __future__ import annotations

import asyncio
import io
import logging
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
from core.texts.split import split_message
from pool.names import kind_of
from storage.db import Database

logger = logging.getLogger(__name__)

DEBOUNCE = 1.5
"""Seconds of quiet after an admin's last file before the batch is imported."""


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
    refused: list[tuple[str, str]] = field(default_factory=list)
    downloading: int = 0
    timer: asyncio.Task[None] | None = None


class UploadBatcher:
    """Per-admin batches of uploaded documents (one instance per router, so per dispatcher)."""

    def __init__(self, debounce: float = DEBOUNCE) -> None:
        self.debounce = debounce
        self._open: dict[int, _Batch] = {}
        self._importing: set[asyncio.Task[None]] = set()

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
        name = document.file_name or intake_texts.UNNAMED
        reason = admin.refuse_before_download(document.file_size, max_bytes)
        if reason is not None:
            batch.refused.append((name, reason))
            return
        buffer = io.BytesIO()
        try:
            await bot.download(document, destination=buffer)
        except Exception as exc:  # network, Telegram, timeout: this file failed, the batch goes on
            logger.warning("download of an uploaded file failed: %s", type(exc).__name__)
            batch.refused.append((name, intake_texts.DOWNLOAD_FAILED))
            return
        batch.files.append((name, buffer.getvalue()))

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

    @staticmethod
    async def _import(batch: _Batch) -> None:
        deps = batch.deps
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
            text = error_texts.GENERIC_ERROR
        try:
            await _send_chunks(deps.bot, batch.chat_id, text)
        except Exception:
            logger.warning("could not send the upload summary", exc_info=True)

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
    router.shutdown.register(batcher.flush)
    return router
