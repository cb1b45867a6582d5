"""Several posts per campaign through the engine, in the strict simulated world: rotation in order across
cycles, at random yet the same post when a cycle is resumed after a restart, a fixed post per group; still
one post per group per cycle, the ledger row naming the post it carried; copy mode and link preview as
the world sees them; custom emoji from a Premium and a non-Premium session."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from core.clock import FakeClock
from engine.rotation import pick
from sandbox.world import World
from storage import customers, ledger, post_media, posts
from storage import premium as premium_rows
from storage.db import Database
from storage.post_media import MediaRow
from tests.engine_support import CID, Setup, fast_config, make_setup, running
from tests.pool_support import NOW

GROUPS = ["@g_one", "@g_two", "@g_three", "@g_four"]
CUSTOM = {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}
BOLD = {"type": "bold", "offset": 3, "length": 4}


async def _three_posts(s: Setup) -> list[posts.Post]:
    """A channel post (@ads/2), an own text and an own photo, in that order."""
    data = b"photo" * 50
    sha = hashlib.sha256(data).hexdigest()
    folder = s.sessions_dir.parent / "media"
    folder.mkdir(exist_ok=True)
    (folder / sha).write_bytes(data)
    photo = MediaRow("photo", "id-p", "u-p", sha, len(data), str(folder / sha), caption="Photo")
    async with s.db.tx() as conn:
        await posts.remove_all(conn, CID)
        link = await posts.add_link(conn, CID, "https://t.me/ads/2", "@ads", 2, NOW)
        text = await posts.add_own(conn, CID, "Own text", [], 0, NOW)
        own = await post_media.add_own_post(conn, CID, "Photo", [], [photo], NOW)
    return [link, text, own]


def _what(delivery: object) -> str:
    """Which of ``_three_posts`` arrived."""
    if getattr(delivery, "source_msg", None) == 2:
        return "link"
    if getattr(delivery, "media", ()) == ("photo",):
        return "photo"
    assert getattr(delivery, "text", None) == "Own text"
    return "text"


async def _rows_posts(s: Setup, cycle_no: int) -> dict[str, int | None]:
    return {ref: row.post_id for ref, row in (await s.rows(cycle_no)).items()}


async def test_in_order_each_cycle_carries_the_next_post(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=2, pool=2)
    made = await _three_posts(s)
    engine = s.engine()
    await running(s, engine)
    seen = []
    for cycle_no in range(1, 5):
        s.clock.set(NOW + 300 * (cycle_no - 1))
        before = len(s.world.deliveries)
        report = await engine.run_cycle(CID)
        assert (report.cycle_no, report.sent) == (cycle_no, 4)
        arrived = s.world.deliveries[before:]
        assert sorted(d.chat_ref for d in arrived) == sorted(GROUPS)  # one post per group per cycle
        kinds = {_what(d) for d in arrived}
        assert len(kinds) == 1  # the whole cycle carries one post
        seen.append(kinds.pop())
        expected = made[(cycle_no - 1) % 3].id
        assert set((await _rows_posts(s, cycle_no)).values()) == {expected}
    assert seen == ["link", "text", "photo", "link"]
    assert s.world.violations == []
    await engine.shutdown()


async def test_at_random_a_resumed_cycle_carries_the_post_it_started_with(db: Database, tmp_path: Path) -> None:
    groups = [f"@g_rand_{i:02d}" for i in range(8)]
    s = await make_setup(db, tmp_path, groups=groups, plan=1, pool=1)
    made = await _three_posts(s)
    async with db.tx() as conn:
        await customers.set_rotation(conn, CID, "random", NOW)
    # a cycle number whose draw is not the 'order' pick, so the test tells the two apart
    cycle_no = next(n for n in range(1, 50) if pick("random", CID, n, 3) != pick("order", CID, n, 3))
    async with db.tx() as conn:
        await db_set_cycle(conn, cycle_no - 1)
    chosen = made[pick("random", CID, cycle_no, 3)]
    first = s.engine()
    await running(s, first)
    task = asyncio.create_task(first.run_cycle(CID))
    while len(s.world.deliveries) < 3:
        await asyncio.sleep(0.001)
    await first.shutdown()
    assert (await task).interrupted
    second = s.engine(fast_config(on_restart="resume"))
    await second.start()
    report = await second.run_cycle(CID)
    assert (report.cycle_no, report.resumed) == (cycle_no, True)
    rows = await s.rows(cycle_no)
    assert {row.post_id for row in rows.values()} == {chosen.id}
    assert all(row.outcome == "sent" for row in rows.values())
    assert {_what(d) for d in s.world.deliveries} == {["link", "text", "photo"][made.index(chosen)]}
    for ref in groups:
        assert len(s.world.deliveries_to(ref)) == 1  # at most one post per group per cycle, across the restart
    await second.shutdown()


async def db_set_cycle(conn: object, cycle_no: int) -> None:
    """The campaign's last cycle was ``cycle_no`` (so the next one is ``cycle_no + 1``)."""
    from storage.db import execute  # a test's shortcut: no storage function moves a cycle number by hand

    await execute(conn, "UPDATE customers SET cycle_no = ? WHERE user_id = ?", (cycle_no, CID))  # type: ignore[arg-type]


