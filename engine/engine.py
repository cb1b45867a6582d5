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
interrupted this way stays open and is resumed (or closed, with "stop") by the next start. Writes that a
locked database still refuses then are given up (``engine.ledger``): their rows are settled by that start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from core.clock import Clock
from core.config import EngineSettings
from core.connect_rate import ConnectRate
from core.customer_log import LogKey
from core.errors import NotFound, PoolError
from core.outcomes import RETIREMENTS
from core.ports import AccountFactory, AccountPort, SessionSupply
from core.states import EventKind
from core.texts import errors as error_texts
from engine import cycle as cycles
from engine import readiness, rotation
from engine.accounts import Accounts
from engine.customer_log import customer_log
from engine.cycle import CycleReport, Runtime
from engine.discovery import Discovery
from engine.gate import Gate
from engine.gctune import tune_gc
from engine.ledger import Ledger
from engine.notifier import Notifier
from engine.outcomes import classify
from engine.post_check import PostCheck, check_post
from engine.quiet import QuietHours
from engine.reach import assess, record_reach
from engine.readiness import CampaignStart, Missing
from engine.scheduler import CampaignScheduler
from engine.waits import WaitBook
from storage import customers, events, groups
from storage import ledger as ledger_rows
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Connection, Database

logger = logging.getLogger(__name__)
_log = customer_log(logger)

__all__ = ["Engine", "EngineHealth"]

