"""What someone who is not (or no longer) a customer reads: strangers, admins without a plan, ended plans.

Plain text unless a text says otherwise; anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

from core.i18n import _
from core.texts.fmt import fmt_time


def not_a_customer(user_id: int) -> str:
    return (
        _(
            "Hello! This bot runs ad campaigns for customers with a plan, and you do not have one yet.\n"
            "To get one, send your Telegram user id to the admin: {user_id}",
            user_id=user_id,
        )
    )


def plan_ended(user_id: int, ended_at: float) -> str:
    return (
        _(
            "Your plan ended on {ended_at}, so the campaign features are off and your campaign is stopped. "
            "To renew, send your Telegram user id to the admin: {user_id}",
            ended_at=fmt_time(ended_at),
            user_id=user_id,
        )
    )


def admin_not_customer(user_id: int) -> str:
    return (
        _(
            "You are an admin of this bot (user id <code>{user_id}</code>), without a customer plan of your "
            "own. /admin opens the admin panel; grant yourself a plan to try the customer side.",
            user_id=user_id,
        )
    )


def help_not_customer(user_id: int) -> str:
    return (
        _(
            "This bot runs ad campaigns for customers with a plan.\n"
            "To get one, send your Telegram user id to the admin: <code>{user_id}</code>",
            user_id=user_id,
        )
    )
