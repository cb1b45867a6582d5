"""People who wrote to the bot (strangers too) with what they chose in /settings, and access requests.

A row is written when someone is first seen and again only when Telegram tells us something new about
them (username, first name, language): not on every update. ``last_seen_at`` is therefore the time of the
last change, not of the last message. Usernames are stored lower case without '@', so ``/grant @Name``
finds them whatever the case.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import aiosqlite

from core.states import DEFAULT_NOTIFY_LEVEL, NotifyLevel
from storage.db import execute, fetchone

_COLUMNS = (
    "user_id, username, first_name, language_code, locale, time_zone, notify_level, first_seen_at, last_seen_at"
)


@dataclass(frozen=True)
class UserRow:
    user_id: int
    username: str | None
    first_name: str | None
    language_code: str | None
    locale: str | None  # chosen in /settings; None: follow language_code
    time_zone: str | None  # IANA name; None: UTC
    notify_level: NotifyLevel
    first_seen_at: float
    last_seen_at: float


@dataclass(frozen=True)
class AccessRequest:
    id: int
    user_id: int
    requested_at: float
    handled_at: float | None
    handled_by: int | None
    outcome: str | None


def normalize_username(username: str | None) -> str | None:
    """``@Name`` -> ``name``; blank -> None."""
    if username is None:
        return None
    cleaned = username.strip().lstrip("@").lower()
    return cleaned or None


def _level(value: str) -> NotifyLevel:
    try:
        return NotifyLevel(value)
    except ValueError:  # a level a newer version wrote: the default until it is chosen again
        return DEFAULT_NOTIFY_LEVEL


def _row(row: sqlite3.Row) -> UserRow:
    return UserRow(
        user_id=row["user_id"],
        username=row["username"],
        first_name=row["first_name"],
        language_code=row["language_code"],
        locale=row["locale"],
        time_zone=row["time_zone"],
        notify_level=_level(row["notify_level"]),
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
    )


async def touch(
    conn: aiosqlite.Connection,
    user_id: int,
    username: str | None,
    first_name: str | None,
    language_code: str | None,
    now: float,
) -> bool:
    """Record someone who wrote to the bot; True when a row was inserted or changed (new person, or a new
    username, first name or language). An unchanged person costs one read and no write."""
    username = normalize_username(username)
    changed = await execute(
        conn,
        "INSERT INTO users (user_id, username, first_name, language_code, first_seen_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, first_name = excluded.first_name,"
        " language_code = excluded.language_code, last_seen_at = excluded.last_seen_at"
        " WHERE users.username IS NOT excluded.username OR users.first_name IS NOT excluded.first_name"
        " OR users.language_code IS NOT excluded.language_code",
        (user_id, username, first_name, language_code, now, now),
    )
    return changed > 0


async def get(conn: aiosqlite.Connection, user_id: int) -> UserRow | None:
    row = await fetchone(conn, f"SELECT {_COLUMNS} FROM users WHERE user_id = ?", (user_id,))
    return _row(row) if row is not None else None


async def find_by_username(conn: aiosqlite.Connection, username: str) -> UserRow | None:
    """The person with this username (``@Name`` or ``name``, any case); the most recently seen one if
    Telegram moved the name from one account to another."""
    name = normalize_username(username)
    if name is None:
        return None
    row = await fetchone(
        conn,
        f"SELECT {_COLUMNS} FROM users WHERE username = ? ORDER BY last_seen_at DESC LIMIT 1",
        (name,),
    )
    return _row(row) if row is not None else None


async def set_locale(conn: aiosqlite.Connection, user_id: int, locale: str | None) -> bool:
    """``None``: follow Telegram's language again. False when the person has no row."""
    return await execute(conn, "UPDATE users SET locale = ? WHERE user_id = ?", (locale, user_id)) > 0


async def set_time_zone(conn: aiosqlite.Connection, user_id: int, time_zone: str | None) -> bool:
    """An IANA name (validated by the caller); ``None``: UTC."""
    return await execute(conn, "UPDATE users SET time_zone = ? WHERE user_id = ?", (time_zone, user_id)) > 0


async def set_notify_level(conn: aiosqlite.Connection, user_id: int, level: NotifyLevel) -> bool:
    return await execute(
        conn, "UPDATE users SET notify_level = ? WHERE user_id = ?", (level.value, user_id)
    ) > 0


async def audience(conn: aiosqlite.Connection, user_id: int) -> tuple[str | None, str | None]:
    """(language, time zone) to write to this person in outside a handler: the chosen locale, else
    Telegram's language code (the caller negotiates it against the catalogs); zone None = UTC.
    (None, None) for someone never seen."""
    row = await fetchone(conn, "SELECT locale, language_code, time_zone FROM users WHERE user_id = ?", (user_id,))
    if row is None:
        return None, None
    return row["locale"] or row["language_code"], row["time_zone"]


async def notify_level(conn: aiosqlite.Connection, user_id: int) -> NotifyLevel:
    row = await fetchone(conn, "SELECT notify_level FROM users WHERE user_id = ?", (user_id,))
    return DEFAULT_NOTIFY_LEVEL if row is None else _level(row["notify_level"])


# --- access requests --------------------------------------------------------------------------------


def _request(row: sqlite3.Row) -> AccessRequest:
    return AccessRequest(
        id=row["id"],
        user_id=row["user_id"],
        requested_at=row["requested_at"],
        handled_at=row["handled_at"],
        handled_by=row["handled_by"],
        outcome=row["outcome"],
    )


async def pending_request(conn: aiosqlite.Connection, user_id: int) -> AccessRequest | None:
    """This person's open request, if any."""
    row = await fetchone(
        conn,
        "SELECT id, user_id, requested_at, handled_at, handled_by, outcome FROM access_requests"
        " WHERE user_id = ? AND handled_at IS NULL",
        (user_id,),
    )
    return _request(row) if row is not None else None


async def open_request(conn: aiosqlite.Connection, user_id: int, now: float) -> AccessRequest | None:
    """Open a request; None when one is already open (one open request per person)."""
    changed = await execute(
        conn,
        "INSERT INTO access_requests (user_id, requested_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (user_id, now),
    )
    if not changed:
        return None
    return await pending_request(conn, user_id)


async def close_request(
    conn: aiosqlite.Connection, user_id: int, handled_by: int, outcome: str, now: float
) -> AccessRequest | None:
    """Close this person's open request (``outcome``: 'granted' | 'declined'); the closed request, or None
    when none was open (already answered by another admin)."""
    pending = await pending_request(conn, user_id)
    if pending is None:
        return None
    await execute(
        conn,
        "UPDATE access_requests SET handled_at = ?, handled_by = ?, outcome = ? WHERE id = ? AND handled_at IS NULL",
        (now, handled_by, outcome, pending.id),
    )
    return AccessRequest(pending.id, user_id, pending.requested_at, now, handled_by, outcome)


async def last_answered(conn: aiosqlite.Connection, user_id: int, outcome: str) -> AccessRequest | None:
    """This person's latest request closed with ``outcome`` (e.g. 'declined'), if any."""
    row = await fetchone(
        conn,
        "SELECT id, user_id, requested_at, handled_at, handled_by, outcome FROM access_requests"
        " WHERE user_id = ? AND outcome = ? AND handled_at IS NOT NULL ORDER BY handled_at DESC, id DESC LIMIT 1",
        (user_id, outcome),
    )
    return _request(row) if row is not None else None
