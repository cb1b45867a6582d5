"""What a customer reads in the control bot: buttons, the main menu, help, generic answers, the interval,
run and stop (the command menu itself is ``core.texts.bot_profile``).

HTML unless a text says it is plain: plain texts become ``AdbotError.user_message`` (the bot's error
handler escapes them). Anything that came from a user goes through ``esc()``. One wording per outcome,
whole sentences (a value is a number, a duration, a time or a name, never a piece of a sentence),
plurals through ``n_``, lengths as people count characters (``core.texts.split.char_count``), and no
internal limit is ever shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.i18n import _, n_, num
from core.texts.fmt import esc, fmt_duration, fmt_time, in_or_now
from core.texts.outcomes import STOP_REASON_CUSTOMER as STOP_REASON_CUSTOMER  # re-exported: the services store it
from core.texts.outcomes import reason_text
from core.texts.post import posts_summary
from core.texts.split import clip

# --- buttons ---------------------------------------------------------------------------------------


def BTN_POST() -> str:
    return _("📝 Post")


def BTN_GROUPS() -> str:
    return _("👥 Groups")


def BTN_INTERVAL() -> str:
    return _("⏱ Interval")


def BTN_SCHEDULE() -> str:
    return _("🗓 Schedule")


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
    """A preset interval's label: "15 min", "1 h"."""
    return fmt_duration(minutes * 60)


# --- access ----------------------------------------------------------------------------------------
# Plain text (no HTML): these become AccessDenied.user_message, which the error handler escapes.


def ONLY_PEOPLE() -> str:
    """A message without a sender (a channel post): there is nobody to answer."""
    return _("Only people can use this bot.")


# --- main menu, help -------------------------------------------------------------------------------


def _campaign_line(running: bool, stop_reason: str | None, next_run_at: float | None, now: float) -> str:
    """The campaign's state on one line (the main menu and /status)."""
    if running:
        if next_run_at is None:
            return _("▶ <b>running</b>")
        return _("▶ <b>running</b>, next cycle {when}", when=in_or_now(next_run_at, now))
    if stop_reason:
        return _("⏹ <b>stopped</b> ({reason})", reason=reason_text(stop_reason))
    return _("⏹ <b>stopped</b>")


def _groups_line(total: int, paused: int) -> str:
    if not total:
        return _("<i>none yet</i> (/addgroups)")
    if paused:
        return _("{total} ({paused} paused)", total=num(total), paused=num(paused))
    return num(total)


def _plan_line(sessions: int, expires_at: float, now: float) -> str:
    return n_(
        "{n} session until {until} ({left} left)",
        "{n} sessions until {until} ({left} left)",
        sessions,
        until=fmt_time(expires_at),
        left=fmt_duration(expires_at - now),
    )


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
    post_media: Sequence[str] = (),
    groups_total: int,
    groups_paused: int,
    interval_s: int,
    now: float,
    post_count: int = 1,
    rotation: str = "order",
) -> str:
    return _(
        "Hello, {first_name}! This is your ad campaign.\n"
        "\n"
        "Campaign: {campaign}\n"
        "Post: {post}\n"
        "Groups: {groups}\n"
        "Interval: every {interval}\n"
        "Plan: {plan}\n"
        "\n"
        "Choose below, or type /help for the commands.",
        first_name=esc(first_name),
        campaign=_campaign_line(running, stop_reason, next_run_at, now),
        post=posts_summary(post_count, rotation, post_kind, post_link, post_text, post_media),
        groups=_groups_line(groups_total, groups_paused),
        interval=fmt_duration(interval_s),
        plan=_plan_line(plan_sessions, plan_expires_at, now),
    )


