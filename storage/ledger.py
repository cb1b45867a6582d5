"""The send ledger (table ``sends``) and the statistics kept beside it.

One row per (campaign, cycle, group), enforced by a UNIQUE constraint. Its life:

    (no row) --intent--> pending --answer--> sent | failed | in_doubt | waiting | skipped
    waiting  --intent--> pending             (a flood wait ended: the same random_id is sent again;
                                              its finished_at is cleared: it is in flight again)
    pending  --found at resume--> in_doubt   (the process died between request and answer)

``sent``, ``failed``, ``in_doubt`` and ``skipped`` are final: nothing overwrites them (the SQL guards
it), so a cycle resumed after a crash never sends to a group twice. The functions here take many rows
at once (``executemany``) because the engine commits concurrent sends in groups; the statistics change
in the same statement batch, hence the same transaction, as the outcomes that cause them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite

from core.states import SendOutcome
from storage.db import Connection, Database, SyncConnection, fetchall, fetchone, in_thread


@dataclass(frozen=True)
class SendRow:
    customer_id: int
    cycle_no: int
    group_ref: str
    session_id: int | None
    outcome: SendOutcome
    error: str | None
    message_id: int | None
    random_id: int
    attempts: int
    flood_waits: int
    started_at: float
    finished_at: float | None
    post_id: int | None = None  # the post the row carried (None: no send was made, or before issue 19)


# Intent and Result are built once per send: plain slotted classes, since a frozen dataclass's
# __init__ (one object.__setattr__ per field) costs three times as much.


@dataclass(slots=True)
class Intent:
    """A send about to be made: committed as 'pending' before the request leaves."""

    customer_id: int
    cycle_no: int
    group_ref: str
    session_id: int
    random_id: int
    started_at: float
    post_id: int | None = None  # the campaign's post this send carries (``storage.posts``)


@dataclass(slots=True)
class Result:
    """How a send (or a group that was not sent to) ended in this cycle.

    ``attempts`` and ``flood_waits`` are added to the row's counters. A row that had no intent (a group
    skipped or left waiting) is inserted."""

    customer_id: int
    cycle_no: int
    group_ref: str
    session_id: int | None
    outcome: SendOutcome
    random_id: int
    finished_at: float
    error: str | None = None
    message_id: int | None = None
    attempts: int = 0
    flood_waits: int = 0


@dataclass(frozen=True)
class Stats:
    customer_id: int
    total_posts: int
    total_success: int
    total_failures: int
    total_flood_waits: int
    total_messages_sent: int
    banned_sessions: int
    last_activity: float | None


def _send_row(row: sqlite3.Row) -> SendRow:
    return SendRow(
        customer_id=row["customer_id"],
        cycle_no=row["cycle_no"],
        group_ref=row["group_ref"],
        session_id=row["session_id"],
        outcome=row["outcome"],
        error=row["error"],
        message_id=row["message_id"],
        random_id=row["random_id"],
        attempts=row["attempts"],
        flood_waits=row["flood_waits"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        post_id=row["post_id"],
    )


_INTENT_SQL = (
    "INSERT INTO sends (customer_id, cycle_no, group_ref, session_id, outcome, random_id, started_at, post_id)"
    " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)"
    " ON CONFLICT (customer_id, cycle_no, group_ref) DO UPDATE SET outcome = 'pending',"
    " session_id = excluded.session_id, started_at = excluded.started_at, post_id = excluded.post_id,"
    " finished_at = NULL"  # in flight again: no reader counts or exports it until its result sets it anew
    " WHERE sends.outcome = 'waiting'"
)

_RESULT_SQL = (
    "INSERT INTO sends (customer_id, cycle_no, group_ref, session_id, outcome, error, message_id, random_id,"
    " attempts, flood_waits, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (customer_id, cycle_no, group_ref) DO UPDATE SET outcome = excluded.outcome,"
    " error = excluded.error, message_id = excluded.message_id,"
    " session_id = COALESCE(excluded.session_id, sends.session_id),"
    " attempts = sends.attempts + excluded.attempts, flood_waits = sends.flood_waits + excluded.flood_waits,"
    " finished_at = excluded.finished_at"
    " WHERE sends.outcome IN ('pending', 'waiting')"
)

_STATS_SQL = (
    "INSERT INTO stats (customer_id, total_posts, total_success, total_failures, total_flood_waits,"
    " total_messages_sent, last_activity) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (customer_id) DO UPDATE SET total_posts = total_posts + excluded.total_posts,"
    " total_success = total_success + excluded.total_success,"
    " total_failures = total_failures + excluded.total_failures,"
    " total_flood_waits = total_flood_waits + excluded.total_flood_waits,"
    " total_messages_sent = total_messages_sent + excluded.total_messages_sent,"
    " last_activity = MAX(COALESCE(last_activity, 0), COALESCE(excluded.last_activity, 0))"
)

_GROUP_STATS_SQL = (
    "INSERT INTO group_stats (customer_id, group_ref, success, failures) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (customer_id, group_ref) DO UPDATE SET success = success + excluded.success,"
    " failures = failures + excluded.failures"
)

# A post that went through clears the group's failure streak and, when the group is known to have
# slow mode, opens its next window (so the engine never sends into it).
_GROUP_SENT_SQL = (
    "UPDATE groups SET consecutive_failures = 0, last_error = NULL,"
    " slowmode_until = CASE WHEN slowmode_seconds > 0 THEN ? + slowmode_seconds ELSE slowmode_until END"
    " WHERE customer_id = ? AND ref = ?"
    " AND (consecutive_failures != 0 OR last_error IS NOT NULL OR slowmode_seconds > 0)"
)


def _intent_rows(intents: Sequence[Intent]) -> list[tuple[object, ...]]:
    return [
        (i.customer_id, i.cycle_no, i.group_ref, i.session_id, i.random_id, i.started_at, i.post_id) for i in intents
    ]


_INTENT_CHECK_SQL = (
    "SELECT outcome, started_at, session_id FROM sends WHERE customer_id = ? AND cycle_no = ? AND group_ref = ?"
)


def _intent_taken(row: sqlite3.Row | tuple[object, ...] | None, intent: Intent) -> bool:
    return row is not None and row[0] == "pending" and row[1] == intent.started_at and row[2] == intent.session_id


async def insert_intents(conn: aiosqlite.Connection, intents: Sequence[Intent]) -> list[bool]:
    """Record the intents as 'pending' (new rows, or 'waiting' rows taken up again).

    Returns, per intent, whether it was recorded; False means the row already had another outcome and
    the send must not be made."""
    if not intents:
        return []
    before = conn.total_changes
    await conn.executemany(_INTENT_SQL, _intent_rows(intents))
    if conn.total_changes - before == len(intents):
        return [True] * len(intents)
    accepted: list[bool] = []
    for intent in intents:
        row = await fetchone(conn, _INTENT_CHECK_SQL, (intent.customer_id, intent.cycle_no, intent.group_ref))
        accepted.append(_intent_taken(row, intent))
    return accepted


def insert_intents_sync(conn: sqlite3.Connection, intents: Sequence[Intent]) -> list[bool]:
    """``insert_intents`` on the plain sqlite3 connection (run in the writer's thread)."""
    if not intents:
        return []
    before = conn.total_changes
    conn.executemany(_INTENT_SQL, _intent_rows(intents))
    if conn.total_changes - before == len(intents):
        return [True] * len(intents)
    return [
        _intent_taken(
            conn.execute(_INTENT_CHECK_SQL, (i.customer_id, i.cycle_no, i.group_ref)).fetchone(), i
        )
        for i in intents
    ]


def _result_statements(results: Sequence[Result]) -> list[tuple[str, list[tuple[object, ...]]]]:
    """The statements (and their rows) that write the outcomes and add them to ``stats``,
    ``group_stats`` and the groups' health, in order."""
    statements: list[tuple[str, list[tuple[object, ...]]]] = [(
        _RESULT_SQL,
        [
            (
                r.customer_id, r.cycle_no, r.group_ref, r.session_id, r.outcome, r.error, r.message_id,
                r.random_id, r.attempts, r.flood_waits, r.finished_at, r.finished_at,
            )
            for r in results
        ],
    )]
    per_customer: dict[int, list[float]] = {}
    per_group: dict[tuple[int, str], list[int]] = {}
    sent_groups: list[tuple[object, ...]] = []
    for r in results:
        counts = per_customer.setdefault(r.customer_id, [0, 0, 0, 0, 0, 0.0])
        finished = r.outcome in ("sent", "failed")
        counts[0] += finished
        counts[1] += r.outcome == "sent"
        counts[2] += r.outcome == "failed"
        counts[3] += r.flood_waits
        counts[4] += r.outcome == "sent"
        if finished:
            counts[5] = max(counts[5], r.finished_at)
            group = per_group.setdefault((r.customer_id, r.group_ref), [0, 0])
            group[0] += r.outcome == "sent"
            group[1] += r.outcome == "failed"
        if r.outcome == "sent":
            sent_groups.append((r.finished_at, r.customer_id, r.group_ref))
    stats_rows: list[tuple[object, ...]] = [
        (cid, int(c[0]), int(c[1]), int(c[2]), int(c[3]), int(c[4]), c[5] or None)
        for cid, c in per_customer.items()
        if any(c[:5])
    ]
    if stats_rows:
        statements.append((_STATS_SQL, stats_rows))
    if per_group:
        statements.append((_GROUP_STATS_SQL, [(cid, ref, s, f) for (cid, ref), (s, f) in per_group.items()]))
    if sent_groups:
        statements.append((_GROUP_SENT_SQL, sent_groups))
    return statements


async def apply_results(conn: aiosqlite.Connection, results: Sequence[Result]) -> None:
    """Write the outcomes and add them to ``stats``, ``group_stats`` and the groups' health."""
    if not results:
        return
    for sql, params in _result_statements(results):
        await conn.executemany(sql, params)


def apply_results_sync(conn: sqlite3.Connection, results: Sequence[Result]) -> None:
    """``apply_results`` on the plain sqlite3 connection (run in the writer's thread)."""
    if not results:
        return
    for sql, params in _result_statements(results):
        conn.executemany(sql, params)


# --- group commit -------------------------------------------------------------------------------------
# The engine's writer (``engine.ledger``) queues its writes and hands them here in batches: one
# transaction per batch, and a batch without async operations is a single round trip to the writer
# connection's thread, BEGIN and COMMIT included (``Database.transact_sync``), where one statement per
# trip made seven. Each trip costs a thread hand-off and a turn of the event loop, so under load the
# trips are what a commit's latency is made of.

Op = Callable[[Connection], Awaitable[Any]]
SyncOp = Callable[[SyncConnection], Any]


class Write(Protocol):
    """One queued write: any of an intent, an outcome, and an operation run after the batch's rows."""

    @property
    def intent(self) -> Intent | None: ...

    @property
    def result(self) -> Result | None: ...

    @property
    def op(self) -> Op | None: ...

    @property
    def sync_op(self) -> SyncOp | None: ...


async def commit_batch(db: Database, batch: Sequence[Write]) -> list[Any]:
    """Write the batch in one transaction; returns, per write, its value (an intent: whether it was
    recorded; an operation: what it returned). Raises what the transaction raised (nothing of the
    batch is then committed)."""
    if any(write.op is not None for write in batch):
        async with db.tx() as conn:
            values = await in_thread(conn, lambda raw: _apply_batch(raw, batch))
            for i, write in enumerate(batch):
                if write.op is not None:
                    values[i] = await write.op(conn)
        return values
    # the common case: the whole transaction in one trip to the writer's thread
    return await db.transact_sync(lambda raw: _apply_batch(raw, batch))


def _apply_batch(raw: sqlite3.Connection, batch: Sequence[Write]) -> list[Any]:
    """The batch's rows and plain operations; runs in the writer connection's thread."""
    values: list[Any] = [None] * len(batch)
    intents = [(i, w.intent) for i, w in enumerate(batch) if w.intent is not None]
    if intents:
        accepted = insert_intents_sync(raw, [intent for _, intent in intents])
        for (i, _), ok in zip(intents, accepted, strict=True):
            values[i] = ok
    results = [w.result for w in batch if w.result is not None]
    if results:
        apply_results_sync(raw, results)
    for i, write in enumerate(batch):
        if write.sync_op is not None:
            values[i] = write.sync_op(raw)
    return values


async def cycle_rows(conn: aiosqlite.Connection, customer_id: int, cycle_no: int) -> dict[str, SendRow]:
    rows = await fetchall(
        conn, "SELECT * FROM sends WHERE customer_id = ? AND cycle_no = ?", (customer_id, cycle_no)
    )
    return {r["group_ref"]: _send_row(r) for r in rows}


async def last_sent_at(conn: aiosqlite.Connection, customer_id: int, group_ref: str) -> float | None:
    """When the campaign's last post in the group went through (None: never)."""
    row = await fetchone(
        conn,
        "SELECT MAX(finished_at) FROM sends WHERE customer_id = ? AND group_ref = ? AND outcome = 'sent'",
        (customer_id, group_ref),
    )
    return row[0] if row is not None and row[0] is not None else None


async def pending_to_in_doubt(
    conn: aiosqlite.Connection, customer_id: int, cycle_no: int, now: float
) -> list[str]:
    """A 'pending' row of an interrupted cycle: the request may or may not have been delivered. It
    becomes 'in_doubt' and is never sent again. Returns the groups concerned."""
    rows = await fetchall(
        conn,
        "UPDATE sends SET outcome = 'in_doubt', error = 'interrupted', finished_at = ?"
        " WHERE customer_id = ? AND cycle_no = ? AND outcome = 'pending' RETURNING group_ref",
        (now, customer_id, cycle_no),
    )
    return [r[0] for r in rows]


@dataclass(frozen=True)
class SendCounts:
    sent: int
    failed: int
    other: int  # waiting, skipped, in doubt: finished without a post and without a failure


async def counts_since(conn: aiosqlite.Connection, since: float) -> SendCounts:
    """Sends of every campaign finished since ``since``, by how they ended."""
    row = await fetchone(
        conn,
        "SELECT COALESCE(SUM(outcome = 'sent'), 0), COALESCE(SUM(outcome = 'failed'), 0),"
        " COALESCE(SUM(outcome NOT IN ('sent', 'failed', 'pending')), 0) FROM sends WHERE finished_at >= ?",
        (since,),
    )
    assert row is not None
    return SendCounts(int(row[0]), int(row[1]), int(row[2]))


async def sent_and_failed_by_customer_since(conn: aiosqlite.Connection, since: float) -> dict[int, tuple[int, int]]:
    """(sent, failed) per customer over the sends finished since ``since`` (customers with none are absent)."""
    rows = await fetchall(
        conn,
        "SELECT customer_id, SUM(outcome = 'sent'), SUM(outcome = 'failed') FROM sends"
        " WHERE finished_at >= ? GROUP BY customer_id",
        (since,),
    )
    return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}


