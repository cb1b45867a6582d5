"""Bounded growth of the ledger: sends older than the retention period folded into ``send_days``.

A send row past the retention period is added to its (customer, UTC day of ``finished_at``, group)
row of ``send_days`` and deleted, in the same transaction, a batch at a time: each batch is one short
``BEGIN IMMEDIATE`` transaction (one round trip to the writer's thread), and the engine's own writes
get the writer between two batches. The totals in ``stats`` / ``group_stats`` are never touched.

Which rows go: finished ones (any outcome but ``pending``) of a cycle *before* the campaign's current
one. The current cycle's rows are the crash promise (one post per campaign, cycle and group: a cycle
resumed after a restart reads them), so they stay whatever their age: a campaign stopped for longer
than the period keeps its last cycle's rows. A ``waiting`` row of an earlier cycle can never be sent
again (only its own cycle resumes it): it counts as skipped.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass

from storage.db import Database, fetchone

# The rows one batch takes: oldest first, through the ``sends_by_time`` index.
_PICK_SQL = (
    "SELECT s.id FROM sends AS s INDEXED BY sends_by_time JOIN customers AS c ON c.user_id = s.customer_id"
    " WHERE s.finished_at < ? AND s.outcome != 'pending' AND s.cycle_no < c.cycle_no"
    " ORDER BY s.finished_at LIMIT ?"
)
_FOLD_SQL = (
    "INSERT INTO send_days (customer_id, day, group_ref, delivered, failed, in_doubt, skipped)"
    " SELECT customer_id, strftime('%Y-%m-%d', finished_at, 'unixepoch'), group_ref,"
    " SUM(outcome = 'sent'), SUM(outcome = 'failed'), SUM(outcome = 'in_doubt'),"
    " SUM(outcome IN ('skipped', 'waiting'))"
    " FROM sends WHERE id IN (SELECT value FROM json_each(?))"
    " GROUP BY customer_id, 2, group_ref"
    " ON CONFLICT (customer_id, day, group_ref) DO UPDATE SET"
    " delivered = delivered + excluded.delivered, failed = failed + excluded.failed,"
    " in_doubt = in_doubt + excluded.in_doubt, skipped = skipped + excluded.skipped"
)
_DELETE_SQL = "DELETE FROM sends WHERE id IN (SELECT value FROM json_each(?))"
_COUNT_SQL = (
    "SELECT COUNT(*) FROM sends AS s INDEXED BY sends_by_time JOIN customers AS c ON c.user_id = s.customer_id"
    " WHERE s.finished_at < ? AND s.outcome != 'pending' AND s.cycle_no < c.cycle_no"
)


@dataclass(frozen=True)
class FoldResult:
    rows: int  # send rows folded into send_days and deleted
    batches: int  # transactions it took


def fold_batch_sync(conn: sqlite3.Connection, cutoff: float, batch: int) -> int:
    """Fold up to ``batch`` of the oldest prunable rows finished before ``cutoff`` into ``send_days`` and
    delete them; the caller's transaction holds both. Returns how many rows went."""
    ids = [int(row[0]) for row in conn.execute(_PICK_SQL, (cutoff, batch))]
    if not ids:
        return 0
    payload = json.dumps(ids)
    conn.execute(_FOLD_SQL, (payload,))
    deleted = conn.execute(_DELETE_SQL, (payload,)).rowcount
    if deleted != len(ids):  # the writer is serialised: nothing else can change them in between
        raise sqlite3.IntegrityError(f"folded {len(ids)} send rows but deleted {deleted}")
    return len(ids)


async def fold_old_sends(
    db: Database, cutoff: float, *, batch: int = 1_000, max_batches: int | None = None
) -> FoldResult:
    """Fold every prunable send row finished before ``cutoff`` (unix seconds), ``batch`` rows per
    transaction, until none is left (or ``max_batches`` were done). Between two transactions the loop
    yields, so the engine's ledger writes queue behind at most one batch."""
    rows = batches = 0
    while max_batches is None or batches < max_batches:
        done = await db.transact_sync(lambda raw: fold_batch_sync(raw, cutoff, batch))
        batches += 1
        rows += done
        if done < batch:
            break
        await asyncio.sleep(0)
    return FoldResult(rows, batches)


async def count_prunable(db: Database, cutoff: float) -> int:
    """How many send rows ``fold_old_sends(cutoff)`` would fold now."""
    async with db.read() as conn:
        row = await fetchone(conn, _COUNT_SQL, (cutoff,))
    return 0 if row is None else int(row[0])


__all__ = ["FoldResult", "count_prunable", "fold_batch_sync", "fold_old_sends"]
