"""/post while the campaign has several posts (issue 19, review K1), end to end in English and Russian over
the Bot API emulator: a post received there (an argument, an answer to the question, a forward outside any
question, an album, own media) changes nothing until the customer chooses "Replace all N posts", "Add as
post N+1" (only under ``[engine] max_posts``) or "Cancel". A choice never pressed, cancelled, forged,
pressed twice or too late changes nothing. With one post /post saves at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from control_bot.routers.customer_post import PENDING_SECONDS
from control_bot.services import posts as posts_service
from core.clock import FakeClock
from core.errors import AdbotError
from core.links import parse_post_link
from core.texts import customer as customer_texts
from core.texts import post as t
from core.texts import posts as posts_texts
from core.texts.fmt import esc
from sandbox.botapi.media import channel_origin
from sandbox.botapi.models import MessageView
from sandbox.world import World
from tests.botkit import START, Harness, Player, bot_harness, in_locale, labels

ALICE, BOB = 1001, 1002
LANGS = ["en", "ru"]
DEALS_ID = -1001555000111  # the Bot API id of @deals (what forward_origin carries)
LINK = "https://t.me/deals/1"


def strict_world(clock: FakeClock) -> World:
    world = World(clock)
    deals = world.add_channel("deals", posts=[1, 2, 3])
    deals.posts[1] = "Summer sale: everything half price"
    world.add_group("cats_group")
    return world


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START, auto=True)


async def customer_with_posts(h: Harness, lang: str, count: int, user_id: int = ALICE) -> Player:
    """A customer with a plan, a session in the pool, a group and ``count`` text posts ("post 1"...)."""
    await h.grant(user_id)
    await h.fill_pool(1)
    player = h.user(user_id, "Alice", language_code=lang)
    await player.ask("/addgroups @cats_group")
    for n in range(1, count + 1):
        await posts_service.add_post(h.db, user_id, posts_service.OwnDraft(f"post {n}"),
                                     max_posts=h.settings.engine.max_posts, now=h.clock.now())
    return player


async def posts_rows(h: Harness, user_id: int = ALICE) -> list[tuple[Any, ...]]:
    """The campaign's posts and their media, for "nothing changed" assertions."""
    posts = await h.rows("SELECT * FROM posts WHERE customer_id = ? ORDER BY position", [user_id])
    media = await h.rows("SELECT * FROM post_media ORDER BY rowid")
    return [tuple(r) for r in posts] + [tuple(r) for r in media]


async def texts_of(h: Harness, user_id: int = ALICE) -> list[str]:
    rows = await h.rows("SELECT kind, text, link FROM posts WHERE customer_id = ? ORDER BY position", [user_id])
    return [row["link"] if row["kind"] == "link" else row["text"] for row in rows]


async def choose(player: Player, label: str, replies: int) -> list[MessageView]:
    """Press one of the choice's buttons: the choice loses its buttons (an edit), then ``replies`` new
    messages (the preview) come; returns those."""
    await player.user.click(label)
    edited, *rest = await player.user.wait_replies(replies + 1)
    assert edited.edited and edited.buttons == []
    return rest


def said(lang: str, fn: Callable[..., str], *args: Any, **kwargs: Any) -> str:
    with in_locale(lang):
        return fn(*args, **kwargs)


