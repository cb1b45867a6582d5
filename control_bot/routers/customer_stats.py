"""/stats and /logs (with refresh, and today's full log as a file)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from control_bot import keyboards as kb
from control_bot.callbacks import MenuAction, menu_button
from control_bot.filters import IsPrivate
from control_bot.render import answer_callback, register_screen, show
from control_bot.routers.common import sender_id
from control_bot.services import campaign
from core.clock import Clock
from core.config import Settings
from core.texts import status as status_texts
from storage.db import Database


async def on_stats(event: Message | CallbackQuery, db: Database, clock: Clock) -> None:
    now = clock.now()
    view = await campaign.campaign_stats(db, sender_id(event), now)
    text = status_texts.stats(
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
        in_doubt=view.in_doubt,
    )
    await show(event, text, kb.refreshable(MenuAction.STATS))


async def on_logs(event: Message | CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    lines = await campaign.recent_log_lines(db, settings.paths.logs_dir, sender_id(event), clock.now())
    await show(event, status_texts.logs(lines) if lines else status_texts.NO_LOGS(), kb.logs(has_file=bool(lines)))


async def on_log_file_button(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    user_id = sender_id(callback)
    found = await campaign.latest_log_file(db, settings.paths.logs_dir, user_id, clock.now())
    if found is None:
        await answer_callback(callback, status_texts.NO_LOG_FILE_TODAY(), alert=True)
        return
    day, data = found
    if callback.bot is None:
        raise RuntimeError("callback query without a bot")
    await callback.bot.send_document(
        user_id,
        BufferedInputFile(data, filename=status_texts.log_file_name(day)),
        caption=status_texts.log_file_caption(day),
    )
    await answer_callback(callback)


def setup() -> Router:
    router = Router(name="customer_stats")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    register_screen(router, on_stats, Command("stats"), menu_button(MenuAction.STATS))
    register_screen(router, on_logs, Command("logs"), menu_button(MenuAction.LOGS))
    router.callback_query.register(on_log_file_button, menu_button(MenuAction.LOG_FILE))
    return router
