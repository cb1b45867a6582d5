"""Under rotation a group's stored reach is judged against every post it may carry: a public channel's post
and a private channel's post that only some sessions are in take turns, and a group whose only writer is not
in the private channel keeps its reach (no "unreachable" / "reachable again" every other cycle). The
private post's cycles leave that group out quietly ('skipped', ``source_not_member``), in the strict world."""

from __future__ import annotations

from pathlib import Path

from core.clock import FakeClock
from core.states import EventKind
from sandbox.world import World
from storage import customers, events, posts
from storage.db import Database
from tests.engine_support import CID, make_setup, running
from tests.pool_support import NOW

REACH_EVENTS = {EventKind.GROUP_UNREACHABLE, EventKind.GROUP_REACHABLE}


async def test_a_groups_reach_does_not_flip_with_the_post_in_turn(db: Database, tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    world = World(clock)
    source = world.add_channel(None, chat_id=987_654_321, posts=[7])
    s = await make_setup(db, tmp_path, groups=["@both", "@only_b"], plan=2, pool=2, clock=clock, world=world)
    a, b = s.session_ids
    only_b = world.chat("@only_b")
    assert only_b is not None
    only_b.everyone = False
    only_b.members = {s.account_of(b)}
    source.members = {s.account_of(a)}  # session b is not in the private channel
    async with db.tx() as conn:
        private = await posts.add_link(conn, CID, "https://t.me/c/987654321/7", source.marked_id, 7, NOW)
        await customers.set_rotation(conn, CID, "order", NOW)
    engine = s.engine()
    await running(s, engine)
    await engine.refresh_memberships(CID)  # the bot's refresh agrees with the cycles
    for cycle_no in range(1, 5):
        report = await engine.run_cycle(CID)
        assert report.cycle_no == cycle_no
        stored = {ref: (g.reach, g.reach_told_at) for ref, g in (await s.groups()).items()}
        assert stored == {"@both": (None, None), "@only_b": (None, None)}  # stable, never told
        assert report.unreachable == 0
        rows = await s.rows(cycle_no)
        if cycle_no % 2:  # the public post (@ads): both groups
            assert (report.sent, report.skipped) == (2, 0)
        else:  # the private post: @only_b left out for this cycle
            assert (report.sent, report.skipped) == (1, 1)
            assert rows["@both"].post_id == private.id
            assert (rows["@only_b"].outcome, rows["@only_b"].error) == ("skipped", "source_not_member")
        await engine.refresh_memberships(CID)
        assert {ref: g.reach for ref, g in (await s.groups()).items()} == {"@both": None, "@only_b": None}
        clock.set(clock.now() + 400)
    assert len(world.deliveries_to("@only_b")) == 2 and len(world.deliveries_to("@both")) == 4
    assert world.violations == []
    async with db.read() as conn:
        kinds = [e.kind for e in await events.list_for(conn, CID)]
    assert not REACH_EVENTS & set(kinds)
    await engine.shutdown()


async def test_a_group_no_post_can_reach_is_still_told_once(db: Database, tmp_path: Path) -> None:
    """Both posts private, the group's only writer in neither source: unreachable, told once, stays so."""
    clock = FakeClock(NOW)
    world = World(clock)
    one = world.add_channel(None, chat_id=987_654_321, posts=[7])
    two = world.add_channel(None, chat_id=987_654_322, posts=[8])
    s = await make_setup(db, tmp_path, groups=["@both", "@only_b"], plan=2, pool=2, clock=clock, world=world)
    a, b = s.session_ids
    only_b = world.chat("@only_b")
    assert only_b is not None
    only_b.everyone = False
    only_b.members = {s.account_of(b)}
    one.members = two.members = {s.account_of(a)}
    async with db.tx() as conn:
        await posts.remove_all(conn, CID)
        await posts.add_link(conn, CID, "https://t.me/c/987654321/7", one.marked_id, 7, NOW)
        await posts.add_link(conn, CID, "https://t.me/c/987654322/8", two.marked_id, 8, NOW)
        await customers.set_rotation(conn, CID, "order", NOW)
    engine = s.engine()
    await running(s, engine)
    for _ in range(3):
        report = await engine.run_cycle(CID)
        assert (report.sent, report.unreachable) == (1, 1)
        assert (await s.groups())["@only_b"].reach == "source_not_member"
        clock.set(clock.now() + 400)
    async with db.read() as conn:
        kinds = [e.kind for e in await events.list_for(conn, CID)]
    assert kinds.count(EventKind.GROUP_UNREACHABLE) == 1 and EventKind.GROUP_REACHABLE not in kinds
    assert world.violations == []
    await engine.shutdown()
