"""The APScheduler wiring, on real time with short intervals (cycle logic is tested with a virtual clock)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from core.clock import SystemClock
from engine.engine import Engine
from pool.supply import PoolSupply
from sandbox.world import World
from storage import customers
from storage.db import Database
from tests.engine_support import CID, Notified, fast_config, make_setup


async def _wait_for(predicate_cycle: int, db: Database, limit: float = 3.0) -> customers.Customer:
    deadline = time.monotonic() + limit
    while True:
        async with db.read() as conn:
            customer = await customers.get(conn, CID)
        assert customer is not None
        if customer.cycle_no >= predicate_cycle and customer.cycle_finished_at is not None:
            return customer
        assert time.monotonic() < deadline, f"cycle {predicate_cycle} did not run in time"
        await asyncio.sleep(0.01)


async def test_jobs_fire_reschedule_and_stop(db: Database, tmp_path: Path) -> None:
    clock = SystemClock()
    world = World(clock, lenient=True)
    s = await make_setup(db, tmp_path, groups=["@group_a", "@group_b"], plan=1, pool=1, interval=1,
                         world=world)
    engine = Engine(db, world, PoolSupply(db, s.sessions_dir), clock,
                    fast_config(send_spacing=0.01, spacing_jitter=0.0),
                    notify=Notified(), schedule=True, connect_rate=None)
    await engine.start()
    assert engine.health().scheduler_running
    started = time.time()
    await engine.start_campaign(CID)
    first = await _wait_for(1, db)
    assert first.cycle_started_at is not None and first.cycle_started_at - started < 0.5
    next_at = engine.next_run_at(CID)
    assert next_at is not None and abs(next_at - (started + 1)) < 0.3
    second = await _wait_for(2, db)
    assert second.cycle_started_at is not None and 0.7 < second.cycle_started_at - first.cycle_started_at < 1.5
    assert len(world.deliveries) == 4
    async with db.tx() as conn:
        await customers.set_interval(conn, CID, 30, clock.now())
    await engine.reschedule(CID)
    later = engine.next_run_at(CID)
    assert later is not None and abs(later - (second.cycle_started_at + 30)) < 0.5
    await engine.stop_campaign(CID, "customer")
    assert engine.next_run_at(CID) is None and engine.scheduler is not None
    assert engine.scheduler.scheduled() == []
    await engine.shutdown()
    assert not engine.health().scheduler_running


async def test_resume_at_start_schedules_running_campaigns(db: Database, tmp_path: Path) -> None:
    clock = SystemClock()
    world = World(clock, lenient=True)
    s = await make_setup(db, tmp_path, groups=["@group_a"], plan=1, pool=1, interval=60, world=world)
    now = clock.now()
    async with db.tx() as conn:
        await customers.set_status(conn, CID, "running", now, next_cycle_at=now + 45)
    engine = Engine(db, world, PoolSupply(db, s.sessions_dir), clock, fast_config(on_restart="resume"),
                    schedule=True, connect_rate=None)
    await engine.start()
    next_at = engine.next_run_at(CID)
    assert next_at is not None and abs(next_at - (now + 45)) < 0.5
    assert engine.health().running_campaigns == 1
    await engine.shutdown()


async def test_shutdown_lets_a_scheduled_cycle_record_its_send(db: Database, tmp_path: Path) -> None:
    clock = SystemClock()
    world = World(clock, lenient=True, latency=0.1)
    s = await make_setup(db, tmp_path, groups=["@group_a", "@group_b"], plan=1, pool=1, interval=60,
                         world=world)
    engine = Engine(db, world, PoolSupply(db, s.sessions_dir), clock, fast_config(send_spacing=0.01),
                    schedule=True, connect_rate=None)
    await engine.start()
    await engine.start_campaign(CID)
    deadline = time.monotonic() + 3
    while engine.health().sends_in_flight == 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.005)
    await engine.shutdown()  # the cycle first, then the scheduler: the send in flight is recorded
    rows = await s.rows(1)
    assert len(rows) == 1 and next(iter(rows.values())).outcome == "sent"
    assert len(world.deliveries) == 1
