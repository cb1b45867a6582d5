"""Formatting helpers shared by the texts: escaping for HTML parse mode, numbers, times, durations.

Inside a reading scope (``core.i18n.reading``: the bot, for each reader) times are shown in the
reader's zone and language and numbers as the reader writes them. Outside one (the operator's command
line, operator logs) times keep the exact ``YYYY-MM-DD HH:MM UTC`` form scripts and tests rely on.
"""

from __future__ import annotations

import time
from datetime import datetime
from html import escape

from babel.dates import format_datetime

from core.i18n import _, audience, locale, n_, tz
from core.i18n import num as num  # re-exported: texts format their numbers with it


def NEVER() -> str:
    return _("never")


def tr(marked: str) -> str:
    """A table value marked with ``N_()``, in the reader's language; a value no catalog knows (a stored
    reason from an older version, an unknown key shown as is) reads unchanged."""
    return _(marked) if marked else marked  # the one non-literal _(): tests/test_i18n_catalogs.py allows it here only


def esc(value: object) -> str:
    """``value`` made safe inside an HTML text (quotes are left alone: no text puts a value in an attribute)."""
    return escape(str(value), quote=False)


def _zone_label(moment: datetime) -> str:
    """The reader's zone as an offset from UTC at that moment: "UTC", "UTC+3", "UTC-9:30"."""
    offset = moment.utcoffset()
    minutes = 0 if offset is None else round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def fmt_time(ts: float | None) -> str:
    """A point in time: "7 Dec 2026, 01:55 UTC+3" for a reader, "2026-12-06 22:55 UTC" outside a scope."""
    if ts is None:
        return NEVER()
    if not audience().scoped:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))
    moment = datetime.fromtimestamp(ts, tz())
    return f"{format_datetime(moment, 'd MMM y, HH:mm', locale=locale())} {_zone_label(moment)}"


def _unit(name: str, n: int) -> str:
    if name == "d":
        return n_("{n} d", "{n} d", n)
    if name == "h":
        return n_("{n} h", "{n} h", n)
    if name == "min":
        return n_("{n} min", "{n} min", n)
    return n_("{n} s", "{n} s", n)


def fmt_duration(seconds: float) -> str:
    """A short human duration in its two largest non-zero units, never rounded to one: "45 s",
    "2 min 30 s", "1 h 5 min", "3 d 4 h" (whole seconds)."""
    s = max(0, round(seconds))
    minutes, s = divmod(s, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(name, n) for name, n in (("d", days), ("h", hours), ("min", minutes), ("s", s)) if n]
    if not parts:
        return _unit("s", 0)
    return " ".join(_unit(name, n) for name, n in parts[:2])


def in_or_now(ts: float, now: float) -> str:
    """When something is due: 'now', or 'in 5 min'."""
    return _("now") if ts <= now + 1 else _("in {duration}", duration=fmt_duration(ts - now))


def relative(ts: float, now: float) -> str:
    """'in 3 d' for a future time, '2 h ago' for a past one."""
    if ts > now:
        return _("in {duration}", duration=fmt_duration(ts - now))
    return _("{duration} ago", duration=fmt_duration(now - ts))


def ago(ts: float | None, now: float) -> str:
    """A past time with how long ago it was, or 'never'."""
    if ts is None:
        return NEVER()
    return _("{time} ({duration} ago)", time=fmt_time(ts), duration=fmt_duration(max(0.0, now - ts)))
