"""With several posts the menu, /status and /post say how many and how they take turns (not only the first
post), and /post says that a post sent there replaces them all or is added, as the customer then chooses
(issue 19; the choice itself: ``test_post_choice``)."""

from __future__ import annotations

from pathlib import Path

from botkit import Harness, bot_harness, in_locale

from control_bot.services import posts as posts_service
from core.texts import customer as t
from core.texts import post as pt

ALICE = 1001
BORIS = 1002


async def _three_posts(h: Harness, user_id: int, language: str = "en") -> None:
    await h.grant(user_id)
    await h.fill_pool(1)
    user = h.user(user_id, "X", language_code=language)
    await user.ask("/post first text")
    for text in ("second text", "third text"):
        await posts_service.add_post(h.db, user_id, posts_service.OwnDraft(text), max_posts=10, now=h.clock.now())


async def test_menu_status_and_post_say_how_many_posts(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await _three_posts(h, ALICE)
        alice = h.user(ALICE, "Alice")
        menu = await alice.ask("/start")
        assert "Post: 3 posts, in order (/posts)" in menu.text
        status = await alice.ask("/status")
        assert "Post: 3 posts, in order (/posts)" in status.text
        await alice.ask("/start")
        current = await alice.press(t.BTN_POST())
        assert "Your posts: 3 posts, in order (/posts)" in current.text
        assert "replaces all of them" in current.text
        asked = await alice.ask("/post")
        assert "replaces all of them or is added to them: you choose after sending it." in asked.text
        with in_locale("en"):
            assert "first text" in pt.posts_summary(1, "order", "text", None, "first text")


async def test_in_russian(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await _three_posts(h, BORIS, "ru")
        boris = h.user(BORIS, "Борис", language_code="ru")
        menu = await boris.ask("/start")
        assert "3 поста, по очереди (/posts)" in menu.text
        asked = await boris.ask("/post")
        assert "заменит их все" in asked.text
