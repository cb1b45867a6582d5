"""Issue 22: cheap connections. A connect costs Telegram's init request (``help.getConfig``) and at most one
other; who the account is is read once in a session's life and stored; new connections are spread by
``[engine] connects_per_second``; a session with nothing to send soon has its connection closed, and it is
opened again with one request.

The Telethon parts run a real ``TelegramClient`` whose network sender is the contract fake
(``tests/fake_sender.py``); the engine parts run on the strict simulated world with a virtual clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telethon import errors, functions
from telethon.sessions import StringSession

from core.clock import FakeClock
from core.connect_rate import ConnectRate
from core.join_targets import parse_join_target
from core.outcomes import OutcomeKind
from core.ports import UNKNOWN_SELF, AccountInfo, AccountPort, SessionCredentials
from engine.accounts import Accounts
from engine.engine import Engine
from engine.ledger import Ledger
from engine.outcomes import classify
from engine.telethon_adapter import ClientSettings, TelethonAccount, TelethonFactory, build_client
from pool import self_user
from pool.supply import PoolSupply
from storage import sessions as session_rows
from storage.db import Database
from tests.engine_support import CID, fast_config, make_setup, running
from tests.fake_sender import SELF_ID, FakeSender, RpcFail
from tests.pool_support import NOW, add_pair, seed_sessions
from tests.test_telethon_adapter import credentials

DAY = 86_400.0
NOT_ON_CONNECT = (
    functions.users.GetUsersRequest,
    functions.updates.GetStateRequest,
    functions.updates.GetDifferenceRequest,
    functions.updates.GetChannelDifferenceRequest,
)


class Senders:
    """A client builder whose clients talk to FakeSenders (one per client), kept for the assertions."""

    def __init__(self) -> None:
        self.fakes: list[FakeSender] = []
        self.clients: list[Any] = []

    def __call__(self, credentials: SessionCredentials, settings: ClientSettings) -> Any:
        client = build_client(credentials, settings, session=StringSession())
        self.clients.append(client)
        self.fakes.append(FakeSender.install(client))
        return client

    def names(self) -> list[str]:
        return [type(r).__name__ for fake in self.fakes for r in fake.requests]

    async def close(self) -> None:
        for client in self.clients:
            if client.is_connected():
                await client.disconnect()


@pytest.fixture
async def senders() -> AsyncIterator[Senders]:
    made = Senders()
    yield made
    await made.close()


async def pool_session(db: Database, tmp_path: Path) -> tuple[PoolSupply, int]:
    await add_pair(db, 1001)
    [session_id] = await seed_sessions(db, tmp_path / "sessions", 1)
    return PoolSupply(db, tmp_path / "sessions"), session_id


async def stored_self(db: Database, session_id: int) -> AccountInfo | None:
    async with db.read() as conn:
        row = await session_rows.get(conn, session_id)
    assert row is not None
    return row.self_user


# --- the Telethon adapter through the engine's accounts ------------------------------------------------


async def test_a_sessions_self_user_is_asked_once_in_its_life_and_every_later_connect_is_the_init_alone(
    db: Database, tmp_path: Path, senders: Senders
) -> None:
    supply, sid = await pool_session(db, tmp_path)
    clock = FakeClock(NOW)
    assert await stored_self(db, sid) is None

    # First connect in the session's life: the init and its app config (the frozen check goes first); who
    # the account is stays unknown, not asked: at most one request besides the init per connection.
    ledger = Ledger(db)
    accounts = Accounts(db, TelethonFactory(client_builder=senders), supply, ledger, clock)
    account = await accounts.get(sid)
    assert senders.names() == ["GetConfigRequest", "GetAppConfigRequest"]
    assert account.info == UNKNOWN_SELF and account.info.premium is None
    assert await stored_self(db, sid) is None
    await accounts.close_all()
    await ledger.close()

    # The next connection (the app config read within the day): the init and one getUsers of itself, stored.
    clock.set(NOW + 60)
    ledger = Ledger(db)
    accounts = Accounts(db, TelethonFactory(client_builder=senders), supply, ledger, clock)
    account = await accounts.get(sid)
    assert senders.names()[2:] == ["GetConfigRequest", "GetUsersRequest"]
    assert account.info == AccountInfo(SELF_ID, "ada", "15550000", "Ada Seller", premium=False)
    assert await stored_self(db, sid) == account.info
    await accounts.close_all()
    await ledger.close()

    # A restart within a day: the init alone. Nothing about who it is, no update state, no app config.
    for later, expected in ((3600.0, ["GetConfigRequest"]), (DAY + 1, ["GetConfigRequest", "GetAppConfigRequest"])):
        clock.set(NOW + later)
        before = len(senders.names())
        ledger = Ledger(db)
        accounts = Accounts(db, TelethonFactory(client_builder=senders), supply, ledger, clock)
        account = await accounts.get(sid)
        assert senders.names()[before:] == expected  # a day on, the frozen check is due again
        assert account.info.user_id == SELF_ID
        for fake in senders.fakes:
            for banned in NOT_ON_CONNECT[1:]:
                assert fake.of(banned) == []
        await accounts.close_all()
        await ledger.close()
    assert sum(len(fake.of(functions.users.GetUsersRequest)) for fake in senders.fakes) == 1


async def test_telethons_own_reconnect_asks_nothing_but_the_init(tmp_path: Path) -> None:
    # What Telethon's sender calls after every reconnect it makes by itself (a dropped connection):
    # its default asks users.getUsers of self; a posting session's asks nothing.
    creds = dataclasses.replace(credentials(tmp_path), self_user=AccountInfo(SELF_ID))
    client = build_client(creds, ClientSettings(), session=StringSession())
    after_reconnect = client._sender._auto_reconnect_callback
    fake = FakeSender.install(client)
    account = TelethonAccount(creds, client_builder=lambda _c, _s: client)
    await account.connect()
    await after_reconnect()
    assert [type(r).__name__ for r in fake.requests] == ["GetConfigRequest"]
    await account.close()


async def test_a_dead_account_whose_self_user_is_stored_is_still_recognised_as_dead(
    db: Database, tmp_path: Path, senders: Senders
) -> None:
    supply, sid = await pool_session(db, tmp_path)
    async with db.tx() as conn:
        await session_rows.record_self_user(conn, sid, AccountInfo(SELF_ID), NOW)
    clock = FakeClock(NOW)
    ledger = Ledger(db)

    def dead(credentials: SessionCredentials, settings: ClientSettings) -> Any:
        client = senders(credentials, settings)
        for request in (functions.help.GetAppConfigRequest, functions.messages.ForwardMessagesRequest):
            senders.fakes[-1].always(request, RpcFail(401, "AUTH_KEY_UNREGISTERED"))
        return client

    accounts = Accounts(db, TelethonFactory(client_builder=dead), supply, ledger, clock)
    # The init needs no authorisation; the connect's first real request (its app config) says it is dead.
    with pytest.raises(errors.AuthKeyUnregisteredError) as caught:
        await accounts.get(sid)
    assert classify(caught.value).kind is OutcomeKind.ACCOUNT_DEAD
    assert sid not in accounts  # the port was closed again
    assert senders.names() == ["GetConfigRequest", "GetAppConfigRequest"]
    await ledger.close()


async def test_a_health_probe_asks_who_the_account_is_and_stores_what_changed(db: Database, tmp_path: Path) -> None:
    supply, sid = await pool_session(db, tmp_path)
    old = AccountInfo(SELF_ID, "old_name")
    async with db.tx() as conn:
        await session_rows.record_self_user(conn, sid, old, NOW)
    credentials = await supply.credentials(sid)
    assert credentials.self_user == old
    assert self_user.asking(credentials).self_user is None  # the probe's port asks Telegram
    new = AccountInfo(SELF_ID, "ada")
    assert await self_user.remember(db, credentials.self_user, sid, new, NOW + 5)
    assert not await self_user.remember(db, new, sid, new, NOW + 6)  # nothing changed: nothing written
    assert await stored_self(db, sid) == new


# --- the connect rate --------------------------------------------------------------------------------


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


async def test_the_connect_rate_spreads_a_burst_and_lets_the_first_go_at_once() -> None:
    clock = FakeClock(NOW)
    rate = ConnectRate(clock, 5)
    started: list[float] = []

    async def connect() -> None:
        await rate.turn()
        started.append(clock.now())

    await asyncio.gather(*(connect() for _ in range(40)))

    assert min(started) == NOW  # nothing waits on an idle rate
    assert most_in_one_second(started) == 5
    assert max(started) == pytest.approx(NOW + 39 / 5)
    clock.set(NOW + 100)  # a quiet spell: the next connect goes at once again
    await connect()
    assert started[-1] == NOW + 100


class TimedFactory:
    """The world's factory, noting when each port's connect began (on the engine's clock)."""

    def __init__(self, inner: Any, clock: FakeClock) -> None:
        self.inner = inner
        self.clock = clock
        self.connects: list[float] = []

    def open(self, credentials: SessionCredentials) -> Any:
        return _TimedPort(self.inner.open(credentials), self)


class _TimedPort:
    def __init__(self, port: AccountPort, factory: TimedFactory) -> None:
        self._port = port
        self._factory = factory

    async def connect(self) -> AccountInfo:
        self._factory.connects.append(self._factory.clock.now())
        return await self._port.connect()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)


