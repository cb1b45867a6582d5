"""The ids a forward of a source post sends, per session: the post's whole album, or the post alone.

Read once per session with ``AccountPort.read_post`` (``engine.sources``) and kept here, so neither a
later cycle nor a restart reads it again (a steady-state cycle makes one request per post). Per session,
because message ids of a basic group are per account; rows go with their session.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiosqlite

from core.ports import Peer
from storage.db import execute, fetchall, fetchone

__all__ = ["find", "for_session", "store"]


def _ids(raw: str) -> tuple[int, ...] | None:
    try:
        ids = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return None
    return tuple(ids)


async def for_session(conn: aiosqlite.Connection, session_id: int) -> dict[tuple[Peer, int], tuple[int, ...]]:
    """Every album the session read: ((source, post id) -> ids), loaded when its account connects so that
    deciding which request classes a forward needs never waits for a read it will not make."""
    rows = await fetchall(
        conn, "SELECT peer_type, chat_id, msg_id, ids FROM post_albums WHERE session_id = ?", (session_id,)
    )
    found = {}
    for row in rows:
        ids = _ids(row[3])
        if ids is not None:
            found[(Peer(row[0], row[1]), int(row[2]))] = ids
    return found


async def find(conn: aiosqlite.Connection, session_id: int, source: Peer, msg_id: int) -> tuple[int, ...] | None:
    row = await fetchone(
        conn,
        "SELECT ids FROM post_albums WHERE session_id = ? AND peer_type = ? AND chat_id = ? AND msg_id = ?",
        (session_id, source.kind, source.id, msg_id),
    )
    return None if row is None else _ids(row[0])


async def store(
    conn: aiosqlite.Connection, session_id: int, source: Peer, msg_id: int, ids: Sequence[int], now: float
) -> None:
    await execute(
        conn,
        "INSERT INTO post_albums (session_id, peer_type, chat_id, msg_id, ids, read_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (session_id, peer_type, chat_id, msg_id) DO UPDATE SET ids = excluded.ids,"
        " read_at = excluded.read_at",
        (session_id, source.kind, source.id, msg_id, json.dumps(list(ids)), now),
    )
