"""API pairs (api_id, api_hash): the identity of sessions without their own app, chosen once for life.

``capacity`` mirrors the config's ``max_sessions_per_pair``; a trigger refuses a session beyond it.
"used" counts every session that connects with the pair's api_id: those pointing at the pair and those
whose own app (sidecar) has the same api_id; dead sessions never connect again and do not count.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import aiosqlite

from storage.db import execute, fetchall, fetchone


@dataclass(frozen=True)
class ApiPair:
    id: int
    api_id: int
    api_hash: str = field(repr=False)
    capacity: int
    created_at: float
    used: int = 0

    @property
    def full(self) -> bool:
        return self.used >= self.capacity


USERS = "s.state != 'dead' AND (s.pair_id = p.id OR (s.pair_id IS NULL AND s.own_api_id = p.api_id))"
"""The sessions (alias ``s``) connecting with pair ``p``'s api_id: the cap's count (the trigger's too)."""

_SELECT = (
    "SELECT p.id, p.api_id, p.api_hash, p.capacity, p.created_at,"
    f" (SELECT COUNT(*) FROM sessions s WHERE {USERS}) AS used FROM api_pairs p"
)


def _row(row: sqlite3.Row) -> ApiPair:
    return ApiPair(
        id=row["id"],
        api_id=row["api_id"],
        api_hash=row["api_hash"],
        capacity=row["capacity"],
        created_at=row["created_at"],
        used=int(row["used"]),
    )


async def add(conn: aiosqlite.Connection, api_id: int, api_hash: str, capacity: int, now: float) -> ApiPair:
    """Insert a pair; raises ``sqlite3.IntegrityError`` when ``api_id`` is already there."""
    row = await fetchone(
        conn,
        "INSERT INTO api_pairs (api_id, api_hash, capacity, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        (api_id, api_hash, capacity, now),
    )
    assert row is not None
    pair = await get(conn, int(row[0]))
    assert pair is not None
    return pair


async def get(conn: aiosqlite.Connection, pair_id: int) -> ApiPair | None:
    row = await fetchone(conn, f"{_SELECT} WHERE p.id = ?", (pair_id,))
    return _row(row) if row else None


async def get_by_api_id(conn: aiosqlite.Connection, api_id: int) -> ApiPair | None:
    row = await fetchone(conn, f"{_SELECT} WHERE p.api_id = ?", (api_id,))
    return _row(row) if row else None


async def list_all(conn: aiosqlite.Connection) -> list[ApiPair]:
    return [_row(r) for r in await fetchall(conn, f"{_SELECT} ORDER BY p.id")]


async def least_used_with_room(conn: aiosqlite.Connection, *, exclude: int | None = None) -> ApiPair | None:
    """The pair with the fewest sessions among those below capacity (ties: oldest first), never the pair
    with id ``exclude``."""
    row = await fetchone(
        conn,
        f"SELECT * FROM ({_SELECT}) WHERE used < capacity AND id IS NOT ? ORDER BY used, id LIMIT 1",
        (exclude,),
    )
    return _row(row) if row else None


async def holders(conn: aiosqlite.Connection, pair_id: int) -> list[int]:
    """Ids of the sessions (dead ones excepted) whose identity is this pool pair, by id."""
    rows = await fetchall(
        conn, "SELECT id FROM sessions WHERE pair_id = ? AND state != 'dead' ORDER BY id", (pair_id,)
    )
    return [int(r[0]) for r in rows]


async def remove(conn: aiosqlite.Connection, pair_id: int) -> None:
    """Delete a pair no live session holds; dead sessions that held it forget it (they never connect)."""
    await execute(conn, "UPDATE sessions SET pair_id = NULL WHERE pair_id = ? AND state = 'dead'", (pair_id,))
    await execute(conn, "DELETE FROM api_pairs WHERE id = ?", (pair_id,))


async def sync_capacity(conn: aiosqlite.Connection, capacity: int) -> int:
    """Set every pair's capacity to the configured one (call at start-up); returns the pairs changed.

    Lowering it never evicts sessions: a pair above the new capacity just takes no more."""
    return await execute(conn, "UPDATE api_pairs SET capacity = ? WHERE capacity != ?", (capacity, capacity))
