"""Safe pacing: the defaults of ``[engine]``'s pacing keys, the daily send cap with its warm-up ramp, and
which configured values are less safe than those defaults (``adbot check-config`` warns, never refuses).

Telegram publishes no limits for user accounts; what keeps bought accounts alive is behaving like a
person: a few posts a minute at most, irregular gaps, not hundreds a day, and a quiet start on a new
account. The defaults below are that; lower values stay allowed (tests, benchmarks and the demo run fast
cycles), and 0 turns the cap or the warm-up off.

The cap counts a session's post requests in any 24 hours (a rolling window over the ledger's rows that
a request went out for, whatever Telegram answered: a refusal was still a request). A session new to the
pool (its ``added_at``) gets a ramp during its first ``warmup_days`` days: on day ``d`` (1-based) the cap
is ``cap * d / (warmup_days + 1)``, at least 1. With the defaults (100, 3 days): 25, 50, 75, then 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.config import EngineSettings

__all__ = [
    "CAP_WINDOW",
    "SAFE_CYCLE_INTERVAL",
    "SAFE_DAILY_SEND_CAP",
    "SAFE_MIN_CYCLE_INTERVAL",
    "SAFE_MIN_SPACING",
    "SAFE_SEND_SPACING",
    "SAFE_SPACING_JITTER",
    "SAFE_WARMUP_DAYS",
    "Unsafe",
    "cap_today",
    "unsafe_values",
]

SAFE_CYCLE_INTERVAL = 300  # seconds: the seed's cycle
SAFE_MIN_CYCLE_INTERVAL = 300  # the shortest interval a customer may choose
SAFE_SEND_SPACING = 15.0  # seconds between two post requests of one session, start to start ...
SAFE_SPACING_JITTER = 0.33  # ... times a random factor in [1 - jitter, 1 + jitter]: 10 to 20 s
SAFE_MIN_SPACING = 10.0  # the shortest gap the two above allow
SAFE_DAILY_SEND_CAP = 100  # post requests per session in any 24 hours
SAFE_WARMUP_DAYS = 3  # days of lower caps for a session new to the pool

CAP_WINDOW = 86_400.0  # the cap's rolling window, seconds
DAY = 86_400.0


def cap_today(daily_cap: int, warmup_days: int, added_at: float, now: float) -> int | None:
    """How many post requests the session may make in the 24 hours before ``now`` (None: no cap).

    ``daily_cap`` 0 turns the cap off (and with it the warm-up, which only scales the cap);
    ``warmup_days`` 0 gives a session the whole cap from its first day."""
    if daily_cap <= 0:
        return None
    day = max(0, math.floor((now - added_at) / DAY))  # 0: its first day in the pool
    if warmup_days <= 0 or day >= warmup_days:
        return daily_cap
    return max(1, daily_cap * (day + 1) // (warmup_days + 1))


@dataclass(frozen=True)
class Unsafe:
    """A configured pacing value less safe than the default: ``key`` (in ``[engine]``), the value and
    the safe one."""

    key: str
    value: float
    safe: float


def unsafe_values(engine: EngineSettings) -> list[Unsafe]:
    """The pacing keys set below their safe default (a cap above it, or off; a warm-up shorter or off)."""
    found: list[Unsafe] = []
    if engine.cycle_interval < SAFE_CYCLE_INTERVAL:
        found.append(Unsafe("cycle_interval", engine.cycle_interval, SAFE_CYCLE_INTERVAL))
    if engine.min_cycle_interval < SAFE_MIN_CYCLE_INTERVAL:
        found.append(Unsafe("min_cycle_interval", engine.min_cycle_interval, SAFE_MIN_CYCLE_INTERVAL))
    if engine.send_spacing < SAFE_SEND_SPACING:
        found.append(Unsafe("send_spacing", engine.send_spacing, SAFE_SEND_SPACING))
    elif engine.send_spacing * (1 - engine.spacing_jitter) < SAFE_MIN_SPACING:
        # Spacing is fine on average but the jitter lets two posts come closer than the safe gap.
        safe_jitter = round(1 - SAFE_MIN_SPACING / engine.send_spacing, 2)
        found.append(Unsafe("spacing_jitter", engine.spacing_jitter, safe_jitter))
    if engine.daily_send_cap == 0 or engine.daily_send_cap > SAFE_DAILY_SEND_CAP:
        found.append(Unsafe("daily_send_cap", engine.daily_send_cap, SAFE_DAILY_SEND_CAP))
    if engine.daily_send_cap != 0 and engine.warmup_days < SAFE_WARMUP_DAYS:
        found.append(Unsafe("warmup_days", engine.warmup_days, SAFE_WARMUP_DAYS))
    return found
