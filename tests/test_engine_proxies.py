"""Proxies in a running engine against the strict simulated world: every connect comes through the
session's own proxy (the world records it), a proxy an admin changes shows as a new route only after
the session's next connection, and with ``[pool] proxy_required`` a session without one is never opened.
"""

from __future__ import annotations

import random
from pathlib import Path

from control_bot.services import proxies
from core.proxy import ProxySpec, parse_proxy
from engine.engine import Engine
from pool.supply import PoolSupply
from sandbox.world.routes import route_changes
from storage import proxies as proxy_rows
from storage.db import Database
from tests.engine_support import CID, fast_config, make_setup, running
from tests.pool_support import NOW


async def test_every_connect_goes_through_the_sessions_proxy(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=3, pool=3)
    specs = {sid: parse_proxy(f"socks5://u{sid}:p@10.0.0.{sid}:1080") for sid in s.session_ids}
    async with db.tx() as conn:
        for sid, spec in specs.items():
            await proxy_rows.put(conn, sid, spec, set_by=proxy_rows.SIDECAR, now=NOW)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert report.sent == 10
    for sid, spec in specs.items():
        assert s.world.accounts[s.account_of(sid)].routes == [spec.masked()]
    assert route_changes(s.world) == {}
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_changed_proxy_is_a_new_route_from_the_next_connection(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=("@g1",))
    (sid,) = s.session_ids
    old, new = parse_proxy("http://10.0.0.1:80"), parse_proxy("http://10.0.0.2:80")
    async with db.tx() as conn:
        await proxy_rows.put(conn, sid, old, set_by=proxy_rows.SIDECAR, now=NOW)
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)
    async with db.tx() as conn:
        await proxy_rows.put(conn, sid, new, set_by=proxy_rows.by_admin(1), now=NOW + 1)
    s.clock.set(NOW + 300)
    await engine.run_cycle(CID)
    account = s.account_of(sid)
    assert s.world.accounts[account].routes == [old.masked()]  # the live client keeps its connection
    await engine.shutdown()
    engine = s.engine()
    await running(s, engine)
    s.clock.set(NOW + 600)
    assert (await engine.run_cycle(CID)).sent == 1
    assert route_changes(s.world) == {account: [old.masked(), new.masked()]}
    await engine.shutdown()


async def test_proxy_required_never_opens_a_direct_session(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=2, pool=2)
    with_proxy, direct = s.session_ids
    spec = parse_proxy("socks5://10.9.9.9:1080")
    async with db.tx() as conn:
        await proxy_rows.put(conn, with_proxy, spec, set_by=proxy_rows.SIDECAR, now=NOW)
    engine = Engine(
        db, s.world, PoolSupply(db, s.sessions_dir, proxy_required=True), s.clock, fast_config(),
        schedule=False, connect_rate=None, rng=random.Random(7),
    )
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert s.world.accounts[s.account_of(with_proxy)].routes == [spec.masked()]
    assert s.world.accounts[s.account_of(direct)].routes == []  # never connected from the server's address
    assert s.world.request_count(account=s.account_of(direct)) == 0
    # Its dialogs could not be read (it is never opened), so the groups are placed on the one with a proxy.
    assert report.sent == 10
    rows = await s.rows(1)
    assert {r.session_id for r in rows.values()} == {with_proxy}
    assert s.world.violations == []
    await engine.shutdown()


async def test_an_admins_change_closes_the_live_client_between_cycles(db: Database, tmp_path: Path) -> None:
    async def reachable(_spec: ProxySpec, _address: str) -> str | None:
        return None

    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=("@g1",))
    (sid,) = s.session_ids
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)
    account = s.account_of(sid)
    assert s.world.accounts[account].routes == [None]  # direct until a proxy is set
    new = parse_proxy("socks5://u:p@10.0.0.9:1080")
    change = await proxies.change(db, sid, new, set_by="admin:1", now=NOW + 1, check=reachable, engine=engine)
    assert change.reconnects and "next cycle connects the new way" in change.reply()
    s.clock.set(NOW + 300)
    assert (await engine.run_cycle(CID)).sent == 1
    assert route_changes(s.world) == {account: [None, new.masked()]}
    assert s.world.violations == []
    await engine.shutdown()
