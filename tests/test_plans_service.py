"""Issue 18 part H, the service: plan changes computed before -> after, proposed with a token that only
its admin can use, once, for a short while, on the plan it was computed from; a smaller plan gives the
least needed sessions back once the engine lets go of them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pool_support import NOW, add_customer, add_pair, assert_pool_consistent, seed_sessions

from control_bot.services import plans
from core.errors import InputError, NotFound
from core.states import EventKind
from pool.assign import assign
from storage import customers, events, users
from storage import sessions as session_rows
from storage.db import Database

ADMIN, OTHER_ADMIN = 1, 2
DAY = 86_400.0


class FakeEngine:
    """The engine's part in a plan change: a running cycle refuses to let go of sessions."""

    def __init__(self) -> None:
        self.cycle_running = False
        self.released: list[tuple[int, tuple[int, ...]]] = []
        self.stopped: list[int] = []

    @contextlib.asynccontextmanager
    async def session_released(self, customer_id: int, *session_ids: int) -> AsyncIterator[bool]:
        if self.cycle_running:
            yield False
            return
        self.released.append((customer_id, session_ids))
        yield True

    async def stop_campaign(self, customer_id: int, reason: str, *, wait: bool = False) -> None:
        self.stopped.append(customer_id)


async def _confirm(db: Database, sdir: Path, token: str, engine: FakeEngine | None = None, *,
                   admin_id: int = ADMIN, now: float = NOW) -> plans.Applied:
    return await plans.confirm(
        db, admin_id, token, now=now, default_interval=300, sessions_dir=sdir, engine=engine or FakeEngine()
    )


async def _owned(db: Database, user_id: int) -> list[int]:
    async with db.read() as conn:
        return [s.id for s in await session_rows.list_for_owner(conn, user_id)]


async def test_people_are_found_by_id_or_username_of_someone_who_started_the_bot(db: Database) -> None:
    async with db.tx() as conn:
        await users.touch(conn, 555, "Alice_X", "Alice", "ru", NOW)
    by_name = await plans.find_person(db, "@alice_x")
    assert (by_name.user_id, by_name.username, by_name.first_name, by_name.language_code) == (
        555, "alice_x", "Alice", "ru"
    )
    assert (await plans.find_person(db, "ALICE_X")).user_id == 555
    assert (await plans.find_person(db, "555")).first_name == "Alice"
    assert (await plans.find_person(db, "777")).username is None  # an id needs no /start
    with pytest.raises(NotFound) as unknown:
        await plans.find_person(db, "@nobody_here")
    assert "has not started the bot yet" in unknown.value.user_message
    for bad in ("0", str(2**63), "9" * 30, "-5", "@a", "1.5", "@al ice"):
        with pytest.raises(InputError) as refused:
            await plans.find_person(db, bad)
        assert "not a user id or an @username" in refused.value.user_message
        assert str(2**63 - 1) not in refused.value.user_message  # never an internal bound


async def test_a_new_plan_needs_no_confirmation_and_is_made_once(db: Database, sdir: Path) -> None:
    proposal = await plans.propose_plan(db, ADMIN, 42, 2, 30, now=NOW)
    change = proposal.change
    assert change.before is None and not change.needs_confirmation
    assert (change.after.sessions, change.after.expires_at) == (2, NOW + 30 * DAY)
    applied = await _confirm(db, sdir, proposal.token)
    assert applied.grant is not None and applied.grant.created
    with pytest.raises(NotFound):  # single use
        await _confirm(db, sdir, proposal.token)
    async with db.read() as conn:
        told = await events.list_for(conn, 42)
    assert [e.kind for e in told] == [EventKind.PLAN_GRANTED]


async def test_a_change_of_a_running_plan_shows_before_and_after(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=3, days=10)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 4)
    await assign(db, sdir, 10, 3, NOW)
    proposal = await plans.propose_plan(db, ADMIN, 10, 1, 30, now=NOW + DAY)
    change = proposal.change
    assert change.needs_confirmation and change.fewer_sessions
    assert change.before is not None and (change.before.sessions, change.before.expires_at) == (3, NOW + 10 * DAY)
    assert (change.after.sessions, change.after.expires_at) == (1, NOW + 40 * DAY)  # days add to what is left
    assert (change.held, change.returned, change.wanted) == (3, 2, 0)
    # Nothing changed yet.
    async with db.read() as conn:
        customer = await customers.get(conn, 10)
    assert customer is not None and customer.plan_sessions == 3 and len(await _owned(db, 10)) == 3

    more = await plans.propose_plan(db, ADMIN, 10, 6, 1, now=NOW + DAY)
    assert not more.change.fewer_sessions and more.change.wanted == 3 and more.change.free == 1
    assert more.change.pool_short == 2


