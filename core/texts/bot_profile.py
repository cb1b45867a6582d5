"""What Telegram shows about the bot: the command menus, the description (an empty chat's "What can this
bot do?") and the short description (the profile page and shared links).

Set at start-up for every available language (``control_bot.app``); each function renders in the
reader's language, so the caller enters ``reading(locale)`` first.
"""

from __future__ import annotations

from core.i18n import _

DESCRIPTION_LIMIT = 512  # Telegram's limits, in characters
SHORT_DESCRIPTION_LIMIT = 120


def customer_commands() -> tuple[tuple[str, str], ...]:
    """The customer menu: (command, description) pairs."""
    return (
        ("start", _("Main menu")),
        ("status", _("Campaign status")),
        ("post", _("Set the post you advertise")),
        ("posts", _("Your posts, their order and rotation")),
        ("groups", _("Your groups and their state")),
        ("addgroups", _("Add groups (many at once)")),
        ("pickgroups", _("Pick groups you are in")),
        ("delgroup", _("Remove a group")),
        ("usedefaults", _("Add the admin's default groups")),
        ("interval", _("How often the campaign runs")),
        ("schedule", _("Days and hours to post in")),
        ("run", _("Start the campaign")),
        ("stop", _("Stop the campaign")),
        ("stats", _("Counters")),
        ("export", _("Your send attempts as a CSV file")),
        ("logs", _("Your latest log lines")),
        ("settings", _("Language, time zone, notifications")),
        ("cancel", _("Cancel the current step")),
        ("help", _("What every command does")),
    )


def admin_commands() -> tuple[tuple[str, str], ...]:
    """The admin menu (admins see both: a name on both lists is the admin's)."""
    return (
        ("admin", _("Admin panel")),
        ("pool", _("Session pool: states, API pair usage")),
        ("pairs", _("API pairs")),
        ("addpair", _("Add an API pair: /addpair api_id api_hash")),
        ("delpair", _("Remove an API pair: /delpair api_id [move]")),
        ("grant", _("Grant or extend a plan: /grant user_id sessions days")),
        ("revoke", _("End a plan: /revoke user_id")),
        ("customers", _("Customers, plans and today's sends")),
        ("defaultgroups", _("Default groups")),
        ("adddefaultgroups", _("Add default groups")),
        ("health", _("Engine, pool and sends health")),
        ("checksessions", _("Check idle and quarantined sessions")),
        ("reach", _("A customer's unreachable groups: /reach user_id")),
        ("join", _("Make sessions join a group: /join sessions group")),
        ("joins", _("Recent joins and their outcome")),
        ("proxy", _("A session's proxy: /proxy session_id url|off")),
    )


def BOT_DESCRIPTION() -> str:
    """At most 512 characters, plain text."""
    return _(
        "This bot posts your ad to Telegram groups on a schedule, from sessions (Telegram accounts) the "
        "service gives you with your plan.\n\n"
        "Set your post, add your groups, choose how often, and press Run: the bot posts in every group, "
        "cycle after cycle, and tells you when something needs you.\n\n"
        "No plan yet? Press Start and request access."
    )


def BOT_SHORT_DESCRIPTION() -> str:
    """At most 120 characters, plain text."""
    return _("Posts your ad to Telegram groups on a schedule, from sessions the service gives you.")
