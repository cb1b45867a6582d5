"""Whether a campaign can run: the one check, for the customer's /run (``Engine.start_campaign``) and for
each cycle (``engine.cycle``) alike.

The engine answers with what is missing, never with wording: the control bot turns each item into the
customer's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.errors import PoolError
from storage.customers import Customer
from storage.groups import Group

__all__ = ["CampaignStart", "Missing", "cycle_blocker", "missing"]


class Missing(StrEnum):
    """What keeps a campaign from running. A cycle stops its campaign for the first two, with the value
    as the stop reason."""

    PLAN = "plan_expired"
    POST = "no_post"
    GROUPS = "no_groups"
    ACTIVE_GROUPS = "all_paused"  # there are groups, every one of them paused
    SESSIONS = "no_sessions"


def cycle_blocker(customer: Customer, now: float) -> Missing | None:
    """What stops a running campaign at its next cycle: its plan ended, or it has no post. (A cycle
    without groups or sessions runs and sends nothing: they can come back.)"""
    if not customer.plan_active(now):
        return Missing.PLAN
    if not customer.has_post:
        return Missing.POST
    return None


def missing(
    customer: Customer, groups: Sequence[Group], now: float, *, sessions: int | None = None
) -> tuple[Missing, ...]:
    """Everything that keeps the campaign from starting, in the order the customer is told; empty when
    it can start. An expired plan is the only item then (nothing else matters). ``sessions``: how many
    the customer holds, once the pool was asked (None: not asked yet, not checked)."""
    blocker = cycle_blocker(customer, now)
    if blocker is Missing.PLAN:
        return (Missing.PLAN,)
    gaps: list[Missing] = [] if blocker is None else [blocker]
    if not groups:
        gaps.append(Missing.GROUPS)
    elif not any(g.active for g in groups):
        gaps.append(Missing.ACTIVE_GROUPS)
    if not gaps and sessions is not None and sessions <= 0:
        gaps.append(Missing.SESSIONS)
    return tuple(gaps)


@dataclass(frozen=True)
class CampaignStart:
    """What ``Engine.start_campaign`` did."""

    started: bool  # False: it was already running, or it is not ready (``missing``)
    missing: tuple[Missing, ...] = ()
    sessions: int = 0  # the customer's sessions
    groups_active: int = 0
    interval_s: int = 0
    sessions_short: int = 0  # the plan wants this many more than the pool could give now
    pool_error: PoolError | None = None  # why the pool gave fewer than the plan (or none)
