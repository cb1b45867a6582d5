"""Every user-facing text of the control bot, in one place (ready for translation).

HTML parse mode: anything that came from a user (post text, group names, file names, error details)
must go through ``esc()`` before it is put into a text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from core.states import EventKind


def esc(value: object) -> str:
    return escape(str(value), quote=False)


# ---------------------------------------------------------------------------------------------------
# Common and customer texts (owned by the customer-side work)
# ---------------------------------------------------------------------------------------------------

# The customer side speaks in UTC: one clock for every customer, stated wherever a time is shown.


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def fmt_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def fmt_duration(seconds: float) -> str:
    """A short human duration: '45 s', '5 min', '2 h 5 min', '3 d 4 h'."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    minutes, s = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {s} s" if s and minutes < 10 else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def fmt_minutes(seconds: int) -> str:
    """Seconds said as minutes: 300 -> '5', 90 -> '1.5'."""
    return str(seconds // 60) if seconds % 60 == 0 else f"{seconds / 60:.1f}".rstrip("0").rstrip(".")


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


def not_a_customer(user_id: int) -> str:
    return (
        "Hello! This bot runs ad campaigns for customers with a plan, and you do not have one yet.\n"
        f"To get one, send your Telegram user id to the admin: {user_id}"
    )


def plan_ended(user_id: int, ended_at: float) -> str:
    return (
        f"Your plan ended on {fmt_time(ended_at)}, so the campaign features are off and your campaign "
        f"is stopped. To renew, send your Telegram user id to the admin: {user_id}"
    )


# --- main menu, help -------------------------------------------------------------------------------


# Machine reasons the engine and services store, said in words (anything else is shown as stored).
_STOP_REASONS = {
    "plan_expired": "your plan expired",
    "no_post": "no post is set",
    "post_invalid": "the post can no longer be sent",
    "restart": "the service restarted",
    "shutdown": "the service restarted",
    "by_customer": "stopped by you",
}

# Telegram errors (Telethon class names, as the engine records them) a customer may meet.
_ERRORS = {
    "ChatWriteForbiddenError": "the account may not write there",
    "ChatSendPlainForbiddenError": "text messages are not allowed there",
    "ChatSendMediaForbiddenError": "media is not allowed there",
    "ChatAdminRequiredError": "only admins may post there",
    "ChannelPrivateError": "the group is private or the account was removed",
    "UserNotParticipantError": "the account is not a member",
    "ChannelInvalidError": "the group does not exist",
    "PeerIdInvalidError": "the group is unknown to the account",
    "UsernameNotOccupiedError": "nobody has that username",
    "UsernameInvalidError": "the username is invalid",
    "MessageIdInvalidError": "the post was deleted",
    "ChatForwardsRestrictedError": "the source chat does not allow forwarding",
    "PeerNotCachedError": "the group could not be found by the account",
}


def reason_text(reason: str) -> str:
    """A stored stop/pause reason in words (escaped)."""
    text = _STOP_REASONS.get(reason, reason)
    for name, words in _ERRORS.items():
        if name in text:
            text = text.replace(name, words)
    return esc(text)


def _campaign_line(running: bool, stop_reason: str | None, next_run_at: float | None, now: float) -> str:
    if running:
        when = "" if next_run_at is None else f", next cycle {_in_or_now(next_run_at, now)}"
        return f"▶ <b>running</b>{when}"
    reason = f" ({reason_text(stop_reason)})" if stop_reason else ""
    return f"⏹ <b>stopped</b>{reason}"


def _in_or_now(ts: float, now: float) -> str:
    return "now" if ts <= now + 1 else f"in {fmt_duration(ts - now)}"


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
        f"Interval: every {fmt_minutes(interval_s)} min\n"
        f"Plan: {plan_sessions} session(s) until {fmt_time(plan_expires_at)} "
        f"({fmt_duration(plan_expires_at - now)} left)\n\n"
        "Choose below, or type /help for the commands."
    )


