"""What a customer reads about their campaign's state: /status, /stats, /logs and the day's log file.

HTML; anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

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
        f"Interval: every {fmt_duration(interval_s)}\n"
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
