"""storage.users: people who wrote to the bot, their settings, and access requests."""

from __future__ import annotations

from pathlib import Path

from core.states import NotifyLevel
from storage import users
from storage.db import Database


async def test_touch_writes_only_when_something_changed(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    try:
        async with db.tx() as conn:
            assert await users.touch(conn, 7, "@Alice", "Alice", "ru", 100.0)
            assert not await users.touch(conn, 7, "alice", "Alice", "ru", 200.0)
            row = await users.get(conn, 7)
            assert row is not None
            assert (row.username, row.language_code, row.locale, row.time_zone) == ("alice", "ru", None, None)
            assert row.notify_level is NotifyLevel.PROBLEMS
            assert (row.first_seen_at, row.last_seen_at) == (100.0, 100.0)
            assert await users.touch(conn, 7, None, "Alice", "en", 300.0)
            row = await users.get(conn, 7)
            assert row is not None and row.username is None and row.language_code == "en"
            assert (row.first_seen_at, row.last_seen_at) == (100.0, 300.0)
            assert await users.get(conn, 8) is None
    finally:
        await db.close()


async def test_find_by_username_any_case_and_settings(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    try:
        async with db.tx() as conn:
            await users.touch(conn, 7, "Bob_X", "Bob", "en", 1.0)
            found = await users.find_by_username(conn, "@bob_x")
            assert found is not None and found.user_id == 7
            assert await users.find_by_username(conn, "@") is None
            assert await users.find_by_username(conn, "nobody") is None
            assert await users.audience(conn, 7) == ("en", None)
            assert await users.audience(conn, 9) == (None, None)
            assert await users.set_locale(conn, 7, "ru")
            assert await users.set_time_zone(conn, 7, "Etc/GMT-3")
            assert await users.set_notify_level(conn, 7, NotifyLevel.ALL)
            assert not await users.set_locale(conn, 9, "ru")
            assert await users.audience(conn, 7) == ("ru", "Etc/GMT-3")
            assert await users.notify_level(conn, 7) is NotifyLevel.ALL
            assert await users.notify_level(conn, 9) is NotifyLevel.PROBLEMS
            # a newer Telegram language does not undo a chosen locale
            await users.touch(conn, 7, "Bob_X", "Bob", "de", 2.0)
            assert await users.audience(conn, 7) == ("ru", "Etc/GMT-3")
    finally:
        await db.close()


async def test_one_open_access_request_per_person(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    try:
        async with db.tx() as conn:
            first = await users.open_request(conn, 7, 10.0)
            assert first is not None and first.handled_at is None
            assert await users.open_request(conn, 7, 11.0) is None
            pending = await users.pending_request(conn, 7)
            assert pending == first
            closed = await users.close_request(conn, 7, 1, "granted", 12.0)
            assert closed is not None and (closed.handled_at, closed.handled_by, closed.outcome) == (12.0, 1, "granted")
            assert await users.pending_request(conn, 7) is None
            assert await users.close_request(conn, 7, 2, "declined", 13.0) is None
            again = await users.open_request(conn, 7, 20.0)
            assert again is not None and again.id != first.id
    finally:
        await db.close()
