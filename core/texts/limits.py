"""What an admin or the operator reads about the limits: the /health and ``adbot health`` lines, and
``adbot check-config``'s warnings (``core.pacing``). The reports read ``control_bot.services.limits``'
results through the read-only shapes below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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
        return "Daily send cap: off"
    line = f"Daily send cap: {limits.daily_send_cap} posts per session in any 24 h"
    if limits.warmup_days > 0:
        ramp = ", ".join(str(c) for c in limits.warmup_caps)
        line += f"; warm-up {limits.warmup_days} d for new sessions ({ramp})"
    else:
        line += "; no warm-up"
    return line


def _session(s: SessionPosts) -> str:
    cap = f"/{s.cap}" if s.cap is not None else ""
    warm = f" (warm-up until {fmt_time(s.warmup_until)})" if s.warmup_until is not None else ""
    return f"#{s.session_id} {s.posts}{cap}{warm}"


def health_lines(limits: Limits) -> list[str]:
    """The limits' lines of /health and ``adbot health`` (plain text: nothing here needs escaping)."""
    lines = [
        f"Pacing: cycles every {fmt_duration(limits.cycle_interval)} by default (customers may choose "
        f"{fmt_duration(limits.min_cycle_interval)}..{fmt_duration(limits.max_cycle_interval)}); "
        f"{_spacing(limits)} between two posts of a session",
        _cap(limits),
        f"Joins: {limits.join_min_gap_minutes} min apart, at most {limits.join_daily_cap} per session in any 24 h",
    ]
    if limits.sessions:
        lines.append(
            f"Customers' sessions: {len(limits.sessions)}, {len(limits.at_cap)} at their cap, "
            f"{len(limits.warming)} in warm-up"
        )
        busiest = [s for s in limits.sessions[:BUSIEST_SHOWN] if s.posts or s.warmup_until is not None]
        if busiest:
            lines.append("Posts in the last 24 h: " + ", ".join(_session(s) for s in busiest))
    return lines


def unsafe_warning(key: str, value: float, safe: float) -> str:
    """``adbot check-config`` (on stderr): a pacing value less safe than its default; allowed."""
    why = f"the safe default is {safe:g}; allowed, see docs/LIMITS.md"
    if key == "daily_send_cap" and value == 0:
        return f"warning: engine.{key} = 0: no daily send cap ({why})"
    if key == "daily_send_cap":
        return f"warning: engine.{key} = {value:g} is above the safe default ({why})"
    if key == "warmup_days" and value == 0:
        return f"warning: engine.{key} = 0: no warm-up for new sessions ({why})"
    if key == "spacing_jitter":
        return f"warning: engine.{key} = {value:g} lets two posts come closer than {SAFE_MIN_SPACING:g} s ({why})"
    return f"warning: engine.{key} = {value:g} is below the safe default ({why})"
