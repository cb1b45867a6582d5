"""An idle close (``[engine] keep_connection_seconds``) never closes a port that other work uses at that
moment: an admin's job through ``Engine.run_on_account``, a dialogs read, a post check, or a cycle that
started again. Such a port closes when its last use ends (``Accounts.hold``/``release``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from core.clock import FakeClock
from core.ports import AccountPort, Peer
from storage.db import Database
from tests.engine_support import CID, NOW, fast_config, make_setup, running


async def _until(predicate: Callable[[], bool]) -> None:
    """Wait (real time: the database answers from its thread) until ``predicate()`` holds."""
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never happened")


async def test_an_idle_close_leaves_a_port_an_admins_job_uses_open_until_the_job_ends(
    db: Database, tmp_path: Path
) -> None:
    # 3 sessions, 10 groups, a cycle every 300 s. The clock moves only when the test says, so the cycle is
    # still running when the admin's job starts.
    s = await make_setup(db, tmp_path, clock=FakeClock(NOW, auto=False))
    engine = s.engine(fast_config(keep_connection_seconds=60.0))  # 300 s > 60 s: closed after each cycle
    await running(s, engine)
    sid = sorted(s.session_ids)[0]
    gate = asyncio.Event()
    waiting: list[bool] = []
    seen: list[object] = []

    async def job(port: AccountPort) -> Peer:
        waiting.append(True)
        await gate.wait()
        try:
            peer = await port.resolve("@ads")
        except Exception as exc:
            seen.append(repr(exc))
            raise
        seen.append(peer)
        return peer

    cycle = asyncio.ensure_future(engine.run_cycle(CID))
    await _until(lambda: sid in engine.accounts and s.clock.pending > 0)  # the cycle holds the session, spacing
    admin = asyncio.ensure_future(engine.run_on_account(sid, job))
    await _until(lambda: bool(waiting))
    assert not cycle.done()
    s.clock.auto = True  # the next sleeper starts its driver
    await s.clock.advance(10.0)  # past the spacing the worker sleeps
    report = await asyncio.wait_for(cycle, 60)
    assert report.sent == 10
    # The cycle's other sessions are closed; the one the admin's job holds stays open under it.
    assert engine.accounts.open_sessions == [sid]
    gate.set()
    peer = await asyncio.wait_for(admin, 60)
    assert seen == [peer]
    assert engine.accounts.open_sessions == []  # closed as the job ended: it is still idle
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_port_freed_after_a_new_cycle_took_it_is_left_to_that_cycles_end(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path)
    engine = s.engine(fast_config(keep_connection_seconds=60.0))
    await running(s, engine)
    account = await engine.accounts.get(sorted(s.session_ids)[0])
    engine.accounts.hold(account)  # an admin's job
    assert await engine.accounts.close_idle({account.session_id}) == 0
    assert account.close_when_free
    engine.accounts.hold(account, renew=True)  # a cycle's worker: its end decides again
    await engine.accounts.release(account)  # the job ends: the worker still uses it
    await engine.accounts.release(account)  # the worker ends: not closed (the cycle's end decides)
    assert account.session_id in engine.accounts
    assert await engine.accounts.close_idle({account.session_id}) == 1
    assert engine.accounts.open_sessions == []
    await engine.shutdown()
