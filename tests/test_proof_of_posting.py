"""Proof of posting (issue 19): every delivery keeps the new message's id (a forward, a forward of a whole
album, the customer's own media, a forum topic), and a public group's delivery gets its t.me link, in the
customer's log line of the delivery; a private group gets none. The engine runs in the strict world."""

from __future__ import annotations

from pathlib import Path

import pytest
from botkit import in_locale

from core.clock import FakeClock
from core.customer_log import LogKey, LogLine
from core.proof import message_link
from core.texts.customer_log import render_line
from sandbox.world import World
from storage import post_media
from storage.db import Database
from tests.engine_support import CID, make_setup, running
from tests.pool_support import NOW
from tests.test_engine_media import kept


def test_public_groups_and_their_topics_get_a_link_private_ones_none() -> None:
    assert message_link("@cats_market", 42) == "https://t.me/cats_market/42"
    assert message_link("@cats_market#7", 42) == "https://t.me/cats_market/7/42"
    assert message_link("-1001234567890", 42) is None
    assert message_link("-1001234567890#7", 42) is None
    assert message_link("@cats_market", None) is None
    assert message_link("@cats_market", 0) is None
    assert message_link("@", 5) is None
    assert message_link("@cats#x", 5) is None


def _delivered_ids(s_world: World, ref: str) -> list[int]:
    peer, _, topic = ref.partition("#")
    return [d.message_id for d in s_world.deliveries_to(peer, int(topic) if topic else None)]


async def _ledger_ids(db: Database, cycle_no: int) -> dict[str, int | None]:
    from storage import ledger

    async with db.read() as conn:
        rows = await ledger.cycle_rows(conn, CID, cycle_no)
    assert all(r.outcome == "sent" for r in rows.values()), rows
    return {ref: r.message_id for ref, r in rows.items()}


async def test_a_forward_keeps_each_groups_new_message_id_topics_included(db: Database, tmp_path: Path) -> None:
    groups = ["@g1", "@g2", "@forum#7"]
    s = await make_setup(db, tmp_path, groups=groups, plan=1, pool=1)
    s.world.chat("@g2").next_msg_id = 500  # type: ignore[union-attr]  # ids differ from chat to chat
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 3
    ids = await _ledger_ids(db, 1)
    for ref in groups:
        assert [ids[ref]] == _delivered_ids(s.world, ref)
    assert ids["@g2"] == 500
    assert message_link("@forum#7", ids["@forum#7"]) == f"https://t.me/forum/7/{ids['@forum#7']}"
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_forwarded_album_and_own_media_keep_the_new_message_id(db: Database, tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    world = World(clock)
    channel = world.add_channel("ads", posts=[1, 2, 3])
    channel.albums = {1: 99, 2: 99, 3: 99}  # the post is an album of three
    s = await make_setup(db, tmp_path, groups=["@g1", "@g2"], plan=1, pool=1, clock=clock, world=world)
    engine = s.engine()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).sent == 2
    ids = await _ledger_ids(db, 1)
    for ref in ("@g1", "@g2"):
        assert ids[ref] is not None and [ids[ref]] == _delivered_ids(s.world, ref)

    rows = [kept(tmp_path, "1.jpg", caption="Two"), kept(tmp_path, "2.jpg")]
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "Two", [], rows, s.clock.now())
    s.clock.set(s.clock.now() + 300)
    assert (await engine.run_cycle(CID)).sent == 2
    ids = await _ledger_ids(db, 2)
    for ref in ("@g1", "@g2"):
        assert ids[ref] is not None and ids[ref] == _delivered_ids(s.world, ref)[-1]
    assert s.world.violations == []
    await engine.shutdown()


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_the_log_line_of_a_delivery_carries_its_link(locale: str) -> None:
    public = LogLine("2026-12-07", "10:00:00", "INFO", LogKey.SENT, {"group": "@cats", "message": 17, "session": 3})
    topic = LogLine("2026-12-07", "10:00:00", "INFO", LogKey.SENT, {"group": "@cats#4", "message": 18, "session": 3})
    private = LogLine("2026-12-07", "10:00:00", "INFO", LogKey.SENT,
                      {"group": "-1001234567890", "message": 19, "session": 3})
    with in_locale(locale):
        assert render_line(public).endswith("https://t.me/cats/17")
        assert "https://t.me/cats/4/18" in render_line(topic)
        shown = render_line(private)
    assert "t.me" not in shown and "19" in shown
