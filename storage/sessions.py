"""The session pool's rows: one per Telegram account file, its state, owner, identity and folder.

Identity: the API id a session connects with (its own app from a sidecar, ``own_api_id``, or a pool pair,
``pair_id``) and its device profile (``device``), chosen once (``pool.identity``) and kept for life: no
state change clears them. A row with neither app nor pair waits for an API pair and is never used.

States: ``unused`` (in the pool), ``assigned`` / ``cooling`` (owned by a customer; cooling = waiting out
a flood wait), ``limited`` (quarantined until ``quarantine_until``, may come back), ``frozen`` (Telegram
froze the account), ``dead`` (never used again). The rules that
move a session between states live in ``pool``; this module only reads and writes rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import aiosqlite

from core.ports import AccountInfo
from core.states import OWNED_STATES, STATES, SessionState
from storage.db import execute, fetchall, fetchone


@dataclass(frozen=True)
class SessionRow:
    id: int
    file_name: str
    auth_key_sha: str
    dc_id: int
    state: SessionState
    owner_id: int | None
    pair_id: int | None
    own_api_id: int | None
    own_api_hash: str | None = field(repr=False)
    device: dict[str, str]
    phone: str | None
    folder: str
    cooldown_until: float | None
    state_reason: str | None
    added_at: float
    state_changed_at: float
    last_checked_at: float | None
    source_name: str | None = None  # stem of the uploaded file (matching a later sidecar; never a path)
    quarantine_count: int = 0  # times it was limited (each doubles the next quarantine)
    quarantine_until: float | None = None  # a limited session rests at least until then
    frozen_since: float | None = None  # Telegram's freeze dates and appeal link, when it is frozen
    frozen_until: float | None = None
    frozen_appeal_url: str | None = None
    status_checked_at: float | None = None  # its app config (frozen or not) was last read then
    identity_used_at: float | None = None  # first connect with its identity: from then on it is fixed
    test_mode: bool = False  # a session of Telegram's test servers ([pool] allow_test_servers): test DCs only
    self_user: AccountInfo | None = None  # who the account is, as Telegram said at its first connect (None: not read)

    @property
    def owned(self) -> bool:
        return self.state in OWNED_STATES

    @property
    def has_identity(self) -> bool:
        """It has an API id to connect with (own app or pool pair); without one it is never used."""
        return self.pair_id is not None or (self.own_api_id is not None and bool(self.own_api_hash))


@dataclass(frozen=True)
class Claimed:
    """A session ``claim_ids`` just gave a customer: where its file was, and its own app id (if any)."""

    id: int
    file_name: str
    folder: str  # the folder it now belongs in (its file still sits in the unused folder)
    own_api_id: int | None


def _device(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    data = json.loads(raw)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _row(row: sqlite3.Row) -> SessionRow:
    return SessionRow(
        id=row["id"],
        file_name=row["file_name"],
        auth_key_sha=row["auth_key_sha"],
        dc_id=row["dc_id"],
        state=row["state"],
        owner_id=row["owner_id"],
        pair_id=row["pair_id"],
        own_api_id=row["own_api_id"],
        own_api_hash=row["own_api_hash"],
        device=_device(row["device_json"]),
        phone=row["phone"],
        folder=row["folder"],
        cooldown_until=row["cooldown_until"],
        state_reason=row["state_reason"],
        added_at=row["added_at"],
        state_changed_at=row["state_changed_at"],
        last_checked_at=row["last_checked_at"],
        source_name=row["source_name"],
        quarantine_count=row["quarantine_count"],
        quarantine_until=row["quarantine_until"],
        frozen_since=row["frozen_since"],
        frozen_until=row["frozen_until"],
        frozen_appeal_url=row["frozen_appeal_url"],
        status_checked_at=row["status_checked_at"],
        identity_used_at=row["identity_used_at"],
        test_mode=bool(row["test_mode"]),
        self_user=_self_user(row),
    )


def _self_user(row: sqlite3.Row) -> AccountInfo | None:
    if row["self_read_at"] is None or row["self_user_id"] is None:
        return None
    return AccountInfo(
        user_id=row["self_user_id"],
        username=row["self_username"],
        phone=row["self_phone"],
        name=row["self_name"] or "",
    )


async def get(conn: aiosqlite.Connection, session_id: int) -> SessionRow | None:
    row = await fetchone(conn, "SELECT * FROM sessions WHERE id = ?", (session_id,))
    return _row(row) if row else None


async def get_by_key_sha(conn: aiosqlite.Connection, auth_key_sha: str) -> SessionRow | None:
    row = await fetchone(conn, "SELECT * FROM sessions WHERE auth_key_sha = ?", (auth_key_sha,))
    return _row(row) if row else None


async def list_by_source(conn: aiosqlite.Connection, source_name: str) -> list[SessionRow]:
    rows = await fetchall(conn, "SELECT * FROM sessions WHERE source_name = ? ORDER BY id", (source_name,))
    return [_row(r) for r in rows]


async def list_for_owner(conn: aiosqlite.Connection, owner_id: int) -> list[SessionRow]:
    """The customer's sessions that are theirs to use (assigned and cooling), by id."""
    rows = await fetchall(
        conn,
        "SELECT * FROM sessions WHERE owner_id = ? AND state IN ('assigned', 'cooling') ORDER BY id",
        (owner_id,),
    )
    return [_row(r) for r in rows]