async def test_connects_at_start_up_never_exceed_the_configured_rate(db: Database, tmp_path: Path) -> None:
    # seven sessions (one API pair's worth), all opened by the campaign's first cycle at once
    s = await make_setup(db, tmp_path, groups=tuple(f"@group_{i:02d}" for i in range(21)), plan=7, pool=7)
    timed = TimedFactory(s.world, s.clock)
    engine = s.engine()
    engine.accounts.factory = timed
    engine.accounts.connect_rate = ConnectRate(s.clock, 2)
    await running(s, engine)

    report = await engine.run_cycle(CID)

    assert report.sent == 21
    assert len(timed.connects) == 7  # each session once (its dialogs read and its sends share the port)
    assert most_in_one_second(timed.connects) <= 2
    assert max(timed.connects) - min(timed.connects) >= 6 / 2 - 1e-6
    assert s.world.violations == []
    await engine.shutdown()


async def test_an_engine_built_from_settings_paces_its_connects_at_the_configured_rate(
    db: Database, tmp_path: Path
) -> None:
    # No rate passed: the engine takes [engine] connects_per_second, as the product and bench_scale build it.
    s = await make_setup(db, tmp_path, groups=tuple(f"@group_{i:02d}" for i in range(21)), plan=7, pool=7)
    timed = TimedFactory(s.world, s.clock)
    engine = Engine(s.db, timed, PoolSupply(s.db, s.sessions_dir), s.clock, fast_config(connects_per_second=2),
                    notify=s.notified, schedule=False, rng=random.Random(7))
    assert engine.accounts.connect_rate is not None and engine.accounts.connect_rate.per_second == 2
    await running(s, engine)

    report = await engine.run_cycle(CID)

    assert report.sent == 21
    assert len(timed.connects) == 7
    assert most_in_one_second(timed.connects) <= 2
    assert max(timed.connects) - min(timed.connects) >= 6 / 2 - 1e-6
    await engine.shutdown()