def help_text(min_interval_s: int, max_interval_s: int, max_groups: int) -> str:
    return (
        "<b>What you can do</b>\n"
        "/start: the main menu\n"
        "/post <i>link or text</i>: the post to send. A link (https://t.me/channel/123) is forwarded; "
        "a text is sent with its formatting. Without an argument the bot asks for it.\n"
        "/groups: your groups and their state; paused groups can be resumed there\n"
        f"/addgroups <i>groups</i>: add groups, one per line or separated by spaces or commas "
        f"(@name, t.me/name, -1001234567890); a .txt file works too. At most {max_groups} groups.\n"
        "/delgroup <i>group</i>: remove one group\n"
        "/usedefaults: add the groups the admin recommends\n"
        f"/interval <i>minutes</i>: time between two cycles, from {fmt_minutes(min_interval_s)} "
        f"to {fmt_minutes(max_interval_s)} minutes\n"
        "/run: start the campaign; /stop: stop it\n"
        "/status: running or not, sessions, groups, next cycle\n"
        "/stats: counters of the posts sent\n"
        "/logs: your latest log lines (and today's full log as a file)\n"
        "/cancel: cancel the current question\n\n"
        "Your accounts only post where they are already members and allowed to write: "
        "the bot never joins groups."
    )


def admin_not_customer(user_id: int) -> str:
    return (
        f"You are an admin of this bot (user id <code>{user_id}</code>), without a customer plan of your own. "
        "/admin opens the admin panel; grant yourself a plan to try the customer side."
    )


def help_not_customer(user_id: int) -> str:
    return (
        "This bot runs ad campaigns for customers with a plan.\n"
        f"To get one, send your Telegram user id to the admin: <code>{user_id}</code>"
    )


UNKNOWN_COMMAND = "I do not know that command. Type /help for the list, or /start for the menu."
UNKNOWN_TEXT = "I did not understand that. Use the menu (/start) or type /help for the commands."
UNSUPPORTED_MESSAGE = "I cannot use that kind of message here. Type /help for what I understand."
STALE_BUTTON = "This button is no longer valid. Open the menu again with /start."
CANCELLED = "Cancelled."
NOTHING_TO_CANCEL = "There is nothing to cancel."
GENERIC_ERROR = "Sorry, something went wrong on our side. Please try again in a moment."
TRY_AGAIN = "The service is busy right now, please try again in a few seconds."
UP_TO_DATE = "Already up to date."

# --- post ------------------------------------------------------------------------------------------

POST_ASK = (
    "Send the post now:\n"
    "• a link to a message in a channel or group (Copy Link in Telegram), like https://t.me/channel/123: "
    "it is forwarded;\n"
    "• or the text itself, formatted as you like: it is sent as is.\n\n"
    "/cancel to keep the current post."
)
POST_NOT_TEXT = "Send the post as a link or as text (photos and files are not supported). /cancel to stop."
POST_EMPTY = "The post is empty: send a link or some text."


def post_too_long(units: int, limit: int) -> str:
    return f"That text is too long for one Telegram message: {units} characters, at most {limit}. Nothing was changed."


def post_current(kind: str | None, link: str | None, text: str | None) -> str:
    return f"<b>Your post</b>: {post_summary(kind, link, text)}"


def post_saved_link(link: str, running: bool) -> str:
    more = " The next cycle uses it." if running else " Start with /run when ready."
    return f"✅ Post set: the bot will forward {esc(link)}.{more}"


def post_saved_text(text: str, running: bool) -> str:
    more = " The next cycle uses it." if running else " Start with /run when ready."
    return f"✅ Post set: a text of {len(text)} characters, formatting kept.{more}"


# --- groups ----------------------------------------------------------------------------------------

GROUPS_ASK = (
    "Send the groups to add, one per line or separated by spaces or commas, like:\n"
    "@mygroup\nhttps://t.me/othergroup\n-1001234567890\n"
    "A .txt file with one group per line works too. /cancel to stop."
)
DEL_GROUP_ASK = "Send the group to remove (as shown in /groups). /cancel to stop."
GROUPS_FILE_NOT_TXT = "Send the groups as a .txt file (one group per line) or as text."
NO_DEFAULT_GROUPS = "The admin has not set any default groups yet."


def groups_file_too_big(limit_kb: int) -> str:
    return f"That file is too big: a list of groups fits in {limit_kb} KB."


def group_state(
    paused_reason: str | None, slowmode_until: float | None, slowmode_seconds: int | None, now: float
) -> str:
    if paused_reason is not None:
        return f"⏸ paused: {reason_text(paused_reason)}"
    if slowmode_until is not None and slowmode_until > now:
        window = f" {fmt_duration(slowmode_seconds)}" if slowmode_seconds else ""
        return f"🐢 slow mode{window}, next post {_in_or_now(slowmode_until, now)}"
    return "✅ ok"


