"""Health checks of idle and quarantined sessions through the engine port (a fake port raising
Telethon's real errors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pool_support import NOW, add_customer, add_pair, assert_pool_consistent, seed_sessions
from telethon import errors

from core.config import PoolSettings
from core.ports import AccountInfo, AccountStatus, EntityDict, Peer, SessionCredentials
from core.texts import admin as admin_texts
from core.texts import errors as error_texts
from engine.outcomes import classify
from pool import lifecycle
from pool.assign import ensure_plan
from pool.health import check_sessions
from pool.quarantine import Quarantine
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database


@dataclass
class FakePort:
    creds: SessionCredentials
    failure: BaseException | None
    log: list[str]
    status: AccountStatus = field(default_factory=AccountStatus)

    async def connect(self) -> AccountInfo:
        self.log.append(f"connect {self.creds.session_id}")
        assert self.creds.path.is_file()
        if self.failure is not None:
            raise self.failure
        return AccountInfo(user_id=self.creds.session_id)

    async def resolve(self, peer: str) -> Peer:
        raise NotImplementedError

    async def forward(self, *, source: Peer, msg_id: int, dest: Peer, topic_id: int | None, random_id: int,
                      drop_author: bool) -> int:
        raise NotImplementedError

    async def send_text(self, *, dest: Peer, topic_id: int | None, text: str, entities: Sequence[EntityDict],
                        random_id: int) -> int:
        raise NotImplementedError

    async def account_status(self) -> AccountStatus:
        self.log.append(f"status {self.creds.session_id}")
        return self.status

    async def close(self) -> None:
        self.log.append(f"close {self.creds.session_id}")


@dataclass
class FakeFactory:
    failures: dict[int, BaseException] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    frozen: dict[int, AccountStatus] = field(default_factory=dict)

    def open(self, credentials: SessionCredentials) -> FakePort:
        sid = credentials.session_id
        return FakePort(credentials, self.failures.get(sid), self.log, self.frozen.get(sid, AccountStatus()))


DAY = 86_400.0
FROZEN = AccountStatus(NOW - 3600, NOW + 30 * DAY, "https://t.me/spambot")


async def test_check_classifies_and_acts(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001, capacity=8)  # room for all eight: none waits for an API pair
    ok, dead, limited, flood, flaky, quarantined, frozen, frozen_send = await seed_sessions(db, sdir, 8)
    await lifecycle.mark_limited(db, sdir, quarantined, "PeerFloodError", NOW - DAY - 100)  # its 24 h are over
    factory = FakeFactory({
        dead: errors.AuthKeyUnregisteredError(request=None),
        limited: errors.PeerFloodError(request=None),
        flood: errors.FloodWaitError(request=None, capture=120),
        flaky: ConnectionError("reset"),
        frozen_send: errors.FrozenParticipantMissingError(request=None),
    }, frozen={frozen: FROZEN})
    results = await check_sessions(db, sdir, factory, NOW, classify=classify)
    outcomes = {r.session_id: (r.outcome, r.detail) for r in results}
    assert outcomes == {
        ok: ("healthy", None),
        dead: ("dead", "AuthKeyUnregisteredError"),
        limited: ("limited", "PeerFloodError"),
        flood: ("cooling", "FloodWaitError"),
        flaky: ("error", "ConnectionError"),
        quarantined: ("released", None),
        frozen: ("frozen", "ACCOUNT_FROZEN"),
        frozen_send: ("frozen", "FrozenParticipantMissingError"),
    }
    # the probe: connect, then the app config (only when the connect worked), then close
    connected = {ok, quarantined, frozen, frozen_send}
    assert sorted(factory.log) == sorted(
        [f"{verb} {i}" for i in outcomes for verb in ("connect", "close")] + [f"status {i}" for i in connected - {
            frozen_send}]
    )
    async with db.read() as conn:
        rows = {r.id: r for r in await session_rows.list_all(conn)}
    assert rows[dead].state == "dead" and rows[dead].folder == "banned"
    assert rows[limited].state == "limited" and rows[quarantined].state == "unused"
    # The wait is the 'connect' class's (what the check asked): recorded, and the sends are not held by it.
    assert rows[flood].state == "unused" and rows[flood].cooldown_until is None
    async with db.read() as conn:
        assert await wait_rows.for_session(conn, flood, NOW) == {"connect": NOW + 120}
    assert (rows[frozen].state, rows[frozen].folder) == ("frozen", "frozen")
    assert (rows[frozen].frozen_since, rows[frozen].frozen_until, rows[frozen].frozen_appeal_url) == (
        NOW - 3600, NOW + 30 * DAY, "https://t.me/spambot")
    assert rows[frozen_send].state == "frozen"
    assert all(r.last_checked_at == NOW for r in rows.values())
    assert rows[ok].status_checked_at == NOW
    assert list((sdir / "frozen").glob("*.session"))
    await assert_pool_consistent(db, sdir)
    # Checked again inside that wait: the session is not connected at all; after it, it is.
    factory.failures.pop(flood)
    factory.log.clear()
    again = await check_sessions(db, sdir, factory, NOW + 60, classify=classify)
    assert {r.session_id: r.outcome for r in again}[flood] == "cooling"
    assert f"connect {flood}" not in factory.log
    later = await check_sessions(db, sdir, factory, NOW + 121, classify=classify)
    assert {r.session_id: r.outcome for r in later}[flood] == "healthy"
    assert f"connect {flood}" in factory.log


async def test_quarantine_minimum_is_never_shortened_and_doubles(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=1)
    await add_pair(db, 1001)
    owned_id, limited_id = await seed_sessions(db, sdir, 2)
    assert await ensure_plan(db, sdir, 10, NOW) == [owned_id]
    rule = Quarantine(first=3600, longest=3 * 3600)
    await lifecycle.mark_limited(db, sdir, limited_id, "PeerFloodError", NOW, quarantine=rule)
    factory = FakeFactory()
    # Inside its quarantine a check does not even open it: nothing it could answer shortens it.
    for at in (NOW + 10, NOW + 3599):
        results = await check_sessions(db, sdir, factory, at, classify=classify, quarantine=rule)
        assert [(r.session_id, r.outcome, r.until) for r in results] == [(limited_id, "quarantined", NOW + 3600)]
    assert factory.log == []  # and the owned one was never opened
    assert await lifecycle.release_limited(db, sdir, limited_id, NOW + 3599) is False
    # Over: one successful probe (connect + app config) returns it.
    [result] = await check_sessions(db, sdir, factory, NOW + 3600, classify=classify, quarantine=rule)
    assert result.outcome == "released"
    assert factory.log == [f"connect {limited_id}", f"status {limited_id}", f"close {limited_id}"]
    # Each repeat doubles it, up to the longest.
    at = NOW + 3600
    for count, length in ((2, 7200), (3, 3 * 3600), (4, 3 * 3600)):
        await lifecycle.mark_limited(db, sdir, limited_id, "PeerFloodError", at, quarantine=rule)
        async with db.read() as conn:
            row = await session_rows.get(conn, limited_id)
        assert row is not None and (row.state, row.quarantine_count, row.quarantine_until) == (
            "limited", count, at + length)
        at += length
        assert await lifecycle.release_limited(db, sdir, limited_id, at)
    # A probe that fails keeps it in quarantine (a limited answer starts the next, doubled one).
    await lifecycle.mark_limited(db, sdir, limited_id, "PeerFloodError", at, quarantine=rule)
    factory.failures[limited_id] = errors.AuthKeyUnregisteredError(request=None)
    [result] = await check_sessions(db, sdir, factory, at + 3 * 3600, classify=classify, quarantine=rule)
    assert result.outcome == "dead"
    with pytest.raises(ValueError, match="owned sessions"):
        await check_sessions(db, sdir, factory, NOW, classify=classify, states=("assigned",))
    await assert_pool_consistent(db, sdir)


async def test_a_frozen_session_telegram_unfroze_returns_to_the_pool(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001)
    still, lifted = await seed_sessions(db, sdir, 2)
    for sid in (still, lifted):
        await lifecycle.retire(db, sdir, sid, "frozen", "FrozenMethodInvalidError", NOW, status=FROZEN)
    factory = FakeFactory(frozen={still: FROZEN})
    results = await check_sessions(db, sdir, factory, NOW + DAY, classify=classify)
    assert {r.session_id: r.outcome for r in results} == {still: "frozen", lifted: "released"}
    async with db.read() as conn:
        rows = {r.id: r for r in await session_rows.list_all(conn)}
    assert (rows[still].state, rows[lifted].state, rows[lifted].folder) == ("frozen", "unused", "unused")
    assert rows[lifted].frozen_since is None
    await assert_pool_consistent(db, sdir)


async def test_check_without_any_pair_reports_error(db: Database, sdir: Path) -> None:
    [sid] = await seed_sessions(db, sdir, 1)  # no pair had room: it waits for one, and is never opened
    factory = FakeFactory()
    [result] = await check_sessions(db, sdir, factory, NOW, classify=classify)
    assert result.session_id == sid and result.outcome == "error" and "adbot pairs add" in (result.detail or "")
    assert "waits for an API pair" in (result.detail or "") and factory.log == []


async def test_a_missing_file_is_one_error_line_and_the_others_are_still_checked(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001)
    lost, ok = await seed_sessions(db, sdir, 2)
    async with db.read() as conn:
        row = await session_rows.get(conn, lost)
    assert row is not None
    (sdir / row.folder / row.file_name).unlink()
    factory = FakeFactory()
    results = await check_sessions(db, sdir, factory, NOW, classify=classify)
    outcomes = {r.session_id: (r.outcome, r.detail) for r in results}
    assert outcomes == {lost: ("error", error_texts.session_file_missing(lost, "unused")), ok: ("healthy", None)}
    assert factory.log == [f"connect {ok}", f"status {ok}", f"close {ok}"]  # no client is opened on a missing file


async def test_a_session_open_elsewhere_is_not_opened_again_and_a_checked_one_is_held(
    db: Database, sdir: Path
) -> None:
    await add_pair(db, 1001)
    scanned, checked = await seed_sessions(db, sdir, 2)
    held = {scanned}  # e.g. discovery is reading its dialogs right now
    seen_held: list[bool] = []

    class Watching(FakeFactory):
        def open(self, credentials: SessionCredentials) -> FakePort:
            seen_held.append(credentials.session_id in held)
            return super().open(credentials)

    factory = Watching()
    results = await check_sessions(db, sdir, factory, NOW, classify=classify, held=held)
    outcomes = {r.session_id: (r.outcome, r.detail) for r in results}
    assert outcomes == {scanned: ("error", admin_texts.CHECK_BUSY()), checked: ("healthy", None)}
    assert factory.log == [f"connect {checked}", f"status {checked}", f"close {checked}"] and seen_held == [True]
    assert held == {scanned}  # the check let go of its own session, not of the other


def test_quarantine_rule_from_the_config_doubles_up_to_its_cap() -> None:
    rule = Quarantine.from_settings(PoolSettings())  # the defaults: 24 h, at most 7 days
    assert [rule.length(n) / 3600 for n in (1, 2, 3, 4, 5, 40)] == [24, 48, 96, 168, 168, 168]
    short = Quarantine.from_settings(PoolSettings(quarantine_hours=0.5, quarantine_max_days=1))
    assert [short.length(n) for n in (1, 2, 6, 7)] == [1800, 3600, 57_600, 86_400]
    # A cap below the minimum never shortens the minimum.
    assert Quarantine.from_settings(PoolSettings(quarantine_hours=240, quarantine_max_days=7)).length(3) == 240 * 3600