# --- idle close and reopen -----------------------------------------------------------------------------


@pytest.mark.parametrize(("keep", "closed"), [(60.0, True), (900.0, False)])
async def test_an_idle_sessions_connection_is_closed_and_reopened_with_the_init_alone(
    db: Database, tmp_path: Path, keep: float, closed: bool
) -> None:
    s = await make_setup(db, tmp_path)  # 3 sessions, 10 groups, a cycle every 300 s
    engine = s.engine(fast_config(keep_connection_seconds=keep))
    await running(s, engine)
    await engine.run_cycle(CID)
    assert s.world.request_count(method="connect") == 3

    assert engine.accounts.open_sessions == ([] if closed else sorted(s.session_ids))

    s.clock.set(NOW + 300)
    before = s.world.request_count()
    report = await engine.run_cycle(CID)
    assert report.sent == 10
    spent = s.world.request_count() - before
    # Reopened: one connect each, no app config (read 300 s ago), no dialogs, no resolve: then the posts.
    assert spent == 10 + (3 if closed else 0)
    assert s.world.request_count(method="connect") == (6 if closed else 3)
    assert s.world.request_count(method="app_config") == 3
    assert s.world.violations == []
    await engine.shutdown()


async def test_credentials_carry_the_stored_self_user(db: Database, tmp_path: Path) -> None:
    supply, sid = await pool_session(db, tmp_path)
    assert (await supply.credentials(sid)).self_user is None
    info = AccountInfo(SELF_ID, "ada", "15550000", "Ada Seller")
    async with db.tx() as conn:
        await session_rows.record_self_user(conn, sid, info, NOW)
    assert dataclasses.replace(await supply.credentials(sid)).self_user == info


def test_the_connect_benchmark_measures_what_it_says() -> None:
    from benchmarks import bench_connect

    results = bench_connect.main(["--sessions", "3", "--restart-sessions", "6", "--rate", "100"])
    per = {r["case"]: r["requests_per_connection"] for r in results if "case" in r}
    assert per == {
        "before (Telethon connect + getUsers)": 5.0,
        "first connect in a session's life": 2.0,
        "its next connect (self user asked once)": 2.0,
        "any later connect (stored self user)": 1.0,
        "later, app config due (daily)": 2.0,
    }
    [restart] = [r for r in results if "busiest_second" in r]
    assert restart["busiest_second"] <= 100


