"""Health checks of sessions nobody is using: connect each through the engine's port, then close it.

An idle (``unused``), quarantined (``limited``) or ``frozen`` session is probed once: a connect
(``users.getUsers`` of itself, asked though its row may say who it is: the proof it is alive; stored,
``pool.self_user``) and its app config (``help.getAppConfig``: frozen or not). The failure, if
any, is classified by the ``classify`` the caller passes (the engine's one classification table), so a
dead account goes to ``banned/`` and a frozen one to ``frozen/``. A quarantined one returns to the pool
only when its quarantine is over (``quarantine_until``: no check shortens it) *and* the probe succeeded
(``pool.quarantine`` says why that is the probe); a frozen one whose freeze Telegram lifted returns too.
A flood wait met while connecting is the session's 'connect' wait, one on the app-config read its 'read'
wait (``core.waits``): recorded, and no check probes it before they end (nor is its sending held by
them). Telegram counts a wait from its answer, so the wait is recorded from the time the answer came
(``clock``), never from when the check began: a check waits for the gate and connects (up to
``connect_timeout``) before it asks, and a wait counted from its start would end early, letting the engine
(which may take the session next) or the next check ask inside it. Whatever the probe leads to (checked,
quarantined, released) is dated the same way. Owned sessions are never checked here: the engine has them
open, and a second client on one session file is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.clock import Clock
from core.errors import NotFound, PoolError
from core.outcomes import RETIREMENTS, Outcome, OutcomeKind
from core.ports import AccountFactory, AccountStatus, Classifier
from core.waits import MethodClass
from pool import lifecycle, self_user
from pool.quarantine import Quarantine
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database
from storage.sessions import SessionRow

logger = logging.getLogger(__name__)

CheckOutcome = Literal["healthy", "released", "quarantined", "dead", "limited", "frozen", "cooling", "error"]
"""``quarantined``: the probe succeeded but the session's quarantine is not over (``detail``: until when)."""
# Why a session was not checked, ours (a check's ``detail`` is otherwise a classified error name or a key
# of ``core.errors``): keys, worded where the results are shown (``core.texts.admin``).
STATE_CHANGED = "STATE_CHANGED"
"""The session was assigned (or retired) while the check waited."""
BUSY = "BUSY"
"""Its dialogs are being read right now (a discovery scan holds it)."""
UNUSABLE = "SESSION_UNUSABLE"
"""It could not be opened, for a reason with no key of its own."""
PROBE_CLASSES: tuple[MethodClass, ...] = ("connect", "read")
"""The request classes of a probe: connecting, then the app-config read."""


@dataclass(frozen=True)
class CheckResult:
    session_id: int
    state_before: str
    outcome: CheckOutcome
    detail: str | None = None  # a key: a classified error name or one of ours, never words nor a secret
    until: float | None = None  # 'quarantined': the earliest time it may return


