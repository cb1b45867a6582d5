"""Joins, only when an admin asks: queued, paced per session, run one request at a time, recorded.

Why this shape (the issue's rules, and Telegram's):

* **Never automatic.** Rows come only from ``queue_joins`` (the admin's ``/join``, ``adbot pool join``);
  nothing here decides to join anything. ``JoinRunner.run_due`` only works off that queue.
* **Paced.** A session's join requests are at least ``join_min_gap_minutes`` apart and at most
  ``join_daily_cap`` in any 24 hours, counted from the queue's own rows (``storage.joins``), so the
  pacing holds across restarts. Each queued row carries the time it is planned for (shown to the admin).
* **A flood wait stops that session's joins** until it ends (its 'join' wait, ``storage.waits``; an
  invite preview is of that class too), never its sends: Telegram's waits are per method. A session
  waiting out a send flood wait (its cooldown) does not join either: one wait at a time. An idle
  session is not connected inside its 'connect' wait, and a flood wait met while connecting it is
  recorded as that class (not as a join wait).
* **Nothing around approval.** A join request the chat's admins must approve ends 'pending' and stays
  so; too many channels, an expired invite or a private chat end 'refused'; no second way is tried.
  Captchas and verification bots are never answered: a join is one request and its answer.
* **A join is recorded as a membership at once** (``storage.memberships.record``) when Telegram's
  answer names the chat, so placement can use the session there at the next cycle; otherwise the
  session's dialogs are due for a scan now.

Which client makes the request: an idle ('unused') session is opened here through the account factory,
connected, used and closed (like ``pool.health``); a customer's session is already held by the engine
(one live client per session, ever), so its join runs through ``LiveAccounts.run_on_account``, which the
composition root wires to the engine. The pool never imports the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from core.clock import Clock, wait_with_timeout
from core.config import PoolSettings
from core.connect_rate import ConnectRate
from core.errors import AdbotError
from core.join_targets import JoinTarget
from core.outcomes import RETIREMENTS, OutcomeKind
from core.ports import AccountFactory, AccountPort, Classifier, InvitePreview, JoinResult
from core.waits import MethodClass, WaitPending
from pool import lifecycle, self_user
from pool.quarantine import Quarantine
from storage import joins as join_rows
from storage import memberships
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Connection, Database
from storage.joins import JoinRow, JoinStatus

logger = logging.getLogger(__name__)

__all__ = ["JoinDone", "JoinPacing", "JoinRunner", "LiveAccounts", "QueuedJoin", "next_slot", "queue_joins"]

T = TypeVar("T")
DAY = 86_400.0
USABLE_STATES = ("unused", "assigned", "cooling")
SkipReason = Literal["no_session", "dead", "limited", "frozen", "no_pair", "queued", "member"]
HOLDING: tuple[MethodClass, ...] = ("join", "connect", "send")
"""The waits that hold a session's joins: its own, connecting, and (one wait at a time) sending."""

# Reasons stored with a row that are ours, not Telegram's (core.texts.joins words them).
SESSION_DEAD = "SESSION_DEAD"
SESSION_LIMITED = "SESSION_LIMITED"
SESSION_FROZEN = "SESSION_FROZEN"
_RETIRED_REASONS = {"dead": SESSION_DEAD, "limited": SESSION_LIMITED, "frozen": SESSION_FROZEN}
FLOOD_WAIT = "FLOOD_WAIT"
REQUEST_SENT = "INVITE_REQUEST_SENT"
TOO_MANY = "CHANNELS_TOO_MUCH"
UNUSABLE = "SESSION_UNUSABLE"
"""The session could not be opened, for a reason with no key of its own (``AdbotError.key``)."""


@dataclass(frozen=True)
class JoinPacing:
    min_gap: float  # seconds between two join requests of one session
    daily_cap: int  # join requests of one session in any 24 hours

    @classmethod
    def from_settings(cls, pool: PoolSettings) -> JoinPacing:
        return cls(min_gap=pool.join_min_gap_minutes * 60.0, daily_cap=pool.join_daily_cap)


