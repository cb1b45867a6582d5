"""Which chats each session is in, as its own dialogs say: what membership discovery learnt.

A row is one (session, chat) with that session's access hash (hashes are per account: a row is never
used to address the chat from another session), whether the session may write there and why not,
and the chat's slow mode. Rows come from a full read of the session's dialogs (``replace_for_session``),
from one chat learnt on the way (``record``: a resolve, a refresh after a refusal), and go when a send
says the session is no longer there (``forget``) or may no longer write (``mark_blocked``).

Chats are named the way groups are stored (``core.group_refs``): ``'@name'`` or a marked id (``'-100<id>'``
for a channel or supergroup, ``'-<id>'`` for a basic group), without the ``#topic``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

import aiosqlite

from core.link_parts import marked_id, unmark
from core.ports import Dialog, DialogKind, Peer, PeerKind, WriteBlock
from core.states import SessionState
from storage import refusals
from storage.db import execute, executemany, fetchall, fetchone, in_thread


@dataclass(frozen=True)
class Membership:
    session_id: int
    peer: Peer
    kind: DialogKind
    username: str | None
    title: str
    can_write: bool
    why_not: WriteBlock | None
    slow_mode: int
    archived: bool
    seen_at: float

    @property
    def marked_id(self) -> str:
        return marked_id(self.peer.kind, self.peer.id)

    def names(self, peer_ref: str) -> bool:
        """Whether ``peer_ref`` ('@name', '-100<id>', '-<id>') is this chat."""
        if peer_ref.startswith("@"):
            return self.username is not None and peer_ref[1:].lower() == self.username
        return peer_ref == self.marked_id


ChatKey = tuple[str, str | int]
"""('username', 'name') or ('channel' | 'chat', bare id): how a stored reference finds its rows."""


def chat_key(peer_ref: str) -> ChatKey:
    """The key of a group reference's chat (its ``#topic`` ignored); ValueError for anything else."""
    peer = peer_ref.partition("#")[0]
    if peer.startswith("@") and len(peer) > 1:
        return ("username", peer[1:].lower())
    marked = int(peer)
    if marked >= 0:
        raise ValueError(f"not a chat reference: {peer_ref!r}")
    return unmark(marked)


def _split_refs(peer_refs: Iterable[str]) -> tuple[set[str], dict[str, set[int]]]:
    """The usernames and the (kind -> bare ids) the references name; what names no chat is skipped."""
    names: set[str] = set()
    ids: dict[str, set[int]] = {"channel": set(), "chat": set()}
    for ref in peer_refs:
        try:
            field, value = chat_key(ref)
        except ValueError:
            continue
        if field == "username":
            names.add(str(value))
        else:
            ids[field].add(int(value))
    return names, ids


_COLUMNS = (
    "session_id, peer_type, chat_id, kind, access_hash, username, title, can_write, why_not, slow_mode,"
    " archived, seen_at"
)


def _row(row: sqlite3.Row) -> Membership:
    # Positionally, in ``_COLUMNS`` order: a campaign's rows are read at every cycle, and looking each
    # column up by name cost more than twice as much.
    return Membership(
        row[0], Peer(row[1], row[2], row[4]), row[3], row[5], row[6], bool(row[7]), row[8], row[9], bool(row[10]),
        row[11],
    )


def _values(session_id: int, dialog: Dialog, now: float) -> tuple[object, ...]:
    if dialog.peer.kind not in ("chat", "channel"):
        raise ValueError("only chats are memberships")
    username = dialog.username.lower() if dialog.username else None
    why_not = None if dialog.can_write else (dialog.why_not or "read_only")
    return (
        session_id, dialog.peer.kind, dialog.peer.id, dialog.kind, dialog.peer.access_hash, username,
        dialog.title, int(dialog.can_write), why_not, max(0, dialog.slow_mode), int(dialog.archived), now,
    )


_UPSERT = (
    f"INSERT INTO memberships ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (session_id, peer_type, chat_id) DO UPDATE SET kind = excluded.kind,"
    " access_hash = COALESCE(excluded.access_hash, memberships.access_hash), username = excluded.username,"
    " title = excluded.title, can_write = excluded.can_write, why_not = excluded.why_not,"
    " slow_mode = excluded.slow_mode, archived = excluded.archived, seen_at = excluded.seen_at"
)


async def replace_for_session(
    conn: aiosqlite.Connection, session_id: int, dialogs: Iterable[Dialog], now: float
) -> int:
    """A full read of the session's dialogs: what it lists is what it is in (the rest it left).
    Returns how many chats it is in."""
    rows = [_values(session_id, d, now) for d in dialogs]
    await execute(conn, "DELETE FROM memberships WHERE session_id = ?", (session_id,))
    await executemany(conn, _UPSERT, rows)
    await execute(conn, "UPDATE sessions SET dialogs_checked_at = ? WHERE id = ?", (now, session_id))
    await refusals.prune_left(conn, session_id)  # refusals of chats it left go with them
    return len(rows)