async def list_by_state(conn: aiosqlite.Connection, states: Sequence[str]) -> list[SessionRow]:
    marks = ", ".join("?" * len(states))
    rows = await fetchall(conn, f"SELECT * FROM sessions WHERE state IN ({marks}) ORDER BY id", tuple(states))
    return [_row(r) for r in rows]


async def list_all(conn: aiosqlite.Connection) -> list[SessionRow]:
    return [_row(r) for r in await fetchall(conn, "SELECT * FROM sessions ORDER BY id")]


class Placement(NamedTuple):
    """Where a session's file belongs, and what a rewrite of it must keep (``pool.reconcile``)."""

    session_id: int
    file_name: str
    folder: str
    test_mode: bool  # a test-server session: a rewritten file gets the test DC table's address


async def list_placements(conn: aiosqlite.Connection) -> list[Placement]:
    """Every session's placement, by id: all start-up reconciling needs, without building a
    ``SessionRow`` (and parsing its device JSON) for each of tens of thousands of rows."""
    rows = await fetchall(conn, "SELECT id, file_name, folder, test_mode FROM sessions ORDER BY id")
    return [Placement(r[0], r[1], r[2], bool(r[3])) for r in rows]


async def count_by_state(conn: aiosqlite.Connection) -> dict[str, int]:
    """Sessions per state; every state is present (0 when there is none)."""
    counts: dict[str, int] = dict.fromkeys(STATES, 0)
    for row in await fetchall(conn, "SELECT state, COUNT(*) FROM sessions GROUP BY state"):
        counts[row[0]] = int(row[1])
    return counts


async def quarantined(conn: aiosqlite.Connection) -> list[tuple[int, float | None]]:
    """Every limited session with the earliest time it may return to the pool, soonest first."""
    rows = await fetchall(
        conn,
        "SELECT id, quarantine_until FROM sessions WHERE state = 'limited'"
        " ORDER BY COALESCE(quarantine_until, 0), id",
    )
    return [(int(r[0]), r[1]) for r in rows]


async def count_free(conn: aiosqlite.Connection) -> int:
    row = await fetchone(conn, "SELECT COUNT(*) FROM sessions WHERE state = 'unused'")
    return int(row[0]) if row else 0


async def count_by_owner(conn: aiosqlite.Connection) -> dict[int, dict[str, int]]:
    """Owned sessions per customer and state (customers with none are absent)."""
    result: dict[int, dict[str, int]] = {}
    rows = await fetchall(
        conn,
        "SELECT owner_id, state, COUNT(*) FROM sessions WHERE owner_id IS NOT NULL GROUP BY owner_id, state",
    )
    for row in rows:
        result.setdefault(int(row[0]), {})[row[1]] = int(row[2])
    return result