def groups_list(
    rows: list[tuple[str, str]],
    *,
    first: int,
    total: int,
    active: int,
    paused: int,
    page: int,
    pages: int,
    limit: int,
) -> str:
    """``rows``: (ref, rendered state) for the groups on this page."""
    if not total:
        return (
            "<b>Your groups</b>: none yet.\n"
            "Add some with /addgroups (or the button below), one per line: @name, t.me/name or -100… ids."
        )
    head = f"<b>Your groups</b>: {total} of at most {limit}, {active} active, {paused} paused"
    if pages > 1:
        head += f" (page {page + 1} of {pages})"
    lines = [f"{i}. <code>{esc(ref)}</code> {state}" for i, (ref, state) in enumerate(rows, start=first)]
    return head + "\n\n" + "\n".join(lines)


# Telegram refuses a message over 4096 characters of parsed text: each list of a groups report gets a
# share of that (in characters as shown, before HTML escaping), whatever the customer sent.
_ADDED_BUDGET, _LIST_BUDGET, _BAD_BUDGET = 1500, 500, 1200


def _fitting(items: Sequence[str], count: int, budget: int) -> list[str]:
    """The first of ``items`` (at most ``count``) whose lengths, with a separator each, fit ``budget``."""
    kept: list[str] = []
    for item in items[:count]:
        budget -= len(item) + 2
        if budget < 0:
            break
        kept.append(item)
    return kept


def groups_added(
    added: list[str], existing: list[str], bad: list[tuple[str, str]], over_limit: list[str], limit: int, total: int
) -> str:
    parts: list[str] = []
    if added:
        shown = _fitting(added, 50, _ADDED_BUDGET)
        parts.append(f"✅ Added {len(added)} group(s): " + ", ".join(f"<code>{esc(r)}</code>" for r in shown))
        if len(added) > len(shown):
            parts[-1] += f" and {len(added) - len(shown)} more"
    if existing:
        shown = _fitting(existing, 20, _LIST_BUDGET)
        listed = ", ".join(esc(r) for r in shown) + (" …" if len(existing) > len(shown) else "")
        parts.append(f"Already in your list ({len(existing)}): {listed}")
    if over_limit:
        shown = _fitting(over_limit, 20, _LIST_BUDGET)
        parts.append(
            f"⚠ Not added, you reached the limit of {limit} groups ({len(over_limit)}): "
            + ", ".join(esc(r) for r in shown)
            + (" …" if len(over_limit) > len(shown) else "")
        )
    if bad:
        reasons = _fitting([reason for _, reason in bad], 20, _BAD_BUDGET)
        lines = "\n".join(f"• {esc(reason)}" for reason in reasons)
        more = f"\n… and {len(bad) - len(reasons)} more" if len(bad) > len(reasons) else ""
        parts.append(f"❌ Not understood ({len(bad)}):\n{lines}{more}")
    if not added and not existing and not over_limit and not bad:
        parts.append("Nothing to add.")
    parts.append(f"You now have {total} group(s). /groups to see them.")
    return "\n\n".join(parts)


def group_removed(ref: str, total: int) -> str:
    return f"🗑 Removed <code>{esc(ref)}</code>. You now have {total} group(s)."


def group_not_yours(ref: str) -> str:
    """Plain text (a NotFound message)."""
    return f"{ref} is not in your groups. /groups shows the list."


GROUP_NOT_FOUND = "That group is not in your list (any more). Open /groups again."


def group_resumed(ref: str) -> str:
    return f"▶ {ref} is active again."


def group_not_paused(ref: str) -> str:
    return f"{ref} is not paused."


# --- interval --------------------------------------------------------------------------------------


def interval_ask(current_s: int, min_s: int, max_s: int) -> str:
    return (
        f"Now every {fmt_minutes(current_s)} min. Choose an interval or send a number of minutes "
        f"({fmt_minutes(min_s)} to {fmt_minutes(max_s)}). /cancel to keep it."
    )


def interval_not_number(text: str, min_s: int, max_s: int) -> str:
    """Plain text (an IntervalError message)."""
    shown = text if len(text) <= 20 else text[:20] + "…"
    return (
        f'"{shown}" is not a number of minutes. Send a number from {fmt_minutes(min_s)} to '
        f"{fmt_minutes(max_s)}, like /interval 15"
    )


def interval_out_of_bounds(minutes: str, min_s: int, max_s: int) -> str:
    """Plain text (an IntervalError message)."""
    return (
        f"{minutes} minutes is outside the allowed range: the interval must be from {fmt_minutes(min_s)} "
        f"to {fmt_minutes(max_s)} minutes. Nothing was changed."
    )


INTERVAL_MISSING = "Send the interval as a number of minutes, like /interval 15"


