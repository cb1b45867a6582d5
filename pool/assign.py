"""Giving pool sessions to customers and taking them back.

Every change is one ``BEGIN IMMEDIATE`` transaction (``pool_tx``): the sessions are chosen inside it
(``pool.cover``: those reaching the most of the customer's groups first) and taken in one statement
that only takes sessions still unused (``storage.sessions.claim_ids``), so two concurrent requests can
never take the same session, and a request that cannot be met in full raises before COMMIT and takes
nothing. Sessions the pool has open for a scan (``held``, see ``pool.discovery``) are never chosen.
A session keeps its identity (own app or pool pair, ``pool.identity``) through every owner change: nothing
here lends or gives back a pair. One waiting for an API pair is never handed out.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path

from core.errors import NO_FREE_SESSIONS, NO_PAIR_ROOM, NoPairCapacity, NotEnoughSessions, NotFound
from core.states import EventKind
from core.texts import errors as texts
from core.texts import reach as reach_texts
from pool.cover import choose_free
from pool.layout import UNUSED, folder_for
from pool.moves import FileMoves, pool_tx
from storage import customers, events, groups
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Connection, Database, savepoint

logger = logging.getLogger(__name__)


async def _require_customer(conn: Connection, customer_id: int) -> customers.Customer:
    customer = await customers.get(conn, customer_id)
    if customer is None:
        raise NotFound(texts.no_customer(customer_id))
    return customer


async def _short(conn: Connection, wanted: int, found: int) -> NotEnoughSessions | NoPairCapacity:
    """Why fewer than ``wanted`` sessions could be handed out: unused sessions waiting for an API pair
    would have made up the difference (NoPairCapacity: an admin adds a pair), or the pool is short."""
    waiting = await session_rows.count_without_identity(conn, state="unused")
    if waiting and found + waiting >= wanted:
        return NoPairCapacity(texts.pending_sessions(waiting, len(await pair_rows.list_all(conn))), key=NO_PAIR_ROOM)
    return NotEnoughSessions(wanted, found)


async def take(
    conn: Connection, moves: FileMoves, customer_id: int, n: int, now: float, *, held: Collection[int] = ()
) -> list[int]:
    """Claim ``n`` unused sessions for the customer inside the caller's transaction: members of the
    customer's groups their sessions do not reach yet first (``pool.cover``), none in ``held``.

    Raises NotEnoughSessions / NoPairCapacity after changing rows: the caller's transaction (or
    savepoint) must roll back. File moves are planned only once everything succeeded."""
    if n <= 0:
        return []
    folder = folder_for("assigned", customer_id)
    refs = [g.ref for g in await groups.list_for(conn, customer_id)]
    owned = [s.id for s in await session_rows.list_for_owner(conn, customer_id)]
    chosen = await choose_free(conn, n, now, group_refs=refs, owned=owned, held=held)
    if len(chosen) < n:
        raise await _short(conn, n, len(chosen))
    taken = await session_rows.claim_ids(conn, customer_id, folder, now, chosen)
    if len(taken) < n:
        raise NotEnoughSessions(n, len(taken))
    for claimed in taken:
        moves.plan(claimed.file_name, UNUSED, folder)
    ids = sorted(c.id for c in taken)
    logger.info("assigned sessions %s to customer %d", ids, customer_id)
    return ids


async def take_one_or_none(
    conn: Connection, moves: FileMoves, customer_id: int, now: float, *, held: Collection[int] = ()
) -> tuple[int | None, str | None]:
    """One replacement session, or (None, why not) leaving the transaction as it was (savepoint). Why not
    is a key (``core.errors.NO_FREE_SESSIONS`` or ``NO_PAIR_ROOM``): it is stored in events, and worded
    for each reader when shown."""
    try:
        async with savepoint(conn, "take_one"):
            ids = await take(conn, moves, customer_id, 1, now, held=held)
    except (NotEnoughSessions, NoPairCapacity) as exc:
        return None, exc.key or NO_FREE_SESSIONS
    return ids[0], None


async def notify_if_low(conn: Connection, free_before: int, low_threshold: int, now: float) -> None:
    """POOL_LOW for the admins when the free sessions just dropped below the threshold."""
    if low_threshold <= 0:
        return
    free = await session_rows.count_free(conn)
    if free < low_threshold <= free_before:
        await events.add(conn, None, EventKind.POOL_LOW, now, free=free, threshold=low_threshold)


async def assign(
    db: Database,
    sessions_dir: Path,
    customer_id: int,
    n: int,
    now: float,
    *,
    low_threshold: int = 0,
    held: Collection[int] = (),
) -> list[int]:
    """Give ``n`` unused sessions to the customer, all or none; returns their ids."""
    async with pool_tx(db, sessions_dir) as (conn, moves):
        await _require_customer(conn, customer_id)
        free_before = await session_rows.count_free(conn)
        ids = await take(conn, moves, customer_id, n, now, held=held)
        await notify_if_low(conn, free_before, low_threshold, now)
    return ids


SHORT_TOLD_AGAIN_AFTER = 3 * 3600.0
"""The admins hear of one customer's shortage (for one reason) at most this often: a campaign that
stays short tries again every cycle, and one message per cycle would bury the admins."""


async def note_short(
    conn: Connection, customer_id: int, wanted: int, short: NotEnoughSessions | NoPairCapacity, now: float
) -> bool:
    """SESSIONS_SHORT for the admins: the customer's plan wants ``wanted`` more sessions than the pool
    could give (``no_sessions``: too few free; ``no_pair``: free ones wait for an API pair). Recorded
    in the caller's transaction, so "the admin has been told" is true once it commits; False (nothing
    written) when they were told of it for this customer within ``SHORT_TOLD_AGAIN_AFTER``."""
    reason = "no_sessions" if isinstance(short, NotEnoughSessions) else "no_pair"
    if await events.told_recently(
        conn, EventKind.SESSIONS_SHORT, customer_id, reason, since=now - SHORT_TOLD_AGAIN_AFTER
    ):
        return False
    free = short.free if isinstance(short, NotEnoughSessions) else await session_rows.count_free(conn)
    await events.add(
        conn, None, EventKind.SESSIONS_SHORT, now, customer_id=customer_id, wanted=wanted, free=free, reason=reason
    )
    logger.warning("customer %d: the pool cannot give %d session(s) (%s); admins told", customer_id, wanted, reason)
    return True


async def ensure_plan(
    db: Database,
    sessions_dir: Path,
    customer_id: int,
    now: float,
    *,
    low_threshold: int = 0,
    held: Collection[int] = (),
) -> list[int]:
    """Top the customer's healthy sessions (assigned + cooling) up to their plan; returns all their ids.

    When the pool cannot (all or none: nothing is taken) the admins are told (``note_short``) in the
    transaction that found it, then the pool's error is raised. Never takes sessions away when they own
    more than the plan (revoke does that)."""
    short: NotEnoughSessions | NoPairCapacity | None = None
    async with pool_tx(db, sessions_dir) as (conn, moves):
        customer = await _require_customer(conn, customer_id)
        owned = [s.id for s in await session_rows.list_for_owner(conn, customer_id)]
        missing = customer.plan_sessions - len(owned)
        if missing > 0:
            free_before = await session_rows.count_free(conn)
            try:
                async with savepoint(conn, "top_up"):
                    owned += await take(conn, moves, customer_id, missing, now, held=held)
            except (NotEnoughSessions, NoPairCapacity) as exc:
                short = exc
                await note_short(conn, customer_id, missing, exc, now)
            else:
                await notify_if_low(conn, free_before, low_threshold, now)
    if short is not None:
        raise short
    return sorted(owned)


async def revoke(db: Database, sessions_dir: Path, customer_id: int, now: float) -> int:
    """Return the customer's healthy sessions to the pool (each keeps its identity); returns how many.

    A flood wait in progress (``cooldown_until``) stays on the session: it belongs to the account."""
    async with pool_tx(db, sessions_dir) as (conn, moves):
        owned = await session_rows.list_for_owner(conn, customer_id)
        for row in owned:
            await session_rows.return_to_pool(conn, row.id, UNUSED, now)
            moves.plan(row.file_name, row.folder, UNUSED)
    if owned:
        logger.info("returned %d session(s) of customer %d to the pool", len(owned), customer_id)
    return len(owned)


async def give_back(
    db: Database, sessions_dir: Path, customer_id: int, session_ids: Collection[int], now: float
) -> int:
    """Return these sessions of the customer's to the pool (a smaller plan); returns how many went back.
    One that is no longer theirs (retired, swapped meanwhile) is skipped. The caller makes sure no open
    port still uses them (their file moves)."""
    returned = 0
    async with pool_tx(db, sessions_dir) as (conn, moves):
        for session_id in sorted(set(session_ids)):
            row = await session_rows.get(conn, session_id)
            if row is None or not row.owned or row.owner_id != customer_id:
                continue
            await session_rows.return_to_pool(conn, row.id, UNUSED, now)
            moves.plan(row.file_name, row.folder, UNUSED)
            returned += 1
    if returned:
        logger.info("returned %d session(s) of customer %d to the pool (smaller plan)", returned, customer_id)
    return returned


async def swap(db: Database, sessions_dir: Path, customer_id: int, give_back_id: int, take_id: int, now: float) -> None:
    """An admin's swap: the customer's session ``give_back_id`` goes back to the pool and the unused
    session ``take_id`` becomes theirs, in one transaction with both file moves (all or nothing).

    Refused (NotFound, nothing changed) when ``give_back_id`` is not the customer's (assigned or
    cooling) or ``take_id`` is not unused (any more): a stale button. The caller makes sure no open
    port still uses ``give_back_id`` (its file moves)."""
    async with pool_tx(db, sessions_dir) as (conn, moves):
        await _require_customer(conn, customer_id)
        given = await session_rows.get(conn, give_back_id)
        if given is None or not given.owned or given.owner_id != customer_id:
            raise NotFound(reach_texts.not_their_session(give_back_id, customer_id))
        if give_back_id == take_id:
            raise NotFound(reach_texts.session_not_free(take_id))
        await session_rows.return_to_pool(conn, given.id, UNUSED, now)
        moves.plan(given.file_name, given.folder, UNUSED)
        taken = await session_rows.claim_ids(conn, customer_id, folder_for("assigned", customer_id), now, [take_id])
        if not taken:
            raise NotFound(reach_texts.session_not_free(take_id))
        [claimed] = taken
        moves.plan(claimed.file_name, UNUSED, claimed.folder)
    logger.info("customer %d: session %d back to the pool, session %d in its place", customer_id, give_back_id,
                take_id)
