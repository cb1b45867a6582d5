"""Giving pool sessions to customers and taking them back.

Every change is one ``BEGIN IMMEDIATE`` transaction (``pool_tx``): the claim is
``UPDATE ... WHERE id IN (SELECT ... WHERE state = 'unused' LIMIT n) RETURNING id``, so two concurrent
requests can never take the same session, and a request that cannot be met in full raises before
COMMIT and takes nothing. A session without its own app (sidecar) borrows the least-used API pair while
it is owned, and gives it back when it leaves its customer.
"""

from __future__ import annotations

import logging
from pathlib import Path

import aiosqlite

from core.errors import NoPairCapacity, NotEnoughSessions, NotFound
from core.states import EventKind
from pool.layout import UNUSED, folder_for
from pool.moves import FileMoves, pool_tx
from storage import customers, events
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Database, execute, fetchall

logger = logging.getLogger(__name__)


async def _require_customer(conn: aiosqlite.Connection, customer_id: int) -> customers.Customer:
    customer = await customers.get(conn, customer_id)
    if customer is None:
        raise NotFound(f"There is no customer with id {customer_id}.")
    return customer


async def take(
    conn: aiosqlite.Connection, moves: FileMoves, customer_id: int, n: int, now: float
) -> list[int]:
    """Claim ``n`` unused sessions for the customer inside the caller's transaction.

    Raises NotEnoughSessions / NoPairCapacity after changing rows: the caller's transaction (or
    savepoint) must roll back. File moves are planned only once everything succeeded."""
    if n <= 0:
        return []
    folder = folder_for("assigned", customer_id)
    # Sessions with their own app first (they need no pool pair), then those not waiting out a flood.
    taken = await fetchall(
        conn,
        "UPDATE sessions SET owner_id = :owner, folder = :folder, state_changed_at = :now, state_reason = NULL,"
        " state = CASE WHEN COALESCE(cooldown_until, 0) > :now THEN 'cooling' ELSE 'assigned' END"
        " WHERE state = 'unused' AND id IN (SELECT id FROM sessions WHERE state = 'unused'"
        "   ORDER BY own_api_id IS NULL, COALESCE(cooldown_until, 0) > :now, id LIMIT :n)"
        " RETURNING id, file_name, folder, own_api_id",
        {"owner": customer_id, "folder": folder, "now": now, "n": n},
    )
    if len(taken) < n:
        raise NotEnoughSessions(n, len(taken))
    touched: set[int] = set()
    for row in sorted(taken, key=lambda r: int(r["id"])):
        if row["own_api_id"] is not None:
            continue
        pair = await pair_rows.least_used_with_room(conn)
        if pair is None:
            total = len(await pair_rows.list_all(conn))
            raise NoPairCapacity(
                "No API pair has room for another session"
                + (f" (all {total} pair(s) are full)" if total else " (no API pair is configured)")
                + ": add an API pair with 'adbot pairs add'."
            )
        await execute(conn, "UPDATE sessions SET pair_id = ? WHERE id = ?", (pair.id, row["id"]))
        touched.add(pair.id)
    for pair_id in sorted(touched):
        pair = await pair_rows.get(conn, pair_id)
        if pair is not None and pair.full:
            await events.add(conn, None, EventKind.PAIR_FULL, now, api_id=pair.api_id, capacity=pair.capacity)
    for row in taken:
        moves.plan(row["file_name"], UNUSED, folder)
    ids = sorted(int(r["id"]) for r in taken)
    logger.info("assigned sessions %s to customer %d", ids, customer_id)
    return ids


async def take_one_or_none(
    conn: aiosqlite.Connection, moves: FileMoves, customer_id: int, now: float
) -> tuple[int | None, str | None]:
    """One replacement session, or (None, why not) leaving the transaction as it was (savepoint)."""
    await execute(conn, "SAVEPOINT take_one")
    try:
        ids = await take(conn, moves, customer_id, 1, now)
    except (NotEnoughSessions, NoPairCapacity) as exc:
        await execute(conn, "ROLLBACK TO take_one")
        await execute(conn, "RELEASE take_one")
        return None, exc.user_message
    await execute(conn, "RELEASE take_one")
    return ids[0], None


async def notify_if_low(conn: aiosqlite.Connection, free_before: int, low_threshold: int, now: float) -> None:
    """POOL_LOW for the admins when the free sessions just dropped below the threshold."""
    if low_threshold <= 0:
        return
    free = await session_rows.count_free(conn)
    if free < low_threshold <= free_before:
        await events.add(conn, None, EventKind.POOL_LOW, now, free=free, threshold=low_threshold)


async def assign(
    db: Database, sessions_dir: Path, customer_id: int, n: int, now: float, *, low_threshold: int = 0
) -> list[int]:
    """Give ``n`` unused sessions to the customer, all or none; returns their ids."""
    async with pool_tx(db, sessions_dir) as (conn, moves):
        await _require_customer(conn, customer_id)
        free_before = await session_rows.count_free(conn)
        ids = await take(conn, moves, customer_id, n, now)
        await notify_if_low(conn, free_before, low_threshold, now)
    return ids


async def ensure_plan(
    db: Database, sessions_dir: Path, customer_id: int, now: float, *, low_threshold: int = 0
) -> list[int]:
    """Top the customer's healthy sessions (assigned + cooling) up to their plan; returns all their ids.

    Never takes sessions away when they own more than the plan (revoke does that)."""
    async with pool_tx(db, sessions_dir) as (conn, moves):
        customer = await _require_customer(conn, customer_id)
        owned = [s.id for s in await session_rows.list_for_owner(conn, customer_id)]
        missing = customer.plan_sessions - len(owned)
        if missing > 0:
            free_before = await session_rows.count_free(conn)
            owned += await take(conn, moves, customer_id, missing, now)
            await notify_if_low(conn, free_before, low_threshold, now)
    return sorted(owned)


async def revoke(db: Database, sessions_dir: Path, customer_id: int, now: float) -> int:
    """Return the customer's healthy sessions to the pool (their pool pairs are freed); returns how many.

    A flood wait in progress (``cooldown_until``) stays on the session: it belongs to the account."""
    async with pool_tx(db, sessions_dir) as (conn, moves):
        owned = await session_rows.list_for_owner(conn, customer_id)
        for row in owned:
            await execute(
                conn,
                "UPDATE sessions SET state = 'unused', owner_id = NULL, pair_id = NULL, folder = ?,"
                " state_changed_at = ?, state_reason = NULL WHERE id = ?",
                (UNUSED, now, row.id),
            )
            moves.plan(row.file_name, row.folder, UNUSED)
    if owned:
        logger.info("returned %d session(s) of customer %d to the pool", len(owned), customer_id)
    return len(owned)