async def record(conn: aiosqlite.Connection, session_id: int, dialog: Dialog, now: float) -> None:
    """One chat learnt outside a full read (a resolve that says the session is in it, a refresh)."""
    await execute(conn, _UPSERT, _values(session_id, dialog, now))


def _where_chat(peer_ref: str) -> tuple[str, tuple[object, ...]]:
    field, value = chat_key(peer_ref)
    if field == "username":
        return "username = ?", (value,)
    return "peer_type = ? AND chat_id = ?", (field, value)


async def mark_blocked(
    conn: aiosqlite.Connection, session_id: int, peer_ref: str, why_not: WriteBlock, now: float
) -> None:
    """A send said this session may not write there (any more)."""
    where, params = _where_chat(peer_ref)
    await execute(
        conn,
        f"UPDATE memberships SET can_write = 0, why_not = ?, seen_at = ? WHERE session_id = ? AND {where}",
        (why_not, now, session_id, *params),
    )


async def forget(conn: aiosqlite.Connection, session_id: int, peer_ref: str) -> None:
    """The session is not in that chat (any more): a refusal said so, or it left."""
    where, params = _where_chat(peer_ref)
    await execute(conn, f"DELETE FROM memberships WHERE session_id = ? AND {where}", (session_id, *params))


async def find(conn: aiosqlite.Connection, session_id: int, peer_ref: str) -> Membership | None:
    """The session's row for one chat, if its dialogs have it."""
    where, params = _where_chat(peer_ref)
    row = await fetchone(
        conn, f"SELECT {_COLUMNS} FROM memberships WHERE session_id = ? AND {where}", (session_id, *params)
    )
    return _row(row) if row is not None else None


async def for_sessions(conn: aiosqlite.Connection, session_ids: Sequence[int]) -> list[Membership]:
    """Every chat the given sessions are in (one query, whatever their number)."""
    if not session_ids:
        return []
    marks = ", ".join("?" * len(session_ids))
    rows = await fetchall(
        conn,
        f"SELECT {_COLUMNS} FROM memberships WHERE session_id IN ({marks}) ORDER BY session_id, peer_type, chat_id",
        tuple(session_ids),
    )
    return [_row(r) for r in rows]


async def members_of(conn: aiosqlite.Connection, peer_ref: str) -> list[Membership]:
    """Every session whose dialogs hold this chat, whoever owns it (admins' views, assignment)."""
    where, params = _where_chat(peer_ref)
    rows = await fetchall(conn, f"SELECT {_COLUMNS} FROM memberships WHERE {where} ORDER BY session_id", params)
    return [_row(r) for r in rows]


async def writers_among(
    conn: aiosqlite.Connection, sessions: Sequence[int] | SessionState, chats: Collection[ChatKey]
) -> dict[int, set[ChatKey]]:
    """Which of ``chats`` each session may write to (rows with can_write), for the given session ids or
    every session in one state (e.g. 'unused': the free pool). Sessions reaching none are absent."""
    names = sorted({str(value) for field, value in chats if field == "username"})
    by_kind = {kind: sorted({int(value) for field, value in chats if field == kind}) for kind in ("channel", "chat")}
    which: list[str] = []
    params: list[object] = []
    if names:
        which.append(f"m.username IN ({', '.join('?' * len(names))})")
        params += names
    for kind, ids in by_kind.items():
        if ids:
            which.append(f"(m.peer_type = ? AND m.chat_id IN ({', '.join('?' * len(ids))}))")
            params += [kind, *ids]
    if not which:
        return {}
    if isinstance(sessions, str):
        owner = "m.session_id IN (SELECT id FROM sessions WHERE state = ?)"
        params.append(sessions)
    elif sessions:
        owner = f"m.session_id IN ({', '.join('?' * len(sessions))})"
        params += sessions
    else:
        return {}
    rows = await fetchall(
        conn,
        f"SELECT m.session_id, m.peer_type, m.chat_id, m.username FROM memberships AS m"
        f" WHERE m.can_write = 1 AND ({' OR '.join(which)}) AND {owner}",
        params,
    )
    wanted = set(chats)
    found: dict[int, set[ChatKey]] = {}
    for row in rows:
        keys: list[ChatKey] = [(row["peer_type"], int(row["chat_id"]))]
        if row["username"] is not None:
            keys.append(("username", row["username"]))
        reached = {key for key in keys if key in wanted}
        if reached:
            found.setdefault(int(row["session_id"]), set()).update(reached)
    return found


