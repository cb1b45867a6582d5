"""Target groups: each customer's list with per-group health, and the admin's default groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from storage.db import execute, fetchall, fetchone


@dataclass(frozen=True)
class Group:
    id: int
    customer_id: int
    ref: str
    added_at: float
    consecutive_failures: int
    last_error: str | None
    paused_reason: str | None
    paused_at: float | None
    slowmode_seconds: int | None
    slowmode_until: float | None
    # Whether the customer's sessions can post there (``engine.reach``): None = reachable (or not yet
    # placed), else the reason; ``reach_told_at``: the customer was told it is unreachable.
    reach: str | None = None
    reach_detail: str | None = None
    reach_changed_at: float | None = None
    reach_told_at: float | None = None
    # What the chat is, as last confirmed on add (the bot's getChat or the sessions' dialogs):
    # ``checked_at`` None = never checked (shown as "not checked yet", never as fine); ``chat_kind``
    # 'group' | 'forum'; ``title`` as Telegram showed it.
    checked_at: float | None = None
    chat_kind: str | None = None
    title: str | None = None

    @property
    def active(self) -> bool:
        return self.paused_reason is None


# Group's fields in order: rows are built positionally (a campaign's groups are read at every cycle,
# and building each one from a dict of its columns cost twice as much).
_COLUMNS = (
    "id, customer_id, ref, added_at, consecutive_failures, last_error, paused_reason, paused_at,"
    " slowmode_seconds, slowmode_until, reach, reach_detail, reach_changed_at, reach_told_at,"
    " checked_at, chat_kind, title"
)


async def list_for(conn: aiosqlite.Connection, customer_id: int) -> list[Group]:
    rows = await fetchall(conn, f"SELECT {_COLUMNS} FROM groups WHERE customer_id = ? ORDER BY id", (customer_id,))
    return [Group(*r) for r in rows]


async def get(conn: aiosqlite.Connection, customer_id: int, ref: str) -> Group | None:
    row = await fetchone(conn, f"SELECT {_COLUMNS} FROM groups WHERE customer_id = ? AND ref = ?", (customer_id, ref))
    return Group(*row) if row else None


async def ref_of(conn: aiosqlite.Connection, customer_id: int, group_id: int) -> str | None:
    """The ref of the customer's group ``group_id``; None when that id is not one of their groups."""
    row = await fetchone(conn, "SELECT ref FROM groups WHERE id = ? AND customer_id = ?", (group_id, customer_id))
    return str(row[0]) if row else None


async def count_for(conn: aiosqlite.Connection, customer_id: int) -> int:
    row = await fetchone(conn, "SELECT COUNT(*) FROM groups WHERE customer_id = ?", (customer_id,))
    return int(row[0]) if row else 0


async def count_by_customer(conn: aiosqlite.Connection) -> dict[int, int]:
    """Groups per customer (customers with none are absent)."""
    rows = await fetchall(conn, "SELECT customer_id, COUNT(*) FROM groups GROUP BY customer_id")
    return {int(r[0]): int(r[1]) for r in rows}


async def add_many(
    conn: aiosqlite.Connection, customer_id: int, refs: Sequence[str], now: float
) -> tuple[list[str], list[str]]:
    """Adds the refs not yet in the list; returns (added, already there)."""
    added: list[str] = []
    existing: list[str] = []
    for ref in refs:
        changed = await execute(
            conn,
            "INSERT OR IGNORE INTO groups (customer_id, ref, added_at) VALUES (?, ?, ?)",
            (customer_id, ref, now),
        )
        (added if changed else existing).append(ref)
    return added, existing


async def remove(conn: aiosqlite.Connection, customer_id: int, ref: str) -> bool:
    return await execute(conn, "DELETE FROM groups WHERE customer_id = ? AND ref = ?", (customer_id, ref)) > 0


async def remove_by_id(conn: aiosqlite.Connection, customer_id: int, group_id: int) -> str | None:
    """Remove the customer's group ``group_id`` (a button); returns its ref, None when it is not theirs."""
    row = await fetchone(
        conn, "DELETE FROM groups WHERE id = ? AND customer_id = ? RETURNING ref", (group_id, customer_id)
    )
    return str(row[0]) if row else None


