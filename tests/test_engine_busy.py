"""A database lock held past ``busy_timeout`` in the middle of a cycle (issue 17, point 4).

Another connection (as another process would: the CLI, a backup tool) takes the write lock with
``BEGIN IMMEDIATE`` at a chosen moment of a cycle in the strict simulated world: right after a post was
delivered (its 'sent' row cannot be written, the next sends' intents neither), or right after a request
left (its intent is committed, its answer's row is due while the lock is held). The engine's writer
meets ``StorageBusy`` again and again (``busy_timeout`` is 50 ms here, 5 s in the app: the same path
without the wait). Then either the lock is released while the engine runs, or the engine is stopped
while it is still held and a new engine starts once it is gone.

What must hold: every group of the cycle ends with exactly one final row; a post that arrived is 'sent'
(or, when the process stopped before its row could be written, 'in_doubt' by the resume rule: never
sent again); no group is posted twice (the world does not de-duplicate random_ids here); no group
failure, no group or session blamed; and the cycle is closed only once every group has its row.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite
import pytest

from core.errors import StorageBusy
from core.ports import SessionCredentials
from engine.cycle import CycleReport
from engine.engine import Engine
from engine.ledger import Ledger
from pool.supply import PoolSupply
from storage.db import Database
from tests.engine_support import CID, Setup, fast_config, make_setup, running

GROUPS = [f"@group_{i:02d}" for i in range(6)]
BUSY_TIMEOUT_MS = 50


class CountingDatabase(Database):
    """Counts the writes that met the lock (``StorageBusy``), whoever made them."""

    busy: int = 0

    async def transact_sync(self, fn: Callable[[sqlite3.Connection], object]) -> object:  # type: ignore[override]
        try:
            return await super().transact_sync(fn)
        except StorageBusy:
            self.busy += 1
            raise

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[aiosqlite.Connection]:
        try:
            async with super().tx() as conn:
                yield conn
        except StorageBusy:
            self.busy += 1
            raise


class LockingSupply(PoolSupply):
    """The pool, with the lock taken just before ``victim`` is opened for the first time (the pool seals a
    session's identity then: a write of its own, outside the engine's ledger)."""

    def __init__(self, db: Database, sessions_dir: Path, lock: Lock, victim: int) -> None:
        super().__init__(db, sessions_dir)
        self.lock = lock
        self.victim = victim

    async def credentials(self, session_id: int) -> SessionCredentials:
        if session_id == self.victim and not self.lock.taken.is_set():
            self.lock.take()
        return await super().credentials(session_id)


@dataclass
class Lock:
    """The write lock of another connection, taken from inside the world at the ``at``-th ``point``."""

    path: Path
    point: str
    at: int
    seen: int = 0
    other: sqlite3.Connection | None = None
    taken: asyncio.Event = field(default_factory=asyncio.Event)
    cycle_open_at_release: bool | None = None

    def hook(self, point: str, _account: str) -> None:
        if not point.startswith(self.point) or self.other is not None:
            return
        self.seen += 1
        if self.seen == self.at:
            self.take()

    def take(self) -> None:
        self.other = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        self.other.execute("BEGIN IMMEDIATE")
        self.taken.set()

    def release(self) -> None:
        if self.other is not None:
            # Read by the other connection while it still holds the lock: what the engine committed.
            row = self.other.execute(
                "SELECT cycle_started_at IS NOT NULL AND cycle_finished_at IS NULL FROM customers WHERE user_id = ?",
                (CID,),
            ).fetchone()
            self.cycle_open_at_release = bool(row[0]) if row is not None else None
            self.other.execute("ROLLBACK")
            self.other.close()
            self.other = None


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.005)


async def _taken(lock: Lock, cycle: asyncio.Task[CycleReport]) -> None:
    """Wait until the lock is taken; the cycle must not have ended without it."""
    await _until(lambda: lock.taken.is_set() or cycle.done())
    assert lock.taken.is_set(), f"the cycle ended before the lock was taken: {cycle.result()}"


async def _setup(tmp_path: Path) -> tuple[CountingDatabase, Setup]:
    db = await CountingDatabase.open(tmp_path / "data" / "adbot.sqlite3", busy_timeout_ms=BUSY_TIMEOUT_MS)
    assert isinstance(db, CountingDatabase)
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=2, pool=2, dedupe=False)
    s.world.latency = 0.5  # an answer takes a while: the other session's writes meet the lock meanwhile
    return db, s


async def _check_cycle(s: Setup, cycle_no: int, *, delivered_then: str, lock_point: str) -> None:
    """Every group one final row, each delivery once and matched by a 'sent' (or 'in_doubt') row, nobody
    blamed."""
    assert s.world.duplicates() == [], "a cycle's post reached a group twice"
    assert sorted(d.chat_ref for d in s.world.deliveries) == sorted(GROUPS), "every group posted exactly once"
    rows = await s.rows(cycle_no)
    assert set(rows) == set(GROUPS), f"groups without a row: {set(GROUPS) - set(rows)}"
    by_ref = {d.chat_ref: d for d in s.world.deliveries}
    for ref, row in rows.items():
        assert row.outcome in ("sent", "in_doubt"), (ref, row)
        assert row.random_id == by_ref[ref].random_id, (ref, row)
        if row.outcome == "sent":
            assert row.message_id == by_ref[ref].message_id, (ref, row)
    in_doubt = [ref for ref, row in rows.items() if row.outcome == "in_doubt"]
    if delivered_then == "sent":
        assert in_doubt == [], rows
    else:
        # The post whose answer arrived while the lock was held is left in doubt (never sent again), and at
        # most the other session's send in flight then.
        assert 1 <= len(in_doubt) <= 2, rows
    customer = await s.customer()
    assert not customer.cycle_in_progress
    assert customer.cycle_no == cycle_no
    groups = await s.groups()
    assert all(g.consecutive_failures == 0 and g.last_error is None and g.active for g in groups.values()), groups
    for sid in s.session_ids:
        session = await s.session(sid)
        assert session.state == "assigned" and session.owner_id == CID, (lock_point, session)
    raw = sqlite3.connect(s.db.path)
    try:
        failures = raw.execute("SELECT COALESCE(SUM(failures), 0) FROM group_stats").fetchone()[0]
        total_failures = raw.execute("SELECT COALESCE(SUM(total_failures), 0) FROM stats").fetchone()[0]
        refusals = raw.execute("SELECT COUNT(*) FROM refusals").fetchone()[0]
    finally:
        raw.close()
    assert (failures, total_failures, refusals) == (0, 0, 0)
    assert not s.world.violations, s.world.violations


@pytest.mark.parametrize("lock_point", ["delivered:forward", "request:forward"])
async def test_a_lock_held_past_busy_timeout_mid_cycle_then_released(
    tmp_path: Path, lock_point: str, caplog: pytest.LogCaptureFixture
) -> None:
    db, s = await _setup(tmp_path)
    try:
        engine = s.engine(fast_config())
        await running(s, engine)
        lock = Lock(db.path, lock_point, at=3)
        s.world.step_hook = lock.hook
        caplog.set_level(logging.WARNING)
        cycle: asyncio.Task[CycleReport] = asyncio.create_task(engine.run_cycle(CID))
        try:
            await _taken(lock, cycle)
            # Held until writes of the engine met it several times (or the cycle gave up on it).
            await _until(lambda: db.busy >= 4 or cycle.done())
            assert not cycle.done(), "the cycle ended while the database was locked"
        except BaseException:
            cycle.cancel()
            raise
        finally:
            lock.release()
        report = await cycle
        assert lock.cycle_open_at_release, "the cycle was closed before every group had its row"
        assert report.cycle_no == 1 and report.finished_at is not None and not report.interrupted
        assert (report.sent, report.failed, report.skipped, report.in_doubt) == (len(GROUPS), 0, 0, 0), report
        await _check_cycle(s, 1, delivered_then="sent", lock_point=lock_point)
        busy_warnings = [r for r in caplog.records if "database" in r.getMessage() and r.levelno == logging.WARNING]
        assert len(busy_warnings) == 1, [r.getMessage() for r in busy_warnings]  # one per busy spell
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        # The next cycle runs as usual.
        s.clock.set(s.clock.now() + 300)
        report = await engine.run_cycle(CID)
        assert report.cycle_no == 2 and report.sent == len(GROUPS)
        await engine.shutdown()
    finally:
        await s.db.close()


@pytest.mark.parametrize("lock_point", ["delivered:forward", "request:forward"])
async def test_a_lock_that_outlives_the_engine_is_settled_by_the_resume(tmp_path: Path, lock_point: str) -> None:
    db, s = await _setup(tmp_path)
    config = fast_config(on_restart="resume")
    try:
        engine = s.engine(config)
        await running(s, engine)
        lock = Lock(db.path, lock_point, at=3)
        s.world.step_hook = lock.hook
        cycle: asyncio.Task[CycleReport] = asyncio.create_task(engine.run_cycle(CID))
        try:
            await _taken(lock, cycle)
            await _until(lambda: db.busy >= 4 or cycle.done())
            assert not cycle.done(), "the cycle ended while the database was locked"
            await engine.shutdown()  # while the lock is still held: it must not hang, nor close the cycle
            report = await cycle
            assert report.interrupted and report.finished_at is None, report
        finally:
            lock.release()
            cycle.cancel()
        assert lock.cycle_open_at_release, "the cycle was closed while the database was locked"
    finally:
        await db.close()
    s.world.step_hook = None
    s.world.reset_connections()

    s.db = await Database.open(db.path)
    try:
        again = s.engine(config)
        await again.start()
        report = await again.run_cycle(CID)
        assert report.resumed and report.cycle_no == 1 and report.finished_at is not None, report
        await _check_cycle(s, 1, delivered_then="in_doubt", lock_point=lock_point)
        await again.shutdown()
    finally:
        await s.db.close()



def _engine(s: Setup, supply: PoolSupply) -> Engine:
    return Engine(s.db, s.world, supply, s.clock, fast_config(), notify=s.notified, schedule=False, connect_rate=None,
                  rng=random.Random(7))


async def _run_locked(db: CountingDatabase, lock: Lock, engine: Engine) -> CycleReport:
    """Run a cycle; the lock is taken by ``LockingSupply``, and released once writes met it 4 times."""
    cycle: asyncio.Task[CycleReport] = asyncio.create_task(engine.run_cycle(CID))
    try:
        await _taken(lock, cycle)
        await _until(lambda: db.busy >= 4 or cycle.done())
        assert not cycle.done(), "the cycle ended while the database was locked"
    except BaseException:
        cycle.cancel()
        raise
    finally:
        lock.release()
    return await cycle


async def _check_not_blamed(s: Setup, report: CycleReport, caplog: pytest.LogCaptureFixture) -> None:
    assert report.finished_at is not None and not report.interrupted, report
    assert (report.sent, report.failed, report.skipped, report.in_doubt) == (len(GROUPS), 0, 0, 0), report
    assert report.unreachable == 0, report
    await _check_cycle(s, report.cycle_no or 0, delivered_then="sent", lock_point="connect")
    rows = await s.rows(report.cycle_no or 0)
    assert {row.session_id for row in rows.values()} == set(s.session_ids)  # each session sent its share
    assert all(g.reach is None for g in (await s.groups()).values())  # no group told unreachable
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert not [r for r in caplog.records if "failed" in r.getMessage() or "unusable" in r.getMessage()], caplog.text


async def test_a_session_first_read_while_the_lock_is_held_waits_for_it_and_is_not_blamed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The lock is taken just as the cycle's dialogs scan opens the second session for the first time: the
    pool's write (sealing its identity) meets it. The read is not 'failed' (tried again 15 min later, its
    groups unreachable meanwhile): it waits, and the cycle then sends every group."""
    db, s = await _setup(tmp_path)
    try:
        lock = Lock(db.path, "", at=0)
        engine = _engine(s, LockingSupply(db, s.sessions_dir, lock, victim=s.session_ids[1]))
        await running(s, engine)
        caplog.set_level(logging.WARNING)
        report = await _run_locked(db, lock, engine)
        await _check_not_blamed(s, report, caplog)
        await engine.shutdown()
    finally:
        await db.close()


