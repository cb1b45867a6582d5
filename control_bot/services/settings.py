"""/settings: a person's language, time zone and notification level (``users`` row), and reading a zone
as people type it.

Time zones are stored as IANA names only. An offset typed as ``UTC+3`` becomes ``Etc/GMT-3`` (the Etc
names invert the sign: POSIX); a half-hour offset becomes a zone that keeps it all year (``+5:30`` ->
``Asia/Kolkata``). A name is matched whatever its case, with spaces for underscores, or by its city alone
when only one zone has it (``moscow`` -> ``Europe/Moscow``).
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.states import DEFAULT_NOTIFY_LEVEL, NotifyLevel
from storage import users
from storage.db import Database
from storage.users import UserRow

_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?:[:.]?(\d{2}))?$", re.IGNORECASE)
_UTC_NAMES = frozenset({"utc", "gmt", "z", "utc+0", "utc-0", "gmt+0", "gmt-0", "+0", "-0", "0", "etc/utc", "etc/gmt"})
# Offsets that are not whole hours: a zone that keeps the offset all year (no DST).
_PARTIAL_OFFSETS = {
    (-1, 9, 30): "Pacific/Marquesas",
    (1, 3, 30): "Asia/Tehran",
    (1, 4, 30): "Asia/Kabul",
    (1, 5, 30): "Asia/Kolkata",
    (1, 5, 45): "Asia/Kathmandu",
    (1, 6, 30): "Asia/Yangon",
    (1, 8, 45): "Australia/Eucla",
    (1, 9, 30): "Australia/Darwin",
    (1, 12, 45): "Pacific/Chatham",
}


@functools.cache
def _zones() -> dict[str, str]:
    """Lower-case IANA name -> its name."""
    return {name.lower(): name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC"}


@functools.cache
def _cities() -> dict[str, str | None]:
    """Lower-case last part of a name -> the name, or None when several zones share it."""
    found: dict[str, str | None] = {}
    for name in _zones().values():
        city = name.rsplit("/", 1)[-1].lower()
        found[city] = None if city in found else name
    return found


def parse_zone(text: str) -> str | None:
    """The IANA name for what someone typed, or None when it names no zone."""
    raw = " ".join(text.split())
    if not raw or len(raw) > 64:
        return None
    lowered = raw.lower().replace(" ", "")
    if lowered in _UTC_NAMES:
        return "UTC"
    match = _OFFSET.match(raw.replace(" ", ""))
    if match:
        sign = -1 if match.group(1) in "-−" else 1
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        if minutes:
            return _PARTIAL_OFFSETS.get((sign, hours, minutes))
        if hours == 0:
            return "UTC"
        if (sign > 0 and hours > 14) or (sign < 0 and hours > 12):
            return None
        return f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"  # POSIX: Etc/GMT-3 is three hours east
    name = raw.replace(" ", "_").lower()
    if name in _zones():
        return _zones()[name]
    return _cities().get(name) if "/" not in name else None


def offset_label(zone: str, now: float) -> str:
    """``UTC``, ``UTC+3``, ``UTC-3:30``: the zone's offset at ``now``."""
    offset = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_name(zone: str | None) -> str:
    """What a stored zone is shown as: its name, ``UTC`` when none (an ``Etc/GMT-3`` as ``UTC+3``)."""
    if not zone:
        return "UTC"
    return zone


@dataclass(frozen=True)
class PersonSettings:
    locale: str | None
    time_zone: str | None
    notify_level: NotifyLevel


async def _ensure(db: Database, user_id: int, now: float) -> UserRow:
    """The person's row (the locale middleware writes it; a failed write there is made up for here)."""
    async with db.tx() as conn:
        row = await users.get(conn, user_id)
        if row is None:
            await users.touch(conn, user_id, None, None, None, now)
            row = await users.get(conn, user_id)
    assert row is not None
    return row


async def current(db: Database, user_id: int, now: float) -> PersonSettings:
    """What the person chose (defaults for someone whose row is still being written). A read only."""
    del now
    async with db.read() as conn:
        row = await users.get(conn, user_id)
    if row is None:
        return PersonSettings(None, None, DEFAULT_NOTIFY_LEVEL)
    return PersonSettings(row.locale, row.time_zone, row.notify_level)


async def set_locale(db: Database, user_id: int, locale: str, now: float) -> None:
    await _ensure(db, user_id, now)
    async with db.tx() as conn:
        await users.set_locale(conn, user_id, locale)


async def set_time_zone(db: Database, user_id: int, zone: str, now: float) -> None:
    await _ensure(db, user_id, now)
    async with db.tx() as conn:
        await users.set_time_zone(conn, user_id, None if zone == "UTC" else zone)


async def set_notify_level(db: Database, user_id: int, level: NotifyLevel, now: float) -> None:
    await _ensure(db, user_id, now)
    async with db.tx() as conn:
        await users.set_notify_level(conn, user_id, level)
