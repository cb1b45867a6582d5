"""A cycle resumed after a restart carries the post it opened with (``customers.cycle_post_id``), whatever
the customer changed on /posts while it was open: a post moved, another post removed, a post added. Under
'order' and 'random' alike, in the strict world: one post per group per cycle, one post per cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from engine.rotation import pick
from storage import customers, posts
from storage.db import Connection, Database
from tests.engine_support import CID, fast_config, make_setup, running
from tests.pool_support import NOW
from tests.test_engine_rotation import _three_posts, _what, db_set_cycle

GROUPS = [f"@g_rand_{i:02d}" for i in range(8)]
Change = Callable[[Connection, list[posts.Post], posts.Post], Awaitable[None]]


async def _move(conn: Connection, made: list[posts.Post], chosen: posts.Post) -> None:
    await posts.move(conn, CID, chosen.id, 1 if chosen is not made[-1] else -1)


async def _remove_other(conn: Connection, made: list[posts.Post], chosen: posts.Post) -> None:
    other = next(p for p in made if p is not chosen and p is not made[-1])  # an earlier post: positions shift
    if made.index(chosen) < made.index(other):
        other = made[-1]
    await posts.remove(conn, CID, other.id)


async def _add(conn: Connection, made: list[posts.Post], chosen: posts.Post) -> None:
    await posts.add_own(conn, CID, "Added later", [], 0, NOW)


def _cycle_where_the_pick_moves(rotation: str, change: str) -> int:
    """A cycle number whose pick after the change is another post than before it (the test must tell)."""
    for n in range(1, 200):
        before = pick(rotation, CID, n, 3)
        if change == "move":
            return n  # the chosen post leaves its position, the pick's position stays
        if change == "add" and pick(rotation, CID, n, 4) != before:
            return n
        if change == "remove_other":
            after = pick(rotation, CID, n, 2)
            ids = [0, 1, 2]
            other = next(i for i in ids if i != before and i != 2)
            if before < other:
                other = 2
            ids.remove(other)
            if ids[after] != before:
                return n
    raise AssertionError("no such cycle number")


CHANGES: dict[str, Change] = {"move": _move, "remove_other": _remove_other, "add": _add}


@pytest.mark.parametrize("rotation", ["order", "random"])
@pytest.mark.parametrize("change", sorted(CHANGES))
async def test_a_resumed_cycle_carries_the_post_it_opened_with(
    db: Database, tmp_path: Path, rotation: str, change: str
) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1)
    made = await _three_posts(s)
    cycle_no = _cycle_where_the_pick_moves(rotation, change)
    async with db.tx() as conn:
        await customers.set_rotation(conn, CID, rotation, NOW)
        await db_set_cycle(conn, cycle_no - 1)
    chosen = made[pick(rotation, CID, cycle_no, 3)]
    first = s.engine()
    await running(s, first)
    task = asyncio.create_task(first.run_cycle(CID))
    while len(s.world.deliveries) < 3:
        await asyncio.sleep(0.001)
    await first.shutdown()
    assert (await task).interrupted
    async with db.read() as conn:
        customer = await customers.get(conn, CID)
    assert customer is not None and customer.cycle_post_id == chosen.id  # recorded with the cycle's opening
    async with db.tx() as conn:  # the customer changes /posts while the cycle is open
        await CHANGES[change](conn, made, chosen)
        after = await posts.list_for(conn, CID)
    assert after[pick(rotation, CID, cycle_no, len(after))].id != chosen.id  # a fresh pick would differ
    second = s.engine(fast_config(on_restart="resume"))
    await second.start()
    report = await second.run_cycle(CID)
    assert (report.cycle_no, report.resumed) == (cycle_no, True)
    rows = await s.rows(cycle_no)
    assert set(rows) == set(GROUPS)
    assert {row.post_id for row in rows.values()} == {chosen.id}  # one post in the whole cycle
    assert all(row.outcome == "sent" for row in rows.values())
    assert {_what(d) for d in s.world.deliveries} == {["link", "text", "photo"][made.index(chosen)]}
    for ref in GROUPS:
        assert len(s.world.deliveries_to(ref)) == 1
    assert s.world.violations == []
    await second.shutdown()