async def test_a_smaller_plan_returns_the_least_needed_sessions(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=3)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 3)
    held = await assign(db, sdir, 10, 3, NOW)
    engine = FakeEngine()
    proposal = await plans.propose_plan(db, ADMIN, 10, 1, 5, now=NOW)

    engine.cycle_running = True  # its sessions are in use: nothing changes, the token stays good
    with pytest.raises(InputError) as busy:
        await _confirm(db, sdir, proposal.token, engine)
    assert "cycle" in busy.value.user_message
    assert len(await _owned(db, 10)) == 3

    engine.cycle_running = False
    applied = await _confirm(db, sdir, proposal.token, engine)
    assert applied.returned == 2 and applied.grant is not None
    kept = await _owned(db, 10)
    assert len(kept) == 1 and kept[0] in held
    assert engine.released == [(10, tuple(s for s in sorted(held, reverse=True) if s not in kept))]
    async with db.read() as conn:
        customer = await customers.get(conn, 10)
    assert customer is not None and customer.plan_sessions == 1
    await assert_pool_consistent(db, sdir)


async def test_forged_stale_foreign_and_overtaken_tokens_change_nothing(db: Database, sdir: Path) -> None:
    await add_customer(db, 10, plan=2)
    before = await plans.propose_plan(db, ADMIN, 10, 1, 1, now=NOW)
    with pytest.raises(NotFound):
        await _confirm(db, sdir, "forged-token")
    with pytest.raises(NotFound):  # another admin's
        await _confirm(db, sdir, before.token, admin_id=OTHER_ADMIN)
    with pytest.raises(NotFound):  # too old
        await _confirm(db, sdir, before.token, now=NOW + plans.PROPOSAL_TTL + 1)

    # Two proposals on the same plan: the first confirmed makes the second stale.
    first = await plans.propose_plan(db, ADMIN, 10, 4, 1, now=NOW)
    second = await plans.propose_plan(db, OTHER_ADMIN, 10, 1, 1, now=NOW)
    await _confirm(db, sdir, first.token)
    with pytest.raises(InputError) as overtaken:
        await _confirm(db, sdir, second.token, admin_id=OTHER_ADMIN)
    assert "changed after this was shown" in overtaken.value.user_message
    async with db.read() as conn:
        customer = await customers.get(conn, 10)
    assert customer is not None and customer.plan_sessions == 4

    cancelled = await plans.propose_plan(db, ADMIN, 10, 1, 1, now=NOW)
    assert not await plans.cancel(db, OTHER_ADMIN, cancelled.token)
    assert await plans.cancel(db, ADMIN, cancelled.token)
    with pytest.raises(NotFound):
        await _confirm(db, sdir, cancelled.token)


async def test_forged_plan_numbers_are_refused(db: Database) -> None:
    for user_id, sessions, days in ((0, 1, 1), (2**63, 1, 1), (5, 0, 1), (5, 101, 1), (5, 1, 0), (5, 1, 4000)):
        with pytest.raises(InputError):
            await plans.propose_plan(db, ADMIN, user_id, sessions, days, now=NOW)


async def test_revoke_is_confirmed_and_returns_every_session(db: Database, sdir: Path) -> None:
    with pytest.raises(NotFound):
        await plans.propose_revoke(db, ADMIN, 10, now=NOW)
    await add_customer(db, 10, plan=2)
    await add_pair(db, 1001)
    await seed_sessions(db, sdir, 2)
    await assign(db, sdir, 10, 2, NOW)
    async with db.tx() as conn:
        await customers.set_status(conn, 10, "running", NOW)
    proposal = await plans.propose_revoke(db, ADMIN, 10, now=NOW + 60)
    change = proposal.change
    assert change.kind == "revoke" and change.running and change.returned == 2 and change.after.sessions == 0
    engine = FakeEngine()
    applied = await _confirm(db, sdir, proposal.token, engine, now=NOW + 60)
    assert applied.revoke is not None and applied.returned == 2 and engine.stopped == [10]
    assert await _owned(db, 10) == []
    await assert_pool_consistent(db, sdir)


async def test_a_grant_answers_an_open_access_request(db: Database, sdir: Path) -> None:
    async with db.tx() as conn:
        await users.touch(conn, 42, "bob", "Bob", "en", NOW)
        assert await users.open_request(conn, 42, NOW) is not None
    await _confirm(db, sdir, (await plans.propose_plan(db, ADMIN, 42, 1, 30, now=NOW)).token)
    async with db.read() as conn:
        assert await users.pending_request(conn, 42) is None


def test_the_sessions_given_back_are_those_whose_loss_costs_fewest_groups() -> None:
    # 1 alone reaches group A; 2 and 3 both reach B; 4 reaches nothing the others do not.
    writers = [(1,), (2, 3), (1, 4)]
    assert plans._least_needed([1, 2, 3, 4], writers, 1) == [4]
    # Then one of the two B writers (the newest), never both, before the only writer of A.
    assert plans._least_needed([1, 2, 3, 4], writers, 2) == [4, 3]
    assert plans._least_needed([1, 2, 3, 4], writers, 3) == [4, 3, 2]
    assert plans._least_needed([1, 2], writers, 5) == [2, 1]  # no more than they hold