def interval_set(seconds: int, running: bool) -> str:
    more = " It applies from the next cycle." if running else ""
    return f"✅ Interval set: every {fmt_minutes(seconds)} min.{more}"


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
    first = "" if next_run_at is None else f" First cycle {_in_or_now(next_run_at, now)}."
    missing = (
        f"\n⚠ The pool has no free session for the other {short} of your plan right now; they are added "
        "as soon as there are (the admin has been told)."
        if short
        else ""
    )
    return (
        f"▶ Campaign started: {sessions} session(s), {groups} active group(s), every "
        f"{fmt_minutes(interval_s)} min.{first}{missing}"
    )


ALREADY_RUNNING = "The campaign is already running. /status shows how it goes."
STOPPED = "⏹ Campaign stopped. /run starts it again."
NOT_RUNNING = "The campaign is not running. /run starts it."
STOP_REASON_CUSTOMER = "by_customer"

# --- status, stats, logs ---------------------------------------------------------------------------


def status(
    *,
    running: bool,
    stop_reason: str | None,
    cycle_no: int,
    cycle_in_progress: bool,
    next_run_at: float | None,
    sessions: dict[str, int],
    groups_active: int,
    groups_paused: int,
    groups_slow: int,
    last_activity: float | None,
    interval_s: int,
    plan_sessions: int,
    plan_expires_at: float,
    post_kind: str | None,
    post_link: str | None,
    post_text: str | None,
    now: float,
) -> str:
    owned = sum(sessions.values())
    states = ", ".join(f"{n} {state}" for state, n in sorted(sessions.items()) if n)
    cycle = f"cycle {cycle_no} in progress" if cycle_in_progress else f"{cycle_no} cycle(s) done"
    if running and next_run_at is not None:
        nxt = f"{fmt_time(next_run_at)} ({_in_or_now(next_run_at, now)})"
    else:
        nxt = "none (not running)" if not running else "being planned"
    slow = f", {groups_slow} in slow mode" if groups_slow else ""
    return (
        "<b>Status</b>\n"
        f"Campaign: {_campaign_line(running, stop_reason, None, now)}, {cycle}\n"
        f"Next cycle: {nxt}\n"
        f"Sessions: {owned} of {plan_sessions}" + (f" ({states})" if states else "") + "\n"
        f"Groups: {groups_active} active, {groups_paused} paused{slow}\n"
        f"Post: {post_summary(post_kind, post_link, post_text)}\n"
        f"Interval: every {fmt_minutes(interval_s)} min\n"
        f"Last activity: {fmt_time(last_activity)}\n"
        f"Plan until: {fmt_time(plan_expires_at)} ({fmt_duration(plan_expires_at - now)} left)\n"
        f"<i>as of {fmt_time(now)}</i>"
    )


def stats(
    *,
    total_posts: int,
    total_success: int,
    total_failures: int,
    total_flood_waits: int,
    total_messages_sent: int,
    active_sessions: int,
    banned_sessions: int,
    last_activity: float | None,
    per_group: list[tuple[str, int, int]],
    now: float,
) -> str:
    head = (
        "<b>Stats</b>\n"
        f"Posts tried: {total_posts}\n"
        f"Successful: {total_success}\n"
        f"Failed: {total_failures}\n"
        f"Flood waits: {total_flood_waits}\n"
        f"Messages sent: {total_messages_sent}\n"
        f"Active sessions: {active_sessions}\n"
        f"Banned sessions: {banned_sessions}\n"
        f"Last activity: {fmt_time(last_activity)}\n"
    )
    tail = f"\n<i>as of {fmt_time(now)}</i>"
    if not per_group:
        return head + tail
    lines: list[str] = []
    budget = 3900 - len(head) - len(tail)
    for shown, (ref, ok, failed) in enumerate(per_group):
        line = f"<code>{esc(ref)}</code>: {ok} ok, {failed} failed"
        if budget - len(line) - 40 < 0:
            lines.append(f"… and {len(per_group) - shown} more")
            break
        budget -= len(line) + 1
        lines.append(line)
    return head + "\n<b>Per group</b>\n" + "\n".join(lines) + tail


NO_LOGS = "No log lines yet: they appear once your campaign runs."
NO_LOG_FILE_TODAY = "There is no log file for today yet."


def logs(lines: list[str], limit: int = 4096) -> str:
    """The newest lines that fit one message, oldest first, in a <pre> block."""
    head = f"<b>Your latest log lines</b> (UTC, newest last, {{n}} of the last {len(lines)}):\n"
    budget = limit - len(head) - 20 - len("<pre></pre>")
    kept: list[str] = []
    for line in reversed(lines):
        piece = esc(line)
        if len(piece) + 1 > budget:
            break
        budget -= len(piece) + 1
        kept.append(piece)
    kept.reverse()
    return head.format(n=len(kept)) + "<pre>" + "\n".join(kept) + "</pre>"


