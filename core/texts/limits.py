"""What an admin or the operator reads about the limits: the /health and ``adbot health`` lines, and
``adbot check-config``'s warnings (``core.pacing``). The reports read ``control_bot.services.limits``'
results through the read-only shapes below.

``adbot health`` prints the same lines as /health: their English is what it always printed. The
warnings of ``adbot check-config`` are the operator's: marked like every text, printed in English."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.i18n import _, num
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
    return _("{seconds} s", seconds=num(round(value, 2)))


def _spacing(limits: Limits) -> str:
    low = limits.send_spacing * (1 - limits.spacing_jitter)
    high = limits.send_spacing * (1 + limits.spacing_jitter)
    if high - low < 0.01:
        return _seconds(limits.send_spacing)
    return _("{low}–{high} s", low=num(round(low, 2)), high=num(round(high, 2)))


def _cap(limits: Limits) -> str:
    if limits.daily_send_cap <= 0:
        return _("Daily send cap: off")
    if limits.warmup_days > 0:
        return _(
            "Daily send cap: {cap} posts per session in any 24 h; warm-up {days} d for new sessions ({ramp})",
            cap=limits.daily_send_cap,
            days=limits.warmup_days,
            ramp=", ".join(str(c) for c in limits.warmup_caps),
        )
    return _("Daily send cap: {cap} posts per session in any 24 h; no warm-up", cap=limits.daily_send_cap)


def _session(s: SessionPosts) -> str:
    cap = f"/{s.cap}" if s.cap is not None else ""
    posts = f"#{s.session_id} {s.posts}{cap}"
    if s.warmup_until is None:
        return posts
    return _("{posts} (warm-up until {time})", posts=posts, time=fmt_time(s.warmup_until))


def health_lines(limits: Limits) -> list[str]:
    """The limits' lines of /health and ``adbot health`` (plain text: nothing here needs escaping)."""
    lines = [
        _(
            "Pacing: cycles every {interval} by default (customers may choose {shortest}..{longest}); {spacing}"
            " between two posts of a session",
            interval=fmt_duration(limits.cycle_interval),
            shortest=fmt_duration(limits.min_cycle_interval),
            longest=fmt_duration(limits.max_cycle_interval),
            spacing=_spacing(limits),
        ),
        _cap(limits),
        _(
            "Joins: {gap} min apart, at most {cap} per session in any 24 h",
            gap=limits.join_min_gap_minutes,
            cap=limits.join_daily_cap,
        ),
    ]
    if limits.sessions:
        lines.append(_(
            "Customers' sessions: {count}, {at_cap} at their cap, {warming} in warm-up",
            count=len(limits.sessions),
            at_cap=len(limits.at_cap),
            warming=len(limits.warming),
        ))
        busiest = [s for s in limits.sessions[:BUSIEST_SHOWN] if s.posts or s.warmup_until is not None]
        if busiest:
            lines.append(_("Posts in the last 24 h: {sessions}", sessions=", ".join(_session(s) for s in busiest)))
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
