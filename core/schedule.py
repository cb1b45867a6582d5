"""A campaign's schedule: the days of the week and the daily window its cycles may start in, in the
customer's time zone.

``days`` is a bit mask, Monday bit 0 ... Sunday bit 6 (127: every day). ``start`` and ``end`` are minutes
after local midnight: ``start == end`` is the whole day; ``end < start`` is a window across midnight
(22:00-06:00), which belongs to the day it starts on. Times are computed in the zone each day, so a
daylight-saving change moves the window with the wall clock, as a person expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EVERY_DAY = 0b1111111
WEEKDAYS = 0b0011111
DAY_MINUTES = 24 * 60
UTC = ZoneInfo("UTC")

_HOURS_RE = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-–—]\s*(\d{1,2})(?::(\d{2}))?\s*$")


@dataclass(frozen=True)
class Schedule:
    days: int = EVERY_DAY
    start: int = 0  # minutes after local midnight
    end: int = 0
    zone: ZoneInfo = UTC

    def __post_init__(self) -> None:
        if not 1 <= self.days <= EVERY_DAY:
            raise ValueError("a schedule needs at least one day")
        if not (0 <= self.start < DAY_MINUTES and 0 <= self.end < DAY_MINUTES):
            raise ValueError("window minutes out of range")

    @property
    def always(self) -> bool:
        """No quiet time at all: every day, the whole day."""
        return self.days == EVERY_DAY and self.start == self.end

    @property
    def all_day(self) -> bool:
        return self.start == self.end

    def has_day(self, weekday: int) -> bool:
        return bool(self.days >> weekday & 1)

    def _windows(self, day: date) -> tuple[float, float]:
        """The window opening on ``day`` (local), as unix times."""
        opens = datetime.combine(day, _clock(self.start), self.zone)
        if self.all_day:
            closes = datetime.combine(day + timedelta(days=1), time(0), self.zone)
        elif self.end > self.start:
            closes = datetime.combine(day, _clock(self.end), self.zone)
        else:
            closes = datetime.combine(day + timedelta(days=1), _clock(self.end), self.zone)
        return opens.timestamp(), closes.timestamp()

    def next_open(self, at: float) -> float:
        """``at`` itself when a cycle may start then, else the next time the window opens."""
        if self.always:
            return at
        today = datetime.fromtimestamp(at, self.zone).date()
        # From yesterday (a window across midnight may still be open) to a week ahead: one day is in.
        for offset in range(-1, 8):
            day = today + timedelta(days=offset)
            if not self.has_day(day.weekday()):
                continue
            opens, closes = self._windows(day)
            if at < closes:
                return max(at, opens)
        raise AssertionError("a schedule with a day has a window within a week")

    def allows(self, at: float) -> bool:
        return self.next_open(at) == at


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def parse_hours(text: str) -> tuple[int, int] | None:
    """'09:00-21:00', '9-21', '22:30–06:00' -> (start, end) minutes; None when it is not a window.
    '00:00-24:00' and an equal start and end are the whole day."""
    match = _HOURS_RE.match(text)
    if match is None:
        return None
    h1, m1, h2, m2 = (int(g) if g is not None else 0 for g in match.groups())
    if h2 == 24 and m2 == 0:
        h2 = 0
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    return h1 * 60 + m1, h2 * 60 + m2


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
