"""One cycle of one campaign: the post goes once to every active group.

Before anything is placed, the sessions whose dialogs must be read are read (``engine.discovery``), and
each active group is checked against what they say (``engine.reach``): a group no session can reach is
left out of the cycle (no ledger row, no request) and its reason stored, the customer told once. The
other groups are spread over the sessions that can reach them (``engine.placement``); each session's
worker sends its groups one after another (``engine.worker``), each send with its outcome recorded
(``engine.send``); sessions and campaigns run concurrently under one global bound on sends in flight.

A cycle is opened in the customer's record (its number, when it started) before anything is sent and
closed with when the next one is due; one that the engine left open (shutdown, crash) is resumed with
the same number, its 'pending' sends becoming 'in_doubt': at most one post per (campaign, cycle, group).

A database that cannot be written (locked by another process past ``busy_timeout``, a full disk) is
nobody's failure: the ledger keeps the cycle's writes and retries them (``engine.ledger``), the cycle's
sends wait for their intents, and the cycle is closed only once every group has its final row. A storage
failure that still reaches the cycle (the ledger gave up at shutdown, a write outside the ledger) is never
turned into a group or session outcome: the cycle stays open, its groups without a row are sent when it
is resumed, with the same number.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.clock import Clock
from core.config import EngineSettings
from core.customer_log import LogKey
from core.errors import PoolError
from core.links import random_id_for
from core.ports import Peer, SessionSupply
from core.states import EventKind, SendOutcome
from engine import readiness, rotation
from engine.accounts import Accounts
from engine.customer_log import customer_log
from engine.daily_cap import room_left
from engine.discovery import Discovery
from engine.gate import Gate
from engine.ledger import Ledger
from engine.placement import Plans
from engine.reach import Assessment, Memberships, Reach, assess, needs_recording, record_reach
from engine.readiness import Missing
from engine.rotation import CyclePost, CyclePosts
from engine.send import SendJob
from engine.summary import close_cycle
from engine.worker import SessionWorker
from storage import customers, events, groups, posts
from storage import ledger as ledger_rows
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.customers import Customer
from storage.db import Connection, Database, unavailable, unavailable_reason
from storage.groups import Group
from storage.sessions import SessionRow

logger = logging.getLogger(__name__)

__all__ = ["Cycle", "CycleReport", "Runtime", "run_cycle", "stop"]

PREPARE_CONCURRENCY = 32  # cycles that read their campaign and open their ledger rows at the same time
STORAGE_UNAVAILABLE = "storage_unavailable"  # a report's reason: the database could not be written


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
    unreachable: int = 0  # groups no session of the customer can reach: left out of the cycle
    requests: int = 0

    def count(self, status: str) -> None:
        if status in ("sent", "failed", "waiting", "skipped", "in_doubt"):
            setattr(self, status, getattr(self, status) + 1)


@dataclass
class Runtime:
    """What cycles share: the engine's state, passed in so this module does not know the engine."""

    db: Database
    ledger: Ledger
    accounts: Accounts
    clock: Clock
    config: EngineSettings
    supply: SessionSupply
    discovery: Discovery
    semaphore: Gate  # bounds sends in flight across every campaign
    notify: Callable[[], None]
    next_due: Callable[[int, float, int], float]  # (customer, cycle started at, interval) -> next cycle
    rng: random.Random = field(default_factory=random.Random)
    in_flight: set[SendJob] = field(default_factory=set)
    stopping: bool = False
    aborts: dict[int, str] = field(default_factory=dict)  # customer -> why its running cycle must stop
    owned: dict[int, set[int]] = field(default_factory=dict)  # customer -> sessions its last cycle used
    plans: Plans = field(default_factory=Plans)
    preparing: Gate = field(default_factory=lambda: Gate(PREPARE_CONCURRENCY))  # cycles being set up at once
    premium: dict[int, bool] = field(default_factory=dict)  # session -> Premium as stored by this process