async def insert(
    conn: aiosqlite.Connection,
    *,
    file_name: str,
    auth_key_sha: str,
    dc_id: int,
    folder: str,
    now: float,
    own_api_id: int | None = None,
    own_api_hash: str | None = None,
    device: dict[str, str] | None = None,
    phone: str | None = None,
    source_name: str | None = None,
    pair_id: int | None = None,
    test_mode: bool = False,
) -> int:
    """A new unused session; returns its id. ``pair_id`` or ``own_api_id``: its identity (a trigger
    refuses a full pair); neither: it waits for an API pair. ``test_mode``: Telegram's test servers."""
    row = await fetchone(
        conn,
        "INSERT INTO sessions (file_name, auth_key_sha, dc_id, state, pair_id, own_api_id, own_api_hash,"
        " device_json, phone, folder, added_at, state_changed_at, source_name, test_mode)"
        " VALUES (?, ?, ?, 'unused', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            file_name,
            auth_key_sha,
            dc_id,
            pair_id,
            own_api_id,
            own_api_hash,
            json.dumps(device, ensure_ascii=False) if device else None,
            phone,
            folder,
            now,
            now,
            source_name,
            int(test_mode),
        ),
    )
    assert row is not None
    return int(row[0])


_PREFERENCE = "own_api_id IS NULL, COALESCE(cooldown_until, 0) > ?, added_at, id"
"""How free sessions rank when nothing else tells them apart: those with their own app first (the app the
account was made with), then those not waiting out a flood, then the oldest."""

_USABLE = "(pair_id IS NOT NULL OR own_api_id IS NOT NULL)"
"""A session with an identity: only those are handed out (one waiting for an API pair never is)."""


async def free_by_preference(
    conn: aiosqlite.Connection,
    now: float,
    *,
    among: Sequence[int] | None = None,
    exclude: Collection[int] = (),
    limit: int | None = None,
) -> list[int]:
    """Ids of unused sessions in the order of ``_PREFERENCE``: all of them, or only those ``among`` the
    given ids; never one in ``exclude``; at most ``limit``."""
    if among is not None and not among:
        return []
    where = ["state = 'unused'", _USABLE]
    params: list[object] = []
    if among is not None:
        where.append(f"id IN ({', '.join('?' * len(among))})")
        params += among
    if exclude:
        where.append(f"id NOT IN ({', '.join('?' * len(exclude))})")
        params += exclude
    params.append(now)
    sql = f"SELECT id FROM sessions WHERE {' AND '.join(where)} ORDER BY {_PREFERENCE}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [int(r[0]) for r in await fetchall(conn, sql, params)]


async def claim_ids(
    conn: aiosqlite.Connection, owner: int, folder: str, now: float, ids: Sequence[int]
) -> list[Claimed]:
    """Give the chosen sessions to ``owner`` in one statement; returns those taken (maybe fewer).

    One ``UPDATE ... WHERE state = 'unused' AND id IN (...) RETURNING``: a session another claim took
    first is not taken twice, it is missing from the answer, and the caller raises (rolling its
    transaction back). One still in a flood wait (``cooldown_until``) is handed over as 'cooling'."""
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    rows = await fetchall(
        conn,
        "UPDATE sessions SET owner_id = ?, folder = ?, state_changed_at = ?, state_reason = NULL,"
        " state = CASE WHEN COALESCE(cooldown_until, 0) > ? THEN 'cooling' ELSE 'assigned' END"
        f" WHERE state = 'unused' AND {_USABLE} AND id IN ({marks})"
        " RETURNING id, file_name, folder, own_api_id",
        (owner, folder, now, now, *ids),
    )
    return [Claimed(r["id"], r["file_name"], r["folder"], r["own_api_id"]) for r in rows]


async def set_pair(conn: aiosqlite.Connection, session_id: int, pair_id: int) -> None:
    """The pool pair that is a session's identity: given once to one waiting for it, or moved by an
    admin's explicit choice (``pool.pairs.remove_pair``). A trigger refuses a full pair."""
    await execute(conn, "UPDATE sessions SET pair_id = ? WHERE id = ?", (pair_id, session_id))


async def list_without_identity(conn: aiosqlite.Connection) -> list[int]:
    """Ids of live sessions waiting for an API pair (neither own app nor pool pair), oldest first."""
    rows = await fetchall(
        conn,
        "SELECT id FROM sessions WHERE state != 'dead' AND pair_id IS NULL AND own_api_id IS NULL"
        " ORDER BY added_at, id",
    )
    return [int(r[0]) for r in rows]


