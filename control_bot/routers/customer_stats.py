"""/stats (all time, or a period: today, 7 or 30 days; per group with the proof of posting; a chart of
deliveries per day) and /logs (with refresh, and today's full log as a file)."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from control_bot import keyboards as kb
from control_bot.callbacks import MenuAction, StatsCb, StatsView, menu_button
from control_bot.charts import ChartLabels, send_chart
from control_bot.filters import IsPrivate
from control_bot.render import answer_callback, register_screen, show
from control_bot.routers.common import sender_id
from control_bot.services import campaign, stats
from core.clock import Clock
from core.config import Settings
from core.customer_log import parse
from core.i18n import tz
from core.periods import Period, period_start
from core.texts import reach as rt
from core.texts import stats as stats_texts
from core.texts import status as status_texts
from core.texts.customer_log import render_line
from storage.db import Database


async def on_stats(event: Message | CallbackQuery, db: Database, clock: Clock) -> None:
    """/stats and the menu's button: all time, with the periods to pick."""
    await show(event, await _all_time(db, sender_id(event), clock.now()), kb.stats_screen(Period.ALL))


async def _all_time(db: Database, user_id: int, now: float) -> str:
    view = await campaign.campaign_stats(db, user_id, now)
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
    return text


async def on_stats_button(callback: CallbackQuery, callback_data: StatsCb, db: Database, clock: Clock) -> None:
    """A /stats button: a period's figures, its per-group page, or its chart."""
    user_id, now, period = sender_id(callback), clock.now(), callback_data.period
    if callback_data.view is StatsView.CHART:
        await _send_chart(callback, db, user_id, period, now)
        return
    if callback_data.view is StatsView.GROUPS:
        await show(callback, *await _groups_screen(db, user_id, period, callback_data.page, now))
        return
    if period is Period.ALL:
        await show(callback, await _all_time(db, user_id, now), kb.stats_screen(period))
        return
    counts = await stats.period_totals(db, user_id, period, now, tz())
    text = stats_texts.period_screen(
        period, period_start(period, now, tz()), counts.delivered, counts.failed, counts.in_doubt, counts.skipped, now
    )
    await show(callback, text, kb.stats_screen(period))


async def _groups_screen(
    db: Database, user_id: int, period: Period, page: int, now: float
) -> tuple[str, InlineKeyboardMarkup]:
    found = await stats.group_page(db, user_id, period, page, now, tz())
    blocks = [
        stats_texts.group_block(
            number,
            f.group.ref,
            f.group.title,
            f.counts.delivered,
            f.counts.failed,
            f.counts.in_doubt,
            None if f.last is None else f.last.at,
            f.link,
            rt.group_state(f.group.paused_reason, f.group.slowmode_until, f.group.slowmode_seconds, now, f.reach),
        )
        for number, f in enumerate(found.groups, start=found.first)
    ]
    text = stats_texts.group_page(period, blocks, found.first, found.total, found.page, found.pages, now)
    return text, kb.stats_groups(period, found.page, found.pages)


async def _send_chart(callback: CallbackQuery, db: Database, user_id: int, period: Period, now: float) -> None:
    days = await stats.customer_series(db, user_id, period, now, tz())
    delivered = sum(d.counts.delivered for d in days)
    if not any(d.counts.tried for d in days):
        await answer_callback(callback, stats_texts.CHART_EMPTY(), alert=True)
        return
    await answer_callback(callback)
    if callback.bot is None:
        raise RuntimeError("callback query without a bot")
    ok, failed, in_doubt = stats_texts.chart_labels()
    labels = ChartLabels(stats_texts.chart_title(period, len(days)), ok, failed, in_doubt)
    await send_chart(callback.bot, user_id, days, labels, stats_texts.chart_caption(period, len(days), delivered))


async def logs_screen(db: Database, settings: Settings, user_id: int, now: float) -> tuple[str, InlineKeyboardMarkup]:
    """/logs: the customer's latest lines in their language and zone."""
    raw = await campaign.recent_log_lines(db, settings.paths.logs_dir, user_id, now)
    lines = [render_line(parse(line)) for line in raw]
    return (status_texts.logs(lines) if lines else status_texts.NO_LOGS()), kb.logs(has_file=bool(lines))


async def on_logs(event: Message | CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    await show(event, *await logs_screen(db, settings, sender_id(event), clock.now()))


async def on_log_file_button(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    user_id = sender_id(callback)
    found = await campaign.latest_log_file(db, settings.paths.logs_dir, user_id, clock.now())
    if found is None:
        await answer_callback(callback, status_texts.NO_LOG_FILE_TODAY(), alert=True)
        return
    day, raw = found
    data = await asyncio.to_thread(_rendered, raw)  # the reader's scope follows into the thread
    if callback.bot is None:
        raise RuntimeError("callback query without a bot")
    await callback.bot.send_document(
        user_id,
        BufferedInputFile(data, filename=status_texts.log_file_name(day)),
        caption=status_texts.log_file_caption(day),
    )
    await answer_callback(callback)


def _rendered(raw: bytes) -> bytes:
    """The day's file as the reader reads it: each structured line in their language and zone."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    return "\n".join(render_line(parse(line)) for line in lines).encode("utf-8") + b"\n"


def setup() -> Router:
    router = Router(name="customer_stats")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    register_screen(router, on_stats, Command("stats"), menu_button(MenuAction.STATS))
    router.callback_query.register(on_stats_button, StatsCb.filter())
    register_screen(router, on_logs, Command("logs"), menu_button(MenuAction.LOGS))
    router.callback_query.register(on_log_file_button, menu_button(MenuAction.LOG_FILE))
    return router