class _ProbePort:
    def __init__(self, credentials: SessionCredentials, factory: _ProbeFactory) -> None:
        self.credentials = credentials
        self.factory = factory

    async def connect(self) -> AccountInfo:
        self.factory.connects.append(self.factory.clock.now())
        self.factory.asked.append(self.credentials.self_user)
        return AccountInfo(self.credentials.session_id, f"user{self.credentials.session_id}")

    async def account_status(self) -> Any:
        from core.ports import AccountStatus

        return AccountStatus()

    async def close(self) -> None:
        return None


class _ProbeFactory:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.connects: list[float] = []
        self.asked: list[AccountInfo | None] = []

    def open(self, credentials: SessionCredentials) -> Any:
        return _ProbePort(credentials, self)


async def test_health_probes_ask_who_the_account_is_and_keep_to_the_connect_rate(db: Database, tmp_path: Path) -> None:
    from pool.health import check_sessions

    await add_pair(db, 1001)
    ids = await seed_sessions(db, tmp_path / "sessions", 6)
    async with db.tx() as conn:
        await session_rows.record_self_user(conn, ids[0], AccountInfo(ids[0], "stale"), NOW)
    clock = FakeClock(NOW)
    factory = _ProbeFactory(clock)

    results = await check_sessions(
        db, tmp_path / "sessions", factory, NOW, classify=classify, clock=clock, concurrency=4,
        connect_rate=ConnectRate(clock, 2),
    )

    assert sorted(r.outcome for r in results) == ["healthy"] * 6
    assert factory.asked == [None] * 6  # a probe always asks Telegram, even when the row says who it is
    assert most_in_one_second(factory.connects) <= 2
    for sid in ids:
        assert await stored_self(db, sid) == AccountInfo(sid, f"user{sid}")  # the stale name replaced


async def test_joins_on_idle_sessions_keep_to_the_connect_rate_and_store_who_the_account_is(
    db: Database, tmp_path: Path
) -> None:
    from pool.joins import JoinPacing, JoinRunner, queue_joins
    from sandbox.world import World

    await add_pair(db, 1001)
    ids = await seed_sessions(db, tmp_path / "sessions", 5)
    clock = FakeClock(NOW)
    world = World(clock)
    async with db.read() as conn:
        for row in await session_rows.list_all(conn):
            world.add_account(row.auth_key_sha)
    world.add_group("@cats_chat", members=set())
    pacing = JoinPacing(min_gap=600.0, daily_cap=5)
    await queue_joins(db, ids, parse_join_target("@cats_chat"), requested_by=9000, now=NOW, pacing=pacing)
    timed = TimedFactory(world, clock)
    runner = JoinRunner(db, tmp_path / "sessions", timed, classify, clock, pacing, connect_rate=ConnectRate(clock, 2))

    done = await runner.run_due()

    assert sorted(d.session_id for d in done if d.status == "joined") == sorted(ids)
    assert len(timed.connects) == 5 and most_in_one_second(timed.connects) <= 2
    assert max(timed.connects) - min(timed.connects) >= 4 / 2 - 1e-6
    for sid in ids:  # the join's connect asked who the account is: stored, the next connect does not ask
        assert await stored_self(db, sid) is not None
    assert world.violations == []


async def test_after_the_pools_first_read_of_a_session_the_engines_connect_learns_who_it_is(
    db: Database, tmp_path: Path
) -> None:
    from pool.discovery import PoolDiscovery

    s = await make_setup(db, tmp_path)  # 3 pool sessions, just taken in: never connected
    discovery = PoolDiscovery(db, s.sessions_dir, s.world, classify, s.clock, fast_config())
    results = await discovery.run_due()  # the pool's first read of each: connect, app config, dialogs
    assert sorted(r.outcome for r in results) == ["scanned"] * 3
    for sid in s.session_ids:
        row = await s.session(sid)
        # That read's one request besides the init was the app config: who the account is, not asked.
        assert row.self_user is None and row.status_checked_at is not None
    assert s.world.request_count(method="app_config") == 3

    engine = s.engine()
    await running(s, engine)
    before = Counter(method for (_, method), n in s.world.requests.items() for _ in range(n))
    report = await engine.run_cycle(CID)
    spent = Counter(method for (_, method), n in s.world.requests.items() for _ in range(n)) - before

    assert report.sent == 10
    # The engine's connects: no app config (read by the pool's scan, and so were its dialogs); who the
    # account is, asked by this connection (the world counts it in the connect) and stored. Then the post's
    # source once per session, and the posts.
    assert spent == Counter({"connect": 3, "resolve": 3, "read": 3, "forward": 10})
    for sid in s.session_ids:
        assert (await s.session(sid)).self_user is not None
    await engine.shutdown()
