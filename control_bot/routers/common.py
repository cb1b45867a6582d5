"""Small pieces shared by the customer routers."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from control_bot import keyboards as kb
from control_bot.services import campaign
from control_bot.services.campaign import CampaignEngine, IntervalBounds
from core.config import Settings
from core.errors import AccessDenied
from core.texts import customer as t
from storage.db import Database


def sender_id(event: Message | CallbackQuery) -> int:
    user = event.from_user
    if user is None:  # the routers filter these out; a channel post has no person to answer
        raise AccessDenied(t.ONLY_PEOPLE())
    return user.id


def command_args(command: CommandObject | None) -> str:
    """A command's argument as typed; empty for a button press (it has no command)."""
    return (command.args or "") if command is not None else ""


def first_name(event: Message | CallbackQuery) -> str:
    return event.from_user.first_name if event.from_user else ""


def interval_bounds(settings: Settings) -> IntervalBounds:
    return IntervalBounds(settings.engine.min_cycle_interval, settings.engine.max_cycle_interval)


async def main_menu_screen(
    db: Database, engine: CampaignEngine, user_id: int, name: str, now: float
) -> tuple[str, InlineKeyboardMarkup]:
    view = await campaign.campaign_status(db, engine, user_id, now)
    c = view.customer
    text = t.main_menu(
        first_name=name,
        running=c.status == "running",
        stop_reason=c.stop_reason,
        next_run_at=view.next_run_at,
        plan_sessions=c.plan_sessions,
        plan_expires_at=c.plan_expires_at,
        post_kind=c.post_kind,
        post_link=c.post_link,
        post_text=c.post_text,
        post_media=view.post_media,
        groups_total=view.groups_total,
        groups_paused=view.groups_paused,
        interval_s=c.interval_s,
        now=now,
        post_count=c.post_count,
        rotation=c.rotation,
    )
    return text, kb.main_menu(c.status == "running")
