"""Chats (or topics of a forum) that refused one session's posts for good: a REFUSED outcome.

A row says "session S may not post to chat C (topic T)" and why (``core.outcomes.RefusalReason``). It
is written at the first such answer, so that session never tries that group again (no retry streak),
and read when a campaign's groups are placed (``engine.reach``): another member session of the
customer that may write gets the group, or it is unreachable with the reason. A session's dialogs
tell nothing about most of these refusals (text or media forbidden, a closed topic, an admin-only
discussion), so a full read of its dialogs does not clear them: a row goes when the dialogs no longer
hold the chat at all (the session left or was removed; should it join again, that is a new start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import aiosqlite

from core.outcomes import RefusalReason
from core.ports import Peer
from storage.db import execute, fetchall

__all__ = ["Refusal", "for_sessions", "prune_left", "record"]


@dataclass(frozen=True)
class Refusal:
    session_id: int
    peer_type: str  # 'channel' or 'chat'
    chat_id: int  # bare id
    topic_id: int  # 0: the whole chat
    reason: RefusalReason
    error: str | None
    refused_at: float


async def record(
    conn: aiosqlite.Connection,
    session_id: int,
    chat: Peer,
    topic_id: int | None,
    reason: RefusalReason,
    error: str | None,
    now: float,
) -> None:
    """The chat (``topic_id``: that topic only) refused this session's post for good."""
    if chat.kind not in ("channel", "chat"):
        raise ValueError("only chats refuse posts")
    await execute(
        conn,
        "INSERT INTO refusals (session_id, peer_type, chat_id, topic_id, reason, error, refused_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, peer_type, chat_id, topic_id)"
        " DO UPDATE SET reason = excluded.reason, error = excluded.error, refused_at = excluded.refused_at",
        (session_id, chat.kind, chat.id, topic_id or 0, reason, error, now),
    )


async def for_sessions(conn: aiosqlite.Connection, session_ids: Sequence[int]) -> list[Refusal]:
    """Every refusal of the given sessions (one query)."""
    if not session_ids:
        return []
    marks = ", ".join("?" * len(session_ids))
    rows = await fetchall(
        conn,
        "SELECT session_id, peer_type, chat_id, topic_id, reason, error, refused_at FROM refusals"
        f" WHERE session_id IN ({marks}) ORDER BY session_id, peer_type, chat_id, topic_id",
        tuple(session_ids),
    )
    return [
        Refusal(int(r[0]), str(r[1]), int(r[2]), int(r[3]), cast(RefusalReason, r[4]), r[5], float(r[6]))
        for r in rows
    ]


async def prune_left(conn: aiosqlite.Connection, session_id: int) -> int:
    """Drop the session's refusals of chats its dialogs no longer hold; returns how many went."""
    return await execute(
        conn,
        "DELETE FROM refusals WHERE session_id = ? AND NOT EXISTS (SELECT 1 FROM memberships AS m"
        " WHERE m.session_id = refusals.session_id AND m.peer_type = refusals.peer_type"
        " AND m.chat_id = refusals.chat_id)",
        (session_id,),
    )
