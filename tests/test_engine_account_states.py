"""Account states Telegram really has, in the strict simulated world: frozen (seen by a send, at connect,
or at the daily app-config check), and dead at connect (a 401 of any kind, the transport-level -404)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from telethon import functions

from core.clock import FakeClock
from core.ports import SessionCredentials
from core.states import EventKind
from core.texts.events import event_text
from engine.engine import Engine
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from pool.supply import PoolSupply
from sandbox.world import frozen
from sandbox.world.faults import Fault
from storage.db import Database
from tests.engine_support import CID, fast_config, make_setup, running
from tests.fake_sender import FakeSender, frozen_app_config
from tests.pool_support import NOW

DAY = 86_400.0


async def test_a_session_frozen_before_connecting_is_never_sent_from(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=3, pool=4)
    engine = s.engine()
    await running(s, engine)
    owned_before = {r.id for r in await s.owned()}
    victim = min(owned_before)
    key = s.account_of(victim)
    frozen.freeze(s.world.accounts[key], NOW - 3600, until=NOW + 30 * DAY, appeal_url="https://t.me/spambot?a=1")

    report = await engine.run_cycle(CID)

    # Its app config said frozen right after connecting: no send, no dialogs read, no resolve.
    assert s.world.request_count(key) == s.world.request_count(key, "connect") + s.world.request_count(
        key, "app_config")
    assert s.world.request_count(key, "connect") == 1
    assert s.world.violations == []
    row = await s.session(victim)
    assert (row.state, row.folder, row.state_reason) == ("frozen", "frozen", "ACCOUNT_FROZEN")
    assert (row.frozen_since, row.frozen_until, row.frozen_appeal_url) == (
        NOW - 3600, NOW + 30 * DAY, "https://t.me/spambot?a=1")
    assert (s.sessions_dir / "frozen" / row.file_name).is_file()
    # The admins get the appeal link; the customer is told the session was set aside and replaced.
    [told] = [e for e in await s.admin_events() if e.kind is EventKind.SESSION_FROZEN]
    assert told.payload["appeal_url"] == "https://t.me/spambot?a=1" and told.payload["session_id"] == victim
    text = event_text(told.kind, told.payload, for_admin=True)
    assert "frozen by Telegram" in text and "https://t.me/spambot?a=1" in text
    kinds = [e.kind for e in await s.events()]
    assert EventKind.SESSION_FROZEN in kinds and EventKind.SESSION_REPLACED in kinds
    customer_text = event_text(EventKind.SESSION_FROZEN, {"session_id": victim}, for_admin=False)
    assert "frozen" in customer_text and "appeal" not in customer_text
    owned_after = {r.id for r in await s.owned()}
    assert victim not in owned_after and len(owned_after) == 3
    # The next cycle runs on the replacement; the frozen account is asked nothing more.
    asked = s.world.request_count(key)
    s.clock.set(NOW + 300)
    report = await engine.run_cycle(CID)
    assert report.sent == 10 and s.world.request_count(key) == asked
    await engine.shutdown()


async def test_the_daily_check_finds_a_freeze_before_any_send(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=3, pool=4)
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 10
    victim = min(r.id for r in await s.owned())
    key = s.account_of(victim)
    checks = s.world.request_count(key, "app_config")
    assert checks == 1
    # Frozen after its check: within the day nothing re-reads the config (a steady cycle is one request
    # per post) ...
    frozen.freeze(s.world.accounts[key], NOW + 400)
    s.clock.set(NOW + 300)
    assert (await engine.run_cycle(CID)).sent == 10
    assert s.world.request_count(key, "app_config") == checks
    # ... and once a day has passed the check comes first: the frozen account sends nothing more.
    s.clock.set(NOW + DAY + 1)
    forwards = s.world.request_count(key, "forward")
    await engine.run_cycle(CID)
    assert s.world.request_count(key, "app_config") == checks + 1
    assert s.world.request_count(key, "forward") == forwards
    assert (await s.session(victim)).state == "frozen"
    assert s.world.violations == []
    await engine.shutdown()


@pytest.mark.parametrize(("error", "reason"), [
    ("AuthKeyUnregisteredError", "AuthKeyUnregisteredError"),
    ("SessionRevokedError", "SessionRevokedError"),
    ("UserDeactivatedBanError", "UserDeactivatedBanError"),
])
async def test_any_401_at_connect_is_a_dead_account_with_its_reason(
    db: Database, tmp_path: Path, error: str, reason: str
) -> None:
    s = await make_setup(db, tmp_path, plan=3, pool=4)
    engine = s.engine()
    await running(s, engine)
    victim = min(r.id for r in await s.owned())
    key = s.account_of(victim)
    s.world.add_fault(Fault(kind="error", error=error, account=key, method="connect"))

    await engine.run_cycle(CID)

    row = await s.session(victim)
    assert (row.state, row.folder, row.state_reason) == ("dead", "banned", reason)
    assert s.world.request_count(key) == 1  # the connect, nothing after it
    await engine.shutdown()


async def test_a_key_telegram_forgot_at_connect_is_dead(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=3, pool=4)
    engine = s.engine()
    await running(s, engine)
    victim = min(r.id for r in await s.owned())
    s.world.add_fault(Fault(kind="key_not_found", account=s.account_of(victim), method="connect"))

    await engine.run_cycle(CID)

    row = await s.session(victim)
    assert (row.state, row.state_reason) == ("dead", "AuthKeyNotFound")
    await engine.shutdown()


async def test_telethon_a_frozen_app_config_retires_the_session_before_any_request_of_its_own(
    db: Database, tmp_path: Path
) -> None:
    """The Telethon contract fake: help.getAppConfig answers Telegram's freeze keys right after the
    connect; the session sends nothing, reads no dialogs, and the admins get the appeal link."""
    clock = FakeClock(NOW)
    s = await make_setup(db, tmp_path, groups=["@cats"], plan=1, pool=2, clock=clock)
    fakes: list[FakeSender] = []

    def builder(creds: SessionCredentials, client_settings: ClientSettings) -> Any:
        client = build_client(creds, client_settings)
        fake = FakeSender.install(client)
        fake.always(functions.help.GetAppConfigRequest,
                    frozen_app_config(int(NOW) - 600, int(NOW + 30 * DAY), "https://t.me/spambot?t=9"))
        fakes.append(fake)
        return client

    engine = Engine(db, TelethonFactory(client_builder=builder), PoolSupply(db, s.sessions_dir), clock,
                    fast_config(), schedule=False, connect_rate=None)
    await running(s, engine)
    [owned] = [r.id for r in await s.owned()]
    await engine.run_cycle(CID)
    await engine.shutdown()
    for fake in fakes:
        sent = {type(r).__name__ for r in fake.requests}
        assert sent <= {"GetConfigRequest", "GetUsersRequest", "GetStateRequest", "GetDifferenceRequest",
                        "GetAppConfigRequest"}, sent
    row = await s.session(owned)
    assert (row.state, row.frozen_since, row.frozen_until, row.frozen_appeal_url) == (
        "frozen", NOW - 600, NOW + 30 * DAY, "https://t.me/spambot?t=9")
    [told] = [e for e in await s.admin_events() if e.kind is EventKind.SESSION_FROZEN]
    assert told.payload["session_id"] == owned
    assert told.payload["appeal_url"] == "https://t.me/spambot?t=9"
