"""The post each group gets under the rotation "fixed per group", as /posts shows it (issue 19): the
customer's groups in /groups' order, each with its fixed post or none (it follows the order).

Setting one is ``services.posts.set_group_post``; this is the read beside it."""

from __future__ import annotations

from dataclasses import dataclass

from control_bot.services.campaign import require_customer
from storage import groups, posts
from storage.db import Database


@dataclass(frozen=True)
class GroupPost:
    group_id: int
    ref: str
    post_id: int | None  # None: the group follows the campaign's order


async def group_posts(db: Database, customer_id: int, now: float) -> list[GroupPost]:
    """Every group of the customer's, in /groups' order, with its fixed post."""
    await require_customer(db, customer_id, now)
    async with db.read() as conn:
        own = await groups.list_for(conn, customer_id)
        fixed = await posts.group_posts(conn, customer_id)
    return [GroupPost(g.id, g.ref, fixed.get(g.ref)) for g in own]