async def ref_at(conn: aiosqlite.Connection, customer_id: int, number: int) -> str | None:
    """The ref of the customer's ``number``-th group (1-based, in the order /groups lists them)."""
    if number < 1:
        return None
    row = await fetchone(
        conn,
        "SELECT ref FROM groups WHERE customer_id = ? ORDER BY id LIMIT 1 OFFSET ?",
        (customer_id, number - 1),
    )
    return str(row[0]) if row else None


async def record_check(
    conn: aiosqlite.Connection, customer_id: int, ref: str, chat_kind: str, title: str | None, now: float
) -> bool:
    """What the chat of the customer's group ``ref`` is was confirmed now (a title not shown keeps the
    known one)."""
    changed = await execute(
        conn,
        "UPDATE groups SET checked_at = ?, chat_kind = ?, title = COALESCE(?, title)"
        " WHERE customer_id = ? AND ref = ?",
        (now, chat_kind, title, customer_id, ref),
    )
    return changed > 0


async def record_failure(
    conn: aiosqlite.Connection, group_id: int, error: str, pause_after: int, reason: str, now: float
) -> bool:
    """Counts a failure; pauses the group once ``pause_after`` failures in a row. True if it was paused now."""
    row = await fetchone(
        conn,
        "UPDATE groups SET consecutive_failures = consecutive_failures + 1, last_error = ? WHERE id = ?"
        " RETURNING consecutive_failures, paused_reason",
        (error, group_id),
    )
    if row is None or row["paused_reason"] is not None or row["consecutive_failures"] < pause_after:
        return False
    await pause(conn, group_id, reason, now)
    return True


async def pause(conn: aiosqlite.Connection, group_id: int, reason: str, now: float) -> None:
    await execute(conn, "UPDATE groups SET paused_reason = ?, paused_at = ? WHERE id = ?", (reason, now, group_id))


async def resume(conn: aiosqlite.Connection, customer_id: int, ref: str) -> bool:
    changed = await execute(
        conn,
        "UPDATE groups SET paused_reason = NULL, paused_at = NULL, consecutive_failures = 0"
        " WHERE customer_id = ? AND ref = ? AND paused_reason IS NOT NULL",
        (customer_id, ref),
    )
    return changed > 0


async def set_slowmode(conn: aiosqlite.Connection, group_id: int, seconds: int, until: float) -> None:
    await execute(
        conn,
        "UPDATE groups SET slowmode_seconds = MAX(COALESCE(slowmode_seconds, 0), ?), slowmode_until = ?"
        " WHERE id = ?",
        (seconds, until, group_id),
    )


async def set_reach(
    conn: aiosqlite.Connection, group_id: int, reach: str | None, detail: str | None, now: float
) -> None:
    """Whether the customer's sessions can reach the group (None: they can) and why not. The time of the
    change is kept only when the reason itself changes; a group reachable again forgets that the
    customer was told it was not."""
    await execute(
        conn,
        "UPDATE groups SET reach_changed_at = CASE WHEN reach IS ? THEN reach_changed_at ELSE ? END,"
        " reach = ?, reach_detail = ?, reach_told_at = CASE WHEN ? IS NULL THEN NULL ELSE reach_told_at END"
        " WHERE id = ?",
        (reach, now, reach, detail, reach, group_id),
    )


async def set_reach_told(conn: aiosqlite.Connection, group_id: int, now: float) -> None:
    """The customer was told the group is unreachable (once, until it is reachable again)."""
    await execute(conn, "UPDATE groups SET reach_told_at = ? WHERE id = ?", (now, group_id))


async def all_refs(conn: aiosqlite.Connection) -> list[str]:
    """Every group reference the service stores: every customer's and the default groups."""
    rows = await fetchall(conn, "SELECT ref FROM groups UNION SELECT ref FROM default_groups ORDER BY ref")
    return [str(r[0]) for r in rows]


async def list_defaults(conn: aiosqlite.Connection) -> list[str]:
    return [r[0] for r in await fetchall(conn, "SELECT ref FROM default_groups ORDER BY id")]


async def has_defaults(conn: aiosqlite.Connection) -> bool:
    return await fetchone(conn, "SELECT 1 FROM default_groups LIMIT 1") is not None


async def add_defaults(conn: aiosqlite.Connection, refs: Sequence[str], now: float) -> tuple[list[str], list[str]]:
    added: list[str] = []
    existing: list[str] = []
    for ref in refs:
        changed = await execute(
            conn, "INSERT OR IGNORE INTO default_groups (ref, added_at) VALUES (?, ?)", (ref, now)
        )
        (added if changed else existing).append(ref)
    return added, existing