def log_file_caption(day: str) -> str:
    return f"Your full log for {day} (UTC)."


# --- notifications (outbox events) -----------------------------------------------------------------
# One renderer per EventKind; ``for_admin`` events (customer_id NULL) speak about the customer in the
# third person. Payload keys are those the engine, the pool and the admin services write.


def _p(payload: Mapping[str, Any], key: str, default: str = "?") -> str:
    value = payload.get(key)
    return esc(default if value is None else value)


def _reason(payload: Mapping[str, Any], default: str) -> str:
    value = payload.get("reason")
    return esc(default) if value is None else reason_text(str(value))


def _whose(p: Mapping[str, Any]) -> str:
    owner = p.get("owner_id", p.get("customer_id"))
    return "" if owner is None else f" of customer <code>{esc(owner)}</code>"


def _ev_session_dead(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        phone = f" ({_p(p, 'phone')})" if p.get("phone") else ""
        return f"☠ Session #{_p(p, 'session_id')}{phone}{_whose(p)} is dead: {_reason(p, 'unknown')}."
    return f"⚠ One of your sessions stopped working ({_reason(p, 'account no longer usable')})."


def _ev_session_limited(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        phone = f" ({_p(p, 'phone')})" if p.get("phone") else ""
        return f"⚠ Session #{_p(p, 'session_id')}{phone}{_whose(p)} is limited: {_reason(p, 'unknown')}."
    return f"⚠ One of your sessions is limited by Telegram ({_reason(p, 'spam limit')}) and was set aside."


def _ev_session_replaced(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return (
            f"🔁 Session #{_p(p, 'old_session_id')}{_whose(p)} was replaced by #{_p(p, 'new_session_id')}."
        )
    return "🔁 A session of yours was replaced by a fresh one from the pool. Your campaign goes on."


def _ev_no_replacement(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return (
            f"⚠ No replacement for session #{_p(p, 'session_id')}{_whose(p)}: {_reason(p, 'pool empty')}. "
            "Add sessions to the pool."
        )
    return (
        "⚠ A session of yours stopped working and there is no free session to replace it right now. "
        "Your campaign goes on with the others; the admin has been told."
    )


def _ev_group_paused(p: Mapping[str, Any], admin: bool) -> str:
    group = esc(next((p[k] for k in ("group", "ref", "group_ref") if p.get(k) is not None), "?"))
    if admin:
        return f"⏸ Group <code>{group}</code>{_whose(p)} paused: {_reason(p, 'it kept failing')}."
    return (
        f"⏸ Group <code>{group}</code> was paused: {_reason(p, 'it kept failing')}. "
        "Resume it in /groups once fixed."
    )


def _why_post(p: Mapping[str, Any]) -> str:
    error = p.get("error")
    return reason_text(str(error)) if error else "the message is not reachable"


def _ev_post_invalid(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return f"❌ The post{_whose(p)} can no longer be sent: {_why_post(p)}."
    return (
        f"❌ Your post{' ' + _p(p, 'link') if p.get('link') else ''} can no longer be sent ({_why_post(p)}). "
        "Set a new one with /post, then /run."
    )


def _ev_campaign_stopped(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return f"⏹ Campaign{_whose(p)} stopped: {_reason(p, 'by the service')}."
    return f"⏹ Your campaign was stopped: {_reason(p, 'by the service')}. /run starts it again."


def _ev_campaign_resumed(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return f"▶ Campaign{_whose(p)} resumed after a restart."
    return "▶ Your campaign was resumed after a restart of the service."


def _ev_plan_granted(p: Mapping[str, Any], admin: bool) -> str:
    expires = p.get("expires_at")
    until = f" until {fmt_time(float(expires))}" if isinstance(expires, int | float) else ""
    if admin:
        return f"🎉 Plan{_whose(p)}: {_p(p, 'sessions')} session(s){until}."
    verb = "was extended" if p.get("extended") else "is ready"
    return f"🎉 Your plan {verb}: {_p(p, 'sessions')} session(s){until}. Type /start to set up your campaign."


def _ev_plan_revoked(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return f"Plan{_whose(p)} revoked."
    return "Your plan was ended by the admin and your campaign is stopped. Contact the admin to renew it."


def _ev_plan_expired(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return f"⌛ Plan{_whose(p)} expired; the campaign was stopped."
    return "⌛ Your plan has expired, so your campaign is stopped. Ask the admin to renew it."


def _ev_pool_low(p: Mapping[str, Any], admin: bool) -> str:
    return (
        f"⚠ The session pool is low: {_p(p, 'free')} free session(s) left (threshold {_p(p, 'threshold')}). "
        "Upload more sessions."
    )


def _ev_pair_full(p: Mapping[str, Any], admin: bool) -> str:
    return (
        f"⚠ API pair {_p(p, 'api_id')} is full ({_p(p, 'capacity')} sessions). "
        "Add another API pair so more sessions can be used."
    )


_EVENT_TEXTS: dict[EventKind, Callable[[Mapping[str, Any], bool], str]] = {
    EventKind.SESSION_DEAD: _ev_session_dead,
    EventKind.SESSION_LIMITED: _ev_session_limited,
    EventKind.SESSION_REPLACED: _ev_session_replaced,
    EventKind.NO_REPLACEMENT: _ev_no_replacement,
    EventKind.GROUP_PAUSED: _ev_group_paused,
    EventKind.POST_INVALID: _ev_post_invalid,
    EventKind.CAMPAIGN_STOPPED: _ev_campaign_stopped,
    EventKind.CAMPAIGN_RESUMED: _ev_campaign_resumed,
    EventKind.PLAN_GRANTED: _ev_plan_granted,
    EventKind.PLAN_REVOKED: _ev_plan_revoked,
    EventKind.PLAN_EXPIRED: _ev_plan_expired,
    EventKind.POOL_LOW: _ev_pool_low,
    EventKind.PAIR_FULL: _ev_pair_full,
}


def event_text(kind: EventKind, payload: Mapping[str, Any], *, for_admin: bool) -> str:
    """The notification for one outbox event (HTML; payload values escaped)."""
    render = _EVENT_TEXTS.get(kind)
    if render is None:
        return f"ℹ {esc(kind)}"
    return render(payload, for_admin)



# ---------------------------------------------------------------------------------------------------
# Admin texts (owned by the admin-side work)
# ---------------------------------------------------------------------------------------------------

if TYPE_CHECKING:
    from control_bot.services.admin import (
        CustomerLine,
        DefaultGroupsAdded,
        GrantResult,
        HealthReport,
        RevokeResult,
        UploadReport,
    )
    from pool.health import CheckResult
    from storage.pairs import ApiPair

# Registered (setMyCommands) for each admin's chat, after the customer commands.
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("admin", "Admin panel"),
    ("pool", "Session pool: states, API pair usage"),
    ("pairs", "API pairs"),
    ("addpair", "Add an API pair: /addpair api_id api_hash"),
    ("delpair", "Remove an API pair: /delpair api_id"),
    ("grant", "Grant or extend a plan: /grant user_id sessions days"),
    ("revoke", "End a plan: /revoke user_id"),
    ("customers", "Customers, plans and today's sends"),
    ("defaultgroups", "Default groups"),
    ("adddefaultgroups", "Add default groups"),
    ("health", "Engine, pool and sends health"),
    ("checksessions", "Check idle and quarantined sessions"),
)

BTN_ADMIN_POOL = "📦 Pool"
BTN_ADMIN_PAIRS = "🔑 API pairs"
BTN_ADMIN_CUSTOMERS = "👥 Customers"
BTN_ADMIN_HEALTH = "🩺 Health"
BTN_ADMIN_DEFAULT_GROUPS = "⭐ Default groups"
BTN_ADMIN_CHECK_SESSIONS = "🔍 Check sessions"
BTN_ADMIN_BACK = "« Admin panel"

# Usage lines: plain text (they become InputError.user_message, which the error handler escapes).
USAGE_ADDPAIR = "Usage: /addpair <api_id> <api_hash> (both from my.telegram.org)"
USAGE_DELPAIR = "Usage: /delpair <api_id>"
USAGE_GRANT = "Usage: /grant <user_id> <sessions> <days>, e.g. /grant 123456789 3 30"
USAGE_REVOKE = "Usage: /revoke <user_id>"
USAGE_ADD_DEFAULT_GROUPS = "Usage: /adddefaultgroups followed by the groups (@name, t.me links or -100 ids)"


def admin_panel() -> str:
    return (
        "🛠 <b>Admin panel</b>\n\n"
        "/pool: sessions per state and API pair usage\n"
        "/pairs, /addpair <code>api_id api_hash</code>, /delpair <code>api_id</code>\n"
        "/grant <code>user_id sessions days</code>: create or extend a plan\n"
        "/revoke <code>user_id</code>: end a plan, sessions back to the pool\n"
        "/customers: plans, status, sessions, today's sends\n"
        "/defaultgroups, /adddefaultgroups <code>groups</code>\n"
        "/health: engine, pool, sends of the last hour\n"
        "/checksessions: connect idle and quarantined sessions\n\n"
        "📥 To add sessions, send <code>.session</code> files (with their <code>.json</code> sidecars) "
        "or a <code>.zip</code> of them here."
    )


def _mask_hash(api_hash: str) -> str:
    return f"{api_hash[:4]}…{api_hash[-2:]}" if len(api_hash) > 8 else "…"


def _relative(ts: float, now: float) -> str:
    return f"in {fmt_duration(ts - now)}" if ts > now else f"{fmt_duration(now - ts)} ago"


def pool_status(status: Mapping[str, Any]) -> str:
    s = status["sessions"]
    lines = [
        "📦 <b>Session pool</b>",
        f"Free (unused): <b>{s['unused']}</b>",
        f"Assigned: {s['assigned']} · cooling: {s['cooling']}",
        f"Limited: {s['limited']} · dead: {s['dead']}",
        f"Total: {status['total']}",
        "",
    ]
    pairs = status["pairs"]
    if pairs:
        lines.append(f"🔑 <b>API pairs</b> (sessions used / capacity; {status['pair_slots_free']} free slot(s))")
        lines += [
            f"• <code>{p['api_id']}</code>: {p['used']}/{p['capacity']}" + (" (full)" if p["full"] else "")
            for p in pairs
        ]
    else:
        lines.append("🔑 No API pairs yet: add one with /addpair.")
    if status["customers"]:
        lines += ["", "👥 <b>Sessions per customer</b>"]
        lines += [
            f"• <code>{c['customer_id']}</code>: {c['total']}" + (f" ({c['cooling']} cooling)" if c["cooling"] else "")
            for c in status["customers"]
        ]
    return "\n".join(lines)


def pairs_list(pairs: Sequence[ApiPair]) -> str:
    if not pairs:
        return "🔑 No API pairs yet. Add one with /addpair <code>api_id api_hash</code>."
    lines = [f"🔑 <b>API pairs</b> ({len(pairs)})"]
    lines += [
        f"• <code>{p.api_id}</code> hash <code>{esc(_mask_hash(p.api_hash))}</code>: {p.used}/{p.capacity} sessions"
        + (" (full)" if p.full else "")
        for p in pairs
    ]
    return "\n".join(lines)


def pair_added(pair: ApiPair, message_deleted: bool) -> str:
    note = (
        "I deleted your message because it contained the hash."
        if message_deleted
        else "⚠ I could not delete your message: delete it yourself, it contains the hash."
    )
    return (
        f"✅ API pair <code>{pair.api_id}</code> added (hash <code>{esc(_mask_hash(pair.api_hash))}</code>, "
        f"up to {pair.capacity} sessions).\n{note}"
    )


def pair_removed(api_id: int) -> str:
    return f"✅ API pair <code>{api_id}</code> removed."


def plan_granted(result: GrantResult, now: float) -> str:
    c = result.customer
    verb = "created" if result.created else "extended"
    return (
        f"✅ Plan {verb} for <code>{c.user_id}</code>: {c.plan_sessions} session(s) until "
        f"{fmt_time(c.plan_expires_at)} ({_relative(c.plan_expires_at, now)}; +{result.days} day(s)).\n"
        "The customer is being told."
    )


def plan_revoked(result: RevokeResult) -> str:
    stopped = "campaign stopped, " if result.was_running else ""
    return (
        f"✅ Plan of <code>{result.user_id}</code> ended: {stopped}"
        f"{result.sessions_returned} session(s) back in the pool.\nThe customer is being told."
    )


def _customer_line(line: CustomerLine, now: float) -> str:
    c = line.customer
    plan = (
        f"plan {c.plan_sessions} session(s) until {fmt_time(c.plan_expires_at)} ({_relative(c.plan_expires_at, now)})"
        if line.plan_active
        else f"plan ended {fmt_time(min(c.plan_expires_at, now))}"
    )
    if c.status == "running":
        status = "▶ running"
    else:
        status = "⏹ stopped" + (f" ({esc(c.stop_reason)})" if c.stop_reason else "")
    cooling = f" ({line.cooling} cooling)" if line.cooling else ""
    return (
        f"• <code>{c.user_id}</code>: {plan}\n"
        f"  {status}; sessions {line.sessions}{cooling}; groups {line.groups}; "
        f"today {line.sent_today} sent, {line.failed_today} failed"
    )


def customers_list(lines: Sequence[CustomerLine], now: float) -> str:
    if not lines:
        return "👥 No customers yet. Create one with /grant <code>user_id sessions days</code>."
    active = sum(1 for line in lines if line.plan_active)
    head = f"👥 <b>Customers</b> ({len(lines)}, {active} with an active plan; today = since 00:00 UTC)"
    return "\n".join([head, *(_customer_line(line, now) for line in lines)])


def default_groups(refs: Sequence[str]) -> str:
    if not refs:
        return (
            "⭐ No default groups yet. Add them with /adddefaultgroups followed by the groups "
            "(@name, t.me links or -100 ids, one per line)."
        )
    lines = [f"⭐ <b>Default groups</b> ({len(refs)}): customers can add them all with one button."]
    lines += [f"• <code>{esc(ref)}</code>" for ref in refs]
    return "\n".join(lines)


def default_groups_added(result: DefaultGroupsAdded) -> str:
    lines = [f"⭐ Default groups: {len(result.added)} added, {len(result.existing)} already there"
             + (f", {len(result.bad)} not understood." if result.bad else ".")]
    lines += [f"➕ <code>{esc(ref)}</code>" for ref in result.added]
    lines += [f"• <code>{esc(ref)}</code> (already there)" for ref in result.existing]
    lines += [f"❌ {esc(reason)}" for _, reason in result.bad]  # the reason quotes the item
    return "\n".join(lines)


def _ago(ts: float | None, now: float) -> str:
    return "never" if ts is None else f"{fmt_time(ts)} ({fmt_duration(max(0.0, now - ts))} ago)"


def health(report: HealthReport) -> str:
    now = report.now
    e = report.engine
    c = report.cycles
    lines = ["🩺 <b>Health</b>"]
    if e is None:
        lines.append("Engine: not running in this process")
    else:
        lines.append(f"Engine: {'✅ running' if e.running else '❌ not running'}")
        lines.append(f"Scheduler: {'✅ running' if e.scheduler_running else '❌ stopped'}")
    lines.append(f"Running campaigns: {c.running_campaigns}")
    lines.append(f"Last cycle started: {_ago(c.last_started_at, now)}")
    lines.append(f"Last cycle finished: {_ago(c.last_finished_at, now)}")
    if e is not None:
        lines.append(f"Cycles in progress: {e.cycles_in_progress}; sends in flight: {e.sends_in_flight}")
        lines.append(f"Scheduling lag (last cycle): {fmt_duration(e.lag)}")
    s = report.sessions
    lines.append(
        f"Pool: {s['unused']} free, {s['assigned']} assigned, {s['cooling']} cooling, "
        f"{s['limited']} limited, {s['dead']} dead"
    )
    h = report.last_hour
    lines.append(f"Last hour: {h.sent} sent, {h.failed} failed" + (f", {h.other} other" if h.other else ""))
    if e is not None:
        lines.append(f"Uptime: {fmt_duration(e.uptime)}")
    return "\n".join(lines)


CHECK_SESSIONS_STARTED = "🔍 Checking the idle and quarantined sessions: this can take a moment…"

_CHECK_LABELS = {
    "healthy": "✅ alive",
    "released": "♻ alive again, back in the pool",
    "dead": "☠ dead (moved to banned)",
    "limited": "⚠ limited (quarantined)",
    "cooling": "⏳ flood wait",
    "error": "❔ could not check",
}


def check_sessions(results: Sequence[CheckResult]) -> str:
    if not results:
        return "🔍 There is no idle or quarantined session to check."
    lines = [f"🔍 <b>Session check</b>: {len(results)} checked"]
    for outcome, label in _CHECK_LABELS.items():
        group = [r for r in results if r.outcome == outcome]
        if not group:
            continue
        if outcome in ("healthy", "released"):
            ids = ", ".join(f"#{r.session_id}" for r in group)
            lines.append(f"{label}: {len(group)} ({ids})")
        else:
            lines.append(f"{label}: {len(group)}")
            lines += [f"  #{r.session_id}: {esc(r.detail or '?')}" for r in group]
    return "\n".join(lines)


def upload_summary(report: UploadReport) -> str:
    accepted, rejected = report.accepted, report.rejected
    lines = [f"📥 <b>Upload</b>: accepted {len(accepted)}, rejected {len(rejected)}"]
    lines += [f"✅ {esc(r.filename)} → session #{r.session_id}" for r in accepted]
    lines += [f"❌ {esc(r.filename)}: {esc(r.reason or 'rejected')}" for r in rejected]
    lines.append(f"Free sessions in the pool now: {report.free_after}")
    return "\n".join(lines)