async def count_without_identity(conn: aiosqlite.Connection, *, state: str | None = None) -> int:
    """Live sessions waiting for an API pair (only those in ``state`` when given)."""
    row = await fetchone(
        conn,
        "SELECT COUNT(*) FROM sessions WHERE state != 'dead' AND pair_id IS NULL AND own_api_id IS NULL"
        " AND (? IS NULL OR state = ?)",
        (state, state),
    )
    return int(row[0]) if row else 0


async def list_without_device(conn: aiosqlite.Connection) -> list[tuple[int, str]]:
    """(id, auth key sha) of live sessions with no stored device profile (rows older than profiles)."""
    rows = await fetchall(
        conn,
        "SELECT id, auth_key_sha FROM sessions WHERE state != 'dead' AND COALESCE(device_json, '') IN ('', '{}')"
        " ORDER BY id",
    )
    return [(int(r[0]), str(r[1])) for r in rows]


async def set_device(conn: aiosqlite.Connection, session_id: int, device: dict[str, str]) -> None:
    """Store a session's device profile (once: the caller only sets one that has none, or one never used)."""
    await execute(
        conn, "UPDATE sessions SET device_json = ? WHERE id = ?", (json.dumps(device, ensure_ascii=False), session_id)
    )


async def mark_identity_used(conn: aiosqlite.Connection, session_id: int, now: float) -> None:
    """The session is about to connect with its identity for the first time: from now on it is fixed."""
    await execute(
        conn, "UPDATE sessions SET identity_used_at = ? WHERE id = ? AND identity_used_at IS NULL", (now, session_id)
    )


async def return_to_pool(conn: aiosqlite.Connection, session_id: int, folder: str, now: float) -> None:
    """An owned session back to 'unused': no owner; its identity (pair) stays. A flood wait stays recorded."""
    await execute(
        conn,
        "UPDATE sessions SET state = 'unused', owner_id = NULL, folder = ?,"
        " state_changed_at = ?, state_reason = NULL WHERE id = ?",
        (folder, now, session_id),
    )


async def retire(
    conn: aiosqlite.Connection, session_id: int, state: SessionState, folder: str, reason: str, now: float
) -> None:
    """Out of use ('dead', 'limited' or 'frozen'): no owner, the reason recorded; its identity stays (a
    quarantined or frozen session comes back as itself; a dead one no longer counts toward its pair's cap)."""
    await execute(
        conn,
        "UPDATE sessions SET state = ?, owner_id = NULL, folder = ?, state_reason = ?,"
        " state_changed_at = ? WHERE id = ?",
        (state, folder, reason, now, session_id),
    )


async def release_quarantined(conn: aiosqlite.Connection, session_id: int, folder: str, now: float) -> bool:
    """A 'limited' session whose quarantine is over back to 'unused'; False (nothing changed) while its
    ``quarantine_until`` is still ahead: the statement itself refuses to shorten a quarantine."""
    row = await fetchone(
        conn,
        "UPDATE sessions SET state = 'unused', folder = ?, state_reason = NULL, state_changed_at = ?"
        " WHERE id = ? AND state = 'limited' AND COALESCE(quarantine_until, 0) <= ? RETURNING id",
        (folder, now, session_id, now),
    )
    return row is not None


async def start_quarantine(conn: aiosqlite.Connection, session_id: int, count: int, until: float) -> None:
    """The session's ``count``-th quarantine, lasting until ``until`` (never shortens one under way)."""
    await execute(
        conn,
        "UPDATE sessions SET quarantine_count = ?, quarantine_until = MAX(COALESCE(quarantine_until, 0), ?)"
        " WHERE id = ?",
        (count, until, session_id),
    )


async def record_frozen(
    conn: aiosqlite.Connection,
    session_id: int,
    *,
    since: float | None,
    until: float | None,
    appeal_url: str | None,
    now: float,
) -> None:
    """What Telegram said about a freeze (dates, appeal link), and that the account was checked now."""
    await execute(
        conn,
        "UPDATE sessions SET frozen_since = ?, frozen_until = ?, frozen_appeal_url = ?, status_checked_at = ?"
        " WHERE id = ?",
        (since, until, appeal_url, now, session_id),
    )


