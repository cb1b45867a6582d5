"""One cycle of one campaign: the post goes once to every active group.

The groups are spread over the campaign's sessions by rendezvous hashing (a group stays on its session
and moves only when the sessions change); each session sends its groups one after another, spaced by
``send_spacing`` +- jitter; sessions and campaigns run concurrently under one global bound on sends in
flight.

Every send is: intent committed ('pending', random_id derived from campaign, cycle and group) ->
one request -> outcome and statistics committed in one transaction. That section runs in a task of its
own that cancellation does not reach (the worker waits for it), so a shutdown never loses the answer to
a request that was made. A crash can: the row is then still 'pending' when the cycle is resumed, and
it becomes 'in_doubt' and is never sent again. Hence at most one post per (campaign, cycle, group).

What each outcome does (``engine.outcomes.classify`` decides the kind):

    SENT             row 'sent'; the group's failure streak is cleared
    FLOOD_WAIT       the session rests (persisted cooldown); its groups wait for it, never moving to
                     another session: sent after the wait if it ends before the next cycle is due,
                     else left 'waiting'
    SLOW_MODE        row 'skipped'; the group's window is remembered and never sent into
    GROUP_FAILED     row 'failed'; the group is paused after ``group_failure_limit`` in a row
    UNKNOWN          same as GROUP_FAILED
    POST_INVALID     the campaign stops (POST_INVALID event): the customer must set a new post
    TRANSIENT        retried with backoff and the same random_id, then 'failed'
    ACCOUNT_DEAD     the pool retires the session and finds a replacement for the next cycle; this
    ACCOUNT_LIMITED  session's groups are 'skipped' for this cycle
    (no answer)      'in_doubt' after ``send_timeout``: never retried in this cycle
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import aiosqlite

from core.clock import Clock, DeadlineExceeded, wait_with_timeout
from core.config import EngineSettings
from core.errors import AdbotError, NotFound, PoolError
from core.links import random_id_for
from core.outcomes import Outcome, OutcomeKind
from core.ports import Peer, Retirement, SessionSupply
from core.states import EventKind, SendOutcome
from engine.accounts import Account, Accounts
from engine.gate import Gate
from engine.ledger import Ledger
from engine.outcomes import classify
from storage import customers, events, groups
from storage import ledger as ledger_rows
from storage import sessions as session_rows
from storage.customers import Customer
from storage.db import Database, fetchone
from storage.groups import Group
from storage.sessions import SessionRow

logger = logging.getLogger(__name__)

__all__ = ["CycleReport", "Runtime", "assign_groups", "run_cycle"]

T = TypeVar("T")
SendStatus = Literal["sent", "failed", "waiting", "skipped", "in_doubt", "refused", "not_started"]
PREPARE_CONCURRENCY = 32  # cycles that read their campaign and open their ledger rows at the same time


@dataclass
class CycleReport:
    """What one call of ``run_cycle`` did."""

    customer_id: int
    cycle_no: int | None = None
    started_at: float = 0.0
    finished_at: float | None = None
    next_cycle_at: float | None = None
    resumed: bool = False
    ran: bool = False  # False: nothing was attempted (see ``reason``)
    reason: str | None = None  # why it did not run, or why the campaign stopped during it
    interrupted: bool = False  # the engine stopped mid-cycle: it is resumed later with the same number
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    skipped: int = 0
    in_doubt: int = 0
    already_done: int = 0  # groups a resumed cycle found finished
    requests: int = 0

    def count(self, status: str) -> None:
        if status in ("sent", "failed", "waiting", "skipped", "in_doubt"):
            setattr(self, status, getattr(self, status) + 1)


@dataclass(eq=False)
class SendJob:
    """One send in flight: the task that owns the request and its ledger write."""

    customer_id: int
    group_ref: str
    session_id: int
    phase: Literal["queued", "intent", "request", "recording"] = "queued"
    aborted: bool = False
    task: asyncio.Task[Any] | None = None

    def abort(self) -> None:
        """Give up waiting for the answer (shutdown took too long); the send is recorded 'in_doubt'."""
        if self.phase == "request" and self.task is not None and not self.task.done():
            self.aborted = True
            self.task.cancel()

    def take_back_abort(self) -> bool:
        """Inside the job's task, on CancelledError: True when it is ``abort()``'s, now taken back so
        the send can still be recorded as in doubt; False for any other cancellation (re-raise it)."""
        if not self.aborted:
            return False
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        return True


@dataclass
class Runtime:
    """What cycles share: the engine's state, passed in so this module does not know the engine."""

    db: Database
    ledger: Ledger
    accounts: Accounts
    clock: Clock
    config: EngineSettings
    supply: SessionSupply
    semaphore: Gate  # bounds sends in flight across every campaign
    notify: Callable[[], None]
    next_due: Callable[[int, float, int], float]  # (customer, cycle started at, interval) -> next cycle
    rng: random.Random = field(default_factory=random.Random)
    in_flight: set[SendJob] = field(default_factory=set)
    stopping: bool = False
    aborts: dict[int, str] = field(default_factory=dict)  # customer -> why its running cycle must stop
    owned: dict[int, set[int]] = field(default_factory=dict)  # customer -> sessions its last cycle used
    plans: dict[int, tuple[tuple[int, ...], tuple[str, ...], dict[int, list[str]]]] = field(default_factory=dict)
    preparing: Gate = field(default_factory=lambda: Gate(PREPARE_CONCURRENCY))  # cycles being set up at once
    requests: int = 0