async def test_a_fixed_post_per_group_others_follow_the_order(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=2, pool=2)
    link, text, own = await _three_posts(s)
    async with db.tx() as conn:
        await customers.set_rotation(conn, CID, "fixed", NOW)
        await posts.set_group_post(conn, CID, "@g_one", own.id)
        await posts.set_group_post(conn, CID, "@g_two", text.id)
    engine = s.engine()
    await running(s, engine)
    for cycle_no in (1, 2):
        s.clock.set(NOW + 300 * (cycle_no - 1))
        report = await engine.run_cycle(CID)
        assert report.sent == 4
        rows = await _rows_posts(s, cycle_no)
        follows = [link, text, own][(cycle_no - 1) % 3].id
        assert rows == {"@g_one": own.id, "@g_two": text.id, "@g_three": follows, "@g_four": follows}
    assert [_what(d) for d in s.world.deliveries_to("@g_one")] == ["photo", "photo"]
    assert [_what(d) for d in s.world.deliveries_to("@g_two")] == ["text", "text"]
    assert [_what(d) for d in s.world.deliveries_to("@g_three")] == ["link", "text"]
    assert sum(s.world.uploads.values()) <= 2  # the photo uploaded once per session, reused in cycle 2
    assert s.world.violations == []
    await engine.shutdown()


async def test_copy_mode_and_link_preview_as_the_world_sees_them(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1)
    async with db.tx() as conn:
        await customers.set_copy_mode(conn, CID, True, True, NOW)
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)
    for ref in GROUPS[:2]:
        (forward,) = s.world.deliveries_to(ref)
        assert (forward.drop_author, forward.captions_dropped) == (True, True)
    async with db.tx() as conn:
        await customers.set_copy_mode(conn, CID, False, False, NOW)
        await customers.set_post_text(conn, CID, "See https://example.com", [], NOW)
        (only,) = await posts.list_for(conn, CID)
        await posts.set_link_preview(conn, CID, only.id, False)
    s.clock.set(NOW + 300)
    await engine.run_cycle(CID)
    for ref in GROUPS[:2]:
        forward, text = s.world.deliveries_to(ref)
        assert (forward.drop_author, forward.captions_dropped) == (True, True)
        assert (text.text, text.no_webpage) == ("See https://example.com", True)
    async with db.tx() as conn:
        await posts.set_link_preview(conn, CID, only.id, True)
        await customers.set_post_link(conn, CID, "https://t.me/ads/1", "@ads", 1, False, NOW)
    s.clock.set(NOW + 600)
    await engine.run_cycle(CID)
    for ref in GROUPS[:2]:
        last = s.world.deliveries_to(ref)[-1]
        assert (last.source_msg, last.drop_author, last.captions_dropped) == (1, False, False)
    await engine.shutdown()


async def test_custom_emoji_stay_from_a_premium_session_only(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=2, pool=2)
    premium_sid, plain_sid = s.session_ids
    s.world.accounts[s.account_of(premium_sid)].premium = True
    async with db.tx() as conn:
        await customers.set_post_text(conn, CID, "👍 Sale today", [CUSTOM, BOLD], NOW)
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)
    rows = await s.rows(1)
    by_session = {row.session_id: ref for ref, row in rows.items()}
    assert set(by_session) == {premium_sid, plain_sid}  # each session carried one group
    (from_premium,) = s.world.deliveries_to(by_session[premium_sid])
    (from_plain,) = s.world.deliveries_to(by_session[plain_sid])
    assert from_premium.entities == ("custom_emoji", "bold")
    assert from_plain.entities == ("bold",)  # the text arrives, the custom emoji shown as the plain one
    assert from_plain.text == from_premium.text == "👍 Sale today"
    async with db.read() as conn:  # learnt from the self user read at connect, no request of its own
        assert await premium_rows.for_owner(conn, CID) == {premium_sid: True, plain_sid: False}
    assert {method for (_, method) in s.world.requests} <= {"connect", "app_config", "dialogs", "send_text"}
    await engine.shutdown()


async def test_the_ledger_row_names_the_post_it_carried(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1)
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)
    async with db.read() as conn:
        (first,) = await posts.list_for(conn, CID)
        recent = await ledger.recent(conn, CID)
    assert {r.post_id for r in recent} == {first.id}
    await engine.shutdown()


async def test_a_fixed_post_from_a_private_channel_goes_through_a_session_in_it(db: Database, tmp_path: Path) -> None:
    """Under 'fixed', each group is judged against the source of its own post: a group whose post is a
    private channel's goes to the session that is in that channel; the others (a public post) to either."""
    clock = FakeClock(NOW)
    world = World(clock)
    source = world.add_channel(None, chat_id=987_654_321, posts=[7])
    s = await make_setup(db, tmp_path, groups=["@pub_one", "@priv_one"], plan=2, pool=2, clock=clock, world=world)
    a = s.session_ids[0]
    source.members = {s.account_of(a)}
    async with db.tx() as conn:
        await posts.add_link(conn, CID, "https://t.me/ads/2", "@ads", 2, NOW)  # cycle 2's post in the order
        private = await posts.add_link(conn, CID, "https://t.me/c/987654321/7", source.marked_id, 7, NOW)
        await customers.set_rotation(conn, CID, "fixed", NOW)
        await posts.set_group_post(conn, CID, "@priv_one", private.id)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.unreachable) == (2, 0)
    (priv,) = s.world.deliveries_to("@priv_one")
    assert (priv.account, priv.source_chat, priv.source_msg) == (s.account_of(a), source.id, 7)
    (pub,) = s.world.deliveries_to("@pub_one")
    assert pub.source_msg == 1 and pub.source_chat != source.id  # the public post 1, first in the order
    rows = await s.rows(1)
    assert (rows["@priv_one"].post_id, rows["@priv_one"].session_id) == (private.id, a)
    # a left the private channel: the group fixed on its post has no session able to carry it; the other
    # carries the order's next post (public) in cycle 2, as the reach judged for that cycle says
    source.members = set()
    await engine.refresh_memberships(CID)
    groups = await s.groups()
    assert (groups["@priv_one"].reach, groups["@pub_one"].reach) == ("source_not_member", None)
    await engine.shutdown()