_log = customer_log(logger)


async def stop(
    rt: Runtime, customer_id: int, reason: str, now: float, *, tell: EventKind | None = None, patient: bool = True,
    **payload: Any,
) -> None:
    """The one way a campaign stops, whoever stops it (the customer, an admin, the engine itself):
    status 'stopped' with ``reason`` and, for a stop the customer did not ask for, the event ``tell``
    for them, in one transaction. A cycle of the campaign that is running is the caller's to end
    (``rt.aborts``): it finishes its sends in flight and closes itself; one the engine left open is
    closed by the next start. ``patient=False`` (a person asked): a busy database raises ``StorageBusy``
    at once, nothing changed."""

    async def op(conn: Connection) -> None:
        await customers.set_status(conn, customer_id, "stopped", now, reason=reason)
        if tell is not None:
            await events.add(conn, customer_id, tell, now, reason=reason, **payload)

    await rt.ledger.run(op, patient=patient)
    if tell is not None:
        rt.notify()
    _log(customer_id, logging.INFO if tell is None else logging.WARNING, LogKey.CAMPAIGN_STOPPED, reason=reason)


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
        # The post each group gets (``engine.rotation``): set by ``_prepare`` with the cycle's number.
        self.posts = CyclePosts(CyclePost(None, customer, None, None, ()), {})
        self.unusable: set[int] = set()  # posts found unusable during this cycle: their groups are skipped
        self._random_ids: dict[str, int] = {}

    def post_for(self, group: Group) -> CyclePost:
        """What this cycle carries to ``group``: its post with the forward's source or its own media."""
        return self.posts.of(group)

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

    async def post_invalid(self, group: Group, session_id: int, error: str, attempts: int = 1) -> None:
        """The post itself cannot be sent (deleted, its source unreachable): the group's row says so and the
        post is left out of the rotation (``_unusable``), the campaign stopped when it was the last one."""
        row = self.result(group, session_id, "failed", error=error, attempts=attempts)
        await self._unusable(group, row, "post_invalid", error)
        self.report.count("failed")

    async def source_failed(self, group: Group, session_id: int, error: str, attempts: int = 1) -> None:
        """The post's source failed (deleted, unreadable by the session, forwards restricted): as for
        ``post_invalid``, but the group's row is 'skipped' (``source_failed:<error>``), so no statistic
        counts it as the group's failure."""
        row = self.result(group, session_id, "skipped", error=f"source_failed:{error}", attempts=attempts)
        await self._unusable(group, row, "source_failed", error)
        self.report.count("skipped")

    def carries_unusable(self, group: Group) -> bool:
        """Whether the post this cycle carries to ``group`` was found unusable during the cycle."""
        return self.post_for(group).post_id in self.unusable

    async def _unusable(self, group: Group, row: ledger_rows.Result, reason: str, error: str) -> None:
        """The group's row and the post marked unusable in one transaction, the customer told once (an event
        in the cycle's summary) while other posts remain; with none left the campaign stops as it always
        did for its one post. The cycle's other groups carrying the post are skipped (``worker``)."""
        post = self.post_for(group)
        link = post.customer.post_link
        post_id = post.post_id
        if post_id is None:  # never: a cycle without a post is not placed
            await self.rt.ledger.result(row)
            await self.stop_campaign(reason, EventKind.POST_INVALID, error=error, link=link)
            return
        self.unusable.add(post_id)
        now = self.rt.clock.now()

        async def mark(conn: Connection) -> int | None:
            if not await posts.set_unusable(conn, self.cid, post_id, reason, error):
                return None  # marked already (another session met it first): told once
            left = await posts.usable_count(conn, self.cid)
            if left:
                found = await posts.get(conn, self.cid, post_id)
                await events.add(conn, self.cid, EventKind.POST_UNUSABLE, now, reason=reason, error=error, link=link,
                                 number=found.position + 1 if found is not None else None, left=left)
            return left

        left = await self.rt.ledger.result(row, then=mark)
        if left == 0:
            await self.stop_campaign(reason, EventKind.POST_INVALID, error=error, link=link)
        elif left is not None:
            self.rt.notify()
            logger.warning("customer %d: post %d left out (%s: %s), %d other(s) go on", self.cid, post_id, reason,
                           error, left)

    async def stop_campaign(self, reason: str, kind: EventKind, **payload: Any) -> None:
        """Stop the campaign from inside the cycle, with an event for the customer (once per cycle: several
        sessions may find the same problem at the same time)."""
        if self.cid in self.rt.aborts:
            return
        self.rt.aborts[self.cid] = reason
        await stop(self.rt, self.cid, reason, self.rt.clock.now(), tell=kind, **payload)
        self.report.reason = reason


