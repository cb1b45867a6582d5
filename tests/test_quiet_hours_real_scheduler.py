"""Quiet hours with the real APScheduler and the real clock: a campaign's job that fires inside quiet hours
is deferred to the window (``Engine._defer`` -> ``CampaignScheduler.defer`` replacing the job that is
running), cycles run inside the window at the campaign's interval, and the first one due after it is
deferred to the next day's window. No request leaves outside the window.

Real time, so marked ``process`` (out of the inner loop). ``Schedule`` has minute resolution; the window
here is a few seconds long (``_SecondsWindow``), given to the engine through ``engine.quiet.set`` as the
/schedule screen's reload does, so the test takes seconds, not minutes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.schedule import Schedule
from engine.engine import Engine
from pool.supply import PoolSupply
from storage import customers
from storage.db import Database
from tests.engine_support import CID, fast_config, make_setup

DAY = 86_400.0
INTERVAL = 2  # seconds between cycles
WINDOW = 3.0  # seconds the window stays open: cycles start at its opening and INTERVAL later


@dataclass(frozen=True)
class _SecondsWindow(Schedule):
    """A window of ``opens``..``closes`` (unix seconds) every day: ``Schedule`` with seconds, for a test
    that must not wait for a minute to turn. ``start``/``end`` only keep it from being "always"."""

    opens: float = 0.0
    closes: float = 0.0

    def next_open(self, at: float) -> float:
        day_opens = self.opens + (at - self.opens) // DAY * DAY
        if at < day_opens + (self.closes - self.opens):
            return max(at, day_opens)
        return day_opens + DAY


async def _until(check: Callable[[], bool], deadline: float) -> None:
    while not check():
        assert time.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.process
async def test_a_job_firing_in_quiet_hours_waits_for_the_window_and_cycles_run_inside_it(
    db: Database, tmp_path: Path
) -> None:
    clock = SystemClock()
    s = await make_setup(db, tmp_path, groups=["@g1", "@g2", "@g3"], interval=INTERVAL, clock=clock)  # type: ignore[arg-type]
    engine = Engine(
        db, s.world, PoolSupply(db, s.sessions_dir), clock, fast_config(send_spacing=0.0, spacing_jitter=0.0),
        notify=s.notified, schedule=True, connect_rate=None, rng=random.Random(7),
    )
    await engine.start()
    try:
        assert (await engine.start_campaign(CID)).started
        # The campaign's job is due now; before it fires (nothing ran since start_campaign scheduled it),
        # its hours change so that it is quiet until ``opens``.
        opens = time.time() + 2.0
        closes = opens + WINDOW
        engine.quiet.set(CID, _SecondsWindow(start=0, end=1, opens=opens, closes=closes))
        assert engine.scheduler is not None and engine.scheduler.next_run_at(CID) is not None
        assert engine.scheduler.next_run_at(CID) <= time.time()  # type: ignore[operator]

        # the job fires inside quiet hours: it is moved to the window's opening, nothing is sent
        await _until(lambda: engine.next_run_at(CID) == pytest.approx(opens, abs=0.01), opens - 0.5)
        async with db.read() as conn:
            customer = await customers.get(conn, CID)
        assert customer is not None and customer.cycle_no == 0
        assert customer.next_cycle_at == pytest.approx(opens, abs=0.01)
        assert s.world.deliveries == [] and time.time() < opens

        # cycles run in the window every INTERVAL seconds; the one due after it waits for tomorrow's
        await _until(lambda: (engine.next_run_at(CID) or 0.0) > closes + DAY / 2, closes + INTERVAL + 5.0)
        next_run = engine.next_run_at(CID)
        assert next_run == pytest.approx(opens + DAY, abs=0.01)
        assert engine.scheduler.next_run_at(CID) == pytest.approx(opens + DAY, abs=0.01)  # the job itself
        async with db.read() as conn:
            customer = await customers.get(conn, CID)
        assert customer is not None and customer.cycle_no >= 2  # at opens and INTERVAL later
        assert customer.next_cycle_at == pytest.approx(opens + DAY, abs=0.01)
        assert len(s.world.deliveries) == 3 * customer.cycle_no
        assert all(opens <= d.at < closes for d in s.world.deliveries)
        assert s.world.violations == []
    finally:
        await engine.shutdown()
