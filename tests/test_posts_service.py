"""The service the /posts screens use (``control_bot.services.posts``): the list, adding up to the cap
(also through the post intake's add mode), removing, reordering, rotation, a fixed post per group, link
preview, copy mode and one post's preview; each refusal worded for the customer, nothing changed."""

from __future__ import annotations

import asyncio

import pytest

from control_bot.services import post as post_service
from control_bot.services import posts as svc
from core.errors import AccessDenied, InputError, NotFound
from core.i18n import reading
from core.links import parse_post_link
from storage import customers, groups, posts
from storage.db import Database
from storage.post_media import MediaRow

NOW = 1_800_000_000.0
CID, OTHER = 42, 43
CUSTOM = {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}


async def _customer(db: Database, user_id: int = CID) -> None:
    async with db.tx() as conn:
        await customers.grant(conn, user_id, 1, 30, NOW, 600)
        await groups.add_many(conn, user_id, ["@g1", "@g2"], NOW)


def _photo(name: str, caption: str = "") -> MediaRow:
    return MediaRow("photo", f"id-{name}", f"u-{name}", f"sha-{name}", 10, f"media/sha-{name}", caption=caption)


async def test_add_list_move_remove(db: Database) -> None:
    await _customer(db)
    link = await svc.add_post(db, CID, svc.LinkDraft("https://t.me/ads/5", "@ads", 5), max_posts=3, now=NOW)
    text = await svc.add_post(db, CID, svc.OwnDraft("👍 Sale today\nsecond line", [CUSTOM]), max_posts=3, now=NOW)
    album = await svc.add_post(db, CID, svc.OwnDraft("Look", (), (_photo("a", "Look"), _photo("b"))), max_posts=3,
                               now=NOW)
    view = await svc.posts_view(db, CID, max_posts=3, now=NOW)
    assert [(p.id, p.position, p.kind, p.media_count) for p in view.posts] == [
        (link.id, 0, "link", 0), (text.id, 1, "text", 0), (album.id, 2, "media", 2)]
    assert [p.title for p in view.posts] == ["https://t.me/ads/5", "👍 Sale today", "album of 2: Look"]
    assert [p.has_custom_emoji for p in view.posts] == [False, True, False]
    assert (view.max_posts, view.rotation, view.drop_author, view.drop_media_captions) == (3, "order", False, False)

    with reading("en"), pytest.raises(InputError) as full:
        await svc.add_post(db, CID, svc.OwnDraft("four"), max_posts=3, now=NOW)
    assert "3 posts" in full.value.user_message and "max_posts" not in full.value.user_message

    await svc.move_post(db, CID, album.id, -1, now=NOW)
    await svc.move_post(db, CID, link.id, -1, now=NOW)  # already first: clamped
    view = await svc.posts_view(db, CID, max_posts=3, now=NOW)
    assert [p.id for p in view.posts] == [link.id, album.id, text.id]
    await svc.remove_post(db, CID, link.id, now=NOW)
    with pytest.raises(NotFound):
        await svc.remove_post(db, CID, link.id, now=NOW)
    with pytest.raises(NotFound):
        await svc.move_post(db, CID, link.id, 1, now=NOW)
    await svc.remove_post(db, CID, album.id, now=NOW)
    await svc.remove_post(db, CID, text.id, now=NOW)  # the last one may go too
    view = await svc.posts_view(db, CID, max_posts=3, now=NOW)
    assert view.posts == ()
    async with db.read() as conn:
        customer = await customers.get(conn, CID)
    assert customer is not None and not customer.has_post


async def test_two_adds_at_once_never_pass_the_cap(db: Database) -> None:
    await _customer(db)
    results = await asyncio.gather(
        *(svc.add_post(db, CID, svc.OwnDraft(f"p{i}"), max_posts=2, now=NOW) for i in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, svc.PostSummary) for r in results) == 2
    assert all(isinstance(r, InputError) for r in results if not isinstance(r, svc.PostSummary))