def next_slot(tries: Sequence[float], after: float, pacing: JoinPacing) -> float:
    """The earliest time from ``after`` on for a session's next join request, given when its earlier ones
    went out or are planned (ascending): ``min_gap`` after the last, fewer than ``daily_cap`` in the 24
    hours before it."""
    t = max(after, tries[-1] + pacing.min_gap) if tries else after
    while True:
        window = [x for x in tries if x <= t and x + DAY > t]  # x + DAY: the same sum as below, exactly
        if len(window) < pacing.daily_cap:
            return t
        t = window[len(window) - pacing.daily_cap] + DAY  # when the oldest that still counts drops out


async def _plan(conn: Connection, session_id: int, now: float, hold: float, pacing: JoinPacing) -> list[float]:
    """When the session's requests went out in the last day, and its queued ones are planned."""
    tries = await join_rows.tries_since(conn, session_id, now - DAY)
    tries += [max(row.due_at, hold) for row in await join_rows.queued_for(conn, session_id)]
    return sorted(tries)


async def _hold(conn: Connection, session_id: int, cooldown_until: float | None) -> float:
    """No join request before this: a join or connect flood wait, or the session's send flood wait."""
    return max(await wait_rows.hold(conn, session_id, HOLDING), cooldown_until or 0.0)


async def _member(conn: Connection, session_id: int, ref: str) -> bool:
    """The session's stored dialogs hold the chat, and it has not left it nor been removed."""
    row = await memberships.find(conn, session_id, ref)
    return row is not None and row.why_not not in ("left", "kicked")


# --- queueing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedJoin:
    """One session of an admin's request: queued (its id and planned time) or why not."""

    session_id: int
    join_id: int | None = None
    due_at: float | None = None
    skipped: SkipReason | None = None


async def queue_joins(
    db: Database,
    session_ids: Sequence[int],
    target: JoinTarget,
    *,
    requested_by: int,
    now: float,
    pacing: JoinPacing,
    title: str | None = None,
    members: Collection[int] = (),
) -> list[QueuedJoin]:
    """Queue a join of ``target`` for each session (in one transaction), each at its next free slot.

    Skipped: a session that does not exist, is dead, limited or frozen, waits for an API pair (no identity
    yet: it is never opened), has this target queued or pending
    already, or is known to be a member (its stored dialogs hold the public chat, or ``members``: what
    an invite's preview said)."""
    queued: list[QueuedJoin] = []
    async with db.tx() as conn:
        unique = list(dict.fromkeys(session_ids))
        open_already = await join_rows.open_targets(conn, unique, target.ref)
        for session_id in unique:
            row = await session_rows.get(conn, session_id)
            skip: SkipReason | None = None
            if row is None:
                skip = "no_session"
            elif row.state == "dead" or row.state == "limited" or row.state == "frozen":
                skip = row.state
            elif not row.has_identity:
                skip = "no_pair"  # it waits for an API pair: never opened until it has its identity
            elif session_id in open_already:
                skip = "queued"
            elif session_id in members or (not target.is_invite and await _member(conn, session_id, target.ref)):
                skip = "member"
            if skip is not None or row is None:
                queued.append(QueuedJoin(session_id, skipped=skip))
                continue
            hold = await _hold(conn, session_id, row.cooldown_until)
            due_at = next_slot(await _plan(conn, session_id, now, hold, pacing), max(now, hold), pacing)
            join_id = await join_rows.add(
                conn, session_id, target.ref, title=title, requested_by=requested_by, now=now, due_at=due_at
            )
            queued.append(QueuedJoin(session_id, join_id, due_at))
    logger.info(
        "admin %d queued %d join(s) of %s (%d skipped)",
        requested_by,
        sum(q.join_id is not None for q in queued),
        target.ref,
        sum(q.join_id is None for q in queued),
    )
    return queued


# --- running -----------------------------------------------------------------------------------------------


