"""Where the account-safety rules meet: a session retired by other work while its cycle runs, a resumed
cycle's waiting group, the retry after a short flood wait, a stale access hash of the post's source,
and a read wait after a restart (the strict simulated world, a virtual clock)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from telethon import errors

from core.ports import AccountPort
from engine.engine import Engine
from storage.db import Database
from tests.engine_support import CID, fast_config, make_setup, running
from tests.pool_support import NOW

HOUR = 3600.0
GROUPS = [f"@g{i}" for i in range(6)]


async def test_a_session_retired_by_an_admins_join_stops_its_running_cycle(db: Database, tmp_path: Path) -> None:
    """A join through the engine's live client that finds the account spam-limited retires it through the
    engine: its port is closed and the cycle's worker still holding it sends nothing more (its groups
    'skipped', 'session_retired'), before the pool moves its file."""
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=2)
    engine = s.engine(fast_config(send_spacing=10.0, spacing_jitter=0.0))
    await running(s, engine)
    [sid] = [r.id for r in await s.owned()]
    key = s.account_of(sid)
    sent_at: list[float] = []
    s.world.step_hook = lambda point, account: sent_at.append(s.clock.now()) if point == "request:forward" else None
    task = asyncio.create_task(engine.run_cycle(CID))
    while len(sent_at) < 2:
        await asyncio.sleep(0.001)

    async def join(port: AccountPort) -> None:
        raise errors.PeerFloodError(request=None)

    try:
        await engine.run_on_account(sid, join)
    except errors.PeerFloodError:
        pass
    retired_at = s.clock.now()
    report = await task
    assert (await s.session(sid)).state == "limited"
    rows = await s.rows(1)
    assert sum(r.outcome == "sent" for r in rows.values()) == 2
    assert {(r.outcome, r.error) for r in rows.values() if r.outcome != "sent"} == {("skipped", "session_retired")}
    assert all(d.at <= retired_at for d in s.world.deliveries if d.account == key)  # nothing after it
    assert report.sent == 2 and sid not in engine.accounts
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_resumed_cycle_keeps_a_waiting_group_with_its_session(db: Database, tmp_path: Path) -> None:
    """A group left 'waiting' for its session's flood wait when the process stopped mid-cycle is sent by
    that session when the cycle is resumed, never by another that could write there too."""
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=2, pool=2)
    engine = s.engine(fast_config(send_spacing=10.0, spacing_jitter=0.0))
    await running(s, engine)
    flooded = s.session_ids[0]
    fault = s.world.add_fault(kind="flood_wait", session=flooded, seconds=120, times=1)
    task = asyncio.create_task(engine.run_cycle(CID))
    while not fault.fired:
        await asyncio.sleep(0.001)
    await engine.shutdown()  # mid-cycle: the cycle stays open, resumed by the next start
    assert (await task).interrupted
    before = await s.rows(1)
    waiting = {ref for ref, row in before.items() if row.outcome == "waiting"}
    assert waiting and all(before[ref].session_id == flooded for ref in waiting)
    s.clock.set(s.clock.now() + 121)
    again = s.engine(fast_config(send_spacing=10.0, spacing_jitter=0.0))
    await again.start()
    resumed = await again.run_cycle(CID)
    assert resumed.resumed and resumed.cycle_no == 1
    rows = await s.rows(1)
    assert all((rows[ref].outcome, rows[ref].session_id) == ("sent", flooded) for ref in waiting)
    assert s.world.violations == []
    await again.shutdown()


async def test_the_retry_after_a_short_flood_wait_is_spaced_like_any_request(db: Database, tmp_path: Path) -> None:
    """FLOOD_WAIT_1 on a send: the refused request went out, so the retry waits the spacing from it, not
    just the second Telegram asked for."""
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1)
    [sid] = s.session_ids
    s.world.add_fault(kind="flood_wait", session=sid, seconds=1, times=1)
    engine = s.engine(fast_config(send_spacing=10.0, spacing_jitter=0.0))
    await running(s, engine)
    starts: list[float] = []
    s.world.step_hook = lambda point, _a: starts.append(s.clock.now()) if point == "request:forward" else None
    report = await engine.run_cycle(CID)
    assert report.sent == 2
    assert len(starts) == 3 and all(b - a >= 10.0 for a, b in itertools.pairwise(starts))
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_stale_hash_of_the_source_is_resolved_again_not_blamed_on_the_post(
    db: Database, tmp_path: Path
) -> None:
    """CHANNEL_INVALID on reading the post (our cached access hash of its channel went stale) neither
    stops the campaign nor blames a group: the session's groups wait for the next cycle, which resolves
    the channel afresh and posts."""
    s = await make_setup(db, tmp_path, groups=GROUPS[:3], plan=1, pool=1)
    [sid] = s.session_ids
    s.world.add_fault(kind="error", error="ChannelInvalidError", session=sid, method="read", times=1)
    engine = s.engine()
    await running(s, engine)
    first = await engine.run_cycle(CID)
    assert first.sent == 0 and first.failed == 0
    customer = await s.customer()
    assert customer.status == "running"
    resolves = s.world.request_count(method="resolve")
    s.clock.set(NOW + 300)
    second = await engine.run_cycle(CID)
    assert second.sent == 3
    assert s.world.request_count(method="resolve") == resolves + 1  # resolved afresh
    assert all(g.consecutive_failures == 0 for g in (await s.groups()).values())
    await engine.shutdown()


async def test_after_a_restart_a_read_wait_does_not_hold_a_known_album(db: Database, tmp_path: Path) -> None:
    """The post's album read once is stored: after a restart, a flood wait met by the app-config read at
    connect holds only reads, and the link post goes out (no read needed)."""
    s = await make_setup(db, tmp_path, groups=GROUPS[:3], plan=1, pool=1)
    [sid] = s.session_ids
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 3
    await engine.shutdown()
    s.world.reset_connections()
    s.world.add_fault(kind="flood_wait", session=sid, method="app_config", seconds=HOUR, times=1)
    s.clock.set(NOW + 300)
    again: Engine = s.engine()
    await again.start()
    report = await again.run_cycle(CID)
    assert report.sent == 3
    assert s.world.request_count(method="read") == 1  # the album was read once, before the restart
    assert s.world.violations == []
    await again.shutdown()
