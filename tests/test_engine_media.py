"""The customer's own media post through the engine, in the strict simulated world: every group gets the
media (never a text), each session uploads each file once, an album is one request, and a kept file that
is gone stops the campaign as an invalid post (not a network failure retried forever)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.states import EventKind
from storage import customers, post_media
from storage import waits as wait_rows
from storage.db import Database
from storage.post_media import MediaRow
from tests.engine_support import CID, fast_config, make_setup, running
from tests.pool_support import NOW

GROUPS = ["@g1", "@g2", "@g3", "@g4"]


def kept(tmp_path: Path, name: str, kind: str = "photo", caption: str = "") -> MediaRow:
    data = name.encode() * 100
    sha = hashlib.sha256(data).hexdigest()
    folder = tmp_path / "media"
    folder.mkdir(exist_ok=True)
    (folder / sha).write_bytes(data)
    return MediaRow(kind=kind, file_id=f"id-{name}", file_unique_id=f"u-{name}", sha256=sha, size=len(data),
                    path=str(folder / sha), caption=caption,
                    entities=({"type": "bold", "offset": 0, "length": 4},) if caption else ())


async def test_own_photo_goes_out_as_media_uploaded_once_per_session(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=2, pool=2, post=None, text="x")
    photo = kept(tmp_path, "a.jpg", caption="Sale today")
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "Sale today", [{"type": "bold", "offset": 0, "length": 4}],
                                      [photo], s.clock.now())
        customer = await customers.get(conn, CID)
        assert customer is not None and (customer.post_kind, customer.post_media, customer.has_post) == ("text", 1,
                                                                                                          True)
        assert await post_media.items(conn, CID) == [photo]
    engine = s.engine()
    await running(s, engine)

    report = await engine.run_cycle(CID)

    assert report.sent == 4
    for ref in GROUPS:
        (delivery,) = s.world.deliveries_to(ref)
        assert (delivery.media, delivery.text) == (("photo",), "Sale today")
    assert sum(s.world.uploads.values()) == 2  # one upload per session (2 sessions), not one per group
    s.clock.set(s.clock.now() + 300)
    await engine.run_cycle(CID)
    assert sum(s.world.uploads.values()) == 2  # the next cycle names the uploaded photo
    assert s.world.request_count(method="send_text") == 0
    assert s.world.violations == []
    await engine.shutdown()


async def test_an_album_is_one_request_per_group(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1, post=None, text="x")
    rows = [kept(tmp_path, "1.jpg", caption="Three"), kept(tmp_path, "2.mp4", "video"), kept(tmp_path, "3.jpg")]
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "Three", [], rows, s.clock.now())
    engine = s.engine()
    await running(s, engine)

    report = await engine.run_cycle(CID)

    assert report.sent == 2
    assert s.world.request_count(method="send_media") == 2
    assert [d.media for d in s.world.deliveries] == [("photo", "video", "photo")] * 2
    assert sum(s.world.uploads.values()) == 3
    await engine.shutdown()


async def test_a_link_or_text_post_drops_the_media(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:1], plan=1, pool=1, post=None, text="x")
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "", [], [kept(tmp_path, "a.jpg")], s.clock.now())
        customer = await customers.get(conn, CID)
        assert customer is not None and customer.has_post  # a photo without a caption is a post
        await customers.set_post_link(conn, CID, "https://t.me/ads/1", "@ads", 1, False, s.clock.now())
        assert await post_media.items(conn, CID) == []
        await post_media.set_own_post(conn, CID, "", [], [kept(tmp_path, "b.jpg")], s.clock.now())
        await customers.set_post_text(conn, CID, "plain", [], s.clock.now())
        customer = await customers.get(conn, CID)
        assert customer is not None and customer.post_media == 0
        assert await post_media.items(conn, CID) == []


async def test_a_kept_file_gone_from_disk_stops_the_campaign_as_an_invalid_post(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1, post=None, text="x")
    photo = kept(tmp_path, "a.jpg")
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "", [], [photo], s.clock.now())
    Path(photo.path).unlink()
    engine = s.engine()
    await running(s, engine)

    await engine.run_cycle(CID)

    assert s.world.deliveries == []
    customer = await s.customer()
    assert (customer.status, customer.stop_reason) == ("stopped", "post_invalid")
    assert [e.kind for e in await s.events()].count(EventKind.POST_INVALID) == 1
    await engine.shutdown()


# --- the upload is apart from the send (engine.uploads) ------------------------------------------------

BIG = 20 * 1024 * 1024  # a 20 MB video: the bot's download limit


def big_video(tmp_path: Path, name: str = "big.mp4", size: int = BIG) -> MediaRow:
    data = (name.encode() * (size // len(name) + 1))[:size]
    sha = hashlib.sha256(data).hexdigest()
    folder = tmp_path / "media"
    folder.mkdir(exist_ok=True)
    (folder / sha).write_bytes(data)
    return MediaRow(kind="video", file_id=f"id-{name}", file_unique_id=f"u-{name}", sha256=sha, size=size,
                    path=str(folder / sha), caption="Big")


async def test_a_large_upload_longer_than_send_timeout_is_delivered_once_never_in_doubt(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1, post=None, text="x")
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "Big", [], [big_video(tmp_path)], s.clock.now())
    s.world.upload_seconds_per_mb = 10.0  # 200 s for 20 MB: far past send_timeout (30 s)
    engine = s.engine(fast_config(send_timeout=30.0, upload_timeout_per_mb=15.0))
    await running(s, engine)
    started = s.clock.now()

    report = await engine.run_cycle(CID)

    assert (report.sent, report.in_doubt) == (2, 0)
    assert s.clock.now() - started >= 200  # the upload really took its time, before the first send
    assert [d.media for d in s.world.deliveries] == [("video",), ("video",)]
    assert s.world.duplicates() == []
    assert sum(s.world.uploads.values()) == 1  # once for the session, outside both sends
    assert s.world.request_count(method="upload") == 1
    assert s.world.request_count(method="send_media") == 2
    assert {row.outcome for row in (await s.rows(1)).values()} == {"sent"}
    assert s.world.violations == []
    await engine.shutdown()


async def test_an_upload_timeout_sends_nothing_and_leaves_the_groups_for_a_later_cycle(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1, post=None, text="x")
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "Big", [], [big_video(tmp_path)], s.clock.now())
    s.world.upload_seconds_per_mb = 60.0  # 1,200 s: past the upload's own timeout (30 + 15 x 20 = 330 s)
    engine = s.engine(fast_config(send_timeout=30.0, upload_timeout_per_mb=15.0))
    await running(s, engine)

    report = await engine.run_cycle(CID)

    assert (report.sent, report.in_doubt, report.failed) == (0, 0, 0)
    assert s.world.request_count(method="send_media") == 0  # no send was made
    assert s.world.deliveries == []
    rows = await s.rows(1)
    assert {(row.outcome, row.error, row.attempts) for row in rows.values()} == {("skipped", "upload_timeout", 0)}
    assert all(g.consecutive_failures == 0 and g.paused_at is None for g in (await s.groups()).values())

    s.world.upload_seconds_per_mb = 5.0  # the link got faster: the next cycle uploads and sends
    s.clock.set(s.clock.now() + 300)
    report = await engine.run_cycle(CID)

    assert (report.sent, report.in_doubt) == (2, 0)
    assert len(s.world.deliveries) == 2 and s.world.duplicates() == []
    assert s.world.violations == []
    await engine.shutdown()


async def test_a_flood_wait_on_upload_is_honoured_and_no_send_is_in_doubt(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1, post=None, text="x")
    (sid,) = s.session_ids
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "", [], [kept(tmp_path, "a.jpg")], s.clock.now())
    s.world.add_fault(kind="flood_wait", session=sid, method="upload", seconds=3_600)
    engine = s.engine()
    await running(s, engine)

    report = await engine.run_cycle(CID)

    # The wait outlasts the cycle: nothing sent, the groups left 'waiting' (not in doubt, not failed).
    assert (report.sent, report.in_doubt, report.waiting) == (0, 0, 2)
    assert s.world.request_count(method="send_media") == 0
    rows = await s.rows(1)
    assert {(row.outcome, row.error) for row in rows.values()} == {("waiting", "flood_wait")}
    async with db.read() as conn:
        assert await wait_rows.until(conn, sid, "upload") == pytest.approx(NOW + 3_600, abs=5)
        assert await wait_rows.until(conn, sid, "send") is None  # only the upload class waits
    assert (await s.session(sid)).state != "cooling"

    s.clock.set(s.clock.now() + 600)
    report = await engine.run_cycle(CID)  # still inside the wait: no upload is asked for
    assert report.sent == 0 and s.world.request_count(method="upload") == 1

    s.clock.set(NOW + 3_700)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.in_doubt) == (2, 0)
    assert s.world.violations == []  # no request inside the wait
    await engine.shutdown()


async def test_a_short_upload_wait_is_waited_out_within_the_cycle(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS[:2], plan=1, pool=1, post=None, text="x")
    (sid,) = s.session_ids
    async with db.tx() as conn:
        await post_media.set_own_post(conn, CID, "", [], [kept(tmp_path, "a.jpg")], s.clock.now())
    s.world.add_fault(kind="flood_wait", session=sid, method="upload", seconds=40)
    engine = s.engine()
    await running(s, engine)
    started = s.clock.now()

    report = await engine.run_cycle(CID)

    assert (report.sent, report.in_doubt) == (2, 0)
    assert s.clock.now() - started >= 40
    assert s.world.request_count(method="upload") == 2  # the refused one, then the one after the wait
    assert s.world.violations == []
    await engine.shutdown()