class LiveAccounts(Protocol):
    """Where a customer's session is live (the engine): run ``fn`` with its open port."""

    async def run_on_account(self, session_id: int, fn: Callable[[AccountPort], Awaitable[T]]) -> T: ...


class NoLiveAccount(Exception):
    """The session is a customer's and no engine runs in this process to reach it through."""


@dataclass(frozen=True)
class JoinDone:
    """What one run of a queued join came to ('queued' again: it waits, with ``reason``)."""

    join_id: int
    session_id: int
    target: str
    status: JoinStatus
    reason: str | None = None


class JoinRunner:
    """Runs the queued joins whose time has come (``run_due``) and previews invites (``preview``)."""

    def __init__(
        self,
        db: Database,
        sessions_dir: Path,
        factory: AccountFactory,
        classify: Classifier,
        clock: Clock,
        pacing: JoinPacing,
        *,
        live: LiveAccounts | None = None,
        connect_timeout: float = 30.0,
        request_timeout: float = 30.0,
        low_threshold: int = 0,
        held: set[int] | None = None,
        proxy_required: bool = False,
        quarantine: Quarantine | None = None,
        connect_rate: ConnectRate | None = None,
    ) -> None:
        self.db = db
        self.connect_rate = connect_rate  # the process's one connect rate: an idle session's join connects too
        self.proxy_required = proxy_required
        self.quarantine = quarantine  # the rule for a session a join finds limited
        self.held = held if held is not None else set()
        """Idle sessions open right now (the discovery's ``scanning``, which claims and checks respect):
        one in it is not opened for a join; one opened for a join is in it while open."""
        self.sessions_dir = sessions_dir
        self.factory = factory
        self.classify = classify
        self.clock = clock
        self.pacing = pacing
        self.live = live
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.low_threshold = low_threshold

    # --- previews ---

    async def preview(self, session_id: int, invite_hash: str) -> InvitePreview:
        """What the invite leads to, as this session sees it (``messages.checkChatInvite``, no join). A
        session that turns out to be a member has the chat recorded. Raises what the request raised, and
        ``WaitPending`` inside the session's join (or connect) wait: no request then."""
        now = self.clock.now()
        async with self.db.read() as conn:
            hold = await wait_rows.hold(conn, session_id, HOLDING)
        if hold > now:
            raise WaitPending("join", hold, now)
        try:
            preview = await self._with_account(
                session_id, lambda port: self._bounded(port.check_invite(invite_hash))
            )
        except Exception as exc:
            outcome = self.classify(exc)
            if outcome.kind is OutcomeKind.FLOOD_WAIT and outcome.seconds is not None and not isinstance(
                exc, WaitPending
            ):
                now = self.clock.now()
                async with self.db.tx() as conn:  # checkChatInvite is of the join class
                    await wait_rows.record(conn, session_id, "join", now + outcome.seconds, now)
            raise
        if preview.already_member and preview.dialog is not None:
            dialog = preview.dialog
            async with self.db.tx() as conn:
                await memberships.record(conn, session_id, dialog, self.clock.now())
        return preview

    # --- the queue ---

    async def run_due(self) -> list[JoinDone]:
        """Each session's first queued join whose time has come, one after another."""
        async with self.db.read() as conn:
            rows = await join_rows.due(conn, self.clock.now())
        done: list[JoinDone] = []
        for row in rows:
            result = await self._run_one(row)
            if result is not None:
                done.append(result)
        return done

    async def _run_one(self, row: JoinRow) -> JoinDone | None:
        now = self.clock.now()
        sid = row.session_id
        async with self.db.tx() as conn:
            current = await join_rows.get(conn, row.id)
            if current is None or current.status != "queued" or current.due_at > now:
                return None  # ended or moved meanwhile (an earlier join of this run said so)
            session = await session_rows.get(conn, sid)
            if session is None:
                return None  # its rows went with it
            if session.state in _RETIRED_REASONS:
                reason = _RETIRED_REASONS[session.state]
                await join_rows.finish_queued(conn, "failed", reason, now, session_id=sid)
                return JoinDone(row.id, sid, row.target, "failed", reason)
            hold = await _hold(conn, sid, session.cooldown_until)
            slot = next_slot(await join_rows.tries_since(conn, sid, now - DAY), max(now, hold), self.pacing)
            if slot > now + 1e-6:
                await self._replan(conn, sid, now, hold)
                return None
        if session.owned and self.live is None:
            return None  # the bot's process runs it (this one has no engine)

        async def attempt(port: AccountPort) -> JoinResult:
            async with self.db.tx() as conn:
                await join_rows.mark_tried(conn, row.id, self.clock.now())  # counts, whatever the answer
            return await self._bounded(port.join(row.target))

        try:
            result = await self._with_account(sid, attempt)
        except NoLiveAccount:
            return None
        except AdbotError as exc:  # the session cannot be opened: its file is gone, no API pair
            # Stored as a key (``core.errors``), worded for whoever reads /joins: never as words.
            logger.info("session %d cannot join: %s", sid, exc.user_message)
            return await self._end(row, "failed", exc.key or UNUSABLE)
        except Exception as exc:
            return await self._failed(row, exc)
        return await self._joined(row, result)

    async def _with_account(self, session_id: int, fn: Callable[[AccountPort], Awaitable[T]]) -> T:
        async with self.db.tx() as conn:  # the state and the hold together: no claim or scan in between
            row = await session_rows.get(conn, session_id)
            if row is None or row.state not in USABLE_STATES:
                raise NoLiveAccount(session_id)
            idle = not row.owned
            if idle:
                if session_id in self.held:
                    raise NoLiveAccount(session_id)  # being scanned or checked: the next run joins
                self.held.add(session_id)
        if not idle:
            if self.live is None:
                raise NoLiveAccount(session_id)
            return await self.live.run_on_account(session_id, fn)
        try:
            return await self._with_idle(session_id, fn)
        finally:
            self.held.discard(session_id)

    async def _with_idle(self, session_id: int, fn: Callable[[AccountPort], Awaitable[T]]) -> T:
        credentials = await lifecycle.credentials(
            self.db, self.sessions_dir, session_id, proxy_required=self.proxy_required
        )
        if self.connect_rate is not None:
            await self.connect_rate.turn()  # before the timeout: it bounds the network, not the queue
        port = self.factory.open(credentials)
        try:
            try:
                info = await wait_with_timeout(self.clock, port.connect(), self.connect_timeout)
            except Exception as exc:
                outcome = self.classify(exc)
                if outcome.kind is not OutcomeKind.FLOOD_WAIT or outcome.seconds is None:
                    raise
                now = self.clock.now()
                until = now + outcome.seconds
                async with self.db.tx() as conn:  # connecting waits, not joining
                    await wait_rows.record(conn, session_id, "connect", until, now)
                raise WaitPending("connect", until, now) from exc
            # A first connect asked who the account is: stored, never asked again (as the dialogs read does).
            await self_user.remember(self.db, credentials.self_user, session_id, info, self.clock.now())
            return await fn(port)
        finally:
            try:
                await port.close()
            except Exception:
                logger.warning("closing session %d after a join failed", session_id, exc_info=True)

    def _bounded(self, request: Awaitable[T]) -> Awaitable[T]:
        """One request with the request timeout (only the request: a database step inside the bound
        would let a virtual clock move the deadline under it)."""
        return wait_with_timeout(self.clock, request, self.request_timeout)

    async def _replan(self, conn: Connection, session_id: int, now: float, hold: float) -> None:
        """Give the session's queued joins their times again (after a wait or a postponement)."""
        tries = await join_rows.tries_since(conn, session_id, now - DAY)
        for queued in sorted(await join_rows.queued_for(conn, session_id), key=lambda r: r.id):  # asked order
            slot = next_slot(tries, max(now, hold), self.pacing)
            tries.append(slot)
            await join_rows.set_due(conn, queued.id, slot, queued.reason)

    async def _joined(self, row: JoinRow, result: JoinResult) -> JoinDone:
        now = self.clock.now()
        sid = row.session_id
        async with self.db.tx() as conn:
            if result.status in ("joined", "already"):
                await join_rows.finish(conn, row.id, result.status, result.error, now)
                if result.dialog is not None:
                    await memberships.record(conn, sid, result.dialog, now)
                else:
                    await memberships.set_scan_due(conn, sid, now)  # read its dialogs to learn the chat
                status: JoinStatus = result.status
            elif result.status == "pending":
                status = "pending"
                await join_rows.finish(conn, row.id, status, result.error or REQUEST_SENT, now)
            elif result.status == "too_many":
                status = "refused"
                # Every other join of this session would be refused the same way: none is tried.
                await join_rows.finish(conn, row.id, status, result.error or TOO_MANY, now)
                await join_rows.finish_queued(conn, status, result.error or TOO_MANY, now, session_id=sid)
            else:
                status = "refused"
                # The target leads nowhere, for every session: the other queued joins of it end too.
                await join_rows.finish(conn, row.id, status, result.error, now)
                await join_rows.finish_queued(conn, status, result.error or "INVALID", now, target=row.target)
        logger.info("session %d join of %s: %s (%s)", sid, row.target, status, result.error or "-")
        return JoinDone(row.id, sid, row.target, status, result.error)

    async def _failed(self, row: JoinRow, exc: Exception) -> JoinDone:
        outcome = self.classify(exc)
        now = self.clock.now()
        sid = row.session_id
        if isinstance(exc, WaitPending):  # no request went out: a wait recorded already holds it
            async with self.db.tx() as conn:
                await join_rows.set_due(conn, row.id, exc.until, FLOOD_WAIT)
                await self._replan(conn, sid, now, exc.until)
            logger.info("session %d: joins wait %d s (%s flood wait)", sid, exc.seconds, exc.method)
            return JoinDone(row.id, sid, row.target, "queued", FLOOD_WAIT)
        if outcome.kind is OutcomeKind.FLOOD_WAIT and outcome.seconds is not None:
            until = now + outcome.seconds
            async with self.db.tx() as conn:
                await wait_rows.record(conn, sid, "join", until, now)
                await join_rows.set_due(conn, row.id, until, FLOOD_WAIT)
                await self._replan(conn, sid, now, until)
            logger.warning("session %d: joins wait %d s (flood wait on joining)", sid, outcome.seconds)
            return JoinDone(row.id, sid, row.target, "queued", FLOOD_WAIT)
        if outcome.kind is OutcomeKind.TRANSIENT:
            async with self.db.tx() as conn:
                await join_rows.set_due(conn, row.id, now, outcome.error)
                await self._replan(conn, sid, now, now)
            logger.info("session %d join of %s: %s, tried again later", sid, row.target, outcome.error)
            return JoinDone(row.id, sid, row.target, "queued", outcome.error)
        state = RETIREMENTS.get(outcome.kind)
        if state is not None:
            done = await self._end(row, "failed", outcome.error, whole_session=True)
            # A customer's session was retired by the engine already (``run_on_account``), which makes
            # this a no-op; an idle one is retired here. Never a replacement the pool has open right now.
            await lifecycle.retire(self.db, self.sessions_dir, sid, state, outcome.error, now,
                                   low_threshold=self.low_threshold, quarantine=self.quarantine, held=self.held)
            return done
        refused = outcome.kind in (OutcomeKind.GROUP_FAILED, OutcomeKind.REFUSED)
        status: JoinStatus = "refused" if refused else "failed"
        return await self._end(row, status, outcome.error)

    async def _end(self, row: JoinRow, status: JoinStatus, reason: str, *, whole_session: bool = False) -> JoinDone:
        now = self.clock.now()
        async with self.db.tx() as conn:
            await join_rows.finish(conn, row.id, status, reason, now)
            if whole_session:
                await join_rows.finish_queued(conn, status, reason, now, session_id=row.session_id)
        logger.info("session %d join of %s: %s (%s)", row.session_id, row.target, status, reason)
        return JoinDone(row.id, row.session_id, row.target, status, reason)