# --- entry point ------------------------------------------------------------------------------------


async def run_cycle(rt: Runtime, customer_id: int) -> CycleReport:
    """Run (or resume) the campaign's current cycle. The caller makes sure only one runs per campaign."""
    report = CycleReport(customer_id, started_at=rt.clock.now())
    try:
        return await _run(rt, customer_id, report)
    except Exception as exc:
        if not unavailable(exc):
            raise
        # Nothing was blamed on the way (``engine.worker`` and ``engine.send`` let storage failures through):
        # whatever the cycle could not write is settled when it is resumed.
        _held_open(customer_id, report, exc)
        return report


def _held_open(customer_id: int, report: CycleReport, exc: BaseException) -> None:
    report.interrupted = report.cycle_no is not None
    report.reason = STORAGE_UNAVAILABLE
    logger.warning("customer %d: cycle %s stays open: the database cannot be written (%s); it is resumed with the"
                   " same number", customer_id, report.cycle_no if report.cycle_no is not None else "(not opened)",
                   unavailable_reason(exc))


async def _run(rt: Runtime, customer_id: int, report: CycleReport) -> CycleReport:
    clock = rt.clock
    # Cycles due together (a thousand at start-up) are prepared a few at a time: the event loop then
    # has a bounded amount of work per turn instead of every campaign's reads and rows at once.
    async with rt.preparing:
        prepared = await _prepare(rt, customer_id, report)
    if isinstance(prepared, _Unread):
        # Dialogs are read outside the preparation's bound: waiting for a read (paced across the engine)
        # must not hold up the campaigns that need none.
        await rt.discovery.scan_all(prepared.sessions)
        async with rt.preparing:
            prepared = await _prepare(rt, customer_id, report, scanned=True)
    if prepared is None or isinstance(prepared, _Unread):
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
    storage: Exception | None = None
    for worker_result in outcomes:
        if isinstance(worker_result, asyncio.CancelledError):
            report.interrupted = True
        elif isinstance(worker_result, Exception) and unavailable(worker_result):
            storage = worker_result  # not the worker's failure, nor its session's: the cycle stays open
        elif isinstance(worker_result, Exception):
            logger.error("a session worker of customer %d failed", customer_id, exc_info=worker_result)
        elif isinstance(worker_result, BaseException):
            crash = worker_result
    if crash is not None:
        raise crash
    if storage is not None:
        _held_open(customer_id, report, storage)
        return report
    if rt.stopping or report.interrupted:
        report.interrupted = True
        _log(customer_id, logging.INFO, LogKey.CYCLE_INTERRUPTED, cycle=cycle_no)
        return report
    end = clock.now()
    next_at = rt.next_due(customer_id, started_at, customer.interval_s)
    still_running = customer_id not in rt.aborts

    # The cycle closes with its summary (the customer's one notification for it) in one transaction.
    stopped = None if still_running else (report.reason or rt.aborts.get(customer_id))
    await rt.ledger.run_sync(close_cycle(customer_id, cycle_no, end, next_at if still_running else None,
                                         unreachable=report.unreachable, stopped=stopped))
    rt.notify()
    report.finished_at = end
    report.next_cycle_at = next_at if still_running else None
    _log(customer_id, logging.INFO, LogKey.CYCLE_DONE, cycle=cycle_no, sent=report.sent, failed=report.failed,
         waiting=report.waiting, skipped=report.skipped, in_doubt=report.in_doubt)
    if not still_running:
        report.reason = report.reason or rt.aborts.get(customer_id)
    return report