async def outcome_tally(conn: aiosqlite.Connection) -> dict[tuple[SendOutcome, str | None], int]:
    """Rows of the whole ledger per (outcome, error)."""
    rows = await fetchall(conn, "SELECT outcome, error, COUNT(*) FROM sends GROUP BY outcome, error")
    return {(r[0], r[1]): int(r[2]) for r in rows}


async def count_in_doubt(conn: aiosqlite.Connection, customer_id: int) -> int:
    """The customer's sends of unknown outcome ('in_doubt': no answer, or an answer naming no new
    message): neither delivered nor failed, so ``stats`` counts them in neither."""
    row = await fetchone(
        conn, "SELECT COUNT(*) FROM sends WHERE customer_id = ? AND outcome = 'in_doubt'", (customer_id,)
    )
    return 0 if row is None else int(row[0])


async def get_stats(conn: aiosqlite.Connection, customer_id: int) -> Stats:
    row = await fetchone(conn, "SELECT * FROM stats WHERE customer_id = ?", (customer_id,))
    if row is None:
        return Stats(customer_id, 0, 0, 0, 0, 0, 0, None)
    return Stats(**{k: row[k] for k in row.keys()})  # noqa: SIM118 - sqlite3.Row is not iterable by keys


async def group_stats(conn: aiosqlite.Connection, customer_id: int) -> dict[str, tuple[int, int]]:
    """(success, failures) per group ref, busiest group first."""
    rows = await fetchall(
        conn,
        "SELECT group_ref, success, failures FROM group_stats WHERE customer_id = ?"
        " ORDER BY success + failures DESC, group_ref",
        (customer_id,),
    )
    return {r["group_ref"]: (int(r["success"]), int(r["failures"])) for r in rows}