async def test_a_session_opened_by_a_worker_while_the_lock_is_held_waits_for_it_and_is_not_blamed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same when the worker opens the session (its dialogs were read before, its identity not yet
    sealed): not 'unusable this cycle' with its groups 'skipped', but sent after the wait, in the cycle."""
    db, s = await _setup(tmp_path)
    try:
        lock = Lock(db.path, "", at=0)
        supply = LockingSupply(db, s.sessions_dir, lock, victim=s.session_ids[1])
        engine = _engine(s, supply)
        lock.taken.set()  # not yet: the dialogs read below opens the sessions unlocked
        await running(s, engine)
        assert await engine.refresh_memberships(CID) == 2
        await engine.accounts.close_all()  # the next open is the worker's
        raw = sqlite3.connect(db.path)
        try:
            raw.execute("UPDATE sessions SET identity_used_at = NULL")  # sealed at the worker's open, then
            raw.commit()
        finally:
            raw.close()
        lock.taken.clear()
        caplog.set_level(logging.WARNING)
        report = await _run_locked(db, lock, engine)
        await _check_not_blamed(s, report, caplog)
        await engine.shutdown()
    finally:
        await db.close()


async def test_the_ledger_keeps_patient_writes_and_fails_a_persons_write_at_once(tmp_path: Path) -> None:
    """While another connection holds the lock: a cycle's write (patient, the default) is kept and
    committed once the lock is gone, in order with what was queued after it; a write a person asked for
    (``patient=False``: the bot's /run, /stop, /interval) fails with ``StorageBusy`` as before, so the bot
    answers "try again"; ``give_up`` (shutdown) fails what is still kept."""
    db = await CountingDatabase.open(tmp_path / "adbot.sqlite3", busy_timeout_ms=BUSY_TIMEOUT_MS)
    assert isinstance(db, CountingDatabase)
    ledger = Ledger(db)
    order: list[str] = []

    def write(name: str) -> Callable[[aiosqlite.Connection], Awaitable[str]]:
        async def op(conn: aiosqlite.Connection) -> str:
            order.append(name)
            return name

        return op

    try:
        lock = Lock(db.path, "", at=0)
        lock.take()
        try:
            kept = asyncio.create_task(ledger.run(write("cycle-1")))
            await _until(lambda: ledger.busy)
            with pytest.raises(StorageBusy):
                await ledger.run(write("person"), patient=False)
            later = asyncio.create_task(ledger.run(write("cycle-2")))
            met = db.busy
            await _until(lambda: db.busy >= met + 3)  # retries meet the lock meanwhile
            assert not kept.done() and not later.done() and ledger.busy_spells == 1
        finally:
            lock.release()
        assert (await kept, await later) == ("cycle-1", "cycle-2")
        assert order[-2:] == ["cycle-1", "cycle-2"] and "person" not in order[order.index("cycle-1"):]
        assert not ledger.busy

        lock.take()
        try:
            held = asyncio.create_task(ledger.run(write("at-shutdown")))
            await _until(lambda: ledger.busy)
            ledger.give_up()
            with pytest.raises(StorageBusy):
                await held
        finally:
            lock.release()
        await ledger.close()
    finally:
        await db.close()
