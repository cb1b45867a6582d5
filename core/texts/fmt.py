"""Formatting helpers shared by the texts: escaping for HTML parse mode, times, durations.

The customer side speaks in UTC: one clock for every customer, stated wherever a time is shown.
"""

from __future__ import annotations

import time
from html import escape

NEVER = "never"


def esc(value: object) -> str:
    """``value`` made safe inside an HTML text (quotes are left alone: no text puts a value in an attribute)."""
    return escape(str(value), quote=False)


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return NEVER
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


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


def in_or_now(ts: float, now: float) -> str:
    """When something is due: 'now', or 'in 5 min'."""
    return "now" if ts <= now + 1 else f"in {fmt_duration(ts - now)}"


def relative(ts: float, now: float) -> str:
    """'in 3 d' for a future time, '2 h ago' for a past one."""
    return f"in {fmt_duration(ts - now)}" if ts > now else f"{fmt_duration(now - ts)} ago"


def ago(ts: float | None, now: float) -> str:
    """A past time with how long ago it was, or 'never'."""
    return NEVER if ts is None else f"{fmt_time(ts)} ({fmt_duration(max(0.0, now - ts))} ago)"
