"""What a customer reads about their campaign's state: /status, /stats, /logs and the day's log file.

HTML; anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.i18n import _, n_, num, tz
from core.texts.customer import _campaign_line
from core.texts.fmt import esc, fmt_duration, fmt_time, in_or_now
from core.texts.post import posts_summary
from core.texts.split import TELEGRAM_LIMIT, take_fitting, utf16_len


def _sessions_line(sessions: dict[str, int], plan_sessions: int) -> str:
    owned = sum(sessions.values())
    head = _("Sessions: {owned} of {plan}", owned=num(owned), plan=num(plan_sessions))
    states = [_state(state, n) for state, n in sorted(sessions.items()) if n]
    return head + (" (" + ", ".join(states) + ")" if states else "")


def _state(state: str, n: int) -> str:
    """How many of the customer's sessions are in one state (``core.states.SessionState``)."""
    if state == "assigned":
        return n_("{n} assigned", "{n} assigned", n)
    if state == "cooling":
        return n_("{n} cooling", "{n} cooling", n)
    if state == "limited":
        return n_("{n} limited", "{n} limited", n)
    if state == "frozen":
        return n_("{n} frozen", "{n} frozen", n)
    if state == "dead":
        return n_("{n} dead", "{n} dead", n)
    return n_("{n} unused", "{n} unused", n)


def _cycle_line(cycle_no: int, cycle_in_progress: bool, last: LastCycleView | None) -> str:
    """The last cycle (or the one running), in the reader's zone."""
    if cycle_in_progress:
        return _("Cycle: #{cycle} in progress", cycle=num(cycle_no))
    if last is None:
        return n_("Cycles done: {n}", "Cycles done: {n}", cycle_no)
    if last.failed:
        return n_(
            "Last cycle: #{cycle}, {when}: the post reached {sent} of {n} group, {failed} failed",
            "Last cycle: #{cycle}, {when}: the post reached {sent} of {n} groups, {failed} failed",
            last.total, cycle=num(last.cycle_no), when=fmt_time(last.finished_at), sent=num(last.sent),
            failed=num(last.failed),
        )
    return n_(
        "Last cycle: #{cycle}, {when}: the post reached {sent} of {n} group",
        "Last cycle: #{cycle}, {when}: the post reached {sent} of {n} groups",
        last.total, cycle=num(last.cycle_no), when=fmt_time(last.finished_at), sent=num(last.sent),
    )


class LastCycleView(Protocol):
    """The last finished cycle as its summary said it (``control_bot.services.campaign.LastCycle``)."""

    @property
    def cycle_no(self) -> int: ...
    @property
    def finished_at(self) -> float: ...
    @property
    def sent(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def failed(self) -> int: ...


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
    last_cycle: LastCycleView | None = None,
    post_media: Sequence[str] = (),
    schedule: str = "",
    post_count: int = 1,
    rotation: str = "order",
) -> str:
    """/status: times in the reader's zone (the last cycle, the next one, the plan's end); ``schedule``:
    the schedule's line (``core.texts.schedule.schedule_line``), empty when cycles run at any time."""
    if running and next_run_at is not None:
        nxt = _("Next cycle: {when} ({due})", when=fmt_time(next_run_at), due=in_or_now(next_run_at, now))
    elif running:
        nxt = _("Next cycle: being planned")
    else:
        nxt = _("Next cycle: none (not running)")
    if groups_slow:
        groups = _("Groups: {active} active, {paused} paused, {slow} in slow mode", active=num(groups_active),
                   paused=num(groups_paused), slow=num(groups_slow))
    else:
        groups = _("Groups: {active} active, {paused} paused", active=num(groups_active), paused=num(groups_paused))
    lines = [
        _("<b>Status</b>"),
        _("Campaign: {campaign}", campaign=_campaign_line(running, stop_reason, None, now)),
        _cycle_line(cycle_no, cycle_in_progress, last_cycle),
        nxt,
        _sessions_line(sessions, plan_sessions),
        groups,
        _("Post: {post}", post=posts_summary(post_count, rotation, post_kind, post_link, post_text, post_media)),
        _("Interval: every {interval}", interval=fmt_duration(interval_s)),
        *([schedule] if schedule else []),
        _("Last activity: {when}", when=fmt_time(last_activity)),
        _("Plan until: {when} ({left} left)", when=fmt_time(plan_expires_at), left=fmt_duration(plan_expires_at - now)),
        _("<i>as of {now}</i>", now=fmt_time(now)),
    ]
    return "\n".join(lines)


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
    lines = [
        _("<b>Stats</b>"),
        _("Posts tried: {n}", n=num(total_posts)),
        _("Successful: {n}", n=num(total_success)),
        _("Failed: {n}", n=num(total_failures)),
    ]
    # Posts whose outcome is unknown (no answer, or Telegram's answer named no new message) are neither
    # successful nor failed: said apart, and only when there are some.
    if in_doubt:
        lines.append(_("Unconfirmed (no new message seen, not repeated): {n}", n=num(in_doubt)))
    lines += [
        _("Flood waits: {n}", n=num(total_flood_waits)),
        _("Messages sent: {n}", n=num(total_messages_sent)),
        _("Active sessions: {n}", n=num(active_sessions)),
        _("Banned sessions: {n}", n=num(banned_sessions)),
        _("Last activity: {when}", when=fmt_time(last_activity)),
    ]
    head = "\n".join(lines) + "\n"
    tail = "\n" + _("<i>as of {now}</i>", now=fmt_time(now))
    if not per_group:
        return head + tail
    rows = [
        _("<code>{group}</code>: {ok} ok, {failed} failed", group=esc(ref), ok=num(ok), failed=num(failed))
        for ref, ok, failed in per_group
    ]
    # A row is kept while 40 units stay free after it for the "… and N more" line (39 + its newline).
    kept = take_fitting(rows, 3900 - utf16_len(head) - utf16_len(tail) - 39)
    if len(kept) < len(rows):
        kept.append(_("… and {n} more", n=num(len(rows) - len(kept))))
    return head + "\n" + _("<b>Per group</b>") + "\n" + "\n".join(kept) + tail


def NO_LOGS() -> str:
    return _("No log lines yet: they appear once your campaign runs.")


def NO_LOG_FILE_TODAY() -> str:
    return _("There is no log file for today yet.")


def logs(lines: list[str], limit: int = TELEGRAM_LIMIT) -> str:
    """The newest lines that fit one message, oldest first, in a <pre> block (lines rendered by
    ``core.texts.customer_log``, times in the reader's zone)."""
    probe = _("<b>Your latest log lines</b> (times in {zone}, newest last, {n} of the last {count}):",
              zone=esc(tz().key), n=num(len(lines)), count=num(len(lines)))
    budget = limit - utf16_len(probe) - 20 - utf16_len("<pre></pre>")
    kept = take_fitting([esc(line) for line in reversed(lines)], budget)
    kept.reverse()
    head = _("<b>Your latest log lines</b> (times in {zone}, newest last, {n} of the last {count}):",
             zone=esc(tz().key), n=num(len(kept)), count=num(len(lines)))
    return head + "\n<pre>" + "\n".join(kept) + "</pre>"


def log_file_name(day: str) -> str:
    return f"adbot-{day}.log"


def log_file_caption(day: str) -> str:
    return _("Your full log for {day} (times in {zone}).", day=day, zone=tz().key)
