"""Health checks of idle and quarantined sessions through the engine port (a fake port raising
Telethon's real errors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pool_support import NOW, add_customer, add_pair, assert_pool_consistent, seed_sessions
from telethon import errors

from core.ports import AccountInfo, EntityDict, Peer, SessionCredentials
from core.texts import admin as admin_texts
from core.texts import errors as error_texts
from engine.outcomes import classify
from pool import lifecycle
from pool.assign import ensure_plan
from pool.health import check_sessions
from storage import sessions as session_rows
from storage.db import Database


@dataclass
class FakePort:
    creds: SessionCredentials
    failure: BaseException | None
    log: list[str]

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

    async def close(self) -> None:
        self.log.append(f"close {self.creds.session_id}")


@dataclass
class FakeFactory:
    failures: dict[int, BaseException] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def open(self, credentials: SessionCredentials) -> FakePort:
        return FakePort(credentials, self.failures.get(credentials.session_id), self.log)


async def test_check_classifies_and_acts(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001)
    ok, dead, limited, flood, flaky, quarantined = await seed_sessions(db, sdir, 6)
    await lifecycle.mark_limited(db, sdir, quarantined, "PeerFloodError", NOW - 100)
    factory = FakeFactory({
        dead: errors.AuthKeyUnregisteredError(request=None),
        limited: errors.PeerFloodError(request=None),
        flood: errors.FloodWaitError(request=None, capture=120),
        flaky: ConnectionError("reset"),
    })
    results = await check_sessions(db, sdir, factory, NOW, classify=classify)
    outcomes = {r.session_id: (r.outcome, r.detail) for r in results}
    assert outcomes == {
        ok: ("healthy", None),
        dead: ("dead", "AuthKeyUnregisteredError"),
        limited: ("limited", "PeerFloodError"),
        flood: ("cooling", "FloodWaitError"),
        flaky: ("error", "ConnectionError"),
        quarantined: ("released", None),
    }
    assert sorted(factory.log) == sorted([f"{verb} {i}" for i in outcomes for verb in ("connect", "close")])
    async with db.read() as conn:
        rows = {r.id: r for r in await session_rows.list_all(conn)}
    assert rows[dead].state == "dead" and rows[dead].folder == "banned"
    assert rows[limited].state == "limited" and rows[quarantined].state == "unused"
    assert rows[flood].state == "unused" and rows[flood].cooldown_until == NOW + 120
    assert all(r.last_checked_at == NOW for r in rows.values())
    await assert_pool_consistent(db, sdir)


async def test_quarantine_minimum_and_owned_sessions_untouched(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=1)
    await add_pair(db, 1001)
    owned_id, limited_id = await seed_sessions(db, sdir, 2)
    assert await ensure_plan(db, sdir, 10, NOW) == [owned_id]
    await lifecycle.mark_limited(db, sdir, limited_id, "PeerFloodError", NOW)
    factory = FakeFactory()
    results = await check_sessions(db, sdir, factory, NOW + 10, classify=classify, min_quarantine=3600)
    assert [(r.session_id, r.outcome) for r in results] == [(limited_id, "healthy")]
    async with db.read() as conn:
        row = await session_rows.get(conn, limited_id)
    assert row is not None and row.state == "limited"  # too early to release
    assert factory.log == [f"connect {limited_id}", f"close {limited_id}"]  # the owned one was never opened
    with pytest.raises(ValueError, match="owned sessions"):
        await check_sessions(db, sdir, factory, NOW, classify=classify, states=("assigned",))


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
    assert factory.log == [f"connect {ok}", f"close {ok}"]  # no client is opened on a missing file


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
    assert outcomes == {scanned: ("error", admin_texts.CHECK_BUSY), checked: ("healthy", None)}
    assert factory.log == [f"connect {checked}", f"close {checked}"] and seen_held == [True]
    assert held == {scanned}  # the check let go of its own session, not of the other
