"""/export: pick a period, get a CSV document of your send attempts (``control_bot.services.export``).

The file is made in ``<data_dir>/exports`` (0700, the file 0600), sent, and deleted whatever happens; one
a crash left behind goes at the next start or daily run (``control_bot.retention.clear_exports``).
One export per customer at a time: a second press while one is made is told so, not queued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, FSInputFile, Message

from control_bot import keyboards as kb
from control_bot.callbacks import ExportCb
from control_bot.filters import IsPrivate
from control_bot.render import answer_callback, show
from control_bot.routers.common import sender_id
from control_bot.services import export
from control_bot.services.campaign import require_customer
from core.clock import Clock
from core.config import Settings
from core.i18n import tz
from core.texts import export as texts
from storage.db import Database


async def on_export(message: Message, db: Database, clock: Clock) -> None:
    await require_customer(db, sender_id(message), clock.now())
    await show(message, texts.PROMPT(), kb.export_periods())


ExportHandler = Callable[[CallbackQuery, ExportCb, Database, Clock, Settings], Awaitable[None]]


def _export_button(running: set[int]) -> ExportHandler:
    """The button's handler, closing over the set of customers whose export is being made."""

    async def on_export_button(
        callback: CallbackQuery, callback_data: ExportCb, db: Database, clock: Clock, settings: Settings
    ) -> None:
        user_id, now, period = sender_id(callback), clock.now(), callback_data.period
        if user_id in running:
            await answer_callback(callback, texts.BUSY())
            return
        running.add(user_id)
        try:
            await require_customer(db, user_id, now)
            await answer_callback(callback, texts.PREPARING())
            made = await export.export_csv(db, user_id, period, now, tz(), settings.paths.data_dir / export.EXPORTS_DIR)
            if callback.bot is None:
                raise RuntimeError("callback query without a bot")
            try:
                if made.path is None:
                    await callback.bot.send_message(user_id, texts.TOO_LARGE() if made.too_large else texts.EMPTY())
                    return
                day = dt.datetime.fromtimestamp(now, tz()).date().isoformat()
                await callback.bot.send_document(
                    user_id,
                    FSInputFile(made.path, filename=texts.file_name(period, day, made.compressed)),
                    caption=texts.caption(period, made.rows, made.compressed,
                                          export.kept_as_totals(period, now, tz(), settings.retention.days)),
                )
            finally:
                made.remove()
        finally:
            running.discard(user_id)

    return on_export_button


def setup() -> Router:
    router = Router(name="customer_export")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    router.message.register(on_export, Command("export"))
    router.callback_query.register(_export_button(set()), ExportCb.filter())
    return router