async def recent(conn: aiosqlite.Connection, customer_id: int, limit: int = 50) -> list[SendRow]:
    rows = await fetchall(
        conn,
        "SELECT * FROM sends WHERE customer_id = ? ORDER BY cycle_no DESC, id DESC LIMIT ?",
        (customer_id, limit),
    )
    return [_send_row(r) for r in rows]


def cycle_counts_sync(conn: sqlite3.Connection, customer_id: int, cycle_no: int) -> dict[str, int]:
    """How many of the cycle's rows have each outcome (for its summary), on the writer's connection."""
    rows = conn.execute(
        "SELECT outcome, COUNT(*) FROM sends WHERE customer_id = ? AND cycle_no = ? GROUP BY outcome",
        (customer_id, cycle_no),
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def cycle_failures_sync(conn: sqlite3.Connection, customer_id: int, cycle_no: int, limit: int) -> list[tuple[str, str]]:
    """(group, error) of the cycle's first ``limit`` failed rows (for its summary)."""
    rows = conn.execute(
        "SELECT group_ref, COALESCE(error, '') FROM sends WHERE customer_id = ? AND cycle_no = ? AND outcome = 'failed'"
        " ORDER BY finished_at, group_ref LIMIT ?",
        (customer_id, cycle_no, limit),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]