async def _check_one(
    db: Database,
    sessions_dir: Path,
    factory: AccountFactory,
    classify: Classifier,
    row: SessionRow,
    now: float,
    connect_timeout: float,
    quarantine: Quarantine | None,
    low_threshold: int,
    held: set[int],
    *,
    proxy_required: bool = False,
    clock: Clock | None = None,
) -> CheckResult:
    # Taken the way a discovery scan takes a session (pool.discovery): inside a transaction that sees
    # its state, so no claim and no scan opens a second client on it meanwhile.
    async with db.tx() as conn:
        current = await session_rows.get(conn, row.id)
        if current is None or current.state != row.state:
            return CheckResult(row.id, row.state, "error", STATE_CHANGED)  # e.g. just assigned
        if row.id in held:
            return CheckResult(row.id, row.state, "error", BUSY)
        if current.state == "limited" and (current.quarantine_until or 0.0) > now:
            # Not probed at all before its quarantine is over: nothing it answers could shorten it.
            return CheckResult(row.id, row.state, "quarantined", until=current.quarantine_until)
        if await wait_rows.hold(conn, row.id, PROBE_CLASSES) > now:
            return CheckResult(row.id, row.state, "cooling", "FloodWaitError")  # not probed inside a wait
        held.add(row.id)
    try:
        try:
            creds = await lifecycle.credentials(db, sessions_dir, row.id, proxy_required=proxy_required)
        except (NotFound, PoolError) as exc:  # file missing (NotFound), no API pair to connect with
            logger.info("session %d not checked: %s", row.id, exc.user_message)
            return CheckResult(row.id, row.state, "error", exc.key or UNUSABLE)
        # A probe asks Telegram who the account is (users.getUsers: it needs an authorised account), though
        # the row may say so already: that request is the proof the account is alive. What changed is stored.
        port = factory.open(self_user.asking(creds))
        outcome: Outcome | None = None
        status = AccountStatus()
        method: MethodClass = "connect"
        try:
            info = await asyncio.wait_for(port.connect(), connect_timeout)
            await self_user.remember(db, creds.self_user, row.id, info, now if clock is None else clock.now())
            method = "read"
            status = await asyncio.wait_for(port.account_status(), connect_timeout)
        except Exception as exc:
            outcome = classify(exc)
        finally:
            try:
                await port.close()
            except Exception:
                logger.exception("closing session %d after its check failed", row.id)
        # From here on ``now`` is the time the probe ended, its answer in hand (see the module doc), not
        # when the run began: a wait counted from it ends no earlier than Telegram's.
        now = now if clock is None else max(now, clock.now())
        async with db.tx() as conn:
            await session_rows.set_checked(conn, row.id, now)
            if outcome is None and not status.frozen:
                await session_rows.set_status_checked(conn, row.id, now)
        if outcome is None and status.frozen:
            await lifecycle.retire(db, sessions_dir, row.id, "frozen", "ACCOUNT_FROZEN", now,
                                   low_threshold=low_threshold, status=status)
            return CheckResult(row.id, row.state, "frozen", "ACCOUNT_FROZEN")
        if outcome is None:
            if row.state == "frozen" and await lifecycle.release_frozen(db, sessions_dir, row.id, now):
                return CheckResult(row.id, row.state, "released")
            if row.state == "limited":
                if await lifecycle.release_limited(db, sessions_dir, row.id, now):
                    return CheckResult(row.id, row.state, "released")
                return CheckResult(row.id, row.state, "quarantined", until=row.quarantine_until)
            return CheckResult(row.id, row.state, "healthy")
        if outcome.kind is OutcomeKind.FLOOD_WAIT and outcome.seconds is not None:
            async with db.tx() as conn:  # that request's class waits; the account's sends are not its business
                await wait_rows.record(conn, row.id, method, now + outcome.seconds, now)
            return CheckResult(row.id, row.state, "cooling", outcome.error)
        state = RETIREMENTS.get(outcome.kind)
        if state is not None:
            await lifecycle.retire(db, sessions_dir, row.id, state, outcome.error, now, low_threshold=low_threshold,
                                   quarantine=quarantine)
            return CheckResult(row.id, row.state, state, outcome.error)
        logger.info("check of session %d inconclusive: %s", row.id, outcome.error)
        return CheckResult(row.id, row.state, "error", outcome.error)
    finally:
        held.discard(row.id)


async def check_sessions(
    db: Database,
    sessions_dir: Path,
    factory: AccountFactory,
    now: float,
    states: Sequence[str] = ("unused", "limited", "frozen"),
    *,
    classify: Classifier,
    connect_timeout: float = 30.0,
    concurrency: int = 4,
    quarantine: Quarantine | None = None,
    low_threshold: int = 0,
    held: set[int] | None = None,
    proxy_required: bool = False,
    clock: Clock | None = None,
) -> list[CheckResult]:
    """Check every session in ``states`` (owned states are refused: the engine has those open).

    ``held``: the idle sessions open right now (the pool discovery's ``scanning``, which claims skip too);
    one already in it is reported busy, not opened a second time, and each checked one is in it while open.

    A limited session is released only once its stored quarantine is over (connecting proves the
    account exists, not that its restriction is over) and its probe succeeded; ``quarantine`` is the rule
    for a session this check finds limited (its next quarantine).

    ``now`` is when the run began (what decides which sessions may be probed); ``clock`` gives the time
    each probe was answered, from which a flood wait it met (and whatever else it leads to) is counted.
    Without a clock everything is dated ``now``: only for a caller whose time does not move meanwhile."""
    if set(states) & {"assigned", "cooling"}:
        raise ValueError("owned sessions are checked by the engine, not here")
    async with db.read() as conn:
        rows = await session_rows.list_by_state(conn, states)
    gate = asyncio.Semaphore(max(1, concurrency))
    open_now = held if held is not None else set()

    async def one(row: SessionRow) -> CheckResult:
        async with gate:
            return await _check_one(
                db, sessions_dir, factory, classify, row, now, connect_timeout, quarantine, low_threshold,
                open_now, proxy_required=proxy_required, clock=clock,
            )

    results = await asyncio.gather(*(one(row) for row in rows))
    logger.info(
        "checked %d session(s): %s",
        len(results),
        ", ".join(f"{k}={sum(r.outcome == k for r in results)}" for k in sorted({r.outcome for r in results})),
    )
    return list(results)