def _score(session_id: int, ref: str) -> int:
    digest = hashlib.blake2b(f"{session_id}\x00{ref}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assign_groups(groups: list[Group], session_ids: list[int]) -> dict[int, list[Group]]:
    """Rendezvous hashing with bounded loads: each group goes to the session with the highest score for
    it that still has room (at most ceil(groups / sessions) each), so the load is even (a cycle lasts as
    long as its busiest session) and adding or removing a session moves few groups. Groups keep their
    list order."""
    plan: dict[int, list[Group]] = {sid: [] for sid in session_ids}
    if not session_ids:
        return plan
    room = -(-len(groups) // len(session_ids))
    for group in groups:
        ranked = sorted(session_ids, key=lambda sid: _score(sid, group.ref), reverse=True)
        best = next(sid for sid in ranked if len(plan[sid]) < room)
        plan[best].append(group)
    return plan


def _plan(rt: Runtime, customer_id: int, todo: list[Group], session_ids: list[int]) -> dict[int, list[Group]]:
    """``assign_groups``, remembered per campaign while its sessions and groups stay the same."""
    key = (tuple(session_ids), tuple(g.ref for g in todo))
    cached = rt.plans.get(customer_id)
    if cached is not None and cached[0] == key[0] and cached[1] == key[1]:
        by_ref = {g.ref: g for g in todo}
        return {sid: [by_ref[r] for r in refs] for sid, refs in cached[2].items()}
    plan = assign_groups(todo, session_ids)
    rt.plans[customer_id] = (key[0], key[1], {sid: [g.ref for g in gs] for sid, gs in plan.items()})
    return plan


def split_ref(ref: str) -> tuple[str, int | None]:
    """'@name#5' -> ('@name', 5). Refs are stored normalised by ``core.links``."""
    peer, sep, topic = ref.partition("#")
    return peer, int(topic) if sep else None


def _log(customer_id: int, level: int, msg: str, *args: object) -> None:
    logger.log(level, msg, *args, extra={"customer_id": customer_id})


# --- the cycle --------------------------------------------------------------------------------------


class Cycle:
    """The state of one running cycle."""

    def __init__(self, rt: Runtime, customer: Customer, cycle_no: int, started_at: float, report: CycleReport):
        self.rt = rt
        self.customer = customer
        self.cid = customer.user_id
        self.cycle_no = cycle_no
        self.started_at = started_at
        self.due = rt.next_due(customer.user_id, started_at, customer.interval_s)
        self.report = report
        self.post_peer = customer.post_peer if customer.post_kind == "link" else None  # the forward's source
        self._random_ids: dict[str, int] = {}

    @property
    def aborted(self) -> str | None:
        if self.rt.stopping:
            return "shutdown"
        return self.rt.aborts.get(self.cid)

    def random_id(self, ref: str) -> int:
        value = self._random_ids.get(ref)
        if value is None:
            value = self._random_ids[ref] = random_id_for(self.cid, self.cycle_no, ref)
        return value

    def result(
        self,
        group: Group,
        session_id: int | None,
        outcome: SendOutcome,
        *,
        error: str | None = None,
        message_id: int | None = None,
        attempts: int = 0,
        flood_waits: int = 0,
    ) -> ledger_rows.Result:
        return ledger_rows.Result(
            customer_id=self.cid,
            cycle_no=self.cycle_no,
            group_ref=group.ref,
            session_id=session_id,
            outcome=outcome,
            random_id=self.random_id(group.ref),
            finished_at=self.rt.clock.now(),
            error=error,
            message_id=message_id,
            attempts=attempts,
            flood_waits=flood_waits,
        )

    async def leave(self, rest: list[Group], session_id: int | None, outcome: SendOutcome,
                    error: str) -> None:
        """Record groups that this cycle will not send to."""
        if not rest:
            return
        await self.rt.ledger.results([self.result(g, session_id, outcome, error=error) for g in rest])
        for _ in rest:
            self.report.count(outcome)

    async def stop_campaign(self, reason: str, kind: EventKind, **payload: Any) -> None:
        """Stop the campaign from inside the cycle, with an event for the customer (once per cycle: several
        sessions may find the same problem at the same time)."""
        if self.cid in self.rt.aborts:
            return
        self.rt.aborts[self.cid] = reason
        now = self.rt.clock.now()

        async def op(conn: aiosqlite.Connection) -> None:
            await customers.set_status(conn, self.cid, "stopped", now, reason=reason)
            await events.add(conn, self.cid, kind, now, reason=reason, **payload)

        await self.rt.ledger.run(op)
        self.report.reason = reason
        self.rt.notify()
        _log(self.cid, logging.WARNING, "campaign stopped: %s", reason)


class SessionWorker:
    """Sends one session's share of the cycle, in order."""

    def __init__(self, cycle: Cycle, session: SessionRow, groups: list[Group]) -> None:
        self.cycle = cycle
        self.rt = cycle.rt
        self.session = session
        self.sid = session.id
        self.queue: deque[Group] = deque(groups)
        self.wait_until = session.cooldown_until or 0.0
        self.cooling = session.state == "cooling"
        self.account: Account | None = None
        self.sent_once = False  # a request went out for the last group: space the next one
        self.next_send_at = 0.0
        self.request_at: float | None = None  # when the last post request left (set by the send task)

    async def run(self) -> None:
        cycle, rt, cid = self.cycle, self.rt, self.cycle.cid
        while self.queue:
            if cycle.aborted:
                return  # groups without a row are sent when the cycle is resumed
            now = rt.clock.now()
            if self.wait_until > now:
                if self.wait_until >= cycle.due:
                    _log(cid, logging.INFO, "session %d rests until after this cycle: %d group(s) wait",
                         self.sid, len(self.queue))
                    await cycle.leave(list(self.queue), self.sid, "waiting", "flood_wait")
                    return
                await rt.clock.sleep(self.wait_until - now)
                continue
            if self.cooling:
                async with rt.db.tx() as conn:
                    await session_rows.clear_cooldown(conn, self.sid, now)
                self.cooling = False
            group = self.queue[0]
            if group.slowmode_until is not None and group.slowmode_until > now:
                self.queue.popleft()
                await cycle.leave([group], self.sid, "skipped", "slow_mode")
                continue
            if self.next_send_at > now:
                await rt.clock.sleep(self.next_send_at - now)
                continue  # re-check abort, waits and slow mode after the pause
            self.request_at = None
            if not await self.step(group):
                return
            if self.sent_once:
                # Spacing runs from the start of one request to the start of the next, so latency
                # does not add to it; from when the request really left, not from when this worker
                # decided to send, which can be earlier by the wait for a slot and the intent's commit.
                jitter = 1 + rt.rng.uniform(-1, 1) * rt.config.spacing_jitter
                start = self.request_at if self.request_at is not None else now
                self.next_send_at = start + rt.config.send_spacing * jitter
                self.sent_once = False

    # --- one group ------------------------------------------------------------------------------------

    async def step(self, group: Group) -> bool:
        """Send to the group at the head of the queue; False when this session is done for the cycle."""
        account = await self._account()
        if isinstance(account, bool):
            return account
        peer, topic_id = split_ref(group.ref)
        # Peers this account resolved before come from its cache without a coroutine: the steady state.
        post_peer = self.cycle.post_peer
        source = account.peers.get(post_peer) if post_peer is not None else None
        if source is None and post_peer is not None:
            try:
                source = await self._retrying(lambda: self._source(account))
            except Exception as exc:
                return await self._session_failure(classify(exc, source_failed=True), group, resolving=True)
        dest = account.peers.get(peer)
        if dest is None:
            try:
                dest = await self._retrying(lambda: self.rt.accounts.peer(account, peer))
            except Exception as exc:
                failure = classify(exc)
                if failure.kind in (OutcomeKind.GROUP_FAILED, OutcomeKind.UNKNOWN, OutcomeKind.POST_INVALID):
                    self.queue.popleft()
                    await self._group_failed(group, failure, attempts=0)
                    self.sent_once = True
                    return True
                return await self._session_failure(failure, group, resolving=True)
        status, outcome = await run_send(self, group, account, source, dest, topic_id)
        if status == "not_started":
            return False
        if outcome is None or outcome.kind is OutcomeKind.SENT or status in ("in_doubt", "refused"):
            self.queue.popleft()
            self.sent_once = True
            return True
        kind = outcome.kind
        if kind is OutcomeKind.FLOOD_WAIT:
            self.wait_until = max(self.wait_until, self.rt.clock.now() + (outcome.seconds or 0))
            return True  # the group stays at the head: sent after the wait or left 'waiting'
        if kind in (OutcomeKind.ACCOUNT_DEAD, OutcomeKind.ACCOUNT_LIMITED):
            self.queue.popleft()
            await self._retire(outcome)
            return False
        if kind is OutcomeKind.POST_INVALID:
            self.queue.popleft()
            return False
        self.queue.popleft()
        self.sent_once = True
        return True

    async def _retrying(self, make: Callable[[], Awaitable[T]]) -> T:
        """``make()`` with bounded retries (and backoff) of transient failures; the last one is raised."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return await make()
            except Exception as exc:
                if attempts > self.rt.config.transient_retries or classify(exc).kind is not OutcomeKind.TRANSIENT:
                    raise
            await self.rt.clock.sleep(self.rt.config.transient_backoff * 2 ** (attempts - 1))

    async def _account(self) -> Account | bool:
        """The connected account, or whether the worker should go on (True: wait out a flood wait)."""
        if self.account is not None:
            return self.account
        try:
            self.account = await self._retrying(lambda: self.rt.accounts.get(self.sid))
            return self.account
        except (NotFound, PoolError) as exc:
            _log(self.cycle.cid, logging.WARNING, "session %d cannot be opened: %s", self.sid, exc.user_message)
            await self.cycle.leave(list(self.queue), self.sid, "skipped", "session_unavailable")
            self.queue.clear()
            return False
        except Exception as exc:
            return await self._session_failure(classify(exc), None, resolving=False)

    async def _source(self, account: Account) -> Peer | None:
        customer = self.cycle.customer
        if customer.post_kind != "link" or customer.post_peer is None:
            return None
        return await self.rt.accounts.peer(account, customer.post_peer)

    async def _session_failure(self, outcome: Outcome, group: Group | None, *, resolving: bool) -> bool:
        """A failure before any send (connect, resolve): what it means for the session and the cycle."""
        cycle, kind = self.cycle, outcome.kind
        if kind is OutcomeKind.FLOOD_WAIT:
            now = self.rt.clock.now()
            until = now + (outcome.seconds or 0)
            await self.rt.ledger.run(_flood_wait(cycle.cid, self.sid, until, now))
            self.wait_until = max(self.wait_until, until)
            self.cooling = True
            _log(cycle.cid, logging.WARNING, "session %d must wait %s s (%s)", self.sid, outcome.seconds,
                 outcome.error)
            return True
        if kind in (OutcomeKind.ACCOUNT_DEAD, OutcomeKind.ACCOUNT_LIMITED):
            await self._retire(outcome)
            return False
        if kind is OutcomeKind.POST_INVALID and resolving and group is not None:
            self.queue.popleft()
            await self.rt.ledger.result(cycle.result(group, self.sid, "failed", error=outcome.error))
            cycle.report.count("failed")
            await cycle.stop_campaign("post_invalid", EventKind.POST_INVALID, error=outcome.error,
                                      link=cycle.customer.post_link)
            return False
        # Connection trouble that retries did not fix, or something unknown: nothing is sent from this
        # session in this cycle.
        _log(cycle.cid, logging.WARNING, "session %d unusable this cycle: %s", self.sid, outcome.error)
        await cycle.leave(list(self.queue), self.sid, "skipped", outcome.error)
        self.queue.clear()
        return False

    async def _retire(self, outcome: Outcome) -> None:
        """Dead or limited: the pool retires the session (and finds a replacement for the next cycle);
        this session's remaining groups are skipped for this cycle, never handed to another session."""
        cycle, rt = self.cycle, self.rt
        rest = list(self.queue)
        self.queue.clear()
        await cycle.leave(rest, self.sid, "skipped", outcome.error)
        # Closed before the pool moves its file to banned/ or limited/.
        await rt.accounts.close(self.sid)
        self.account = None
        now = rt.clock.now()
        state: Retirement = "dead" if outcome.kind is OutcomeKind.ACCOUNT_DEAD else "limited"
        try:
            replacement = await rt.supply.retire(self.sid, state, outcome.error, now)
        except AdbotError as exc:
            replacement = None
            logger.warning("retiring session %d failed: %s", self.sid, exc.user_message)
        rt.notify()
        _log(cycle.cid, logging.WARNING, "session %d is %s (%s); replacement: %s", self.sid,
             "dead" if outcome.kind is OutcomeKind.ACCOUNT_DEAD else "limited", outcome.error,
             replacement if replacement is not None else "none")

    async def _group_failed(self, group: Group, outcome: Outcome, *, attempts: int) -> None:
        cycle = self.cycle
        now = self.rt.clock.now()
        paused = await self.rt.ledger.result(
            cycle.result(group, self.sid, "failed", error=outcome.error, attempts=attempts),
            then=_record_group_failure(cycle.cid, group, outcome.error, self.rt.config.group_failure_limit, now),
        )
        cycle.report.count("failed")
        _log(cycle.cid, logging.WARNING, "post to %s failed: %s", group.ref, outcome.error)
        if outcome.error in _STALE_PEER_ERRORS and self.account is not None:
            # The cached id/access hash may be outdated: resolve the group afresh next time.
            await self.rt.accounts.forget_peer(self.account, split_ref(group.ref)[0])
        if paused:
            self.rt.notify()
            _log(cycle.cid, logging.WARNING, "group %s paused after %d failures in a row (%s)", group.ref,
                 self.rt.config.group_failure_limit, outcome.error)


# Refusals that can mean our cached (id, access hash) went stale rather than that the group refuses us.
_STALE_PEER_ERRORS = frozenset({"ChannelInvalidError", "PeerIdInvalidError", "ChatIdInvalidError"})


def _flood_wait(customer_id: int, session_id: int, until: float, now: float) -> Callable[[aiosqlite.Connection], Any]:
    """A flood wait before any send (connect, resolve): the session's wait and the customer's count of
    flood waits, in one transaction."""

    async def op(conn: aiosqlite.Connection) -> None:
        await session_rows.record_cooldown(conn, session_id, until, now)
        await conn.execute(
            "INSERT INTO stats (customer_id, total_flood_waits) VALUES (?, 1) ON CONFLICT (customer_id)"
            " DO UPDATE SET total_flood_waits = total_flood_waits + 1",
            (customer_id,),
        )

    return op


def _record_group_failure(
    customer_id: int, group: Group, error: str, limit: int, now: float
) -> Callable[[aiosqlite.Connection], Any]:
    async def op(conn: aiosqlite.Connection) -> bool:
        reason = f"{limit} failures in a row, last: {error}"
        paused = await groups.record_failure(conn, group.id, error, limit, reason, now)
        if paused:
            await events.add(conn, customer_id, EventKind.GROUP_PAUSED, now, group=group.ref, reason=reason,
                             error=error)
        return paused

    return op


# The slow-mode windows Telegram offers; a measured window is rounded up to one of them.
SLOW_MODE_WINDOWS = (10, 30, 60, 300, 900, 3600)
SLOW_MODE_SLACK = 2.0


def slow_mode_window(remaining: int, since_last_post: float | None) -> int:
    """The group's window, from SLOWMODE_WAIT (time *left*) and how long ago we last posted there."""
    seen = remaining + max(0.0, since_last_post or 0.0)
    for window in SLOW_MODE_WINDOWS:
        if window + SLOW_MODE_SLACK >= seen:  # the wait is rounded up to whole seconds
            return window
    return int(seen + 0.999)


def _set_slowmode(customer_id: int, group: Group, remaining: int, now: float) -> Callable[[aiosqlite.Connection], Any]:
    async def op(conn: aiosqlite.Connection) -> int:
        row = await fetchone(
            conn,
            "SELECT MAX(finished_at) FROM sends WHERE customer_id = ? AND group_ref = ? AND outcome = 'sent'",
            (customer_id, group.ref),
        )
        last = row[0] if row is not None and row[0] is not None else None
        window = slow_mode_window(remaining, now - last if last is not None else None)
        await groups.set_slowmode(conn, group.id, window, now + remaining)
        return window

    return op


# --- one send ---------------------------------------------------------------------------------------


async def run_send(
    worker: SessionWorker, group: Group, account: Account, source: Peer | None, dest: Peer, topic_id: int | None
) -> tuple[SendStatus, Outcome | None]:
    """Run one send in a task that cancellation does not reach; wait for it even when cancelled."""
    rt = worker.rt
    loop = asyncio.get_running_loop()
    job = SendJob(worker.cycle.cid, group.ref, worker.sid)
    task = loop.create_task(_send(worker, job, group, account, source, dest, topic_id))
    job.task = task
    rt.in_flight.add(job)
    # The worker waits on a future of its own that the task's end resolves: cancelling the worker
    # cancels that future, never the task (asyncio.shield's effect, with one callback instead of three).
    finished: asyncio.Future[None] = loop.create_future()

    def done(_task: asyncio.Task[tuple[SendStatus, Outcome | None]]) -> None:
        rt.in_flight.discard(job)
        if not finished.done():
            finished.set_result(None)

    task.add_done_callback(done)
    try:
        await finished
    except asyncio.CancelledError:
        if task.done() and task.cancelled():
            raise
        while not task.done():  # keep waiting: the answer must reach the ledger
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.done() and task.cancelled():
                    raise
        task.result()  # what the send raised goes first
        raise
    return task.result()


async def _send(
    worker: SessionWorker,
    job: SendJob,
    group: Group,
    account: Account,
    source: Peer | None,
    dest: Peer,
    topic_id: int | None,
) -> tuple[SendStatus, Outcome | None]:
    cycle, rt = worker.cycle, worker.rt
    cid, sid = cycle.cid, worker.sid
    customer = cycle.customer
    # The slot bounds requests in flight: held from the intent to the answer, and given back before
    # the outcome is written so that the next send does not wait for this one's commit.
    gate = rt.semaphore
    await gate.acquire()
    held = True

    def recording() -> None:
        nonlocal held
        job.phase = "recording"
        if held:
            held = False
            gate.release()

    try:
        if cycle.aborted:
            return "not_started", None
        job.phase = "intent"
        random_id = cycle.random_id(group.ref)
        intent = ledger_rows.Intent(cid, cycle.cycle_no, group.ref, sid, random_id, rt.clock.now())
        if not await rt.ledger.intent(intent):
            _log(cid, logging.WARNING, "%s already has an outcome in cycle %d: not sent again", group.ref,
                 cycle.cycle_no)
            return "refused", None
        job.phase = "request"
        attempts = 0
        outcome: Outcome
        message_id: int | None = None
        while True:
            attempts += 1
            rt.requests += 1
            cycle.report.requests += 1
            worker.request_at = rt.clock.now()
            try:
                if source is not None:
                    assert customer.post_msg_id is not None
                    request = account.port.forward(
                        source=source, msg_id=customer.post_msg_id, dest=dest, topic_id=topic_id,
                        random_id=random_id, drop_author=customer.drop_author,
                    )
                else:
                    request = account.port.send_text(
                        dest=dest, topic_id=topic_id, text=customer.post_text or "",
                        entities=customer.post_entities, random_id=random_id,
                    )
                message_id = await wait_with_timeout(rt.clock, request, rt.config.send_timeout)
                outcome = Outcome(OutcomeKind.SENT, "")
            except DeadlineExceeded:
                recording()
                return await _record_in_doubt(worker, group, attempts, "timeout")
            except asyncio.CancelledError:
                if not job.take_back_abort():
                    raise
                recording()
                return await _record_in_doubt(worker, group, attempts, "shutdown")
            except Exception as exc:
                outcome = classify(exc)
                if outcome.kind is OutcomeKind.TRANSIENT and attempts <= rt.config.transient_retries:
                    try:
                        await rt.clock.sleep(rt.config.transient_backoff * 2 ** (attempts - 1))
                    except asyncio.CancelledError:
                        if not job.take_back_abort():
                            raise
                        recording()
                        return await _record_in_doubt(worker, group, attempts, "shutdown")
                    continue
            break
        recording()
        return await _record(worker, group, outcome, message_id, attempts), outcome
    finally:
        if held:
            held = False
            gate.release()


async def _record_in_doubt(
    worker: SessionWorker, group: Group, attempts: int, why: str
) -> tuple[SendStatus, Outcome | None]:
    cycle = worker.cycle
    await worker.rt.ledger.result(cycle.result(group, worker.sid, "in_doubt", error=why, attempts=attempts))
    cycle.report.count("in_doubt")
    _log(cycle.cid, logging.WARNING, "no answer for the post to %s (%s): not retried this cycle", group.ref, why)
    return "in_doubt", None


async def _record(
    worker: SessionWorker, group: Group, outcome: Outcome, message_id: int | None, attempts: int
) -> SendStatus:
    cycle, rt = worker.cycle, worker.rt
    cid, sid = cycle.cid, worker.sid
    kind = outcome.kind
    if kind is OutcomeKind.SENT:
        await rt.ledger.result(cycle.result(group, sid, "sent", message_id=message_id, attempts=attempts))
        cycle.report.count("sent")
        _log(cid, logging.INFO, "posted to %s (message %s) via session %d", group.ref, message_id, sid)
        return "sent"
    if kind is OutcomeKind.FLOOD_WAIT:
        now = rt.clock.now()
        until = now + (outcome.seconds or 0)
        worker.cooling = True
        # The wait and the row in one transaction: a crash keeps both or neither (never a 'pending' row,
        # later 'in_doubt', for a send that was refused, nor a wait missing from the statistics).
        await rt.ledger.result(
            cycle.result(group, sid, "waiting", error=outcome.error, attempts=attempts, flood_waits=1),
            then=lambda conn: session_rows.record_cooldown(conn, sid, until, now),
        )
        _log(cid, logging.WARNING, "session %d must wait %s s before posting again (%s)", sid, outcome.seconds,
             outcome.error)
        return "waiting"
    if kind is OutcomeKind.SLOW_MODE:
        seconds = outcome.seconds or 0
        window = await rt.ledger.result(
            cycle.result(group, sid, "skipped", error=outcome.error, attempts=attempts),
            then=_set_slowmode(cid, group, seconds, rt.clock.now()),
        )
        cycle.report.count("skipped")
        _log(cid, logging.INFO, "%s has slow mode (%d s window, %d s left): skipped this cycle", group.ref, window,
             seconds)
        return "skipped"
    if kind in (OutcomeKind.ACCOUNT_DEAD, OutcomeKind.ACCOUNT_LIMITED):
        # The request was refused, so nothing arrived: skipped, not failed; never retried by another session.
        await rt.ledger.result(cycle.result(group, sid, "skipped", error=outcome.error, attempts=attempts))
        cycle.report.count("skipped")
        return "skipped"
    if kind is OutcomeKind.POST_INVALID:
        await rt.ledger.result(cycle.result(group, sid, "failed", error=outcome.error, attempts=attempts))
        cycle.report.count("failed")
        await cycle.stop_campaign("post_invalid", EventKind.POST_INVALID, error=outcome.error,
                                  link=cycle.customer.post_link)
        return "failed"
    if kind is OutcomeKind.TRANSIENT:
        await rt.ledger.result(cycle.result(group, sid, "failed", error=outcome.error, attempts=attempts))
        cycle.report.count("failed")
        _log(cid, logging.WARNING, "post to %s failed after %d attempts: %s", group.ref, attempts, outcome.error)
        return "failed"
    # GROUP_FAILED and UNKNOWN count toward pausing the group.
    await worker._group_failed(group, outcome, attempts=attempts)
    return "failed"


# --- entry point ------------------------------------------------------------------------------------


async def run_cycle(rt: Runtime, customer_id: int) -> CycleReport:
    """Run (or resume) the campaign's current cycle. The caller makes sure only one runs per campaign."""
    clock = rt.clock
    report = CycleReport(customer_id, started_at=clock.now())
    # Cycles due together (a thousand at start-up) are prepared a few at a time: the event loop then
    # has a bounded amount of work per turn instead of every campaign's reads and rows at once.
    async with rt.preparing:
        prepared = await _prepare(rt, customer_id, report)
    if prepared is None:
        return report
    customer, cycle_no, started_at, workers = prepared
    tasks = [asyncio.get_running_loop().create_task(w.run()) for w in workers]
    try:
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        report.interrupted = True
        raise
    crash: BaseException | None = None
    for worker_result in outcomes:
        if isinstance(worker_result, asyncio.CancelledError):
            report.interrupted = True
        elif isinstance(worker_result, Exception):
            logger.error("a session worker of customer %d failed", customer_id, exc_info=worker_result)
        elif isinstance(worker_result, BaseException):
            crash = worker_result
    if crash is not None:
        raise crash
    if rt.stopping or report.interrupted:
        report.interrupted = True
        _log(customer_id, logging.INFO, "cycle %d interrupted by shutdown: it continues after restart", cycle_no)
        return report
    end = clock.now()
    next_at = rt.next_due(customer_id, started_at, customer.interval_s)
    still_running = customer_id not in rt.aborts

    await rt.ledger.run_sync(
        lambda conn: customers.finish_cycle_sync(conn, customer_id, cycle_no, end, next_at if still_running else None)
    )
    report.finished_at = end
    report.next_cycle_at = next_at if still_running else None
    _log(customer_id, logging.INFO, "cycle %d done: %d sent, %d failed, %d waiting, %d skipped, %d in doubt",
         cycle_no, report.sent, report.failed, report.waiting, report.skipped, report.in_doubt)
    if not still_running:
        report.reason = report.reason or rt.aborts.get(customer_id)
    return report


async def _prepare(
    rt: Runtime, customer_id: int, report: CycleReport
) -> tuple[Customer, int, float, list[SessionWorker]] | None:
    """Read the campaign, open (or resume) its cycle and make its session workers; None when the cycle
    does not run (``report`` says why)."""
    now = rt.clock.now()
    async with rt.db.read() as conn:
        customer = await customers.get(conn, customer_id)
    if customer is None or customer.status != "running":
        report.reason = "not_running"
        return None
    if rt.stopping:
        report.reason = "shutdown"
        return None
    rt.aborts.pop(customer_id, None)
    if not customer.plan_active(now):
        await _stop(rt, customer_id, "plan_expired", EventKind.PLAN_EXPIRED, now)
        report.reason = "plan_expired"
        return None
    if not customer.has_post:
        await _stop(rt, customer_id, "no_post", EventKind.CAMPAIGN_STOPPED, now)
        report.reason = "no_post"
        return None

    async with rt.db.read() as conn:
        sessions = await session_rows.list_for_owner(conn, customer_id)
    if len(sessions) < customer.plan_sessions:
        # Sessions died or were limited since the last cycle and no replacement was free then.
        try:
            await rt.supply.ensure_plan(customer_id, now)
        except PoolError as exc:
            _log(customer_id, logging.WARNING, "not enough sessions for the plan: %s", exc.user_message)
        async with rt.db.read() as conn:
            sessions = await session_rows.list_for_owner(conn, customer_id)
    async with rt.db.read() as conn:
        all_groups = await groups.list_for(conn, customer_id)
    active = [g for g in all_groups if g.active]

    if customer.cycle_in_progress:
        cycle_no = customer.cycle_no
        started_at = customer.cycle_started_at or now
        report.resumed = True

        async def settle(conn: aiosqlite.Connection) -> dict[str, ledger_rows.SendRow]:
            doubtful = await ledger_rows.pending_to_in_doubt(conn, customer_id, cycle_no, now)
            if doubtful:
                _log(customer_id, logging.WARNING, "cycle %d resumed: %d post(s) of unknown outcome not repeated"
                     " (%s)", cycle_no, len(doubtful), ", ".join(doubtful))
            return await ledger_rows.cycle_rows(conn, customer_id, cycle_no)

        existing = await rt.ledger.run(settle)
    else:
        started_at = now
        cycle_no = await rt.ledger.run_sync(lambda conn: customers.begin_cycle_sync(conn, customer_id, now))
        existing = {}
    report.cycle_no = cycle_no
    report.started_at = started_at
    cycle = Cycle(rt, customer, cycle_no, started_at, report)

    todo = [g for g in active if g.ref not in existing or existing[g.ref].outcome == "waiting"]
    report.already_done = len(active) - len(todo)
    report.ran = True
    session_ids = [s.id for s in sessions]
    # Ports of sessions that left the customer since its last cycle (revoked, retired) are closed.
    await rt.accounts.retain(set(session_ids), rt.owned.get(customer_id, set()))
    rt.owned[customer_id] = set(session_ids)
    if todo and not sessions:
        _log(customer_id, logging.WARNING, "no session to post with: %d group(s) skipped", len(todo))
        await cycle.leave(todo, None, "skipped", "no_session")
        todo = []
    plan = _plan(rt, customer_id, todo, session_ids)
    workers = [SessionWorker(cycle, s, plan[s.id]) for s in sessions if plan[s.id]]
    _log(customer_id, logging.INFO, "cycle %d %s: %d group(s) over %d session(s)", cycle_no,
         "resumed" if report.resumed else "started", len(todo), len(workers))
    return customer, cycle_no, started_at, workers


async def _stop(rt: Runtime, customer_id: int, reason: str, kind: EventKind, now: float) -> None:
    async def op(conn: aiosqlite.Connection) -> None:
        await customers.set_status(conn, customer_id, "stopped", now, reason=reason)
        await events.add(conn, customer_id, kind, now, reason=reason)

    await rt.ledger.run(op)
    rt.notify()
    _log(customer_id, logging.WARNING, "campaign stopped: %s", reason)

