"""The forwarding engine: campaigns, their cycles, the accounts they use, start-up and shutdown.

    engine = Engine(db, factory, supply, SystemClock(), settings.engine, notify=outbox_signal)
    await engine.start()            # inside the running loop (the bot's startup hook)
    await engine.start_campaign(uid)
    ...
    await engine.shutdown()         # before the loop stops: cycles first, then the scheduler

Start-up follows ``on_restart``: "stop" stops every campaign that was running (reason "restart",
CAMPAIGN_STOPPED for its customer); "resume" schedules them again, and a cycle the previous process
did not finish continues with the same cycle number (its 'pending' sends become 'in_doubt').

Shutdown is graceful: no new send starts, sends in flight get ``shutdown_timeout`` to finish (their
answers are recorded), then the requests still waiting are abandoned and recorded 'in_doubt'. A cycle
interrupted this way stays open and is resumed (or closed, with "stop") by the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from core.clock import Clock
from core.config import EngineSettings
from core.errors import CampaignNotReady, NotFound, PoolError
from core.ports import AccountFactory, SessionSupply
from core.states import EventKind
from engine import cycle as cycles
from engine.accounts import Accounts
from engine.cycle import CycleReport, Runtime
from engine.gate import Gate
from engine.gctune import tune_gc
from engine.ledger import Ledger
from engine.notifier import Notifier
from engine.scheduler import CampaignScheduler
from storage import customers, events, groups
from storage import ledger as ledger_rows
from storage import sessions as session_rows
from storage.db import Database

logger = logging.getLogger(__name__)

__all__ = ["Engine", "EngineHealth"]


@dataclass(frozen=True)
class EngineHealth:
    running: bool  # started and not shutting down
    scheduler_running: bool
    running_campaigns: int  # campaigns with status 'running' that have a job (or, unscheduled, any)
    cycles_in_progress: int
    last_cycle_started_at: float | None
    last_cycle_finished_at: float | None
    lag: float  # how late (seconds) the last cycle started after it was due
    sends_in_flight: int
    open_ports: int
    ledger_queue: int
    uptime: float


class Engine:
    """One engine per process. ``schedule=False`` leaves the timing to the caller (tests call
    ``run_cycle`` with a virtual clock; the scheduler always runs on real time)."""

    def __init__(
        self,
        db: Database,
        factory: AccountFactory,
        supply: SessionSupply,
        clock: Clock,
        config: EngineSettings,
        notify: Callable[[], None] | None = None,
        *,
        schedule: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.supply = supply
        self.notifier = Notifier(notify)
        self.ledger = Ledger(db)
        self.accounts = Accounts(
            db, factory, supply, self.ledger, clock,
            connect_timeout=config.connect_timeout, resolve_timeout=config.send_timeout,
        )
        self.scheduler: CampaignScheduler | None = CampaignScheduler(self.run_cycle) if schedule else None
        self._semaphore: Gate | None = None
        self._rt: Runtime | None = None
        self._rng = rng or random.Random()
        self._cycles: dict[int, asyncio.Task[CycleReport]] = {}
        self._expected: dict[int, float] = {}  # customer -> when its next cycle is due
        self._started_at: float | None = None
        self._stopped = False
        self._last_start: float | None = None
        self._last_end: float | None = None
        self._lag = 0.0

    # --- life cycle ---------------------------------------------------------------------------------

    @property
    def rt(self) -> Runtime:
        if self._rt is None:
            raise RuntimeError("the engine is not started")
        return self._rt

    async def start(self) -> None:
        """Rebuild from the database (``on_restart``) and start the scheduler. Inside the running loop."""
        if self._rt is not None:
            return
        tune_gc()
        self._semaphore = Gate(self.config.max_in_flight)
        self._rt = Runtime(
            db=self.db,
            ledger=self.ledger,
            accounts=self.accounts,
            clock=self.clock,
            config=self.config,
            supply=self.supply,
            semaphore=self._semaphore,
            notify=self.notifier,
            next_due=self._next_due,
            rng=self._rng,
        )
        now = self.clock.now()
        self._started_at = now
        if self.scheduler is not None:
            self.scheduler.start()
        async with self.db.read() as conn:
            running = await customers.list_running(conn)
        if not running:
            return
        # One transaction for every campaign (not one each): start-up time must not grow with a
        # round trip per customer.
        payload = json.dumps({"reason": "restart"})

        async def tell(conn: aiosqlite.Connection, kind: EventKind, uids: list[int]) -> None:
            await conn.executemany(
                "INSERT INTO events (customer_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                [(uid, str(kind), payload, now) for uid in uids],
            )

        if self.config.on_restart == "stop":

            async def stop_all(conn: aiosqlite.Connection) -> None:
                await tell(conn, EventKind.CAMPAIGN_STOPPED, await customers.stop_all_running(conn, now, "restart"))

            await self.ledger.run(stop_all)
            logger.info("start-up: %d campaign(s) that were running are stopped (on_restart = stop)", len(running))
        else:
            for customer in running:
                first = now if customer.cycle_in_progress else max(now, customer.next_cycle_at or now)
                self._expected[customer.user_id] = first
                if self.scheduler is not None:
                    self.scheduler.schedule(customer.user_id, customer.interval_s, first)

            async def resumed(conn: aiosqlite.Connection) -> None:
                await tell(conn, EventKind.CAMPAIGN_RESUMED, [c.user_id for c in running])

            await self.ledger.run(resumed)
            logger.info("start-up: %d campaign(s) resumed", len(running))
        self.notifier()

    async def shutdown(self) -> None:
        """Stop gracefully: no new sends, in-flight ones finish or are recorded 'in_doubt', ports closed."""
        if self._rt is None or self._stopped:
            return
        self._stopped = True
        rt = self._rt
        rt.stopping = True
        if self.scheduler is not None:
            self.scheduler.pause()
        tasks = [t for t in self._cycles.values() if not t.done()]
        for task in tasks:
            task.cancel()  # wakes workers that sleep; sends in flight are shielded and finish
        if tasks:
            done = await self._wait(tasks, self.config.shutdown_timeout)
            if not done:
                stuck = [job for job in rt.in_flight if job.phase == "request"]
                logger.warning("shutdown: abandoning %d request(s) without an answer (recorded in_doubt)",
                               len(stuck))
                for job in stuck:
                    job.abort()
                await asyncio.gather(*tasks, return_exceptions=True)
        # Every send task writes its outcome before the writer stops.
        await asyncio.gather(*(job.task for job in list(rt.in_flight) if job.task is not None),
                             return_exceptions=True)
        await self.ledger.close()
        await self.accounts.close_all()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        logger.info("engine stopped")

    async def _wait(self, tasks: list[asyncio.Task[CycleReport]], seconds: float) -> bool:
        """Wait for the tasks for ``seconds`` of the engine's clock (never cancelling them); True if all
        ended."""
        timer = asyncio.ensure_future(self.clock.sleep(seconds))
        pending: set[asyncio.Future[Any]] = set(tasks)
        try:
            while pending and not timer.done():
                _, pending = await asyncio.wait(pending | {timer}, return_when=asyncio.FIRST_COMPLETED)
                pending.discard(timer)
        finally:
            timer.cancel()
        return not pending

    # --- campaigns ------------------------------------------------------------------------------------

    async def start_campaign(self, customer_id: int) -> None:
        """Set the campaign running with its first cycle now. Raises CampaignNotReady (with the reason
        for the customer) when the plan, post, groups or sessions are missing."""
        rt = self.rt
        now = self.clock.now()
        async with self.db.read() as conn:
            customer = await customers.get(conn, customer_id)
            active = [g for g in await groups.list_for(conn, customer_id) if g.active] if customer else []
        if customer is None:
            raise NotFound(f"There is no customer with id {customer_id}.")
        if not customer.plan_active(now):
            raise CampaignNotReady("Your plan has expired: ask the admins to renew it.")
        if not customer.has_post:
            raise CampaignNotReady("Set the post to forward first.")
        if not active:
            raise CampaignNotReady("Add at least one group (or resume a paused one) first.")
        try:
            await self.supply.ensure_plan(customer_id, now)
        except PoolError as exc:
            logger.warning("customer %d: %s", customer_id, exc.user_message)
        async with self.db.read() as conn:
            sessions = await session_rows.list_for_owner(conn, customer_id)
        if not sessions:
            raise CampaignNotReady("No session is available for your plan right now; the admins have been told.")
        running_cycle = customer_id in self._cycles and not self._cycles[customer_id].done()

        async def op(conn: aiosqlite.Connection) -> None:
            current = await customers.get(conn, customer_id)
            if current is not None and current.cycle_in_progress and not running_cycle:
                # A cycle left open by a stop or a crash: close it; the campaign starts a fresh one.
                await ledger_rows.pending_to_in_doubt(conn, customer_id, current.cycle_no, now)
                await customers.finish_cycle(conn, customer_id, current.cycle_no, now, None)
            await customers.set_status(conn, customer_id, "running", now, next_cycle_at=now)

        await self.ledger.run(op)
        rt.aborts.pop(customer_id, None)
        self._expected[customer_id] = now
        if self.scheduler is not None:
            self.scheduler.schedule(customer_id, customer.interval_s, now)
        logger.info("campaign started", extra={"customer_id": customer_id})

    async def stop_campaign(self, customer_id: int, reason: str, *, event: bool = False, wait: bool = False) -> None:
        """Stop the campaign: no new cycle, the running one stops after its sends in flight.
        ``event`` records CAMPAIGN_STOPPED for the customer (for stops they did not ask for); ``wait``
        returns only once a running cycle has ended and the campaign's ports are closed (before its
        sessions may go back to the pool)."""
        rt = self.rt
        now = self.clock.now()
        await self.ledger.run(self._stop_op(customer_id, reason, now, event=event, close_cycle=False))
        if event:
            self.notifier()
        if self.scheduler is not None:
            self.scheduler.unschedule(customer_id)
        self._expected.pop(customer_id, None)
        task = self._cycles.get(customer_id)
        if task is not None and not task.done():
            rt.aborts[customer_id] = reason
            if wait:
                bound = self.config.shutdown_timeout + self.config.send_timeout
                await asyncio.wait({task}, timeout=bound)
                await self._release_sessions(customer_id)
        else:
            await self._release_sessions(customer_id)
        logger.info("campaign stopped: %s", reason, extra={"customer_id": customer_id})

    async def reschedule(self, customer_id: int) -> None:
        """The interval changed: the next cycle is due one new interval after the last one started."""
        async with self.db.read() as conn:
            customer = await customers.get(conn, customer_id)
        if customer is None or customer.status != "running":
            return
        now = self.clock.now()
        base = customer.cycle_started_at if customer.cycle_started_at is not None else now
        first = max(now, base + customer.interval_s)
        self._expected[customer_id] = first
        if self.scheduler is not None:
            self.scheduler.schedule(customer_id, customer.interval_s, first)

        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute("UPDATE customers SET next_cycle_at = ? WHERE user_id = ?", (first, customer_id))

        await self.ledger.run(op)

    def _stop_op(
        self, customer_id: int, reason: str, now: float, *, event: bool, close_cycle: bool = True
    ) -> Callable[[aiosqlite.Connection], Awaitable[None]]:
        async def op(conn: aiosqlite.Connection) -> None:
            customer = await customers.get(conn, customer_id)
            if customer is None:
                return
            if close_cycle and customer.cycle_in_progress:
                await ledger_rows.pending_to_in_doubt(conn, customer_id, customer.cycle_no, now)
                await customers.finish_cycle(conn, customer_id, customer.cycle_no, now, None)
            await customers.set_status(conn, customer_id, "stopped", now, reason=reason)
            if event:
                await events.add(conn, customer_id, EventKind.CAMPAIGN_STOPPED, now, reason=reason)

        return op

    # --- cycles -----------------------------------------------------------------------------------------

    async def run_cycle(self, customer_id: int) -> CycleReport:
        """Run the campaign's cycle now (what its job runs). Skipped when one is already running."""
        rt = self.rt
        now = self.clock.now()
        current = self._cycles.get(customer_id)
        if current is not None and not current.done():
            return CycleReport(customer_id, started_at=now, reason="already_running")
        if rt.stopping:
            return CycleReport(customer_id, started_at=now, reason="shutdown")
        expected = self._expected.get(customer_id)
        task = asyncio.get_running_loop().create_task(cycles.run_cycle(rt, customer_id), name=f"cycle-{customer_id}")
        self._cycles[customer_id] = task
        try:
            report = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done() and task.cancelled() and rt.stopping:
                return CycleReport(customer_id, started_at=now, reason="shutdown", interrupted=True)
            raise
        finally:
            if task.done() and self._cycles.get(customer_id) is task:
                del self._cycles[customer_id]
        if report.ran:
            self._last_start, self._last_end = now, self.clock.now()
            if expected is not None and not report.resumed:
                self._lag = max(0.0, now - expected)
        if report.next_cycle_at is not None:
            self._expected[customer_id] = report.next_cycle_at
        if report.reason in ("plan_expired", "no_post", "post_invalid") or (
            report.reason is not None and customer_id in rt.aborts
        ):
            if self.scheduler is not None:
                self.scheduler.unschedule(customer_id)
            self._expected.pop(customer_id, None)
            await self._release_sessions(customer_id)
        return report

    def _next_due(self, customer_id: int, started_at: float, interval_s: int) -> float:
        if self.scheduler is not None:
            at = self.scheduler.next_run_at(customer_id)
            if at is not None:
                return at
        return started_at + interval_s

    async def _release_sessions(self, customer_id: int) -> None:
        """Close the ports of a campaign that stopped (sessions stay with the customer)."""
        rt = self.rt
        for session_id in rt.owned.pop(customer_id, set()):
            await self.accounts.close(session_id)

    def next_run_at(self, customer_id: int) -> float | None:
        """When the campaign's next cycle is due (None when it is not scheduled)."""
        if self.scheduler is not None and self.scheduler.running:
            return self.scheduler.next_run_at(customer_id)
        return self._expected.get(customer_id)

    def health(self) -> EngineHealth:
        rt = self._rt
        now = self.clock.now()
        scheduled = len(self.scheduler.scheduled()) if self.scheduler is not None else len(self._expected)
        return EngineHealth(
            running=rt is not None and not rt.stopping,
            scheduler_running=self.scheduler is not None and self.scheduler.running,
            running_campaigns=scheduled,
            cycles_in_progress=sum(1 for t in self._cycles.values() if not t.done()),
            last_cycle_started_at=self._last_start,
            last_cycle_finished_at=self._last_end,
            lag=self._lag,
            sends_in_flight=len(rt.in_flight) if rt is not None else 0,
            open_ports=len(self.accounts.open_sessions),
            ledger_queue=self.ledger.queued,
            uptime=now - self._started_at if self._started_at is not None else 0.0,
        )