@pytest.mark.parametrize("lang", LANGS)
async def test_post_argument_waits_for_the_choice_and_cancel_changes_nothing(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer_with_posts(h, lang, 3)
        before, snapshot = await posts_rows(h), await h.snapshot()
        choice = await alice.ask(f"/post {LINK}")
        assert choice.html == said(lang, t.post_choice, 3, LINK, can_add=True)
        assert labels(choice) == [said(lang, t.btn_replace_all, 3), said(lang, t.btn_add_as, 4),
                                  said(lang, customer_texts.BTN_CANCEL)]
        if lang == "ru":
            assert "В вашей кампании 3 поста" in choice.text
            assert labels(choice)[:2] == ["Заменить все 3 поста", "Добавить постом 4"]
        # No choice yet: nothing changed (a choice never pressed stays so).
        assert await posts_rows(h) == before and await h.snapshot() == snapshot
        replace = choice.button(said(lang, t.btn_replace_all, 3))
        assert replace is not None
        cancelled = await alice.press(said(lang, customer_texts.BTN_CANCEL))
        assert cancelled.html == said(lang, t.choice_cancelled, 3)
        if lang == "ru":
            assert "Отменено: ничего не изменено" in cancelled.text
        assert await posts_rows(h) == before and await h.snapshot() == snapshot
        # The choice's Replace pressed after Cancel: stale, refused, nothing changed.
        stale = await alice.forge(choice.message_id, str(replace["callback_data"]))
        assert stale.show_alert and stale.text == said(lang, t.CHOICE_GONE)
        assert await posts_rows(h) == before and await h.snapshot() == snapshot


@pytest.mark.parametrize("lang", LANGS)
async def test_replace_does_what_post_did_and_add_appends(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer_with_posts(h, lang, 3)
        # An answer to the /post question (a text): Add as post 4.
        asked = await alice.ask("/post")
        assert said(lang, t.POST_ASK) in asked.html
        choice = await alice.ask("A brand new offer")
        assert choice.html == said(lang, t.post_choice, 3, "A brand new offer", can_add=True)
        assert await texts_of(h) == ["post 1", "post 2", "post 3"]
        add = choice.button(said(lang, t.btn_add_as, 4))
        assert add is not None
        copy, added = await choose(alice, said(lang, t.btn_add_as, 4), 2)
        assert copy.text == "A brand new offer"
        with in_locale(lang):
            assert added.html == posts_texts.post_added(4, "A brand new offer") + "\n\n" + t.PREVIEW_OWN()
        assert await texts_of(h) == ["post 1", "post 2", "post 3", "A brand new offer"]
        (shown,) = [v for v in alice.user.history() if v.message_id == choice.message_id]
        assert shown.buttons == []  # the choice made, its buttons go
        # Add pressed again (a client still showing the button): taken once, nothing more is added.
        again = await alice.forge(choice.message_id, str(add["callback_data"]))
        assert again.text == said(lang, t.CHOICE_GONE)
        assert len(await texts_of(h)) == 4

        # A channel's post forwarded outside any question: Replace all 4 posts, as /post did before.
        await alice.user.forward(channel_origin(DEALS_ID, 1, title="Deals", username="deals"), text="Summer sale")
        choice = await alice.user.wait_reply()
        assert choice.html == said(lang, t.post_choice, 4, LINK, can_add=True)
        assert len(await texts_of(h)) == 4
        (saved,) = await choose(alice, said(lang, t.btn_replace_all, 4), 1)
        assert LINK in saved.html and said(lang, t.header_line, False) in saved.html
        assert await texts_of(h) == [LINK]
        customer = await h.customer(ALICE)
        assert customer.post_kind == "link" and customer.post_link == LINK and customer.post_count == 1


@pytest.mark.parametrize("lang", LANGS)
async def test_own_media_and_albums_wait_too(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer_with_posts(h, lang, 2)
        before = await posts_rows(h)
        # A photo sent in answer to /post: kept, held; Replace makes it the only post.
        await alice.ask("/post")
        await alice.user.send_media("photo", b"\x89PNG" * 100, caption="Big sale")
        choice = await alice.user.wait_reply()
        with in_locale(lang):
            title = t.post_title("text", None, "Big sale", ["photo"])
        assert choice.html == said(lang, t.post_choice, 2, title, can_add=True)
        assert await posts_rows(h) == before
        photo, done = await choose(alice, said(lang, t.btn_replace_all, 2), 2)
        assert photo.photo is not None and photo.text == "Big sale"
        assert said(lang, t.PREVIEW_OWN) in done.html
        rows = await h.rows("SELECT id, media, text FROM posts WHERE customer_id = ?", [ALICE])
        assert [(r["media"], r["text"]) for r in rows] == [(1, "Big sale")]

        # Two posts again, then an album sent in answer to /post: held whole, then added.
        await posts_service.add_post(h.db, ALICE, posts_service.OwnDraft("post 2"), max_posts=10,
                                     now=h.clock.now())
        before = await posts_rows(h)
        await alice.ask("/post")
        await alice.user.send_album([("photo", b"one" * 50), ("video", b"two" * 50), ("photo", b"three" * 50)],
                                    caption="Three")
        choice = await alice.user.wait_reply(5)
        with in_locale(lang):
            title = t.post_title("text", None, "Three", ["photo", "video", "photo"])
        assert choice.html == said(lang, t.post_choice, 2, title, can_add=True)
        assert await posts_rows(h) == before  # the album is held whole, nothing saved yet
        *album, added = await choose(alice, said(lang, t.btn_add_as, 3), 4)  # the album copied back, then "added"
        assert [m.media_group_id is not None for m in album] == [True, True, True]
        with in_locale(lang):
            assert added.html == posts_texts.post_added(3, title) + "\n\n" + t.PREVIEW_OWN()
        rows = await h.rows("SELECT media, text FROM posts WHERE customer_id = ? ORDER BY position", [ALICE])
        assert [(r["media"], r["text"]) for r in rows] == [(1, "Big sale"), (0, "post 2"), (3, "Three")]


@pytest.mark.parametrize("lang", LANGS)
async def test_full_campaign_offers_no_add_and_late_or_forged_choices_change_nothing(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        limit = h.settings.engine.max_posts
        alice = await customer_with_posts(h, lang, limit)
        bob = await customer_with_posts(h, lang, 2, user_id=BOB)
        before = await posts_rows(h)
        choice = await alice.ask("/post Fresh text")
        assert choice.html == said(lang, t.post_choice, limit, "Fresh text", can_add=False)
        assert labels(choice) == [said(lang, t.btn_replace_all, limit), said(lang, customer_texts.BTN_CANCEL)]
        if lang == "ru":
            assert "Больше постов кампания не вмещает" in choice.text
        replace = choice.button(said(lang, t.btn_replace_all, limit))
        assert replace is not None
        data = str(replace["callback_data"])
        # Bob presses Alice's button (the same data, on his own chat): not his, nothing changes for either.
        bob_view = await bob.ask("/start")
        bob_before = await posts_rows(h, BOB)
        forged = await bob.forge(bob_view.message_id, data)
        assert forged.text == said(lang, t.CHOICE_GONE)
        # A made-up token and a made-up action: refused / matched by nothing.
        forged = await alice.forge(choice.message_id, data.rsplit(":", 1)[0] + ":AAAAAAAA")
        assert forged.text == said(lang, t.CHOICE_GONE)
        assert await posts_rows(h) == before and await posts_rows(h, BOB) == bob_before
        # Too late: past the hold, Replace changes nothing either.
        h.clock.set(h.clock.now() + PENDING_SECONDS + 60)
        late = await alice.press_answer(said(lang, t.btn_replace_all, limit))
        assert late.show_alert and late.text == said(lang, t.CHOICE_GONE)
        assert await posts_rows(h) == before

        # A newer post makes the older choice stale; the newer one still works.
        first = await alice.ask("/post First try")
        old = first.button(said(lang, t.btn_replace_all, limit))
        assert old is not None
        await alice.ask("/post Second try")
        stale = await alice.forge(first.message_id, str(old["callback_data"]))
        assert stale.text == said(lang, t.CHOICE_GONE)
        assert await posts_rows(h) == before
        await choose(alice, said(lang, t.btn_replace_all, limit), 2)
        assert await texts_of(h) == ["Second try"]


@pytest.mark.parametrize("lang", LANGS)
async def test_one_post_is_replaced_at_once_as_before(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer_with_posts(h, lang, 1)
        await alice.user.say("/post Just this")
        copy, saved = await alice.user.wait_replies(2)
        assert copy.text == "Just this"
        assert saved.html.startswith(said(lang, t.post_saved_text, "Just this", False).split("\n")[0])
        assert not any(said(lang, t.btn_replace_all, 1) in label for label in labels(saved))
        assert await texts_of(h) == ["Just this"]


@pytest.mark.parametrize("lang", LANGS)
async def test_forwarded_channel_album_waits_once_then_is_added(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    """A channel's album forwarded outside any question (one message per item): one choice, held as the
    album's first post; Add appends that link, once."""
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer_with_posts(h, lang, 2)
        before = await posts_rows(h)
        origins = [channel_origin(DEALS_ID, post, title="Deals", username="deals") for post in (1, 2, 3)]
        await alice.user.forward_album(origins, [("photo", b"1"), ("photo", b"2"), ("video", b"3")], caption="x")
        (choice,) = await alice.user.wait_replies(1, timeout=10)
        await h.idle()
        assert alice.unread() == []  # one choice for the whole album
        assert choice.html == said(lang, t.post_choice, 2, LINK, can_add=True)
        assert await posts_rows(h) == before
        (added,) = await choose(alice, said(lang, t.btn_add_as, 3), 1)
        with in_locale(lang):
            assert added.html.startswith(posts_texts.post_added(3, LINK))
        assert await texts_of(h) == ["post 1", "post 2", LINK]
        assert not (h.settings.paths.data_dir / "media").exists()  # a link post: nothing downloaded


@pytest.mark.parametrize("lang", LANGS)
async def test_a_refused_post_offers_no_choice_and_a_held_file_gone_changes_nothing(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer_with_posts(h, lang, 2)
        before = await posts_rows(h)
        # Refused as before (checked when it comes, not when a button is pressed): no choice offered.
        refused = await alice.ask("/post t.me/deals")  # a channel, not one of its posts
        with in_locale(lang), pytest.raises(AdbotError) as why:
            parse_post_link("t.me/deals")
        assert refused.html == esc(why.value.user_message) and labels(refused) == []
        assert await posts_rows(h) == before
        # Own media held, then its kept file gone (pruned, or the disk tidied): Replace changes nothing.
        await alice.ask("/post")
        await alice.user.send_media("photo", b"\x89PNG" * 100, caption="Big sale")
        await alice.user.wait_reply()
        for kept in (h.settings.paths.data_dir / "media").iterdir():
            kept.unlink()
        gone = await alice.press_answer(said(lang, t.btn_replace_all, 2))
        assert gone.show_alert and gone.text == said(lang, t.CHOICE_GONE)
        assert await posts_rows(h) == before
