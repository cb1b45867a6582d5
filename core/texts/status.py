"""What a customer reads about their campaign's state: /status, /stats, /logs and the day's log file.

HTML; anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

from core.i18n import _, n_
from core.texts.customer import _campaign_line, post_summary
from core.texts.fmt import esc, fmt_duration, fmt_time, in_or_now
from core.texts.split import TELEGRAM_LIMIT, take_fitting, utf16_len


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
    cycle = (
        _("cycle {cycle_no} in progress", cycle_no=cycle_no)
        if cycle_in_progress
        else n_("{n} cycle done", "{n} cycles done", cycle_no)
    )
    if running and next_run_at is not None:
        nxt = f"{fmt_time(next_run_at)} ({in_or_now(next_run_at, now)})"
    else:
        nxt = _("none (not running)") if not running else _("being planned")
    slow = _(", {groups_slow} in slow mode", groups_slow=groups_slow) if groups_slow else ""
    return (
        _(
            "<b>Status</b>\n"
            "Campaign: {campaign_line}, {cycle}\n"
            "Next cycle: {nxt}\n"
            "Sessions: {owned} of {plan_sessions}",
            campaign_line=_campaign_line(running, stop_reason, None, now),
            cycle=cycle,
            nxt=nxt,
            owned=owned,
            plan_sessions=plan_sessions,
        )
        + (f" ({states})" if states else "")
        + _(
            "\n"
            "Groups: {groups_active} active, {groups_paused} paused{slow}\n"
            "Post: {post_summary}\n"
            "Interval: every {duration}\n"
            "Last activity: {last_activity}\n"
            "Plan until: {plan_expires_at} ({duration_2} left)\n"
            "<i>as of {now}</i>",
            groups_active=groups_active,
            groups_paused=groups_paused,
            slow=slow,
            post_summary=post_summary(post_kind, post_link, post_text),
            duration=fmt_duration(interval_s),
            last_activity=fmt_time(last_activity),
            plan_expires_at=fmt_time(plan_expires_at),
            duration_2=fmt_duration(plan_expires_at - now),
            now=fmt_time(now),
        )
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
    doubt = _("Unconfirmed (no new message seen, not repeated): {in_doubt}\n", in_doubt=in_doubt) if in_doubt else ""
    head = _(
        "<b>Stats</b>\n"
        "Posts tried: {total_posts}\n"
        "Successful: {total_success}\n"
        "Failed: {total_failures}\n"
        "{doubt}Flood waits: {total_flood_waits}\n"
        "Messages sent: {total_messages_sent}\n"
        "Active sessions: {active_sessions}\n"
        "Banned sessions: {banned_sessions}\n"
        "Last activity: {last_activity}\n",
        total_posts=total_posts,
        total_success=total_success,
        total_failures=total_failures,
        doubt=doubt,
        total_flood_waits=total_flood_waits,
        total_messages_sent=total_messages_sent,
        active_sessions=active_sessions,
        banned_sessions=banned_sessions,
        last_activity=fmt_time(last_activity),
    )
    tail = _("\n<i>as of {now}</i>", now=fmt_time(now))
    if not per_group:
        return head + tail
    rows = [
        _("<code>{ref}</code>: {ok} ok, {failed} failed", ref=esc(ref), ok=ok, failed=failed)
        for ref, ok, failed in per_group
    ]
    # A row is kept while 40 units stay free after it for the "… and N more" line (39 + its newline).
    lines = take_fitting(rows, 3900 - utf16_len(head) - utf16_len(tail) - 39)
    if len(lines) < len(rows):
        lines.append(_("… and {value} more", value=len(rows) - len(lines)))
    return head + _("\n<b>Per group</b>\n") + "\n".join(lines) + tail


def NO_LOGS() -> str:
    return _("No log lines yet: they appear once your campaign runs.")


def NO_LOG_FILE_TODAY() -> str:
    return _("There is no log file for today yet.")


def logs(lines: list[str], limit: int = TELEGRAM_LIMIT) -> str:
    """The newest lines that fit one message, oldest first, in a <pre> block."""
    # i18n: formatted twice: "{{n}}" becomes {n}, filled once the lines that fit are known
    head = _("<b>Your latest log lines</b> (UTC, newest last, {{n}} of the last {count}):\n", count=len(lines))
    budget = limit - utf16_len(head) - 20 - utf16_len("<pre></pre>")
    kept = take_fitting([esc(line) for line in reversed(lines)], budget)
    kept.reverse()
    return head.format(n=len(kept)) + "<pre>" + "\n".join(kept) + "</pre>"


def log_file_name(day: str) -> str:
    return f"adbot-{day}.log"


def log_file_caption(day: str) -> str:
    return _("Your full log for {day} (UTC).", day=day)
