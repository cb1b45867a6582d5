"""What an admin or the operator reads about the limits: the /health and ``adbot health`` lines, and
``adbot check-config``'s warnings (``core.pacing``). The reports read ``control_bot.services.limits``'
results through the read-only shapes below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.i18n import _
from core.pacing import SAFE_MIN_SPACING
from core.texts.fmt import fmt_duration, fmt_time

__all__ = ["BUSIEST_SHOWN", "health_lines", "unsafe_warning"]

BUSIEST_SHOWN = 5  # sessions listed by name (the JSON of ``adbot health`` has them all)


class SessionPosts(Protocol):
    @property
    def session_id(self) -> int: ...
    @property
    def posts(self) -> int: ...
    @property
    def cap(self) -> int | None: ...
    @property
    def warmup_until(self) -> float | None: ...
    @property
    def at_cap(self) -> bool: ...


class Limits(Protocol):
    @property
    def cycle_interval(self) -> int: ...
    @property
    def min_cycle_interval(self) -> int: ...
    @property
    def max_cycle_interval(self) -> int: ...
    @property
    def send_spacing(self) -> float: ...
    @property
    def spacing_jitter(self) -> float: ...
    @property
    def daily_send_cap(self) -> int: ...
    @property
    def warmup_days(self) -> int: ...
    @property
    def warmup_caps(self) -> Sequence[int]: ...
    @property
    def join_min_gap_minutes(self) -> int: ...
    @property
    def join_daily_cap(self) -> int: ...
    @property
    def sessions(self) -> Sequence[SessionPosts]: ...
    @property
    def at_cap(self) -> Sequence[SessionPosts]: ...
    @property
    def warming(self) -> Sequence[SessionPosts]: ...


def _seconds(value: float) -> str:
    return f"{round(value, 2):g} s"


def _spacing(limits: Limits) -> str:
    low = limits.send_spacing * (1 - limits.spacing_jitter)
    high = limits.send_spacing * (1 + limits.spacing_jitter)
    if high - low < 0.01:
        return _seconds(limits.send_spacing)
    return f"{round(low, 2):g}–{_seconds(high)}"


def _cap(limits: Limits) -> str:
    if limits.daily_send_cap <= 0:
        return _("Daily send cap: off")
    line = _("Daily send cap: {daily_send_cap} posts per session in any 24 h", daily_send_cap=limits.daily_send_cap)
    if limits.warmup_days > 0:
        ramp = ", ".join(str(c) for c in limits.warmup_caps)
        line += _("; warm-up {warmup_days} d for new sessions ({ramp})", warmup_days=limits.warmup_days, ramp=ramp)
    else:
        line += _("; no warm-up")
    return line


def _session(s: SessionPosts) -> str:
    cap = f"/{s.cap}" if s.cap is not None else ""
    warm = (
        _(" (warm-up until {warmup_until})", warmup_until=fmt_time(s.warmup_until))
        if s.warmup_until is not None
        else ""
    )
    return f"#{s.session_id} {s.posts}{cap}{warm}"


def health_lines(limits: Limits) -> list[str]:
    """The limits' lines of /health and ``adbot health`` (plain text: nothing here needs escaping)."""
    lines = [
        _(
            "Pacing: cycles every {duration} by default (customers may choose {duration_2}..{duration_3}); "
            "{spacing} between two posts of a session",
            duration=fmt_duration(limits.cycle_interval),
            duration_2=fmt_duration(limits.min_cycle_interval),
            duration_3=fmt_duration(limits.max_cycle_interval),
            spacing=_spacing(limits),
        ),
        _cap(limits),
        _(
            "Joins: {join_min_gap_minutes} min apart, at most {join_daily_cap} per session in any 24 h",
            join_min_gap_minutes=limits.join_min_gap_minutes,
            join_daily_cap=limits.join_daily_cap,
        ),
    ]
    if limits.sessions:
        lines.append(
            _(
                "Customers' sessions: {count}, {count_2} at their cap, {count_3} in warm-up",
                count=len(limits.sessions),
                count_2=len(limits.at_cap),
                count_3=len(limits.warming),
            )
        )
        busiest = [s for s in limits.sessions[:BUSIEST_SHOWN] if s.posts or s.warmup_until is not None]
        if busiest:
            lines.append(_("Posts in the last 24 h: ") + ", ".join(_session(s) for s in busiest))
    return lines


def unsafe_warning(key: str, value: float, safe: float) -> str:
    """``adbot check-config`` (on stderr): a pacing value less safe than its default; allowed."""
    why = _("the safe default is {safe:g}; allowed, see docs/LIMITS.md", safe=safe)
    if key == "daily_send_cap" and value == 0:
        return _("warning: engine.{key} = 0: no daily send cap ({why})", key=key, why=why)
    if key == "daily_send_cap":
        return _(
            "warning: engine.{key} = {value:g} is above the safe default ({why})",
            key=key,
            value=value,
            why=why,
        )
    if key == "warmup_days" and value == 0:
        return _("warning: engine.{key} = 0: no warm-up for new sessions ({why})", key=key, why=why)
    if key == "spacing_jitter":
        return _(
            "warning: engine.{key} = {value:g} lets two posts come closer than {safe_min_spacing:g} s ({why})",
            key=key,
            value=value,
            safe_min_spacing=SAFE_MIN_SPACING,
            why=why,
        )
    return _("warning: engine.{key} = {value:g} is below the safe default ({why})", key=key, value=value, why=why)
