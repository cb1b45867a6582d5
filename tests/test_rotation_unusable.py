"""One post Telegram refuses for good (its channel message deleted, its source unreadable) no longer stops a
campaign that has other posts: it is marked unusable with its reason, the customer told once (in the cycle's
summary), the rotation goes on with the others; only when no usable post remains does the campaign stop, as
it always did for its one post. The /posts list says which post is left out. Strict world."""

from __future__ import annotations

from pathlib import Path

from control_bot.routers.customer_posts import posts_screen
from control_bot.services.posts import posts_view
from core.catalogs import load_catalogs
from core.i18n import reading
from core.states import EventKind
from core.texts.events import event_text
from storage import customers, posts
from storage.db import Database
from tests.engine_support import CID, make_setup, running
from tests.pool_support import NOW
from tests.test_engine_rotation import GROUPS, _three_posts, _what
from tests.test_i18n_catalogs import _Translator


async def test_a_deleted_channel_post_is_left_out_and_the_others_go_on(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=2, pool=2)
    made = await _three_posts(s)  # post 1 forwards @ads/2
    ads = s.world.chat("@ads")
    assert ads is not None
    del ads.posts[2]  # the customer deleted it in their channel
    engine = s.engine()
    await running(s, engine)

    first = await engine.run_cycle(CID)
    assert first.reason is None and first.sent == 0
    assert (await s.customer()).status == "running"
    rows = await s.rows(1)
    assert set(rows) == set(GROUPS) and {r.post_id for r in rows.values()} <= {made[0].id, None}  # no intent: None
    assert all(r.outcome == "skipped" for r in rows.values())  # no group blamed
    assert {r.error for r in rows.values()} <= {"source_failed:MessageIdInvalidError", "post_unusable"}
    assert s.world.request_count(method="forward") == 0
    async with db.read() as conn:
        stored = await posts.list_for(conn, CID)
    assert [(p.unusable, p.unusable_error) for p in stored] == [
        ("source_failed", "MessageIdInvalidError"), (None, None), (None, None)]

    seen = []
    for cycle_no in range(2, 5):
        s.clock.set(NOW + 300 * (cycle_no - 1))
        before = len(s.world.deliveries)
        report = await engine.run_cycle(CID)
        assert (report.cycle_no, report.sent, report.reason) == (cycle_no, 4, None)
        arrived = s.world.deliveries[before:]
        assert sorted(d.chat_ref for d in arrived) == sorted(GROUPS)
        seen.append({_what(d) for d in arrived})
        assert {r.post_id for r in (await s.rows(cycle_no)).values()} <= {made[1].id, made[2].id}
    assert seen == [{"photo"}, {"text"}, {"photo"}]  # the usable two take turns
    kinds = [e.kind for e in await s.events()]
    assert kinds.count(EventKind.POST_UNUSABLE) == 1 and EventKind.POST_INVALID not in kinds
    [told] = [e for e in await s.events() if e.kind is EventKind.POST_UNUSABLE]
    assert (told.payload["number"], told.payload["error"], told.payload["left"]) == (1, "MessageIdInvalidError", 2)
    assert (await s.customer()).status == "running"
    assert s.world.violations == []

    # A new post (the customer's replacement) is usable: it joins the rotation.
    async with db.tx() as conn:
        new = await posts.add_link(conn, CID, "https://t.me/ads/3", "@ads", 3, NOW)
    carried = set()
    for cycle_no in range(5, 8):
        s.clock.set(NOW + 300 * (cycle_no - 1))
        report = await engine.run_cycle(CID)
        assert report.sent == 4
        carried |= {r.post_id for r in (await s.rows(cycle_no)).values()}
    assert new.id in carried and made[0].id not in carried
    await engine.shutdown()


async def test_the_campaign_stops_when_no_usable_post_remains(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1)
    async with db.tx() as conn:
        await posts.remove_all(conn, CID)
        await posts.add_link(conn, CID, "https://t.me/ads/98", "@ads", 98, NOW)  # neither exists
        await posts.add_link(conn, CID, "https://t.me/ads/99", "@ads", 99, NOW)
    engine = s.engine()
    await running(s, engine)
    first = await engine.run_cycle(CID)
    assert first.reason is None and (await s.customer()).status == "running"
    s.clock.set(NOW + 300)
    second = await engine.run_cycle(CID)
    assert second.reason == "source_failed"
    customer = await s.customer()
    assert (customer.status, customer.stop_reason) == ("stopped", "source_failed")
    kinds = [e.kind for e in await s.events()]
    assert kinds.count(EventKind.POST_UNUSABLE) == 1 and kinds.count(EventKind.POST_INVALID) == 1
    assert s.world.deliveries == [] and s.world.violations == []
    # Started again with every post unusable: the first cycle stops it at once, nothing asked of Telegram.
    requests = s.world.request_count()
    await running(s, engine)
    assert (await engine.run_cycle(CID)).reason == "post_invalid"
    assert s.world.request_count() == requests
    await engine.shutdown()


async def test_the_posts_list_and_the_event_say_which_post_is_left_out(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=GROUPS, plan=1, pool=1)
    made = await _three_posts(s)
    async with db.tx() as conn:
        assert await posts.set_unusable(conn, CID, made[0].id, "source_failed", "MessageIdInvalidError")
        assert not await posts.set_unusable(conn, CID, made[0].id, "source_failed", "MessageIdInvalidError")
        assert await posts.usable_count(conn, CID) == 2
        await customers.set_rotation(conn, CID, "order", NOW)
    view = await posts_view(db, CID, max_posts=10)
    assert [p.unusable for p in view.posts] == ["MessageIdInvalidError", None, None]
    payload = {"number": 1, "error": "MessageIdInvalidError", "link": "https://t.me/ads/2", "left": 2}
    translator = _Translator(load_catalogs())
    for lang, words in (("en", "cannot be sent"), ("ru", "нельзя отправить")):
        with reading(lang, "UTC", translator=translator):
            text, _ = posts_screen(view)
            lines = text.splitlines()
            assert sum(words in line for line in lines) == 1
            assert words in next(line for line in lines if line.startswith("1."))
            told = event_text(EventKind.POST_UNUSABLE, payload, for_admin=False)
            assert "/posts" in told and "MessageIdInvalidError" not in told
            if lang == "ru":
                assert "Ваш пост 1" in told
