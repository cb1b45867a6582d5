"""/stats by period and per group, and the per-day series the charts draw (a customer's, or the whole
service's for the admin's /health).

Figures come from ``storage.stats_periods`` (live ledger rows plus the per-day aggregates of pruned
ones); the all-time totals of the first screen stay ``stats`` / ``group_stats`` (``services.campaign``),
which pruning never touches. Days are the reader's local days (``core.periods``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from control_bot.services.campaign import require_customer
from control_bot.services.reach import GroupReach, customer_reach
from core.periods import LocalDay, Period, local_days, period_start, today
from core.proof import message_link
from storage import stats_periods
from storage.db import Connection, Database
from storage.groups import Group
from storage.stats_periods import Counts, LastDelivery

__all__ = [
    "GROUPS_PAGE",
    "MAX_CHART_DAYS",
    "DayFigure",
    "GroupFigure",
    "GroupPage",
    "chart_days",
    "customer_series",
    "daily_series",
    "group_page",
    "period_totals",
    "service_series",
]

GROUPS_PAGE = 10  # groups per page of the per-group view (as /groups)
MIN_CHART_DAYS = 7  # a chart of "today" still shows the week it ends (one bar says little)
MAX_CHART_DAYS = 366  # "all": at most the last year, bars stay readable


@dataclass(frozen=True)
class DayFigure:
    day: date
    counts: Counts


@dataclass(frozen=True)
class GroupFigure:
    group: Group
    reach: GroupReach
    counts: Counts  # in the period
    last: LastDelivery | None  # the latest delivery still in the ledger, whatever the period
    link: str | None  # its public link (a public group only)


@dataclass(frozen=True)
class GroupPage:
    groups: list[GroupFigure]
    first: int  # the number of the page's first group in the whole list
    total: int
    page: int
    pages: int


async def period_totals(db: Database, user_id: int, period: Period, now: float, zone: ZoneInfo) -> Counts:
    """The customer's sends that ended in the period."""
    await require_customer(db, user_id, now)
    async with db.read() as conn:
        return await stats_periods.totals(conn, user_id, period_start(period, now, zone), None)


async def group_page(
    db: Database, user_id: int, period: Period, page: int, now: float, zone: ZoneInfo
) -> GroupPage:
    """One page of the customer's groups (in /groups' order) with each one's figures in the period, its
    last delivery (and its link) and its reach."""
    await require_customer(db, user_id, now)
    since = period_start(period, now, zone)
    async with db.read() as conn:
        view = await customer_reach(conn, user_id)
        own = view.groups
        pages = max(1, math.ceil(len(own) / GROUPS_PAGE))
        page = min(max(page, 0), pages - 1)
        shown = own[page * GROUPS_PAGE : (page + 1) * GROUPS_PAGE]
        refs = [g.ref for g in shown]
        counts = await stats_periods.group_counts(conn, user_id, refs, since, None)
        last = await stats_periods.last_deliveries(conn, user_id, refs)
    figures = [
        GroupFigure(
            group=g,
            reach=view.reach[g.ref],
            counts=counts.get(g.ref, Counts()),
            last=last.get(g.ref),
            link=None if g.ref not in last else message_link(g.ref, last[g.ref].message_id),
        )
        for g in shown
    ]
    return GroupPage(figures, page * GROUPS_PAGE + 1, len(own), page, pages)


async def chart_days(
    db: Database, customer_id: int | None, period: Period, now: float, zone: ZoneInfo
) -> list[LocalDay]:
    """The local days a chart of the period shows: at least a week, "all" from the first send (at most
    ``MAX_CHART_DAYS``); empty when "all" has no send yet."""
    last = today(now, zone)
    days = period.days
    if days is None:
        async with db.read() as conn:
            first_at = await stats_periods.first_activity(conn, customer_id)
        if first_at is None:
            return []
        first = min(today(first_at, zone), last)
        days = (last - first).days + 1
    days = min(max(days, MIN_CHART_DAYS), MAX_CHART_DAYS)
    return local_days(last - timedelta(days=days - 1), last, zone)


async def daily_series(db: Database, customer_id: int | None, days: list[LocalDay]) -> list[DayFigure]:
    """Each day's figures: live rows by their local day, pruned aggregates by their UTC day."""
    if not days:
        return []
    found: dict[date, Counts] = {}
    async with db.read() as conn:
        for run in _runs(days):
            await _count_run(conn, customer_id, run, found)
        pruned = await stats_periods.pruned_day_counts(conn, customer_id, days[0].start, days[-1].end - 1)
    for day in days:
        extra = pruned.get(day.day.isoformat())
        if extra is not None:
            found[day.day] = found.get(day.day, Counts()) + extra
    return [DayFigure(d.day, found.get(d.day, Counts())) for d in days]


def _runs(days: list[LocalDay]) -> list[list[LocalDay]]:
    """Consecutive days of one UTC offset together (one query each); a day the clock changes in alone."""
    runs: list[list[LocalDay]] = []
    for day in days:
        if runs and day.offset is not None and runs[-1][-1].offset == day.offset:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


async def _count_run(conn: Connection, customer_id: int | None, run: list[LocalDay], into: dict[date, Counts]) -> None:
    offset = run[0].offset
    by_day = await stats_periods.day_counts(conn, customer_id, run[0].start, run[-1].end, offset or 0)
    if offset is None:  # a day the clock changed in: everything in its bounds is that day's
        total = Counts()
        for counts in by_day.values():
            total = total + counts
        into[run[0].day] = total
        return
    for day in run:
        found = by_day.get(day.day.isoformat())
        if found is not None:
            into[day.day] = found


async def customer_series(
    db: Database, user_id: int, period: Period, now: float, zone: ZoneInfo
) -> list[DayFigure]:
    """The customer's per-day figures for a chart of the period (``chart_days``)."""
    await require_customer(db, user_id, now)
    return await daily_series(db, user_id, await chart_days(db, user_id, period, now, zone))


async def service_series(db: Database, now: float, zone: ZoneInfo, period: Period = Period.MONTH) -> list[DayFigure]:
    """Every customer's sends per day (the admin's /health)."""
    return await daily_series(db, None, await chart_days(db, None, period, now, zone))