async def set_scan_due(conn: aiosqlite.Connection, session_id: int, due_at: float) -> None:
    """When the session's dialogs are next read (spread over time by the caller)."""
    await execute(conn, "UPDATE sessions SET dialogs_due_at = ? WHERE id = ?", (due_at, session_id))


async def due_for_scan(conn: aiosqlite.Connection, now: float, states: Sequence[str], limit: int) -> list[int]:
    """Sessions in ``states`` whose dialogs were never read or are due, the most overdue first (never one
    waiting for an API pair: it is not opened until it has one)."""
    marks = ", ".join("?" * len(states))
    rows = await fetchall(
        conn,
        f"SELECT id FROM sessions WHERE state IN ({marks}) AND COALESCE(dialogs_due_at, 0) <= ?"
        " AND (pair_id IS NOT NULL OR own_api_id IS NOT NULL)"
        " ORDER BY dialogs_due_at IS NOT NULL, dialogs_due_at, id LIMIT ?",
        (*states, now, limit),
    )
    return [int(r["id"]) for r in rows]


async def checked_at(conn: aiosqlite.Connection, session_id: int) -> float | None:
    """When the session's dialogs were last read in full (None: never)."""
    row = await fetchone(conn, "SELECT dialogs_checked_at FROM sessions WHERE id = ?", (session_id,))
    return None if row is None or row[0] is None else float(row[0])


_CHUNK = 400  # bound variables per statement, well under SQLite's limit


async def chat_kinds(conn: aiosqlite.Connection, peer_refs: Iterable[str]) -> dict[str, DialogKind]:
    """What each named chat is (group, forum or broadcast channel), as any session's dialogs say.

    Keyed by the chat as named (``'@name'``, ``'-100<id>'``, ``'-<id>'``: a ``#topic`` is dropped); a chat
    no session's dialogs hold is left out, so is anything that is not a chat reference. When sessions
    disagree (a group became a forum since one of them was read), the newest row wins."""
    by_name: dict[str, str] = {}
    by_id: dict[str, dict[int, str]] = {"chat": {}, "channel": {}}
    for ref in peer_refs:
        chat = ref.partition("#")[0]
        try:
            field, value = chat_key(chat)
        except ValueError:
            continue
        if field == "username":
            by_name[str(value)] = chat
        else:
            by_id[field][int(value)] = chat
    seen: dict[str, tuple[float, DialogKind]] = {}

    def keep(chat: str, row: sqlite3.Row) -> None:
        if chat not in seen or float(row["seen_at"]) >= seen[chat][0]:
            seen[chat] = (float(row["seen_at"]), cast(DialogKind, row["kind"]))

    names = sorted(by_name)
    for start in range(0, len(names), _CHUNK):
        part = names[start : start + _CHUNK]
        rows = await fetchall(
            conn,
            f"SELECT username, kind, seen_at FROM memberships WHERE username IN ({', '.join('?' * len(part))})",
            tuple(part),
        )
        for row in rows:
            keep(by_name[row["username"]], row)
    for peer_type, chats in by_id.items():
        ids = sorted(chats)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows = await fetchall(
                conn,
                "SELECT chat_id, kind, seen_at FROM memberships"
                f" WHERE peer_type = ? AND chat_id IN ({', '.join('?' * len(chunk))})",
                (peer_type, *chunk),
            )
            for row in rows:
                keep(chats[int(row["chat_id"])], row)
    return {chat: kind for chat, (_, kind) in seen.items()}


async def checked_times(conn: aiosqlite.Connection, session_ids: Sequence[int]) -> dict[int, float | None]:
    """When each session's dialogs were last read in full (None: never), in one query."""
    if not session_ids:
        return {}
    marks = ", ".join("?" * len(session_ids))
    rows = await fetchall(
        conn, f"SELECT id, dialogs_checked_at FROM sessions WHERE id IN ({marks})", tuple(session_ids)
    )
    return {int(r[0]): None if r[1] is None else float(r[1]) for r in rows}


@dataclass(frozen=True)
class MemberSession:
    """A membership with who holds the session now (the admins' reach view)."""

    membership: Membership
    state: str  # the session's state ('unused', 'assigned', ...)
    owner_id: int | None


