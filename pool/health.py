"""Health checks of sessions nobody is using: connect each through the engine's port, then close it.

An idle (``unused``) or quarantined (``limited``) session is connected once; the failure, if any, is
classified by the ``classify`` the caller passes (the engine's one classification table), so a dead account goes to
``banned/`` and a quarantined one that connects again returns to the pool. A flood wait met while
connecting is the session's 'connect' wait (``core.waits``): recorded, and no check connects it before it
ends (nor is its sending held by it). Owned sessions are never
checked here: the engine has them open, and a second client on one session file is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.errors import NotFound, PoolError
from core.outcomes import Outcome, OutcomeKind
from core.ports import AccountFactory, Classifier
from core.texts import admin as texts
from pool import lifecycle
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database
from storage.sessions import SessionRow

logger = logging.getLogger(__name__)

CheckOutcome = Literal["healthy", "released", "dead", "limited", "cooling", "error"]


@dataclass(frozen=True)
class CheckResult:
    session_id: int
    state_before: str
    outcome: CheckOutcome
    detail: str | None = None  # classified error name, never a secret


async def _check_one(
    db: Database,
    sessions_dir: Path,
    factory: AccountFactory,
    classify: Classifier,
    row: SessionRow,
    now: float,
    connect_timeout: float,
    min_quarantine: float,
    low_threshold: int,
    held: set[int],
    *,
    proxy_required: bool = False,
) -> CheckResult:
    # Taken the way a discovery scan takes a session (pool.discovery): inside a transaction that sees
    # its state, so no claim and no scan opens a second client on it meanwhile.
    async with db.tx() as conn:
        current = await session_rows.get(conn, row.id)
        if current is None or current.state != row.state:
            return CheckResult(row.id, row.state, "error", texts.CHECK_STATE_CHANGED)  # e.g. just assigned
        if row.id in held:
            return CheckResult(row.id, row.state, "error", texts.CHECK_BUSY)
        if (await wait_rows.until(conn, row.id, "connect") or 0.0) > now:
            return CheckResult(row.id, row.state, "cooling", "FloodWaitError")  # not connected inside its wait
        held.add(row.id)
    try:
        try:
            creds = await lifecycle.credentials(db, sessions_dir, row.id, proxy_required=proxy_required)
        except (NotFound, PoolError) as exc:  # file missing (NotFound), no API pair to connect with
            return CheckResult(row.id, row.state, "error", exc.user_message)
        port = factory.open(creds)
        outcome: Outcome | None = None
        try:
            await asyncio.wait_for(port.connect(), connect_timeout)
        except Exception as exc:
            outcome = classify(exc)
        finally:
            try:
                await port.close()
            except Exception:
                logger.exception("closing session %d after its check failed", row.id)
        async with db.tx() as conn:
            await session_rows.set_checked(conn, row.id, now)
        if outcome is None:
            if row.state == "limited" and now - row.state_changed_at >= min_quarantine:
                await lifecycle.release_limited(db, sessions_dir, row.id, now)
                return CheckResult(row.id, row.state, "released")
            return CheckResult(row.id, row.state, "healthy")
        if outcome.kind is OutcomeKind.ACCOUNT_DEAD:
            await lifecycle.mark_dead(db, sessions_dir, row.id, outcome.error, now, low_threshold=low_threshold)
            return CheckResult(row.id, row.state, "dead", outcome.error)
        if outcome.kind is OutcomeKind.ACCOUNT_LIMITED:
            await lifecycle.mark_limited(db, sessions_dir, row.id, outcome.error, now, low_threshold=low_threshold)
            return CheckResult(row.id, row.state, "limited", outcome.error)
        if outcome.kind is OutcomeKind.FLOOD_WAIT and outcome.seconds is not None:
            async with db.tx() as conn:  # connecting waits; the account's sends are not this request's
                await wait_rows.record(conn, row.id, "connect", now + outcome.seconds, now)
            return CheckResult(row.id, row.state, "cooling", outcome.error)
        logger.info("check of session %d inconclusive: %s", row.id, outcome.error)
        return CheckResult(row.id, row.state, "error", outcome.error)
    finally:
        held.discard(row.id)


async def check_sessions(
    db: Database,
    sessions_dir: Path,
    factory: AccountFactory,
    now: float,
    states: Sequence[str] = ("unused", "limited"),
    *,
    classify: Classifier,
    connect_timeout: float = 30.0,
    concurrency: int = 4,
    min_quarantine: float = 0.0,
    low_threshold: int = 0,
    held: set[int] | None = None,
    proxy_required: bool = False,
) -> list[CheckResult]:
    """Check every session in ``states`` (owned states are refused: the engine has those open).

    ``held``: the idle sessions open right now (the pool discovery's ``scanning``, which claims skip too);
    one already in it is reported busy, not opened a second time, and each checked one is in it while open.

    ``min_quarantine``: a limited session that connects is released only after that many seconds in
    quarantine (connecting proves the account exists, not that its restriction is over)."""
    if set(states) & {"assigned", "cooling"}:
        raise ValueError("owned sessions are checked by the engine, not here")
    async with db.read() as conn:
        rows = await session_rows.list_by_state(conn, states)
    gate = asyncio.Semaphore(max(1, concurrency))
    open_now = held if held is not None else set()

    async def one(row: SessionRow) -> CheckResult:
        async with gate:
            return await _check_one(
                db, sessions_dir, factory, classify, row, now, connect_timeout, min_quarantine, low_threshold,
                open_now, proxy_required=proxy_required,
            )

    results = await asyncio.gather(*(one(row) for row in rows))
    logger.info(
        "checked %d session(s): %s",
        len(results),
        ", ".join(f"{k}={sum(r.outcome == k for r in results)}" for k in sorted({r.outcome for r in results})),
    )
    return list(results)