async def test_rotation_fixed_posts_preview_and_copy_mode(db: Database) -> None:
    await _customer(db)
    await _customer(db, OTHER)
    a = await svc.add_post(db, CID, svc.OwnDraft("A https://example.com"), max_posts=10, now=NOW)
    b = await svc.add_post(db, CID, svc.LinkDraft("https://t.me/ads/9", "@ads", 9), max_posts=10, now=NOW)
    theirs = await svc.add_post(db, OTHER, svc.OwnDraft("theirs"), max_posts=10, now=NOW)

    await svc.set_rotation(db, CID, "fixed", now=NOW)
    with pytest.raises(InputError):
        await svc.set_rotation(db, CID, "sideways", now=NOW)
    await svc.set_group_post(db, CID, "@g1", b.id, now=NOW)
    with pytest.raises(NotFound):
        await svc.set_group_post(db, CID, "@g2", theirs.id, now=NOW)  # another customer's post
    with pytest.raises(NotFound):
        await svc.set_group_post(db, CID, "@nope", a.id, now=NOW)
    async with db.read() as conn:
        assert await posts.group_posts(conn, CID) == {"@g1": b.id}
    await svc.set_group_post(db, CID, "@g1", None, now=NOW)
    async with db.read() as conn:
        assert await posts.group_posts(conn, CID) == {}

    await svc.set_link_preview(db, CID, a.id, False, now=NOW)
    with pytest.raises(InputError):
        await svc.set_link_preview(db, CID, b.id, False, now=NOW)  # a forward: its channel decides
    with pytest.raises(NotFound):
        await svc.set_link_preview(db, CID, theirs.id, False, now=NOW)

    await svc.set_copy_mode(db, CID, drop_author=False, drop_media_captions=True, now=NOW)
    view = await svc.posts_view(db, CID, max_posts=10, now=NOW)
    assert (view.rotation, view.drop_author, view.drop_media_captions) == ("fixed", True, True)
    assert [p.link_preview for p in view.posts] == [False, True]
    await svc.set_copy_mode(db, CID, drop_author=False, drop_media_captions=False, now=NOW)
    view = await svc.posts_view(db, CID, max_posts=10, now=NOW)
    assert (view.drop_author, view.drop_media_captions) == (False, False)

    with reading("en"):
        preview = await svc.post_for_preview(db, CID, b.id, now=NOW)
    assert (preview.customer.post_kind, preview.customer.post_link, preview.media) == (
        "link", "https://t.me/ads/9", ())
    assert "Post 2" in preview.text
    with pytest.raises(NotFound):
        await svc.post_for_preview(db, CID, theirs.id, now=NOW)


async def test_a_customer_without_a_plan_is_refused(db: Database) -> None:
    with pytest.raises(AccessDenied):
        await svc.posts_view(db, CID, max_posts=10, now=NOW)


async def test_the_intake_in_add_mode_appends_and_the_post_flow_replaces(db: Database) -> None:
    await _customer(db)
    await post_service.set_post(db, CID, "First", [], NOW)
    saved = await post_service.set_post(db, CID, "Second", [], NOW, add_max_posts=3)
    assert saved.added is not None and saved.added.position == 1
    assert saved.customer.post_text == "Second"  # the preview shows the post just added
    ref = parse_post_link("https://t.me/adsforus/3")
    linked = await post_service.save_link(db, None, CID, ref, NOW, add_max_posts=3)
    assert linked.added is not None and linked.customer.post_link == "https://t.me/adsforus/3"
    with pytest.raises(InputError):
        await post_service.set_post(db, CID, "Fourth", [], NOW, add_max_posts=3)
    view = await svc.posts_view(db, CID, max_posts=3, now=NOW)
    assert [p.title for p in view.posts] == ["First", "Second", "https://t.me/adsforus/3"]
    await post_service.set_post(db, CID, "Only", [], NOW)  # /post: the campaign's posts become this one
    view = await svc.posts_view(db, CID, max_posts=3, now=NOW)
    assert [p.title for p in view.posts] == ["Only"]
