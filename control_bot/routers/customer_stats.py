"""/stats and /logs (with refresh, and today's full log as a file)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from control_bot import keyboards as kb
from control_bot import texts as t
from control_bot.callbacks import MenuAction, MenuCb
from control_bot.filters import IsPrivate
from control_bot.render import answer_callback, show
from control_bot.routers.common import sender_id
from control_bot.services import campaign
from core.clock import Clock
from core.config import Settings
from storage.db import Database


async def _stats(event: Message | CallbackQuery, db: Database, clock: Clock) -> None:
    now = clock.now()
    view = await campaign.campaign_stats(db, sender_id(event), now)
    text = t.stats(
        total_posts=view.total_posts,
        total_success=view.total_success,
        total_failures=view.total_failures,
        total_flood_waits=view.total_flood_waits,
        total_messages_sent=view.total_messages_sent,
        active_sessions=view.active_sessions,
        banned_sessions=view.banned_sessions,
        last_activity=view.last_activity,
        per_group=view.per_group,
        now=now,
    )
    await show(event, text, kb.refreshable(MenuAction.STATS))


async def on_stats(message: Message, db: Database, clock: Clock) -> None:
    await _stats(message, db, clock)


async def on_stats_button(callback: CallbackQuery, db: Database, clock: Clock) -> None:
    await _stats(callback, db, clock)


async def _logs(event: Message | CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    lines = await campaign.recent_log_lines(db, settings.paths.logs_dir, sender_id(event), clock.now())
    await show(event, t.logs(lines) if lines else t.NO_LOGS, kb.logs(has_file=bool(lines)))


async def on_logs(message: Message, db: Database, clock: Clock, settings: Settings) -> None:
    await _logs(message, db, clock, settings)


async def on_logs_button(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    await _logs(callback, db, clock, settings)


async def on_log_file_button(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    user_id = sender_id(callback)
    found = await campaign.latest_log_file(db, settings.paths.logs_dir, user_id, clock.now())
    if found is None:
        await answer_callback(callback, t.NO_LOG_FILE_TODAY, alert=True)
        return
    day, data = found
    if callback.bot is None:
        raise RuntimeError("callback query without a bot")
    await callback.bot.send_document(
        user_id, BufferedInputFile(data, filename=f"adbot-{day}.log"), caption=t.log_file_caption(day)
    )
    await answer_callback(callback)


def setup() -> Router:
    router = Router(name="customer_stats")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    router.message.register(on_stats, Command("stats"))
    router.message.register(on_logs, Command("logs"))
    router.callback_query.register(on_stats_button, MenuCb.filter(F.action == MenuAction.STATS))
    router.callback_query.register(on_logs_button, MenuCb.filter(F.action == MenuAction.LOGS))
    router.callback_query.register(on_log_file_button, MenuCb.filter(F.action == MenuAction.LOG_FILE))
    return router
