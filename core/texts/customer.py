"""What a customer reads in the control bot: commands, buttons, menus, questions, answers and refusals.

HTML unless a text says it is plain: plain texts become ``AdbotError.user_message`` (the bot's error
handler escapes them). Anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

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

BTN_POST = "📝 Post"
BTN_GROUPS = "👥 Groups"
BTN_INTERVAL = "⏱ Interval"
BTN_RUN = "▶ Run"
BTN_STOP = "⏹ Stop"
BTN_STATUS = "📊 Status"
BTN_STATS = "📈 Stats"
BTN_LOGS = "📜 Logs"
BTN_HELP = "❓ Help"
BTN_MENU = "« Menu"
BTN_REFRESH = "🔄 Refresh"
BTN_SET_POST = "✏ Set the post"
BTN_ADD_GROUPS = "➕ Add groups"
BTN_DEL_GROUP = "➖ Remove a group"
BTN_DEFAULT_GROUPS = "⭐ Use the default groups"
BTN_PREV = "‹ Back"
BTN_NEXT = "More ›"
BTN_CANCEL = "✖ Cancel"
BTN_LOG_FILE = "📄 Today's full log"
BTN_INTERVAL_OTHER = "Other…"


def btn_resume(ref: str) -> str:
    return f"▶ Resume {ref}"


def btn_interval(minutes: int) -> str:
    return f"{minutes} min"


# --- access ----------------------------------------------------------------------------------------
# Plain text (no HTML): these become AccessDenied.user_message, which the error handler escapes.

ONLY_PEOPLE = "Only people can use this bot."
"""A message without a sender (a channel post): there is nobody to answer."""


# --- main menu, help -------------------------------------------------------------------------------


def _campaign_line(running: bool, stop_reason: str | None, next_run_at: float | None, now: float) -> str:
    if running:
        when = "" if next_run_at is None else f", next cycle {in_or_now(next_run_at, now)}"
        return f"▶ <b>running</b>{when}"
    reason = f" ({reason_text(stop_reason)})" if stop_reason else ""
    return f"⏹ <b>stopped</b>{reason}"


def post_summary(kind: str | None, link: str | None, text: str | None) -> str:
    if kind == "link" and link:
        return f"forward of {esc(link)}"
    if kind == "text" and text:
        first = text.strip().splitlines()[0] if text.strip() else ""
        preview = first if len(first) <= 60 else first[:60] + "…"
        return f"text «{esc(preview)}» ({len(text)} characters)"
    return "<i>not set</i> (/post)"


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
    paused = f" ({groups_paused} paused)" if groups_paused else ""
    groups = f"{groups_total}{paused}" if groups_total else "<i>none yet</i> (/addgroups)"
    return (
        f"Hello, {esc(first_name)}! This is your ad campaign.\n\n"
        f"Campaign: {_campaign_line(running, stop_reason, next_run_at, now)}\n"
        f"Post: {post_summary(post_kind, post_link, post_text)}\n"
        f"Groups: {groups}\n"
        f"Interval: every {fmt_duration(interval_s)}\n"
        f"Plan: {plan_sessions} session(s) until {fmt_time(plan_expires_at)} "
        f"({fmt_duration(plan_expires_at - now)} left)\n\n"
        "Choose below, or type /help for the commands."
    )


def help_text(min_interval_s: int, max_interval_s: int, max_groups: int) -> str:
    return (
        "<b>What you can do</b>\n"
        "/start: the main menu\n"
        "/post <i>link or text</i>: the post to send. A link (https://t.me/channel/123) is forwarded "
        "(a private channel's link, t.me/c/…, only by a session of yours that is in that channel); "
        "a text is sent with its formatting. Without an argument the bot asks for it.\n"
        "/groups: your groups and their state; paused groups can be resumed there\n"
        f"/addgroups <i>groups</i>: add groups, one per line or separated by spaces or commas "
        f"(@name or t.me/name for a public group; a -100… id for a group one of your sessions is in; "
        f"an invite link is not a group: ask the admin to have a session join it); a .txt file works too. "
        f"At most {max_groups} groups.\n"
        "/delgroup <i>group</i>: remove one group\n"
        "/usedefaults: add the groups the admin recommends\n"
        f"/interval <i>minutes</i>: time between two cycles, from {fmt_duration(min_interval_s)} "
        f"to {fmt_duration(max_interval_s)}\n"
        "/run: start the campaign; /stop: stop it\n"
        "/status: running or not, sessions, groups, next cycle\n"
        "/stats: counters of the posts sent\n"
        "/logs: your latest log lines (and today's full log as a file)\n"
        "/cancel: cancel the current question\n\n"
        "Your accounts only post where they are already members and allowed to write: "
        "the bot never joins groups by itself (the admin can have a session join one)."
    )


UNKNOWN_COMMAND = "I do not know that command. Type /help for the list, or /start for the menu."
UNKNOWN_TEXT = "I did not understand that. Use the menu (/start) or type /help for the commands."
UNSUPPORTED_MESSAGE = "I cannot use that kind of message here. Type /help for what I understand."
STALE_BUTTON = "This button is no longer valid. Open the menu again with /start."
CANCELLED = "Cancelled."
NOTHING_TO_CANCEL = "There is nothing to cancel."
UP_TO_DATE = "Already up to date."

# --- interval --------------------------------------------------------------------------------------


def interval_ask(current_s: int, min_s: int, max_s: int) -> str:
    return (
        f"Now every {fmt_duration(current_s)}. Choose an interval or send a number of minutes "
        f"({fmt_duration(min_s)} to {fmt_duration(max_s)}). /cancel to keep it."
    )


def interval_not_number(text: str, min_s: int, max_s: int) -> str:
    """Plain text (an IntervalError message)."""
    shown = text if len(text) <= 20 else text[:20] + "…"
    return (
        f'"{shown}" is not a number of minutes. Send a number from {fmt_duration(min_s)} to '
        f"{fmt_duration(max_s)}, like /interval 15"
    )


def interval_out_of_bounds(seconds: int, min_s: int, max_s: int) -> str:
    """Plain text (an IntervalError message)."""
    return (
        f"{fmt_duration(seconds)} is outside the allowed range: the interval must be from {fmt_duration(min_s)} "
        f"to {fmt_duration(max_s)}. Nothing was changed."
    )


INTERVAL_MISSING = "Send the interval as a number of minutes, like /interval 15"


def interval_set(seconds: int, running: bool) -> str:
    more = " It applies from the next cycle." if running else ""
    return f"✅ Interval set: every {fmt_duration(seconds)}.{more}"


# --- run / stop ------------------------------------------------------------------------------------

RUN_NEEDS_POST = "set the post with /post"
RUN_NEEDS_GROUPS = "add groups with /addgroups"
RUN_ALL_PAUSED = "every group is paused: resume one in /groups or add new ones"


def run_not_ready(missing: list[str]) -> str:
    """Plain text (a CampaignNotReady message)."""
    return "The campaign cannot start yet: " + "; ".join(missing) + "."


def run_no_sessions(wanted: int, free: int) -> str:
    """Plain text (a CampaignNotReady message)."""
    return (
        f"The campaign cannot start yet: your plan needs {wanted} more session(s) but only {free} "
        "are free in the pool right now. The admin has been told; try again later."
    )


RUN_NO_PAIR = (
    "The campaign cannot start yet: the service has no room for more accounts right now. "
    "The admin has been told; try again later."
)


def run_started(
    sessions: int, groups: int, interval_s: int, next_run_at: float | None, now: float, *, short: int = 0
) -> str:
    first = "" if next_run_at is None else f" First cycle {in_or_now(next_run_at, now)}."
    missing = (
        f"\n⚠ The pool has no free session for the other {short} of your plan right now; they are added "
        "as soon as there are (the admin has been told)."
        if short
        else ""
    )
    return (
        f"▶ Campaign started: {sessions} session(s), {groups} active group(s), every "
        f"{fmt_duration(interval_s)}.{first}{missing}"
    )


ALREADY_RUNNING = "The campaign is already running. /status shows how it goes."
STOPPED = "⏹ Campaign stopped. /run starts it again."
NOT_RUNNING = "The campaign is not running. /run starts it."
