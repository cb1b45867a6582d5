"""The customer's own media post through the engine, in the strict simulated world: every group gets the
media (never a text), each session uploads each file once, an album is one request, and a kept file that
is gone stops the campaign as an invalid post (not a network failure retried forever)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.states import EventKind
from storage import customers, post_media
from storage.db import Database
from storage.post_media import MediaRow
from tests.engine_support import CID, make_setup, running

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
