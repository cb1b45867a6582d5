"""engine.post_check: a post link is checked when it is saved, through a session of the customer that is
already connected (never one opened for it), in the strict simulated world."""

from __future__ import annotations

from pathlib import Path

from engine.engine import Engine
from storage.db import Database
from tests.engine_support import CID, Setup, make_setup, running


async def _live(db: Database, tmp_path: Path) -> tuple[Setup, Engine]:
    s = await make_setup(db, tmp_path, groups=["@g1"], plan=1, pool=1)
    ads = s.world.chat("@ads")
    assert ads is not None
    ads.posts[2] = "An album"
    ads.albums.update({2: 5, 3: 5})
    ads.media.update({2: "photo", 3: "video"})
    s.world.add_channel("locked", posts=[4], noforwards=True)
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)  # the session is connected from now on
    return s, engine


async def test_no_connected_session_means_unchecked_and_no_session_is_opened(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=["@g1"], plan=1, pool=1)
    engine = s.engine()
    await running(s, engine)
    before = s.world.request_count()

    check = await engine.check_post(CID, "@ads", 1)

    assert check.verdict == "unchecked"
    assert s.world.request_count() == before  # nothing connected, nothing asked
    await engine.shutdown()


async def test_a_live_session_reads_the_post(db: Database, tmp_path: Path) -> None:
    s, engine = await _live(db, tmp_path)
    reads = s.world.request_count(method="read")

    ok = await engine.check_post(CID, "@ads", 3)
    assert ok.verdict == "ok" and ok.info is not None
    assert (ok.info.ids, ok.info.media, ok.info.excerpt) == ((2, 3), ("photo", "video"), "An album")
    assert s.world.request_count(method="read") == reads + 1

    missing = await engine.check_post(CID, "@ads", 99)
    assert (missing.verdict, missing.error) == ("missing", "MessageIdInvalidError")
    locked = await engine.check_post(CID, "@locked", 4)
    assert locked.verdict == "no_forwards"
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_private_channel_no_session_is_in(db: Database, tmp_path: Path) -> None:
    s, engine = await _live(db, tmp_path)
    private = s.world.add_channel(None, chat_id=4242, posts=[1], members=[]).marked_id
    before = s.world.request_count()

    check = await engine.check_post(CID, private, 1)

    # No connected session is in it, as its dialogs say: not asked (the service says what the dialogs say).
    assert check.verdict == "unchecked"
    assert s.world.request_count() == before
    await engine.shutdown()


async def test_a_private_channel_is_read_through_the_sessions_own_row(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=["@g1"], plan=1, pool=1)
    account = s.account_of(s.session_ids[0])
    private = s.world.add_channel(None, chat_id=5151, posts=[3], members=[account]).marked_id
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)  # connected, its dialogs read: the channel is in them
    resolves = s.world.request_count(method="resolve")

    check = await engine.check_post(CID, private, 3)

    assert check.verdict == "ok" and check.info is not None and check.info.ids == (3,)
    assert s.world.request_count(method="resolve") == resolves  # addressed by its row, never resolved
    assert s.world.violations == []
    await engine.shutdown()
