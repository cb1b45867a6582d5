"""The periods /stats and /export offer, as spans of time in the reader's zone.

"Today" starts at the reader's local midnight; "7 days" is today and the six days before it (calendar
days, as a chart of them shows seven bars); "30 days" likewise; "all" has no start. Local days are cut
at the zone's midnights, so a day a clock change shortens or lengthens has 23 or 25 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = ["LocalDay", "Period", "local_days", "local_midnight", "period_start", "today"]


class Period(StrEnum):
    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"
    ALL = "all"

    @property
    def days(self) -> int | None:
        """How many local days it spans (None: all of them)."""
        return {Period.TODAY: 1, Period.WEEK: 7, Period.MONTH: 30, Period.ALL: None}[self]


@dataclass(frozen=True)
class LocalDay:
    day: date
    start: float  # its local midnight, as a Unix time
    end: float  # the next local midnight
    utc_offset: int = 0  # the zone's offset from UTC at its start, in seconds

    @property
    def offset(self) -> int | None:
        """The zone's UTC offset in seconds throughout the day; None when it changes within it."""
        return None if self.end - self.start != 86_400 else self.utc_offset


def today(now: float, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(now, zone).date()


def local_midnight(day: date, zone: ZoneInfo) -> float:
    """The Unix time of ``day``'s 00:00 in ``zone`` (a midnight a clock change skips: the first instant
    after it, as zoneinfo resolves it)."""
    return datetime.combine(day, time(0), tzinfo=zone).timestamp()


def period_start(period: Period, now: float, zone: ZoneInfo) -> float | None:
    """When the period starts (None: "all"); it ends now."""
    days = period.days
    if days is None:
        return None
    return local_midnight(today(now, zone) - timedelta(days=days - 1), zone)


def local_days(first: date, last: date, zone: ZoneInfo) -> list[LocalDay]:
    """Every local day from ``first`` to ``last`` (both included), with its bounds and its offset."""
    found: list[LocalDay] = []
    day = first
    start = local_midnight(day, zone)
    while day <= last:
        following = day + timedelta(days=1)
        end = local_midnight(following, zone)
        aware = datetime.fromtimestamp(start, zone).utcoffset()
        offset = 0 if aware is None else int(aware.total_seconds())
        found.append(LocalDay(day, start, end, offset))
        day, start = following, end
    return found
