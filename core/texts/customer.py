"""What a customer reads in the control bot: commands, buttons, menus, questions, answers and refusals.

HTML unless a text says it is plain: plain texts become ``AdbotError.user_message`` (the bot's error
handler escapes them). Anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.texts.fmt import esc, fmt_duration, fmt_time, in_or_now
from core.texts.fmt import fmt_minutes as fmt_minutes  # re-exported: the services word intervals with it
from core.texts.outcomes import STOP_REASON_CUSTOMER as STOP_REASON_CUSTOMER  # re-exported: the services store it
from core.texts.outcomes import reason_text
from core.texts.split import TELEGRAM_LIMIT, take_fitting, utf16_len

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
        f"Interval: every {fmt_minutes(interval_s)} min\n"
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
        f"/interval <i>minutes</i>: time between two cycles, from {fmt_minutes(min_interval_s)} "
        f"to {fmt_minutes(max_interval_s)} minutes\n"
        "/run: start the campaign; /stop: stop it\n"
        "/status: running or not, sessions, groups, next cycle\n"
        "/stats: counters of the posts sent\n"
        "/logs: your latest log lines (and today's full log as a file)\n"
        "/cancel: cancel the current question\n\n"
        "Your accounts only post where they are already members and allowed to write: "
        "the bot never joins groups by itself (the admin can have a session join one)."
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
UP_TO_DATE = "Already up to date."

# --- post ------------------------------------------------------------------------------------------

POST_ASK = (
    "Send the post now:\n"
    "• a link to a message in a channel or group (Copy Link in Telegram), like https://t.me/channel/123: "
    "it is forwarded (a private channel's post, t.me/c/…, only by a session of yours that is in it);\n"
    "• or the text itself, formatted as you like: it is sent as is.\n\n"
    "/cancel to keep the current post."
)
POST_NOT_TEXT = "Send the post as a link or as text (photos and files are not supported). /cancel to stop."
POST_EMPTY = "The post is empty: send a link or some text."


def post_too_long(units: int, limit: int) -> str:
    return f"That text is too long for one Telegram message: {units} characters, at most {limit}. Nothing was changed."


def post_current(kind: str | None, link: str | None, text: str | None) -> str:
    return f"<b>Your post</b>: {post_summary(kind, link, text)}"


def post_question(kind: str | None, link: str | None, text: str | None) -> str:
    """The current post, then the question for the new one."""
    return f"{post_current(kind, link, text)}\n\n{POST_ASK}"


POST_SOURCE_NOT_MEMBER = (
    "⚠ This post is in a private channel that none of your sessions is in. It is saved, but it cannot "
    "be forwarded until a session that is in that channel is added to your campaign. The admin can help: "
    "ask them to add such a session, or to have one of yours join the channel."
)
POST_SOURCE_UNCHECKED = (
    "ℹ This post is in a private channel: only a session of yours that is in that channel can forward "
    "it. That is not known yet: your sessions' chats have not all been read."
)
_POST_SOURCE_NOTES = {"not_member": POST_SOURCE_NOT_MEMBER, "unchecked": POST_SOURCE_UNCHECKED}


def post_saved_link(link: str, running: bool, source: str | None = None) -> str:
    """``source``: for a private channel's post, whether a session of the customer's is in it:
    "member" (nothing to say), "not_member" or "unchecked" (their dialogs are not all read)."""
    more = " The next cycle uses it." if running else " Start with /run when ready."
    note = _POST_SOURCE_NOTES.get(source or "")
    return f"✅ Post set: the bot will forward {esc(link)}.{more}" + (f"\n\n{note}" if note else "")


def post_saved_text(text: str, running: bool) -> str:
    more = " The next cycle uses it." if running else " Start with /run when ready."
    return f"✅ Post set: a text of {len(text)} characters, formatting kept.{more}"


# --- groups ----------------------------------------------------------------------------------------

GROUPS_ASK = (
    "Send the groups to add, one per line or separated by spaces or commas, like:\n"
    "@mygroup\nhttps://t.me/othergroup\n"
    "-1001234567890 (an id works for a group one of your sessions is in)\n"
    "@forumgroup#15 or https://t.me/forumgroup/15 (topic 15 of a forum)\n"
    "An invite link (t.me/+…) is not a group: ask the admin to have one of your sessions join it.\n"
    "A .txt file with one group per line works too. /cancel to stop."
)
DEL_GROUP_ASK = "Send the group to remove (as shown in /groups). /cancel to stop."
GROUPS_FILE_NOT_TXT = "Send the groups as a .txt file (one group per line) or as text."
NO_DEFAULT_GROUPS = "The admin has not set any default groups yet."


def groups_file_too_big(limit_kb: int) -> str:
    return f"That file is too big: a list of groups fits in {limit_kb} KB."


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
    summary: str = "",
) -> str:
    """``rows``: (ref, rendered state) for the groups on this page; ``summary``: a line (or two) under the
    head (``core.texts.reach.groups_reach_summary``)."""
    if not total:
        return (
            "<b>Your groups</b>: none yet.\n"
            "Add some with /addgroups (or the button below), one per line: @name or t.me/name for a public "
            "group, a -100… id for a group one of your sessions is in."
        )
    head = f"<b>Your groups</b>: {total} of at most {limit}, {active} active, {paused} paused"
    if pages > 1:
        head += f" (page {page + 1} of {pages})"
    if summary:
        head += "\n" + summary
    lines = [f"{i}. <code>{esc(ref)}</code> {state}" for i, (ref, state) in enumerate(rows, start=first)]
    return head + "\n\n" + "\n".join(lines)


# Telegram refuses a message over 4096 UTF-16 units of parsed text: each list of a groups report gets
# a share of that (in units as shown, before HTML escaping; 2 for each ", " separator), whatever the
# customer sent.
_ADDED_BUDGET, _LIST_BUDGET, _BAD_BUDGET = 1500, 500, 1200


def topic_unchecked(topic_id: int) -> str:
    """After a group added with a topic while nothing is known of its chat (plain text)."""
    return f" (topic #{topic_id}, will be checked)"


def groups_added(
    added: list[str],
    existing: list[str],
    bad: list[tuple[str, str]],
    over_limit: list[str],
    limit: int,
    total: int,
    *,
    refused: Sequence[tuple[str, str]] = (),
    unchecked_topics: Mapping[str, int] | None = None,
) -> str:
    """``bad``: (item, reason) not understood; ``refused``: (item, reason) understood but not a group one
    can post to (a channel, a bot, a message link); ``unchecked_topics``: ref -> topic of the added refs
    whose '#topic' is a topic only if the chat turns out to be a forum (nothing is known of it yet)."""
    parts: list[str] = []
    if added:
        unchecked = unchecked_topics or {}
        labels = [(ref, topic_unchecked(unchecked[ref]) if ref in unchecked else "") for ref in added[:50]]
        fitting = take_fitting([ref + note for ref, note in labels], _ADDED_BUDGET, sep_units=2)
        shown = labels[: len(fitting)]
        parts.append(
            f"✅ Added {len(added)} group(s): " + ", ".join(f"<code>{esc(r)}</code>{esc(n)}" for r, n in shown)
        )
        if len(added) > len(shown):
            parts[-1] += f" and {len(added) - len(shown)} more"
    if existing:
        listed = take_fitting(existing[:20], _LIST_BUDGET, sep_units=2)
        more = " …" if len(existing) > len(listed) else ""
        parts.append(f"Already in your list ({len(existing)}): " + ", ".join(esc(r) for r in listed) + more)
    if over_limit:
        listed = take_fitting(over_limit[:20], _LIST_BUDGET, sep_units=2)
        parts.append(
            f"⚠ Not added, you reached the limit of {limit} groups ({len(over_limit)}): "
            + ", ".join(esc(r) for r in listed)
            + (" …" if len(over_limit) > len(listed) else "")
        )
    # Both lists of reasons share one budget; the refusals keep a third of it when there are both.
    used = 0
    if bad:
        share = _BAD_BUDGET * 2 // 3 if refused else _BAD_BUDGET
        reasons = take_fitting([reason for _, reason in bad[:20]], share, sep_units=2)
        used = sum(utf16_len(reason) + 2 for reason in reasons)
        parts.append(_reasons(f"❌ Not understood ({len(bad)}):", reasons, len(bad)))
    if refused:
        reasons = take_fitting([reason for _, reason in refused[:20]], _BAD_BUDGET - used, sep_units=2)
        parts.append(_reasons(f"🚫 Cannot be posted to ({len(refused)}):", reasons, len(refused)))
    if not added and not existing and not over_limit and not bad and not refused:
        parts.append("Nothing to add.")
    parts.append(f"You now have {total} group(s). /groups to see them.")
    return "\n\n".join(parts)


def _reasons(head: str, reasons: list[str], count: int) -> str:
    lines = "\n".join(f"• {esc(reason)}" for reason in reasons)
    more = f"\n… and {count - len(reasons)} more" if count > len(reasons) else ""
    return f"{head}\n{lines}{more}"


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
    first = "" if next_run_at is None else f" First cycle {in_or_now(next_run_at, now)}."
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
        nxt = f"{fmt_time(next_run_at)} ({in_or_now(next_run_at, now)})"
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
    in_doubt: int = 0,
) -> str:
    # Posts whose outcome is unknown (no answer, or Telegram's answer named no new message) are neither
    # successful nor failed: said apart, and only when there are some.
    doubt = f"Unconfirmed (no new message seen, not repeated): {in_doubt}\n" if in_doubt else ""
    head = (
        "<b>Stats</b>\n"
        f"Posts tried: {total_posts}\n"
        f"Successful: {total_success}\n"
        f"Failed: {total_failures}\n"
        f"{doubt}"
        f"Flood waits: {total_flood_waits}\n"
        f"Messages sent: {total_messages_sent}\n"
        f"Active sessions: {active_sessions}\n"
        f"Banned sessions: {banned_sessions}\n"
        f"Last activity: {fmt_time(last_activity)}\n"
    )
    tail = f"\n<i>as of {fmt_time(now)}</i>"
    if not per_group:
        return head + tail
    rows = [f"<code>{esc(ref)}</code>: {ok} ok, {failed} failed" for ref, ok, failed in per_group]
    # A row is kept while 40 units stay free after it for the "… and N more" line (39 + its newline).
    lines = take_fitting(rows, 3900 - utf16_len(head) - utf16_len(tail) - 39)
    if len(lines) < len(rows):
        lines.append(f"… and {len(rows) - len(lines)} more")
    return head + "\n<b>Per group</b>\n" + "\n".join(lines) + tail


NO_LOGS = "No log lines yet: they appear once your campaign runs."
NO_LOG_FILE_TODAY = "There is no log file for today yet."


def logs(lines: list[str], limit: int = TELEGRAM_LIMIT) -> str:
    """The newest lines that fit one message, oldest first, in a <pre> block."""
    head = f"<b>Your latest log lines</b> (UTC, newest last, {{n}} of the last {len(lines)}):\n"
    budget = limit - utf16_len(head) - 20 - utf16_len("<pre></pre>")
    kept = take_fitting([esc(line) for line in reversed(lines)], budget)
    kept.reverse()
    return head.format(n=len(kept)) + "<pre>" + "\n".join(kept) + "</pre>"


def log_file_name(day: str) -> str:
    return f"adbot-{day}.log"


def log_file_caption(day: str) -> str:
    return f"Your full log for {day} (UTC)."

