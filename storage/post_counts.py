"""How many post requests each session made recently: what the daily send cap (``core.pacing``) counts.

A post request is a ledger row (table ``sends``) of the session that a request went out for: 'pending'
(in flight), 'in_doubt' (its answer lost: a resumed cycle turns 'pending' into it without an attempt
count) or any row with an attempt, whatever Telegram answered (a refusal or a
flood wait was still a request). Rows of groups that were never tried (skipped, left waiting before a
request) do not count. The row's ``started_at`` is when its last request began; a row retried after a
flood wait counts once. Index ``sends_by_session`` serves both queries.
"""

from __future__ import annotations

from collections.abc import Collection

import aiosqlite

from storage.db import fetchall

__all__ = ["posts_since"]

_CHUNK = 500  # ids per statement: well under SQLite's bound on parameters


async def posts_since(conn: aiosqlite.Connection, session_ids: Collection[int], since: float) -> dict[int, int]:
    """Post requests per session started at or after ``since``; every id asked for is in the answer."""
    ids = sorted(set(session_ids))
    counts = dict.fromkeys(ids, 0)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = await fetchall(
            conn,
            f"SELECT session_id, COUNT(*) FROM sends WHERE session_id IN ({marks}) AND started_at >= ?"
            " AND (attempts > 0 OR outcome IN ('pending', 'in_doubt')) GROUP BY session_id",
            (*chunk, since),
        )
        for row in rows:
            counts[int(row[0])] = int(row[1])
    return counts
