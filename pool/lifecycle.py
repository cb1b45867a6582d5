"""Health transitions the engine reports: flood waits, dead and limited accounts, and their replacement.

Each call is one transaction with its file moves and notification rows (``pool_tx``), so a crash never
leaves a dead session with its customer or a customer unaware that it died.

Event payloads (``storage.events``):
    SESSION_DEAD / SESSION_LIMITED  admins: session_id, reason, owner_id, phone; customer: session_id, reason
    SESSION_LIMITED                 also: quarantine_until (the earliest return), quarantine_count
    SESSION_FROZEN                  as SESSION_DEAD, plus appeal_url and frozen_until when Telegram gave them
    SESSION_REPLACED                customer: old_session_id, new_session_id
    NO_REPLACEMENT                  customer and admins: session_id, reason (why none was given)
    POOL_LOW, PAIR_FULL             see ``pool.assign``
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path

from core.errors import (
    SESSION_FILE_MISSING,
    SESSION_GONE,
    SESSION_NO_PAIR,
    SESSION_NO_PROXY,
    NoPairCapacity,
    NotFound,
    ProxyMissing,
)
from core.ports import AccountStatus, Retirement, SessionCredentials
from core.states import EventKind, SessionState
from core.texts import errors as texts
from core.texts import proxy as proxy_texts
from pool import identity
from pool.assign import notify_if_low, take_one_or_none
from pool.layout import BANNED, FROZEN, LIMITED, UNUSED, check_file_name, check_folder
from pool.moves import FileMoves, pool_tx
from pool.quarantine import Quarantine
from storage import customers, events, stats
from storage import pairs as pair_rows
from storage import proxies as proxy_rows
from storage import sessions as session_rows
from storage.db import Connection, Database
from storage.sessions import SessionRow

logger = logging.getLogger(__name__)


async def _require(conn: Connection, session_id: int) -> SessionRow:
    row = await session_rows.get(conn, session_id)
    if row is None:
        raise NotFound(texts.no_session(session_id), key=SESSION_GONE)
    return row


async def set_cooldown(db: Database, session_id: int, until: float, now: float) -> None:
    """A flood wait seen outside a cycle (a health check): recorded on the session, never shortened."""
    async with db.tx() as conn:
        await _require(conn, session_id)
        await session_rows.record_cooldown(conn, session_id, until, now)


async def _replace(
    conn: Connection,
    moves: FileMoves,
    old: SessionRow,
    owner_id: int,
    now: float,
    low_threshold: int,
    held: Collection[int],
) -> int | None:
    """A replacement for the customer when their plan still wants one (a member of the groups the
    customer's other sessions do not reach first, ``pool.assign.take``); events either way."""
    customer = await customers.get(conn, owner_id)
    if customer is None or not customer.plan_active(now):
        return None  # nothing is owed any more: no session leaves the pool for an ended plan
    healthy = len(await session_rows.list_for_owner(conn, owner_id))
    if healthy >= customer.plan_sessions:
        return None
    free_before = await session_rows.count_free(conn)
    new_id, why_not = await take_one_or_none(conn, moves, owner_id, now, held=held)
    if new_id is None:
        await events.add(conn, owner_id, EventKind.NO_REPLACEMENT, now, session_id=old.id, reason=why_not)
        await events.add(conn, None, EventKind.NO_REPLACEMENT, now, session_id=old.id, owner_id=owner_id,
                         reason=why_not)
        logger.warning("no replacement for session %d of customer %d: %s", old.id, owner_id, why_not)
        return None
    await events.add(conn, owner_id, EventKind.SESSION_REPLACED, now, old_session_id=old.id, new_session_id=new_id)
    await notify_if_low(conn, free_before, low_threshold, now)
    logger.info("session %d of customer %d replaced by %d", old.id, owner_id, new_id)
    return new_id


_FOLDERS: dict[Retirement, str] = {"dead": BANNED, "limited": LIMITED, "frozen": FROZEN}
_EVENTS: dict[Retirement, EventKind] = {
    "dead": EventKind.SESSION_DEAD,
    "limited": EventKind.SESSION_LIMITED,
    "frozen": EventKind.SESSION_FROZEN,
}


async def retire(
    db: Database,
    sessions_dir: Path,
    session_id: int,
    state: Retirement,
    reason: str,
    now: float,
    *,
    low_threshold: int = 0,
    held: Collection[int] = (),
    quarantine: Quarantine | None = None,
    status: AccountStatus | None = None,
) -> int | None:
    """Dead, limited or frozen: out of its customer's hands, its file to banned/, limited/ or frozen/,
    events for the admins and the owner, and a replacement for the owner (its id; None when there was no
    owner, no need or no free session). A limited one starts its next quarantine (``quarantine``); a
    frozen one keeps what its app config said (``status``: dates and the appeal link). Reporting a state
    the session is already in, or anything about a dead one, changes nothing."""
    folder, kind = _FOLDERS[state], _EVENTS[state]
    async with pool_tx(db, sessions_dir) as (conn, moves):
        row = await _require(conn, session_id)
        if row.state == "dead" or row.state == state:
            return None  # already there: repeated reports change nothing
        owner_id = row.owner_id if row.owned else None
        await session_rows.retire(conn, session_id, state, folder, reason, now)
        moves.plan(row.file_name, row.folder, folder)
        extra: dict[str, object] = {}
        if state == "limited":
            count = row.quarantine_count + 1
            until = now + (quarantine or Quarantine()).length(count)
            await session_rows.start_quarantine(conn, session_id, count, until)
            extra = {"quarantine_until": until, "quarantine_count": count}
        elif state == "frozen":
            status = status or AccountStatus()
            await session_rows.record_frozen(conn, session_id, since=status.frozen_since or now,
                                             until=status.frozen_until, appeal_url=status.appeal_url, now=now)
            extra = {"appeal_url": status.appeal_url, "frozen_until": status.frozen_until}
        await events.add(conn, None, kind, now, session_id=session_id, reason=reason, owner_id=owner_id,
                         phone=row.phone, **extra)
        logger.warning("session %d is %s (%s), owner %s", session_id, state, reason, owner_id)
        if owner_id is None:
            return None
        if state == "dead":
            await stats.count_banned_session(conn, owner_id)
        await events.add(conn, owner_id, kind, now, session_id=session_id, reason=reason)
        return await _replace(conn, moves, row, owner_id, now, low_threshold, held)


async def mark_dead(
    db: Database,
    sessions_dir: Path,
    session_id: int,
    reason: str,
    now: float,
    *,
    low_threshold: int = 0,
    held: Collection[int] = (),
) -> int | None:
    """The account is gone for good: state dead, file to banned/, a replacement for its customer.

    Returns the replacement's id (None when there was no owner, no need, or no free session).
    Marking a session that is already dead does nothing."""
    return await retire(db, sessions_dir, session_id, "dead", reason, now, low_threshold=low_threshold, held=held)


async def mark_limited(
    db: Database,
    sessions_dir: Path,
    session_id: int,
    reason: str,
    now: float,
    *,
    low_threshold: int = 0,
    held: Collection[int] = (),
    quarantine: Quarantine | None = None,
) -> int | None:
    """The account is restricted (spam-limited, banned from public groups): quarantine in limited/ for
    ``quarantine.length(n)`` (its n-th time), replaced like a dead one. After that, a health check whose
    probe succeeds returns it to the pool (``release_limited``)."""
    return await retire(db, sessions_dir, session_id, "limited", reason, now, low_threshold=low_threshold,
                        held=held, quarantine=quarantine)


async def release_limited(db: Database, sessions_dir: Path, session_id: int, now: float) -> bool:
    """A quarantined session is healthy again: limited -> unused, only once its quarantine is over (no
    caller shortens it). Returns whether it was released; any other state is left alone."""
    released = await _release(db, sessions_dir, session_id, now, "limited", session_rows.release_quarantined)
    if released:
        logger.info("session %d released from quarantine", session_id)
    return released


async def release_frozen(db: Database, sessions_dir: Path, session_id: int, now: float) -> bool:
    """Telegram lifted the freeze (the app config no longer says frozen): frozen -> unused."""
    released = await _release(db, sessions_dir, session_id, now, "frozen", session_rows.release_frozen)
    if released:
        logger.info("session %d is no longer frozen: back in the pool", session_id)
    return released


async def _release(
    db: Database,
    sessions_dir: Path,
    session_id: int,
    now: float,
    state: SessionState,
    release: Callable[[Connection, int, str, float], Awaitable[bool]],
) -> bool:
    """A session in ``state`` back to the unused folder, when the row's own release (which refuses what
    it must, e.g. a quarantine not over) agrees; one transaction with the file move."""
    async with pool_tx(db, sessions_dir) as (conn, moves):
        row = await _require(conn, session_id)
        if row.state != state or not await release(conn, session_id, UNUSED, now):
            return False
        moves.plan(row.file_name, row.folder, UNUSED)
    return True


async def credentials(
    db: Database, sessions_dir: Path, session_id: int, *, proxy_required: bool = False
) -> SessionCredentials:
    """What opening the session needs: its file where it lives now, its identity as stored (its own app
    or its pool pair, and its device profile, ``pool.identity``; never anything else) and its proxy.

    With ``proxy_required`` (``[pool] proxy_required``) a session without a proxy raises ProxyMissing:
    it is never opened from the server's own address.

    Raises NoPairCapacity for a session waiting for an API pair (it is never opened), NotFound when the
    file is not where its row says (Telethon would create an empty session). The first call stamps the
    identity as used (and completes a device profile stored before profiles existed), so it is fixed."""
    async with db.read() as conn:
        row, pair, proxy = await _identity(conn, session_id)
    api_id, api_hash, path = _usable(sessions_dir, row, pair, proxy, proxy_required)
    device = dict(row.device)
    if row.identity_used_at is None:
        # The first use seals the identity, once the session proved usable. Read again inside the sealing
        # transaction, so that what is sealed is what is used: a sidecar attached since the read above is
        # in it, or refused after it.
        async with db.tx() as conn:
            row, pair, proxy = await _identity(conn, session_id)
            api_id, api_hash, path = _usable(sessions_dir, row, pair, proxy, proxy_required)
            device = dict(row.device)
            if row.identity_used_at is None:
                device = identity.first_use_device(row.device, row.auth_key_sha) or device
                if device != row.device:
                    await session_rows.set_device(conn, session_id, device)
                await session_rows.mark_identity_used(conn, session_id, time.time())
    return SessionCredentials(
        session_id=row.id,
        path=path,
        api_id=api_id,
        api_hash=api_hash,
        device=device,
        proxy=proxy.spec if proxy else None,
        test_mode=row.test_mode,
        self_user=row.self_user,
    )


async def _identity(
    conn: Connection, session_id: int
) -> tuple[SessionRow, pair_rows.ApiPair | None, proxy_rows.ProxyRow | None]:
    """The session's row, its pool pair (None: its own app, or none yet) and its proxy."""
    row = await _require(conn, session_id)
    pair = await pair_rows.get(conn, row.pair_id) if row.pair_id is not None else None
    return row, pair, await proxy_rows.get(conn, session_id)


def _usable(
    sessions_dir: Path,
    row: SessionRow,
    pair: pair_rows.ApiPair | None,
    proxy: proxy_rows.ProxyRow | None,
    proxy_required: bool,
) -> tuple[int, str, Path]:
    """(api id, api hash, file) of a session that can be opened; raises why it cannot."""
    if row.own_api_id is not None and row.own_api_hash:
        api_id, api_hash = row.own_api_id, row.own_api_hash
    elif pair is not None:
        api_id, api_hash = pair.api_id, pair.api_hash
    else:
        raise NoPairCapacity(texts.waits_for_pair(row.id), key=SESSION_NO_PAIR)
    if proxy is None and proxy_required:
        raise ProxyMissing(proxy_texts.proxy_required(row.id), key=SESSION_NO_PROXY)
    path = sessions_dir / check_folder(row.folder) / check_file_name(row.file_name)
    if not path.is_file():
        raise NotFound(texts.session_file_missing(row.id, row.folder), key=SESSION_FILE_MISSING)
    return api_id, api_hash, path
