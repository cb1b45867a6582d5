"""All routers of the control bot, built fresh on every call (a Router can be attached only once).

Order matters: the admin routers first (their filters only pass admins; plans before the rest), then
/settings (everyone), onboarding (strangers' /start, access requests) before the customer features,
the notification buttons, then the fallback that answers whatever nobody took.
"""

from __future__ import annotations

import importlib

from aiogram import Router

from control_bot.routers import (
    admin_plans,
    customer_campaign,
    customer_export,
    customer_fallback,
    customer_groups,
    customer_menu,
    customer_notify,
    customer_post,
    customer_posts,
    customer_schedule,
    customer_stats,
    onboarding,
)
from control_bot.routers import settings as settings_router
from core.config import Settings


def _admin_routers() -> list[Router]:
    try:
        admin = importlib.import_module("control_bot.routers.admin")
    except ModuleNotFoundError as exc:
        if exc.name != "control_bot.routers.admin":
            raise
        return []
    router: Router = admin.setup()
    return [router]


def setup_routers(settings: Settings) -> list[Router]:
    """Fresh routers in dispatch order. ``settings`` reach handlers as workflow data, not through here;
    the parameter keeps the door open for routers that depend on configuration."""
    del settings
    return [
        admin_plans.setup(),
        *_admin_routers(),
        settings_router.setup(),
        onboarding.setup(),
        customer_menu.setup(),
        customer_post.setup(),
        customer_posts.setup(),
        customer_groups.setup(),
        customer_campaign.setup(),
        customer_schedule.setup(),
        customer_stats.setup(),
        customer_export.setup(),
        customer_notify.setup(),
        customer_fallback.setup(),
    ]