T = TypeVar("T")


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
        status_check_interval: float = 86_400.0,
        connect_rate: ConnectRate | Literal["config"] | None = "config",
    ) -> None:
        # ``"config"``: new connections paced at ``config.connects_per_second`` (the product's way; the
        # process shares this rate with the pool's connects). ``None``: not paced (tests that ask for it).
        rate = ConnectRate(clock, config.connects_per_second) if isinstance(connect_rate, str) else connect_rate
        self.db = db
        self.clock = clock
        self.config = config
        self.supply = supply
        self.notifier = Notifier(notify)
        self.ledger = Ledger(db)
        self.accounts = Accounts(
            db, factory, supply, self.ledger, clock,
            connect_timeout=config.connect_timeout, resolve_timeout=config.send_timeout, waits=WaitBook(),
            status_check_interval=status_check_interval, connect_rate=rate,
        )
        self.scheduler: CampaignScheduler | None = CampaignScheduler(self.run_cycle) if schedule else None
        self._semaphore: Gate | None = None
        self._rt: Runtime | None = None
        self._rng = rng or random.Random()
        self.discovery = Discovery(self.accounts, self.ledger, supply, clock, config, self._rng, self.notifier)
        self._cycles: dict[int, asyncio.Task[CycleReport]] = {}
        self._holds: dict[int, asyncio.Lock] = {}  # customer -> held while one of its sessions changes hands
        self._refreshes: dict[int, asyncio.Task[None]] = {}  # customer -> its background dialogs read
        self._expected: dict[int, float] = {}  # customer -> when its next cycle is due
        self.quiet = QuietHours()  # when each campaign's cycles may start
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
            discovery=self.discovery,
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
            await self.quiet.load_many(conn, [c.user_id for c in running])
            # Every flood wait still running, per session and method class: a restart honours them all.
            self.accounts.waits.merge(await wait_rows.active(conn, now))
        # Start-up writes fail at once on a busy database (the caller reports it), as a person's commands do.
        await self.ledger.run(lambda conn: wait_rows.clear_expired(conn, now), patient=False)  # waits that are over
        if not running:
            return
        # One transaction for every campaign (not one each): start-up time must not grow with a
        # round trip per customer.
        if self.config.on_restart == "stop":

            async def stop_all(conn: Connection) -> None:
                stopped = await customers.stop_all_running(conn, now, "restart")
                await events.add_many(conn, stopped, EventKind.CAMPAIGN_STOPPED, now, reason="restart")

            await self.ledger.run(stop_all, patient=False)
            logger.info("start-up: %d campaign(s) that were running are stopped (on_restart = stop)", len(running))
        else:
            for customer in running:
                first = now if customer.cycle_in_progress else max(now, customer.next_cycle_at or now)
                first = self.quiet.open_at(customer.user_id, first)  # even a resumed cycle waits for its window
                self._expected[customer.user_id] = first
                if self.scheduler is not None:
                    self.scheduler.schedule(customer.user_id, customer.interval_s, first)

            async def resumed(conn: Connection) -> None:
                await events.add_many(conn, [c.user_id for c in running], EventKind.CAMPAIGN_RESUMED, now,
                                      reason="restart")

            await self.ledger.run(resumed, patient=False)
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
        refreshes = list(self._refreshes.values())
        for refresh in refreshes:
            refresh.cancel()
        await asyncio.gather(*refreshes, return_exceptions=True)
        tasks = [t for t in self._cycles.values() if not t.done()]
        for task in tasks:
            task.cancel()  # wakes workers that sleep; sends in flight are shielded and finish
        if tasks:
            done = await self._wait(tasks, self.config.shutdown_timeout)
            if not done:
                # Writes the database still refuses (it stayed locked) fail now: their cycles stay open and
                # the next start settles them (``engine.ledger``).
                self.ledger.give_up()
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

    async def start_campaign(self, customer_id: int) -> CampaignStart:
        """Set the campaign running with its first cycle now, once it is ready: the one readiness check
        and the one place a start asks the pool for the plan's sessions (the bot's /run comes here).
        Nothing changes when it is already running or not ready (``missing`` says what is missing)."""
        rt = self.rt
        now = self.clock.now()
        async with self.db.read() as conn:
            customer = await customers.get(conn, customer_id)
            if customer is None:
                raise NotFound(error_texts.no_customer(customer_id))
            own_groups = await groups.list_for(conn, customer_id)
            running = customer.status == "running"
            held = len(await session_rows.list_for_owner(conn, customer_id)) if running else 0
            await self.quiet.load(conn, customer_id)
        active = sum(1 for g in own_groups if g.active)
        if running:
            return CampaignStart(False, sessions=held, groups_active=active, interval_s=customer.interval_s)
        missing = readiness.missing(customer, own_groups, now)
        short_because: PoolError | None = None
        if not missing:
            # A short plan runs rather than none; its cycles top it up as sessions come back.
            fill = await self.supply.fill_plan(customer_id, now)
            held, short_because = len(fill.held), fill.short_because
            if short_because is not None:
                logger.info("customer %d: plan not filled: %s", customer_id, short_because)
                _log(customer_id, logging.WARNING, LogKey.SESSIONS_SHORT, have=held, wanted=customer.plan_sessions)
            missing = readiness.missing(customer, own_groups, now, sessions=held)
        if missing:
            return CampaignStart(False, missing, sessions=held, groups_active=active, interval_s=customer.interval_s,
                                 pool_error=short_because)
        running_cycle = customer_id in self._cycles and not self._cycles[customer_id].done()
        first = self.quiet.open_at(customer_id, now)  # outside its hours the first cycle waits for them

        async def op(conn: Connection) -> None:
            current = await customers.get(conn, customer_id)
            if current is not None and current.cycle_in_progress and not running_cycle:
                # A cycle left open by a stop or a crash: close it; the campaign starts a fresh one.
                await ledger_rows.pending_to_in_doubt(conn, customer_id, current.cycle_no, now)
                await customers.finish_cycle(conn, customer_id, current.cycle_no, now, None)
            await customers.set_status(conn, customer_id, "running", now, next_cycle_at=first)

        await self.ledger.run(op, patient=False)  # a busy database: the bot says "try again", nothing changed
        rt.aborts.pop(customer_id, None)
        self._expected[customer_id] = first
        if self.scheduler is not None:
            self.scheduler.schedule(customer_id, customer.interval_s, first)
        _log(customer_id, logging.INFO, LogKey.CAMPAIGN_STARTED, sessions=held, groups=active)
        return CampaignStart(
            True, sessions=held, groups_active=active, interval_s=customer.interval_s,
            sessions_short=max(0, customer.plan_sessions - held), pool_error=short_because,
        )

    async def stop_campaign(self, customer_id: int, reason: str, *, wait: bool = False) -> None:
        """Stop the campaign (the customer or an admin asked): no new cycle, the running one stops after
        its sends in flight. ``wait`` returns only once a running cycle has ended and the campaign's
        ports are closed (before its sessions may go back to the pool)."""
        rt = self.rt
        await cycles.stop(rt, customer_id, reason, self.clock.now(), patient=False)
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

    async def reschedule(self, customer_id: int) -> None:
        """The interval, the schedule or the customer's time zone changed: the next cycle is due one
        interval after the last one started, at the earliest when the schedule allows."""
        async with self.db.read() as conn:
            customer = await customers.get(conn, customer_id)
            await self.quiet.load(conn, customer_id)
        if customer is None or customer.status != "running":
            return
        now = self.clock.now()
        base = customer.cycle_started_at if customer.cycle_started_at is not None else now
        first = self.quiet.open_at(customer_id, max(now, base + customer.interval_s))
        self._expected[customer_id] = first
        if self.scheduler is not None:
            self.scheduler.schedule(customer_id, customer.interval_s, first)

        await self.ledger.run(lambda conn: customers.set_next_cycle_at(conn, customer_id, first), patient=False)

    @contextlib.asynccontextmanager
    async def session_released(self, customer_id: int, *session_ids: int) -> AsyncIterator[bool]:
        """Stop the campaign's use of some of its sessions, for a block that takes them away (an admin's
        swap, a smaller plan: their file moves). Yields False, having done nothing, while a cycle of the
        campaign runs (the caller asks again once it ends); else True with the sessions' ports closed,
        and no cycle of the campaign starts until the block ends (one that comes due waits for it). The
        next cycle reads the campaign's sessions afresh."""
        hold = self._holds.setdefault(customer_id, asyncio.Lock())
        async with hold:
            task = self._cycles.get(customer_id)
            if task is not None and not task.done():
                yield False
                return
            for session_id in session_ids:
                if self._rt is not None:
                    self._rt.owned.get(customer_id, set()).discard(session_id)
                await self.accounts.close(session_id)
                _log(customer_id, logging.INFO, LogKey.SESSION_RELEASED, session=session_id)
            yield True

    def refresh_memberships_soon(self, customer_id: int) -> None:
        """``refresh_memberships`` in the background: the customer just added groups, and their /groups
        says which their sessions can reach once the dialogs are read. One at a time per customer;
        shutdown cancels what is left (the next cycle reads what is due anyway)."""
        if self._rt is None or self._rt.stopping or customer_id in self._refreshes:
            return

        async def refresh() -> None:
            try:
                await self.refresh_memberships(customer_id)
            except Exception:
                logger.exception("customer %d: reading dialogs after new groups failed", customer_id)
            finally:
                self._refreshes.pop(customer_id, None)

        self._refreshes[customer_id] = asyncio.get_running_loop().create_task(refresh(), name=f"refresh-{customer_id}")

    async def refreshes_done(self) -> None:
        """Wait for the background reads ``refresh_memberships_soon`` started (tests, the demo)."""
        while self._refreshes:
            await asyncio.gather(*list(self._refreshes.values()), return_exceptions=True)

    async def refresh_memberships(self, customer_id: int) -> int:
        """Read the dialogs of the customer's sessions now (they added groups: which can their sessions
        reach?) and store each group's reach, telling the customer about a group that became
        unreachable or reachable. Returns how many sessions' dialogs were read. Ports this opened for a
        campaign that is not running are closed again."""
        async with self.db.read() as conn:
            customer = await customers.get(conn, customer_id)
            if customer is None:
                raise NotFound(error_texts.no_customer(customer_id))
            owned = await session_rows.list_for_owner(conn, customer_id)
        was_open = set(self.accounts.open_sessions)
        scanned = await self.discovery.scan_all(owned)
        if customer.status != "running":
            await self.accounts.close_idle(set(self.accounts.open_sessions) - was_open)
        now = self.clock.now()
        async with self.db.read() as conn:
            sessions = await session_rows.list_for_owner(conn, customer_id)
            active = [g for g in await groups.list_for(conn, customer_id) if g.active]
            # each group's stored reach against every post it may carry, as every cycle stores it (rotation)
            cycle_no = customer.cycle_no if customer.cycle_in_progress else customer.cycle_no + 1
            carried = await rotation.load(conn, customer, cycle_no, active)
            known = await assess(conn, [s.id for s in sessions], active, None, any_of=carried.any_of(active))
        told = await self.ledger.run(record_reach(customer_id, known.stored, now)) if sessions else 0
        if told:
            self.notifier()
        return len(scanned.read)

    # --- cycles -----------------------------------------------------------------------------------------

    async def run_cycle(self, customer_id: int) -> CycleReport:
        """Run the campaign's cycle now (what its job runs). Skipped when one is already running; waits
        while one of the campaign's sessions changes hands (``session_released``)."""
        rt = self.rt
        hold = self._holds.get(customer_id)
        if hold is not None and hold.locked():
            async with hold:
                pass
        now = self.clock.now()
        current = self._cycles.get(customer_id)
        if current is not None and not current.done():
            return CycleReport(customer_id, started_at=now, reason="already_running")
        if rt.stopping:
            return CycleReport(customer_id, started_at=now, reason="shutdown")
        opens = self.quiet.open_at(customer_id, now)
        if opens > now:
            return await self._defer(customer_id, now, opens)
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
            await self._close_if_idle(customer_id, report.next_cycle_at)
        if report.reason in (Missing.PLAN.value, Missing.POST.value, "post_invalid") or (
            report.reason is not None and customer_id in rt.aborts
        ):
            if self.scheduler is not None:
                self.scheduler.unschedule(customer_id)
            self._expected.pop(customer_id, None)
            await self._release_sessions(customer_id)
        return report

    async def _close_if_idle(self, customer_id: int, next_cycle_at: float) -> None:
        """The campaign's sessions keep their connections while its next cycle is due within
        ``keep_connection_seconds``; a longer pause closes them (no socket, no keepalive pings meanwhile),
        and the next cycle opens them again through the connect rate: one init request each."""
        rt = self.rt
        if rt.stopping or next_cycle_at - self.clock.now() <= self.config.keep_connection_seconds:
            return
        again = self._cycles.get(customer_id)
        if again is not None and not again.done():
            return  # a cycle started meanwhile (a manual one): its end decides
        closed = await self.accounts.close_idle(set(rt.owned.get(customer_id, set())))
        if closed:
            logger.info("customer %d: %d idle connection(s) closed until its next cycle", customer_id, closed)

    async def _defer(self, customer_id: int, now: float, opens: float) -> CycleReport:
        """A cycle came due in the campaign's quiet hours: it waits for the window (no request made)."""
        self._expected[customer_id] = opens
        if self.scheduler is not None:
            self.scheduler.defer(customer_id, opens)
        await self.ledger.run(lambda conn: customers.set_next_cycle_at(conn, customer_id, opens), patient=False)
        logger.debug("customer %d: quiet hours, next cycle at %.0f", customer_id, opens)
        return CycleReport(customer_id, started_at=now, next_cycle_at=opens, reason="quiet_hours")

    def _next_due(self, customer_id: int, started_at: float, interval_s: int) -> float:
        at = started_at + interval_s
        if self.scheduler is not None:
            at = self.scheduler.next_run_at(customer_id) or at
        return self.quiet.open_at(customer_id, at)

    async def _release_sessions(self, customer_id: int) -> None:
        """Close the ports of a campaign that stopped (sessions stay with the customer)."""
        rt = self.rt
        for session_id in rt.owned.pop(customer_id, set()):
            await self.accounts.close(session_id)

    async def run_on_account(self, session_id: int, fn: Callable[[AccountPort], Awaitable[T]]) -> T:
        """Run ``fn`` with the session's live port: how work outside a cycle (an admin's join,
        ``pool.joins``) reaches a customer's session without a second client on its file. The port is
        the one the session's cycles use (opened now if none is); one opened here is closed again
        afterwards unless a cycle of its customer holds the session by then; an idle close meanwhile waits
        for ``fn`` to end (``Accounts.lease``). Raises what ``fn`` or connecting raised."""
        was_open = session_id in self.accounts
        try:
            async with self.accounts.lease(session_id) as account:
                return await fn(account.port)
        except Exception as exc:
            # Dead, limited or frozen: retired here, through the engine, so that a cycle's worker still
            # holding the account stops and the port is closed before the pool moves the file (the
            # caller's own report of it then changes nothing).
            outcome = classify(exc)
            if outcome.kind in RETIREMENTS:
                await self.accounts.retire(session_id, outcome)
                self.notifier()
            raise
        finally:
            held = self._rt is not None and any(session_id in ids for ids in self._rt.owned.values())
            if not was_open and not held:
                await self.accounts.close_idle({session_id})  # not under other work that uses it now

    async def check_post(self, customer_id: int, peer: str, msg_id: int) -> PostCheck:
        """Read a post the customer is saving through one of their connected sessions (``engine.post_check``):
        no session is opened for it; 'unchecked' when none can say now."""
        return await check_post(self.accounts, customer_id, peer, msg_id, limit=self.config.send_timeout)

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