def help_text(min_interval_s: int, max_interval_s: int, max_groups: int) -> str:
    """Every command of the customer menu (``bot_profile.customer_commands``), one line each."""
    return _(
        "<b>What you can do</b>\n"
        "/start: the main menu\n"
        "/post <i>link or text</i>: the post to send. A link (https://t.me/channel/123) is forwarded (a "
        "private channel's link, t.me/c/…, only by a session of yours that is in that channel); a text "
        "is sent with its formatting. Without an argument the bot asks for it.\n"
        "/posts: your posts, their order, which one each cycle sends and how channel posts are "
        "sent\n"
        "/groups: your groups and their state; paused groups can be resumed there\n"
        "/addgroups <i>groups</i>: add groups, one per line or separated by spaces or commas (@name or "
        "t.me/name for a public group; a -100… id for a group one of your sessions is in; an invite link "
        "is not a group: ask the admin to have a session join it); a .txt file works too. Up to "
        "{max_groups} in all.\n"
        "/pickgroups: choose groups you are in with Telegram's own picker\n"
        "/delgroup <i>group</i>: remove one group\n"
        "/usedefaults: add the groups the admin recommends\n"
        "/interval <i>minutes</i>: the time between two cycles, from {shortest} to {longest}\n"
        "/schedule: the days and hours cycles may start in (your time zone)\n"
        "/run: start the campaign; /stop: stop it\n"
        "/status: running or not, sessions, groups, next cycle\n"
        "/stats: counters of the posts sent\n"
        "/export: your send attempts of a period as a CSV file\n"
        "/logs: your latest log lines (and today's full log as a file)\n"
        "/settings: your language, time zone and which notifications you get\n"
        "/cancel: cancel the current question\n"
        "/help: this list\n"
        "\n"
        "Your accounts only post where they are already members and allowed to write: the bot never "
        "joins groups by itself (the admin can have a session join one).",
        max_groups=num(max_groups),
        shortest=fmt_duration(min_interval_s),
        longest=fmt_duration(max_interval_s),
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
    return _(
        "Now every {current}. Choose an interval, or send a number of minutes from {shortest} to {longest}. "
        "/cancel keeps it.",
        current=fmt_duration(current_s),
        shortest=fmt_duration(min_s),
        longest=fmt_duration(max_s),
    )


def interval_not_number(text: str, min_s: int, max_s: int) -> str:
    """Plain text (an IntervalError message). Also for a number too long to be an interval: no internal
    limit is named."""
    return _(
        "\"{shown}\" is not a number of minutes I can use. Send a number of minutes from {shortest} to "
        "{longest}, like /interval 15",
        shown=clip(text, 20),
        shortest=fmt_duration(min_s),
        longest=fmt_duration(max_s),
    )


def interval_out_of_bounds(seconds: int, min_s: int, max_s: int) -> str:
    """Plain text (an IntervalError message)."""
    return _(
        "{interval} is outside the allowed range: the interval must be from {shortest} to {longest}. "
        "Nothing was changed.",
        interval=fmt_duration(seconds),
        shortest=fmt_duration(min_s),
        longest=fmt_duration(max_s),
    )


def INTERVAL_MISSING() -> str:
    return _("Send the interval as a number of minutes, like /interval 15")


def interval_set(seconds: int, running: bool) -> str:
    if running:
        return _(
            "✅ Interval set: every {interval}. It applies from the next cycle.", interval=fmt_duration(seconds)
        )
    return _("✅ Interval set: every {interval}.", interval=fmt_duration(seconds))


# --- run / stop ------------------------------------------------------------------------------------
# Plain text (no HTML) where it says so: those become CampaignNotReady.user_message.


def RUN_NEEDS_POST() -> str:
    return _("Set the post with /post.")


def RUN_NEEDS_GROUPS() -> str:
    return _("Add groups with /addgroups.")


def RUN_ALL_PAUSED() -> str:
    return _("Every group is paused: resume one in /groups or add new ones.")


def run_not_ready(missing: list[str]) -> str:
    """Plain text (a CampaignNotReady message): ``missing`` are whole sentences (``RUN_NEEDS_POST()``...),
    one per line."""
    return "\n".join([_("The campaign cannot start yet:"), *(f"• {item}" for item in missing)])


def run_no_sessions(wanted: int, free: int, *, admins_told: bool = True) -> str:
    """Plain text (a CampaignNotReady message): the pool could give none of the plan's sessions.
    The pool told the admins in the transaction that found it short (``pool.assign.note_short``);
    ``admins_told``: False when no admin is configured (``[bot] admins`` empty): then nobody was told."""
    if not admins_told:
        if free:
            return n_(
                "The campaign cannot start yet: your plan needs {n} more session and the pool has only {free} "
                "free right now. Try again later.",
                "The campaign cannot start yet: your plan needs {n} more sessions and the pool has only {free} "
                "free right now. Try again later.",
                wanted,
                free=num(free),
            )
        return n_(
            "The campaign cannot start yet: your plan needs {n} more session and the pool has none free right "
            "now. Try again later.",
            "The campaign cannot start yet: your plan needs {n} more sessions and the pool has none free right "
            "now. Try again later.",
            wanted,
        )
    if free:
        return n_(
            "The campaign cannot start yet: your plan needs {n} more session and the pool has only {free} free "
            "right now. The admin has been told; try again later.",
            "The campaign cannot start yet: your plan needs {n} more sessions and the pool has only {free} free "
            "right now. The admin has been told; try again later.",
            wanted,
            free=num(free),
        )
    return n_(
        "The campaign cannot start yet: your plan needs {n} more session and the pool has none free right now. "
        "The admin has been told; try again later.",
        "The campaign cannot start yet: your plan needs {n} more sessions and the pool has none free right now. "
        "The admin has been told; try again later.",
        wanted,
    )


def RUN_NO_PAIR() -> str:
    return _(
        "The campaign cannot start yet: the service has no room for more accounts right now. The admin has "
        "been told; try again later.",
    )


def RUN_NO_PAIR_UNTOLD() -> str:
    """``RUN_NO_PAIR`` when no admin is configured: nobody could be told."""
    return _("The campaign cannot start yet: the service has no room for more accounts right now. Try again later.")


def run_started(
    sessions: int, groups: int, interval_s: int, next_run_at: float | None, now: float, *, short: int = 0,
    admins_told: bool = True,
) -> str:
    """Whole sentences, one per fact: the sessions, the groups and the interval, the first cycle, and
    (``short``) the sessions the pool could not give yet (``admins_told``: False when no admin is
    configured, so nobody was told of it)."""
    lines = [
        n_("▶ Campaign started with {n} session.", "▶ Campaign started with {n} sessions.", sessions),
        n_(
            "It posts in {n} active group every {interval}.",
            "It posts in {n} active groups every {interval}.",
            groups,
            interval=fmt_duration(interval_s),
        ),
    ]
    if next_run_at is not None:
        lines.append(_("First cycle {when}.", when=in_or_now(next_run_at, now)))
    text = " ".join(lines)
    if short and not admins_told:
        text += "\n" + n_(
            "⚠ The pool has no free session for the other {n} of your plan right now; it is added as soon as "
            "there is one.",
            "⚠ The pool has no free sessions for the other {n} of your plan right now; they are added as soon "
            "as there are.",
            short,
        )
    elif short:
        text += "\n" + n_(
            "⚠ The pool has no free session for the other {n} of your plan right now; it is added as soon as "
            "there is one (the admin has been told).",
            "⚠ The pool has no free sessions for the other {n} of your plan right now; they are added as soon "
            "as there are (the admin has been told).",
            short,
        )
    return text


def ALREADY_RUNNING() -> str:
    return _("The campaign is already running. /status shows how it goes.")


def STOPPED() -> str:
    return _("⏹ Campaign stopped. /run starts it again.")


def NOT_RUNNING() -> str:
    return _("The campaign is not running. /run starts it.")