async def members_of_chats(conn: aiosqlite.Connection, peer_refs: Sequence[str]) -> list[MemberSession]:
    """Every session whose dialogs hold one of these chats (by username or id; refs that name no chat
    are ignored), with its state and owner, in one query."""
    names, by_kind = _split_refs(peer_refs)
    ids = {(kind, bare) for kind, bares in by_kind.items() for bare in bares}
    if not names and not ids:
        return []
    where: list[str] = []
    params: list[object] = []
    if names:
        # Every session's row of a chat named by its username, even a row stored without the username.
        where.append(
            "(m.peer_type, m.chat_id) IN (SELECT peer_type, chat_id FROM memberships"
            f" WHERE username IN ({', '.join('?' * len(names))}))"
        )
        params += sorted(names)
    if ids:
        where.append(f"(m.peer_type, m.chat_id) IN (VALUES {', '.join(['(?, ?)'] * len(ids))})")
        params += [v for pair in sorted(ids) for v in pair]
    columns = ", ".join(f"m.{c.strip()}" for c in _COLUMNS.split(","))
    rows = await fetchall(
        conn,
        f"SELECT {columns}, s.state AS session_state, s.owner_id AS session_owner FROM memberships m"
        f" JOIN sessions s ON s.id = m.session_id WHERE {' OR '.join(where)} ORDER BY m.session_id",
        tuple(params),
    )
    return [
        MemberSession(_row(r), str(r["session_state"]), None if r["session_owner"] is None else int(r["session_owner"]))
        for r in rows
    ]


class ChatRow(NamedTuple):
    """One session's row of one chat, as placing a campaign's groups needs it: a plain tuple, since every
    cycle reads its campaign's rows (building a ``Membership`` for each cost several times as much)."""

    session_id: int
    peer_type: PeerKind  # 'channel' or 'chat'
    chat_id: int
    access_hash: int | None
    username: str | None  # lower case, without '@'
    can_write: int  # 1 or 0
    why_not: WriteBlock | None

    @property
    def peer(self) -> Peer:
        """This session's own peer of the chat: addressing it needs no request."""
        return Peer(self.peer_type, self.chat_id, self.access_hash)


@dataclass(frozen=True)
class ScanTimes:
    """When a session's dialogs were last read in full (None: never) and when they are next due."""

    checked_at: float | None
    due_at: float | None


_SCAN_TIMES = "SELECT id, dialogs_checked_at, dialogs_due_at FROM sessions WHERE id IN ({marks})"


def _scan_times(rows: Iterable[sqlite3.Row]) -> dict[int, ScanTimes]:
    return {
        int(r[0]): ScanTimes(None if r[1] is None else float(r[1]), None if r[2] is None else float(r[2]))
        for r in rows
    }


async def scan_times(conn: aiosqlite.Connection, session_ids: Sequence[int]) -> dict[int, ScanTimes]:
    """``ScanTimes`` of each of the given sessions (one query)."""
    if not session_ids:
        return {}
    rows = await fetchall(conn, _SCAN_TIMES.format(marks=", ".join("?" * len(session_ids))), tuple(session_ids))
    return _scan_times(rows)


def _chat_rows_query(session_ids: Sequence[int], peer_refs: Iterable[str]) -> tuple[str, tuple[object, ...]] | None:
    names, ids = _split_refs(peer_refs)
    clauses: list[str] = []
    params: list[object] = []
    if names:
        clauses.append(f"username IN ({', '.join('?' * len(names))})")
        params += sorted(names)
    for peer_type, bare in ids.items():
        if bare:
            clauses.append(f"(peer_type = ? AND chat_id IN ({', '.join('?' * len(bare))}))")
            params += [peer_type, *sorted(bare)]
    if not session_ids or not clauses:
        return None
    marks = ", ".join("?" * len(session_ids))
    sql = (
        "SELECT session_id, peer_type, chat_id, access_hash, username, can_write, why_not FROM memberships"
        f" WHERE session_id IN ({marks}) AND ({' OR '.join(clauses)}) ORDER BY session_id, peer_type, chat_id"
    )
    return sql, (*session_ids, *params)


async def for_placement(
    conn: aiosqlite.Connection, session_ids: Sequence[int], peer_refs: Iterable[str]
) -> tuple[list[ChatRow], dict[int, ScanTimes]]:
    """What placing one campaign's groups needs, in one round trip: the given sessions' rows for the given
    chats only ('@name', '-100<id>', '-<id>'; a ``#topic`` is ignored, a reference that names no chat is
    skipped), however many other chats they are in, and each session's ``ScanTimes``."""
    if not session_ids:
        return [], {}
    query = _chat_rows_query(session_ids, peer_refs)
    times_sql = _SCAN_TIMES.format(marks=", ".join("?" * len(session_ids)))

    def read(raw: sqlite3.Connection) -> tuple[list[ChatRow], dict[int, ScanTimes]]:
        rows = [] if query is None else [ChatRow(*r) for r in raw.execute(*query).fetchall()]
        return rows, _scan_times(raw.execute(times_sql, tuple(session_ids)).fetchall())

    return await in_thread(conn, read)
