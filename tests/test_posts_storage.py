"""Several posts per campaign, in storage: the migration moves the one post (a link, a text, an own media
post) into ``posts`` as post 0 with its media rows, and the posts' writes keep a dense order."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from storage import customers, groups, post_media, posts
from storage.db import Database, fetchall, fetchone, migrate
from storage.migrations import MIGRATIONS
from storage.post_media import MediaRow

NOW = 1_800_000_000.0
MINE = next(n for n, script in enumerate(MIGRATIONS, 1) if "CREATE TABLE posts" in script)
LINK, TEXT, MEDIA, NONE = 11, 12, 13, 14


async def _old_customer(conn: aiosqlite.Connection, user_id: int, **post: object) -> None:
    columns = ", ".join(["user_id", "plan_sessions", "plan_expires_at", "created_at", "interval_s", "updated_at",
                         *post])
    marks = ", ".join("?" for _ in range(6 + len(post)))
    await conn.execute(f"INSERT INTO customers ({columns}) VALUES ({marks})",
                       (user_id, 1, NOW + 86_400, NOW, 600, NOW, *post.values()))


async def test_the_one_post_of_an_old_file_becomes_post_zero(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    bold = [{"type": "bold", "offset": 0, "length": 4}]
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target=MINE - 1) == MINE - 1
        await _old_customer(conn, LINK, post_kind="link", post_link="https://t.me/ads/7", post_peer="@ads",
                            post_msg_id=7, drop_author=1)
        await _old_customer(conn, TEXT, post_kind="text", post_text="Sale today", post_entities=json.dumps(bold))
        await _old_customer(conn, MEDIA, post_kind="text", post_text="", post_media=2)
        await _old_customer(conn, NONE)
        for position in range(2):
            await conn.execute(
                "INSERT INTO post_media (customer_id, position, kind, file_id, file_unique_id, sha256, size, path,"
                " caption) VALUES (?, ?, 'photo', ?, ?, ?, 10, ?, ?)",
                (MEDIA, position, f"f{position}", f"u{position}", f"s{position}", f"media/s{position}",
                 "Cap" if position == 0 else ""),
            )
        await conn.execute("INSERT INTO groups (customer_id, ref, added_at) VALUES (?, '@g', ?)", (LINK, NOW))
    db = await Database.open(path)
    try:
        async with db.read() as conn:
            link = await customers.get(conn, LINK)
            text = await customers.get(conn, TEXT)
            media = await customers.get(conn, MEDIA)
            none = await customers.get(conn, NONE)
            link_posts = await posts.list_for(conn, LINK)
            media_posts = await posts.list_for(conn, MEDIA)
            rows = await post_media.items_of(conn, media_posts[0].id)
            check = await fetchone(conn, "PRAGMA integrity_check")
            fk = await fetchall(conn, "PRAGMA foreign_key_check")
            columns = {r[1] for r in await fetchall(conn, "PRAGMA table_info(customers)")}
        assert check is not None and check[0] == "ok" and fk == []
        assert not {"post_kind", "post_link", "post_peer", "post_msg_id", "post_text", "post_entities",
                    "post_media"} & columns  # the columns moved; nobody reads a stale copy
        assert link is not None and text is not None and media is not None and none is not None
        assert (link.post_kind, link.post_link, link.post_peer, link.post_msg_id, link.drop_author) == (
            "link", "https://t.me/ads/7", "@ads", 7, True)
        assert [(p.position, p.kind, p.peer, p.msg_id) for p in link_posts] == [(0, "link", "@ads", 7)]
        assert (text.post_kind, text.post_text, text.post_entities, text.post_count) == ("text", "Sale today", bold, 1)
        assert (media.post_kind, media.post_media, media.post_count, media.has_post) == ("text", 2, 1, True)
        assert [(r.file_id, r.caption) for r in rows] == [("f0", "Cap"), ("f1", "")]
        assert (none.post_kind, none.post_count, none.has_post) == (None, 0, False)
        assert (link.rotation, link.drop_media_captions) == ("order", False)
    finally:
        await db.close()


def _photo(name: str) -> MediaRow:
    return MediaRow("photo", f"id-{name}", f"u-{name}", f"sha-{name}", 10, f"media/sha-{name}")


async def test_posts_keep_a_dense_order_through_add_move_remove(db: Database) -> None:
    async with db.tx() as conn:
        await customers.grant(conn, TEXT, 1, 30, NOW, 600)
        first = await posts.add_link(conn, TEXT, "https://t.me/ads/1", "@ads", 1, NOW)
        second = await post_media.add_own_post(conn, TEXT, "Two", [], [_photo("a"), _photo("b")], NOW)
        third = await posts.add_own(conn, TEXT, "Three https://x.example", [], 0, NOW)
        assert await posts.move(conn, TEXT, third.id, -5)  # clamped to the top
        assert await posts.move(conn, TEXT, first.id, +1)
        order = [p.id for p in await posts.list_for(conn, TEXT)]
        assert order == [third.id, second.id, first.id]
        assert await posts.remove(conn, TEXT, second.id)
        assert not await posts.remove(conn, TEXT, second.id)
        left = await posts.list_for(conn, TEXT)
        assert [(p.id, p.position) for p in left] == [(third.id, 0), (first.id, 1)]
        assert await post_media.items_of(conn, second.id) == []  # its media rows went with it
        assert await post_media.files_in_use(conn) == set()
        assert await posts.set_link_preview(conn, TEXT, third.id, False)
        assert (await posts.get(conn, TEXT, third.id)).link_preview is False  # type: ignore[union-attr]
        assert await posts.get(conn, LINK, third.id) is None  # another customer's id is nobody's post here


async def test_the_post_flow_replaces_all_and_a_fixed_post_falls_back_when_removed(db: Database) -> None:
    async with db.tx() as conn:
        await customers.grant(conn, TEXT, 1, 30, NOW, 600)
        await groups.add_many(conn, TEXT, ["@g1", "@g2"], NOW)
        a = await posts.add_own(conn, TEXT, "A", [], 0, NOW)
        b = await posts.add_own(conn, TEXT, "B", [], 0, NOW)
        assert await posts.set_group_post(conn, TEXT, "@g1", b.id)
        assert not await posts.set_group_post(conn, TEXT, "@nope", b.id)
        assert await posts.group_posts(conn, TEXT) == {"@g1": b.id}
        await posts.remove(conn, TEXT, b.id)
        assert await posts.group_posts(conn, TEXT) == {}  # ON DELETE SET NULL: the group follows the order
        await customers.set_post_text(conn, TEXT, "Only", [], NOW)
        only = await posts.list_for(conn, TEXT)
        assert [(p.text, p.position) for p in only] == [("Only", 0)] and only[0].id != a.id
        with pytest.raises(sqlite3.IntegrityError):
            await customers.set_rotation(conn, TEXT, "sideways", NOW)
