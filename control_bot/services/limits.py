"""The limits the service keeps, as configured and as they stand now: what /health and ``adbot health``
show (``core.pacing`` defines them; ``docs/LIMITS.md`` explains them)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Settings
from core.pacing import CAP_WINDOW, DAY, cap_today
from core.states import OWNED_STATES
from storage import post_counts
from storage import sessions as session_rows
from storage.db import Connection

__all__ = ["Limits", "SessionPosts", "limits_report"]


@dataclass(frozen=True)
class SessionPosts:
    """A customer's session against the daily send cap."""

    session_id: int
    owner_id: int | None
    posts: int  # post requests in the last 24 hours
    cap: int | None  # what it may make in 24 hours now, warm-up included (None: no cap)
    warmup_until: float | None  # when its warm-up ends (None: not in warm-up)

    @property
    def at_cap(self) -> bool:
        return self.cap is not None and self.posts >= self.cap


@dataclass(frozen=True)
class Limits:
    """The configured limits, and every owned session's posts of the last 24 hours (busiest first,
    relative to its cap)."""

    cycle_interval: int
    min_cycle_interval: int
    max_cycle_interval: int
    send_spacing: float
    spacing_jitter: float
    daily_send_cap: int  # 0: off
    warmup_days: int  # 0: none
    warmup_caps: list[int]  # the cap on each warm-up day, first day first
    join_min_gap_minutes: int
    join_daily_cap: int
    sessions: list[SessionPosts]

    @property
    def at_cap(self) -> list[SessionPosts]:
        return [s for s in self.sessions if s.at_cap]

    @property
    def warming(self) -> list[SessionPosts]:
        return [s for s in self.sessions if s.warmup_until is not None]


async def limits_report(conn: Connection, settings: Settings, now: float) -> Limits:
    e, p = settings.engine, settings.pool
    rows = await session_rows.list_by_state(conn, OWNED_STATES)
    used = await post_counts.posts_since(conn, [r.id for r in rows], now - CAP_WINDOW)
    warm = e.daily_send_cap > 0 and e.warmup_days > 0
    sessions = []
    for row in rows:
        cap = cap_today(e.daily_send_cap, e.warmup_days, row.added_at, now)
        until = row.added_at + e.warmup_days * DAY
        sessions.append(SessionPosts(row.id, row.owner_id, used[row.id], cap, until if warm and until > now else None))
    sessions.sort(key=lambda s: (-(s.posts / s.cap if s.cap else 0.0), -s.posts, s.session_id))
    caps = [cap_today(e.daily_send_cap, e.warmup_days, 0.0, day * DAY) or 0 for day in range(e.warmup_days)]
    return Limits(
        cycle_interval=e.cycle_interval,
        min_cycle_interval=e.min_cycle_interval,
        max_cycle_interval=e.max_cycle_interval,
        send_spacing=e.send_spacing,
        spacing_jitter=e.spacing_jitter,
        daily_send_cap=e.daily_send_cap,
        warmup_days=e.warmup_days,
        warmup_caps=caps if e.daily_send_cap > 0 else [],
        join_min_gap_minutes=p.join_min_gap_minutes,
        join_daily_cap=p.join_daily_cap,
        sessions=sessions,
    )