async def release_frozen(conn: aiosqlite.Connection, session_id: int, folder: str, now: float) -> bool:
    """A 'frozen' session Telegram unfroze (its app config says so) back to 'unused'."""
    row = await fetchone(
        conn,
        "UPDATE sessions SET state = 'unused', folder = ?, state_reason = NULL, state_changed_at = ?,"
        " frozen_since = NULL, frozen_until = NULL, frozen_appeal_url = NULL, status_checked_at = ?"
        " WHERE id = ? AND state = 'frozen' RETURNING id",
        (folder, now, now, session_id),
    )
    return row is not None


async def set_status_checked(conn: aiosqlite.Connection, session_id: int, now: float) -> None:
    """Its app config was read now and says it is not frozen."""
    await execute(conn, "UPDATE sessions SET status_checked_at = ? WHERE id = ?", (now, session_id))


async def set_own_app(
    conn: aiosqlite.Connection,
    session_id: int,
    *,
    api_id: int | None,
    api_hash: str | None,
    device: dict[str, str],
    phone: str | None,
) -> None:
    """Attach a sidecar's app and device to a session that never connected yet (``identity_used_at`` is
    NULL; the caller checks, a trigger refuses a change of app after): its own app replaces the pool pair
    chosen at intake, so the account keeps the app it was made with."""
    await execute(
        conn,
        "UPDATE sessions SET own_api_id = COALESCE(?, own_api_id), own_api_hash = COALESCE(?, own_api_hash),"
        " device_json = COALESCE(?, device_json), phone = COALESCE(?, phone),"
        " pair_id = CASE WHEN COALESCE(?, own_api_id) IS NULL THEN pair_id END WHERE id = ?",
        (
            api_id,
            api_hash,
            json.dumps(device, ensure_ascii=False) if device else None,
            phone,
            api_id,
            session_id,
        ),
    )


async def set_checked(conn: aiosqlite.Connection, session_id: int, now: float) -> None:
    await execute(conn, "UPDATE sessions SET last_checked_at = ? WHERE id = ?", (now, session_id))


async def record_cooldown(conn: aiosqlite.Connection, session_id: int, until: float, now: float) -> None:
    """A flood wait: no request before ``until``. An owned session becomes 'cooling'; an idle one only
    records the time (it is honoured when the session is next assigned). Never shortens a wait. The
    cooldown is the 'send' class of the session's flood waits (``storage.waits``): its row is kept in step."""
    await execute(
        conn,
        "UPDATE sessions SET cooldown_until = MAX(COALESCE(cooldown_until, 0), ?),"
        " state = CASE WHEN state = 'assigned' THEN 'cooling' ELSE state END,"
        " state_changed_at = CASE WHEN state = 'assigned' THEN ? ELSE state_changed_at END"
        " WHERE id = ?",
        (until, now, session_id),
    )
    await execute(
        conn,
        "INSERT INTO method_waits (session_id, method, until) SELECT id, 'send', cooldown_until FROM sessions"
        " WHERE id = ? ON CONFLICT (session_id, method) DO UPDATE SET until = MAX(until, excluded.until)",
        (session_id,),
    )


async def clear_cooldown(conn: aiosqlite.Connection, session_id: int, now: float) -> None:
    """End a flood wait that is over: 'cooling' -> 'assigned', its 'send' row of ``method_waits`` gone. A
    wait not yet over is left alone."""
    await execute(
        conn,
        "UPDATE sessions SET cooldown_until = NULL,"
        " state = CASE WHEN state = 'cooling' THEN 'assigned' ELSE state END,"
        " state_changed_at = CASE WHEN state = 'cooling' THEN ? ELSE state_changed_at END"
        " WHERE id = ? AND COALESCE(cooldown_until, 0) <= ?",
        (now, session_id, now),
    )
    await execute(
        conn, "DELETE FROM method_waits WHERE session_id = ? AND method = 'send' AND until <= ?", (session_id, now)
    )


async def record_self_user(conn: aiosqlite.Connection, session_id: int, info: AccountInfo, now: float) -> None:
    """Store who the account is (``users.getUsers`` of itself, read at its first connect or a health check):
    from then on its connects ask nothing about it (``SessionCredentials.self_user``)."""
    await execute(
        conn,
        "UPDATE sessions SET self_user_id = ?, self_username = ?, self_phone = ?, self_name = ?, self_read_at = ?"
        " WHERE id = ?",
        (info.user_id, info.username, info.phone, info.name, now, session_id),
    )