@dataclass(frozen=True)
class _Unread:
    """The preparation stopped before opening the cycle: these sessions' dialogs must be read first."""

    sessions: list[SessionRow]


async def _prepare(
    rt: Runtime, customer_id: int, report: CycleReport, *, scanned: bool = False
) -> tuple[Customer, int, float, list[SessionWorker]] | _Unread | None:
    """Read the campaign, open (or resume) its cycle and make its session workers; None when the cycle
    does not run (``report`` says why), ``_Unread`` when sessions' dialogs must be read first (not again
    once ``scanned``)."""
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
    blocker = readiness.cycle_blocker(customer, now)
    if blocker is not None:
        tell = EventKind.PLAN_EXPIRED if blocker is Missing.PLAN else EventKind.CAMPAIGN_STOPPED
        await stop(rt, customer_id, blocker.value, now, tell=tell)
        report.reason = blocker.value
        return None

    async with rt.db.read() as conn:
        sessions = await session_rows.list_for_owner(conn, customer_id)
    if len(sessions) < customer.plan_sessions:
        # Sessions died or were limited since the last cycle and no replacement was free then.
        try:
            await rt.supply.ensure_plan(customer_id, now)
        except PoolError as exc:
            logger.info("customer %d: plan not filled: %s", customer_id, exc)
            _log(customer_id, logging.WARNING, LogKey.SESSIONS_SHORT, have=len(sessions),
                 wanted=customer.plan_sessions)
        async with rt.db.read() as conn:
            sessions = await session_rows.list_for_owner(conn, customer_id)
    session_ids = [s.id for s in sessions]
    planned_no = customer.cycle_no if customer.cycle_in_progress else customer.cycle_no + 1
    async with rt.db.read() as conn:
        all_groups = await groups.list_for(conn, customer_id)
        active = [g for g in all_groups if g.active]
        carried = await rotation.load(conn, customer, planned_no, active)
        sources = {g.ref: carried.of(g).private_source for g in active}
        known = await assess(conn, session_ids, active, carried.default.private_source, per_group=sources,
                             any_of=carried.any_of(active))
        room = await room_left(conn, rt.config, sessions, now)  # the daily send cap's, per session
        # Waits the pool recorded (a health check, a scan, a join) before these sessions came here.
        rt.accounts.waits.merge(await wait_rows.for_sessions(conn, session_ids, now))
    if carried.default.post_id is None:
        # Every post was found unusable (Telegram refused each for good): nothing is left to carry.
        await stop(rt, customer_id, "post_invalid", now, tell=EventKind.POST_INVALID)
        report.reason = "post_invalid"
        return None
    if not scanned:
        unread = rt.discovery.due(sessions, known.times, now, unreached_since=known.unreached_since(active))
        if unread:
            return _Unread(unread)
    if sessions:
        await _record_reach(rt, customer_id, active, known, now)

    if customer.cycle_in_progress:
        cycle_no = customer.cycle_no
        started_at = customer.cycle_started_at or now
        report.resumed = True

        async def settle(conn: Connection) -> dict[str, ledger_rows.SendRow]:
            doubtful = await ledger_rows.pending_to_in_doubt(conn, customer_id, cycle_no, now)
            if doubtful:
                _log(customer_id, logging.WARNING, LogKey.IN_DOUBT_NOT_REPEATED, cycle=cycle_no, n=len(doubtful),
                     groups=list(doubtful))
            return await ledger_rows.cycle_rows(conn, customer_id, cycle_no)

        existing = await rt.ledger.run(settle)
    else:
        started_at = now
        post_id = carried.default.post_id  # recorded with the opening: a resumed cycle carries it again
        cycle_no = await rt.ledger.run_sync(
            lambda conn: customers.begin_cycle_sync(conn, customer_id, now, post_id))
        existing = {}
    report.cycle_no = cycle_no
    report.started_at = started_at
    if cycle_no != planned_no:  # never while one cycle runs per campaign; read again rather than guess
        async with rt.db.read() as conn:
            carried = await rotation.load(conn, customer, cycle_no, active)
    cycle = Cycle(rt, customer, cycle_no, started_at, report)
    cycle.posts = carried

    todo = [g for g in active if g.ref not in existing or existing[g.ref].outcome == "waiting"]
    report.already_done = len(active) - len(todo)
    report.ran = True
    # Ports of sessions that left the customer since its last cycle (revoked, retired) are closed.
    await rt.accounts.retain(set(session_ids), rt.owned.get(customer_id, set()))
    rt.owned[customer_id] = set(session_ids)
    if todo and not sessions:
        _log(customer_id, logging.WARNING, LogKey.NO_SESSION, n=len(todo))
        await cycle.leave(todo, None, "skipped", "no_session")
        todo = []
    # A group no session can reach gets no row and no request: it is the customer's to fix (told once).
    reachable = [g for g in todo if known.stored[g.ref].reach is None]
    report.unreachable = len(todo) - len(reachable)
    # One this cycle's post cannot go to (none of the group's writers is in its private source) but another
    # post can: 'skipped' for this cycle only, quietly (its stored reach stays, no event).
    other_post = [g for g in reachable if known.verdicts[g.ref].reach is not None]
    if other_post:
        await cycle.leave(other_post, None, "skipped", Reach.SOURCE_NOT_MEMBER.value)
        reachable = [g for g in reachable if known.verdicts[g.ref].reach is None]
    writers = {g.ref: known.verdicts[g.ref].writers for g in reachable}
    for ref, row in existing.items():
        # A resumed cycle's group that waits for its session's flood wait stays with that session (never
        # moved to another to dodge the wait) while the session is still the customer's and may write there.
        if row.outcome == "waiting" and row.session_id in writers.get(ref, ()):
            writers[ref] = (row.session_id,)
    plan = rt.plans.plan(customer_id, reachable, session_ids, writers, room)
    workers = [
        SessionWorker(cycle, s, plan[s.id], _addresses(known.memberships, s.id, plan[s.id], carried),
                      room.get(s.id) if room is not None else None)
        for s in sessions
        if plan[s.id]
    ]
    _log(customer_id, logging.INFO, LogKey.CYCLE_RESUMED if report.resumed else LogKey.CYCLE_STARTED,
         cycle=cycle_no, groups=len(reachable), sessions=len(workers), unreachable=report.unreachable)
    return customer, cycle_no, started_at, workers


def _addresses(known: Memberships, session_id: int, placed: list[Group], carried: CyclePosts) -> dict[str, Peer]:
    """The session's own peers (access hashes from its dialogs) of its groups' chats and of the private
    sources of the posts they carry: all a worker keeps of the rows, so a cycle holds one peer per group."""
    sources = {s for g in placed if (s := carried.of(g).private_source) is not None}
    chats = [g.ref.partition("#")[0] for g in placed] + sorted(sources)
    found = {}
    for chat in chats:
        row = known.row(session_id, chat)
        if row is not None:
            found[chat] = row.peer
    return found


async def _record_reach(rt: Runtime, customer_id: int, active: list[Group], known: Assessment, now: float) -> None:
    """Store the groups whose reach changed and tell the customer (nothing is written when none did)."""
    if not needs_recording(active, known.stored):
        return
    # What it tells the customer is held (the campaign runs) and goes out in the summary of the cycle that
    # starts now, though written before it opens (engine.summary).
    await rt.ledger.run(record_reach(customer_id, known.stored, now))
