"""Start-up (on_restart stop / resume), graceful shutdown and health, on the world with a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from core.states import EventKind
from engine.engine import Engine
from storage import ledger as ledger_rows
from storage.db import Database
from tests.engine_support import CID, Setup, fast_config, make_setup, running
from tests.pool_support import NOW


async def _interrupt_after(s: Setup, engine: Engine, deliveries: int) -> None:
    """Run a cycle and shut the engine down once ``deliveries`` posts arrived: the cycle stays open."""
    task = asyncio.create_task(engine.run_cycle(CID))
    while len(s.world.deliveries) < deliveries:
        await asyncio.sleep(0.001)
    await engine.shutdown()
    report = await task
    assert report.interrupted


async def test_on_restart_stop_stops_what_was_running(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    first = s.engine()
    await running(s, first)
    await _interrupt_after(s, first, 4)
    assert (await s.customer()).cycle_in_progress
    second = s.engine(fast_config(on_restart="stop"))
    await second.start()
    customer = await s.customer()
    assert (customer.status, customer.stop_reason) == ("stopped", "restart")
    assert not customer.cycle_in_progress
    stopped = [e for e in await s.events() if e.kind is EventKind.CAMPAIGN_STOPPED]
    assert len(stopped) == 1 and stopped[0].payload["reason"] == "restart"
    assert s.notified.calls >= 1
    assert all(r.outcome != "pending" for r in (await s.rows(1)).values())
    assert (await second.run_cycle(CID)).reason == "not_running"
    # Started again by the customer: a fresh cycle.
    await second.start_campaign(CID)
    report = await second.run_cycle(CID)
    assert (report.cycle_no, report.sent, report.resumed) == (2, 10, False)
    await second.shutdown()


async def test_on_restart_resume_finishes_the_cycle_with_the_same_number(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    first = s.engine()
    await running(s, first)
    await _interrupt_after(s, first, 4)
    rows = await s.rows(1)
    sent_before = {ref for ref, r in rows.items() if r.outcome == "sent"}
    assert len(sent_before) >= 4
    # The process died between one request and its answer: that row is still 'pending'.
    doubtful = next(ref for ref in s.refs if ref not in rows)
    async with db.tx() as conn:
        await ledger_rows.insert_intents(
            conn, [ledger_rows.Intent(CID, 1, doubtful, s.session_ids[0], s.random_id(1, doubtful), NOW + 1)]
        )
    second = s.engine(fast_config(on_restart="resume"))
    await second.start()
    assert EventKind.CAMPAIGN_RESUMED in [e.kind for e in await s.events()]
    assert second.next_run_at(CID) == s.clock.now()
    report = await second.run_cycle(CID)
    assert (report.cycle_no, report.resumed, report.already_done) == (1, True, len(rows) + 1)
    assert report.sent == 10 - len(sent_before) - 1
    rows = await s.rows(1)
    assert rows[doubtful].outcome == "in_doubt"
    assert s.world.deliveries_to(doubtful) == []
    for ref in s.refs:
        if ref != doubtful:
            assert rows[ref].outcome == "sent"
            assert len(s.world.deliveries_to(ref)) == 1
    customer = await s.customer()
    assert not customer.cycle_in_progress and customer.next_cycle_at == NOW + 300
    s.clock.set(NOW + 300)
    assert (await second.run_cycle(CID)).cycle_no == 2
    await second.shutdown()


async def step_until(s: Setup, condition: Callable[[], bool], step: float = 1.0, limit: int = 1_000) -> None:
    """Drive the fake clock by hand until ``condition`` holds, then hand it back to auto mode.

    In auto mode the clock jumps whenever the loop looks idle, and a test polling in real time can
    miss a window (sends in flight for 8 s of virtual time pass in one jump while an SQLite thread
    is slow under load). Small manual steps with a real pause between them let every thread finish."""
    await s.clock.aclose()
    for _ in range(limit):
        if condition():
            break
        await s.clock.advance(step)
        await asyncio.sleep(0.002)
    assert condition()
    s.clock.auto = True  # the next sleeper restarts the driver


async def test_graceful_shutdown_records_the_sends_in_flight(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    s.world.latency = 8.0
    engine = s.engine(fast_config(shutdown_timeout=20.0))
    await running(s, engine)
    task = asyncio.create_task(engine.run_cycle(CID))
    await step_until(s, lambda: engine.health().sends_in_flight >= 3)
    health = engine.health()
    assert health.running and health.cycles_in_progress == 1 and health.open_ports == 3
    await engine.shutdown()
    report = await task
    assert report.interrupted and report.reason == "shutdown"
    rows = await s.rows(1)
    assert len(rows) == 3 and all(r.outcome == "sent" for r in rows.values())
    assert len(s.world.deliveries) == 3
    assert engine.health().sends_in_flight == 0 and not engine.health().running
    assert engine.accounts.open_sessions == [] and s.world.live_ports() == 0
    assert (await s.customer()).cycle_in_progress  # resumed by the next start


async def test_shutdown_gives_up_on_unanswered_requests_as_in_doubt(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@group_a", "@group_b"])
    s.world.add_fault(kind="timeout", group="@group_a", deliver=True)  # never answers
    engine = s.engine(fast_config(send_timeout=1000.0, shutdown_timeout=5.0))
    await running(s, engine)
    task = asyncio.create_task(engine.run_cycle(CID))
    await step_until(s, lambda: engine.health().sends_in_flight >= 1)
    started = s.clock.now()
    await engine.shutdown()
    assert s.clock.now() - started >= 5.0
    await task
    row = (await s.rows(1))["@group_a"]
    assert (row.outcome, row.error) == ("in_doubt", "shutdown")
    assert "@group_b" not in await s.rows(1)
    # After a restart the doubtful group is not sent again in that cycle; the other one is.
    again = s.engine()
    await again.start()
    report = await again.run_cycle(CID)
    assert (report.resumed, report.sent) == (True, 1)
    assert len(s.world.deliveries_to("@group_a")) == 1
    await again.shutdown()


async def test_run_cycle_skips_when_one_is_already_running(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@group_a", "@group_b"])
    engine = s.engine()
    await running(s, engine)
    task = asyncio.create_task(engine.run_cycle(CID))
    await asyncio.sleep(0)
    assert (await engine.run_cycle(CID)).reason == "already_running"
    assert (await task).sent == 2
    health = engine.health()
    assert health.last_cycle_finished_at is not None and health.lag == 0.0
    await engine.shutdown()
