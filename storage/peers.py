"""Resolved peers per session: id + access hash, so a steady-state send needs no resolve request.

Access hashes are per account, hence the key (session, ref). Rows go away with their session.
"""

from __future__ import annotations

from typing import NamedTuple

import aiosqlite

from storage.db import execute, fetchall


class CachedPeer(NamedTuple):
    kind: str  # 'user', 'chat', 'channel'
    id: int
    access_hash: int | None


async def load(conn: aiosqlite.Connection, session_id: int) -> dict[str, CachedPeer]:
    """Every cached peer of one session, by ref ('@name', '-100<id>')."""
    rows = await fetchall(
        conn, "SELECT ref, peer_type, peer_id, access_hash FROM peer_cache WHERE session_id = ?", (session_id,)
    )
    return {r["ref"]: CachedPeer(r["peer_type"], int(r["peer_id"]), r["access_hash"]) for r in rows}


async def store(conn: aiosqlite.Connection, session_id: int, ref: str, peer: CachedPeer, now: float) -> None:
    await execute(
        conn,
        "INSERT INTO peer_cache (session_id, ref, peer_type, peer_id, access_hash, resolved_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, ref) DO UPDATE SET peer_type = excluded.peer_type,"
        " peer_id = excluded.peer_id, access_hash = excluded.access_hash, resolved_at = excluded.resolved_at",
        (session_id, ref, peer.kind, peer.id, peer.access_hash, now),
    )


async def forget(conn: aiosqlite.Connection, session_id: int, ref: str) -> None:
    await execute(conn, "DELETE FROM peer_cache WHERE session_id = ? AND ref = ?", (session_id, ref))
