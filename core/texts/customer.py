"""What a customer reads in the control bot: commands, buttons, menus, questions, answers and refusals.

HTML unless a text says it is plain: plain texts become ``AdbotError.user_message`` (the bot's error
handler escapes them). Anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

from core.i18n import _, n_
from core.texts.fmt import esc, fmt_duration, fmt_time, in_or_now
from core.texts.outcomes import STOP_REASON_CUSTOMER as STOP_REASON_CUSTOMER  # re-exported: the services store it
from core.texts.outcomes import reason_text

# --- commands (registered with setMyCommands) -----------------------------------------------------

CUSTOMER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Main menu"),
    ("status", "Campaign status"),
    ("post", "Set the post: a t.me link or a text"),
    ("groups", "Your groups and their state"),
    ("addgroups", "Add groups (many at once)"),
    ("delgroup", "Remove a group"),
    ("usedefaults", "Add the admin's default groups"),
    ("interval", "Minutes between two cycles"),
    ("run", "Start the campaign"),
    ("stop", "Stop the campaign"),
    ("stats", "Counters"),
    ("logs", "Your latest log lines"),
    ("cancel", "Cancel the current step"),
    ("help", "What every command does"),
)

# --- buttons ---------------------------------------------------------------------------------------


def BTN_POST() -> str:
    return _("📝 Post")


def BTN_GROUPS() -> str:
    return _("👥 Groups")


def BTN_INTERVAL() -> str:
    return _("⏱ Interval")


def BTN_RUN() -> str:
    return _("▶ Run")


def BTN_STOP() -> str:
    return _("⏹ Stop")


def BTN_STATUS() -> str:
    return _("📊 Status")


def BTN_STATS() -> str:
    return _("📈 Stats")


def BTN_LOGS() -> str:
    return _("📜 Logs")


def BTN_HELP() -> str:
    return _("❓ Help")


def BTN_MENU() -> str:
    return _("« Menu")


def BTN_REFRESH() -> str:
    return _("🔄 Refresh")


def BTN_SET_POST() -> str:
    return _("✏ Set the post")


def BTN_ADD_GROUPS() -> str:
    return _("➕ Add groups")


def BTN_DEL_GROUP() -> str:
    return _("➖ Remove a group")


def BTN_DEFAULT_GROUPS() -> str:
    return _("⭐ Use the default groups")


def BTN_PREV() -> str:
    return _("‹ Back")


def BTN_NEXT() -> str:
    return _("More ›")


def BTN_CANCEL() -> str:
    return _("✖ Cancel")


def BTN_LOG_FILE() -> str:
    return _("📄 Today's full log")


def BTN_INTERVAL_OTHER() -> str:
    return _("Other…")


def btn_resume(ref: str) -> str:
    return _("▶ Resume {ref}", ref=ref)


def btn_interval(minutes: int) -> str:
    return _("{minutes} min", minutes=minutes)


# --- access ----------------------------------------------------------------------------------------
# Plain text (no HTML): these become AccessDenied.user_message, which the error handler escapes.


def ONLY_PEOPLE() -> str:
    """A message without a sender (a channel post): there is nobody to answer."""
    return _("Only people can use this bot.")


# --- main menu, help -------------------------------------------------------------------------------


def _campaign_line(running: bool, stop_reason: str | None, next_run_at: float | None, now: float) -> str:
    if running:
        when = "" if next_run_at is None else _(", next cycle {when}", when=in_or_now(next_run_at, now))
        return _("▶ <b>running</b>{when}", when=when)
    reason = f" ({reason_text(stop_reason)})" if stop_reason else ""
    return _("⏹ <b>stopped</b>{reason}", reason=reason)


def post_summary(kind: str | None, link: str | None, text: str | None) -> str:
    if kind == "link" and link:
        return _("forward of {link}", link=esc(link))
    if kind == "text" and text:
        first = text.strip().splitlines()[0] if text.strip() else ""
        preview = first if len(first) <= 60 else first[:60] + "…"
        return _("text «{preview}» ({count} characters)", preview=esc(preview), count=len(text))
    return _("<i>not set</i> (/post)")


def main_menu(
    *,
    first_name: str,
    running: bool,
    stop_reason: str | None,
    next_run_at: float | None,
    plan_sessions: int,
    plan_expires_at: float,
    post_kind: str | None,
    post_link: str | None,
    post_text: str | None,
    groups_total: int,
    groups_paused: int,
    interval_s: int,
    now: float,
) -> str:
    paused = _(" ({groups_paused} paused)", groups_paused=groups_paused) if groups_paused else ""
    groups = f"{groups_total}{paused}" if groups_total else _("<i>none yet</i> (/addgroups)")
    return (
        n_(
            "Hello, {first_name}! This is your ad campaign.\n"
            "\n"
            "Campaign: {campaign_line}\n"
            "Post: {post_summary}\n"
            "Groups: {groups}\n"
            "Interval: every {duration}\n"
            "Plan: {n} session until {plan_expires_at} ({duration_2} left)\n"
            "\n"
            "Choose below, or type /help for the commands.",
            "Hello, {first_name}! This is your ad campaign.\n"
            "\n"
            "Campaign: {campaign_line}\n"
            "Post: {post_summary}\n"
            "Groups: {groups}\n"
            "Interval: every {duration}\n"
            "Plan: {n} sessions until {plan_expires_at} ({duration_2} left)\n"
            "\n"
            "Choose below, or type /help for the commands.",
            plan_sessions,
            first_name=esc(first_name),
            campaign_line=_campaign_line(running, stop_reason, next_run_at, now),
            post_summary=post_summary(post_kind, post_link, post_text),
            groups=groups,
            duration=fmt_duration(interval_s),
            plan_expires_at=fmt_time(plan_expires_at),
            duration_2=fmt_duration(plan_expires_at - now),
        )
    )


def help_text(min_interval_s: int, max_interval_s: int, max_groups: int) -> str:
    return (
        _(
            "<b>What you can do</b>\n"
            "/start: the main menu\n"
            "/post <i>link or text</i>: the post to send. A link (https://t.me/channel/123) is forwarded (a "
            "private channel's link, t.me/c/…, only by a session of yours that is in that channel); a text "
            "is sent with its formatting. Without an argument the bot asks for it.\n"
            "/groups: your groups and their state; paused groups can be resumed there\n"
            "/addgroups <i>groups</i>: add groups, one per line or separated by spaces or commas (@name or "
            "t.me/name for a public group; a -100… id for a group one of your sessions is in; an invite link "
            "is not a group: ask the admin to have a session join it); a .txt file works too. At most "
            "{max_groups} groups.\n"
            "/delgroup <i>group</i>: remove one group\n"
            "/usedefaults: add the groups the admin recommends\n"
            "/interval <i>minutes</i>: time between two cycles, from {duration} to {duration_2}\n"
            "/run: start the campaign; /stop: stop it\n"
            "/status: running or not, sessions, groups, next cycle\n"
            "/stats: counters of the posts sent\n"
            "/logs: your latest log lines (and today's full log as a file)\n"
            "/cancel: cancel the current question\n"
            "\n"
            "Your accounts only post where they are already members and allowed to write: the bot never "
            "joins groups by itself (the admin can have a session join one).",
            max_groups=max_groups,
            duration=fmt_duration(min_interval_s),
            duration_2=fmt_duration(max_interval_s),
        )
    )


def UNKNOWN_COMMAND() -> str:
    return _("I do not know that command. Type /help for the list, or /start for the menu.")


def UNKNOWN_TEXT() -> str:
    return _("I did not understand that. Use the menu (/start) or type /help for the commands.")


def UNSUPPORTED_MESSAGE() -> str:
    return _("I cannot use that kind of message here. Type /help for what I understand.")


def STALE_BUTTON() -> str:
    return _("This button is no longer valid. Open the menu again with /start.")


def CANCELLED() -> str:
    return _("Cancelled.")


def NOTHING_TO_CANCEL() -> str:
    return _("There is nothing to cancel.")


def UP_TO_DATE() -> str:
    return _("Already up to date.")

# --- interval --------------------------------------------------------------------------------------


def interval_ask(current_s: int, min_s: int, max_s: int) -> str:
    return (
        _(
            "Now every {duration}. Choose an interval or send a number of minutes ({duration_2} to "
            "{duration_3}). /cancel to keep it.",
            duration=fmt_duration(current_s),
            duration_2=fmt_duration(min_s),
            duration_3=fmt_duration(max_s),
        )
    )


def interval_not_number(text: str, min_s: int, max_s: int) -> str:
    """Plain text (an IntervalError message)."""
    shown = text if len(text) <= 20 else text[:20] + "…"
    return (
        _(
            "\"{shown}\" is not a number of minutes. Send a number from {duration} to {duration_2}, like /interval 15",
            shown=shown,
            duration=fmt_duration(min_s),
            duration_2=fmt_duration(max_s),
        )
    )


def interval_out_of_bounds(seconds: int, min_s: int, max_s: int) -> str:
    """Plain text (an IntervalError message)."""
    return (
        _(
            "{duration} is outside the allowed range: the interval must be from {duration_2} to "
            "{duration_3}. Nothing was changed.",
            duration=fmt_duration(seconds),
            duration_2=fmt_duration(min_s),
            duration_3=fmt_duration(max_s),
        )
    )


def INTERVAL_MISSING() -> str:
    return _("Send the interval as a number of minutes, like /interval 15")


def interval_set(seconds: int, running: bool) -> str:
    more = _(" It applies from the next cycle.") if running else ""
    return _("✅ Interval set: every {duration}.{more}", duration=fmt_duration(seconds), more=more)


# --- run / stop ------------------------------------------------------------------------------------


def RUN_NEEDS_POST() -> str:
    return _("set the post with /post")


def RUN_NEEDS_GROUPS() -> str:
    return _("add groups with /addgroups")


def RUN_ALL_PAUSED() -> str:
    return _("every group is paused: resume one in /groups or add new ones")


def run_not_ready(missing: list[str]) -> str:
    """Plain text (a CampaignNotReady message)."""
    return _("The campaign cannot start yet: ") + "; ".join(missing) + "."


def run_no_sessions(wanted: int, free: int) -> str:
    """Plain text (a CampaignNotReady message)."""
    return (
        n_(
            "The campaign cannot start yet: your plan needs {n} more session but only {free} are free in the "
            "pool right now. The admin has been told; try again later.",
            "The campaign cannot start yet: your plan needs {n} more sessions but only {free} are free in "
            "the pool right now. The admin has been told; try again later.",
            wanted,
            free=free,
        )
    )


def RUN_NO_PAIR() -> str:
    return _(
        "The campaign cannot start yet: the service has no room for more accounts right now. The admin has "
        "been told; try again later.",
    )


def run_started(
    sessions: int, groups: int, interval_s: int, next_run_at: float | None, now: float, *, short: int = 0
) -> str:
    first = "" if next_run_at is None else _(" First cycle {when}.", when=in_or_now(next_run_at, now))
    missing = (
        _(
            "\n"
            "⚠ The pool has no free session for the other {short} of your plan right now; they are added as "
            "soon as there are (the admin has been told).",
            short=short,
        )
        if short
        else ""
    )
    # i18n: a "(s)" plural left for the owner (n_ with whole sentences)
    return (
        _(
            "▶ Campaign started: {sessions} session(s), {groups} active group(s), every {duration}.{first}{missing}",
            sessions=sessions,
            groups=groups,
            duration=fmt_duration(interval_s),
            first=first,
            missing=missing,
        )
    )


def ALREADY_RUNNING() -> str:
    return _("The campaign is already running. /status shows how it goes.")


def STOPPED() -> str:
    return _("⏹ Campaign stopped. /run starts it again.")


def NOT_RUNNING() -> str:
    return _("The campaign is not running. /run starts it.")
