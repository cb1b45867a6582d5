"""/posts (issue 19 part P), end to end in English and Russian: the real bot over the Bot API emulator, a
strict simulated world (only the chats declared exist, sessions only where they are members).

A customer adds posts through the screens (a text, a link to a channel's post, an own photo), reorders,
removes, previews, switches a text's link preview, picks the rotation, the copy options and a fixed post per
group, and reaches the cap; the campaign's cycles then carry what the screens set. Expected texts are
rendered with ``in_locale`` (what a reader of that language gets), plus literal Russian checks so a wrong
catalog cannot pass by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from control_bot.callbacks import PostsAction, PostsCb
from control_bot.services import posts as posts_service
from core.clock import FakeClock
from core.texts import customer as customer_texts
from core.texts import post as post_texts
from core.texts import posts as t
from sandbox.botapi.media import channel_origin
from sandbox.world import World
from sandbox.world.model import Delivery
from tests.botkit import START, Harness, Player, bot_harness, in_locale, labels

ALICE, BOB = 1001, 1002
LANGS = ["en", "ru"]
MAX = 10
DEALS_ID = -1001555000111  # the Bot API id of @deals (what forward_origin carries)
LANG_OF: dict[int, str] = {}  # each player's language, for the labels they read


def strict_world(clock: FakeClock) -> World:
    world = World(clock)
    deals = world.add_channel("deals", posts=[1, 2, 3])
    deals.posts[1] = "Summer sale: everything half price"
    world.add_group("cats_group")
    world.add_group("dogs_group")
    return world


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START, auto=True)


async def customer(h: Harness, lang: str, *groups: str, user_id: int = ALICE) -> Player:
    """A customer with a plan, a session in the pool and ``groups``; no post yet."""
    await h.grant(user_id)
    await h.fill_pool(1)
    player = h.user(user_id, "Alice", language_code=lang)
    LANG_OF[user_id] = lang
    await player.ask("/addgroups " + " ".join(groups))
    return player


async def view(h: Harness, user_id: int = ALICE) -> posts_service.PostsView:
    """The list as the service gives it to this customer (titles in their language)."""
    with in_locale(LANG_OF.get(user_id, "en")):
        return await posts_service.posts_view(h.db, user_id, max_posts=h.settings.engine.max_posts,
                                              now=h.clock.now())


async def open_list(alice: Player) -> str:
    """The list, from the newest message that has the All posts button (or /posts)."""
    back = _label(alice, t.BTN_ALL_POSTS)
    try:
        return (await alice.press(back)).html
    except LookupError:
        return (await alice.ask("/posts")).html


async def add_text(alice: Player, text: str) -> str:
    """Add pressed, then a text sent: its copy back, then "added"; returns the last."""
    await open_list(alice)
    await alice.press(_label(alice, t.BTN_ADD_POST))
    await alice.user.say(text)
    copy, added = await alice.user.wait_replies(2)
    assert copy.text == text and copy.link_preview  # a new text post shows its links' preview
    return added.html


def _label(alice: Player, fn: Callable[..., str], *args: object) -> str:
    """A label as this player reads it."""
    with in_locale(LANG_OF[alice.id]):
        return fn(*args)


async def cycle(h: Harness) -> None:
    h.clock.set(h.clock.now() + 400)
    await h.cycle(ALICE)


async def rotation_recorded(h: Harness) -> bool:
    """Whether the engine says which post each send carried (``sends.post_id``, issue 19 part A's engine)."""
    rows = await h.rows("SELECT post_id FROM sends WHERE post_id IS NOT NULL")
    return bool(rows)


def in_turn(delivered: Sequence[str], order: Sequence[str]) -> bool:
    """``delivered`` takes the posts in ``order``, starting anywhere in it (which post the first cycle
    carries is the engine's: cycle n carries post n mod count)."""
    return any(list(delivered) == [order[(start + i) % len(order)] for i in range(len(delivered))]
               for start in range(len(order)))


def carried(delivery: Delivery) -> str:
    """What one delivery was, as the test's posts differ: the channel post, the photo, or the text."""
    if delivery.source_msg is not None:
        return f"link {delivery.source_msg}"
    if delivery.media:
        return "photo"
    return delivery.text or ""


@pytest.mark.parametrize("lang", LANGS)
async def test_add_three_posts_reorder_preview_and_remove(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer(h, lang, "@cats_group")
        empty = await alice.ask("/posts")
        with in_locale(lang):
            assert empty.html == t.posts_head(0, MAX) + "\n\n" + t.NO_POSTS()
            assert t.BTN_ADD_POST() in labels(empty)
        if lang == "ru":
            assert "Ваши посты" in empty.text and "0 из 10" in empty.text

        # 1. a text (with a link in it)
        added = await add_text(alice, "Hello there, see https://example.com/shop")
        (first,) = (await view(h)).posts
        with in_locale(lang):
            assert added == t.post_added(1, first.title) + "\n\n" + post_texts.PREVIEW_OWN()
        # 2. a link to a channel's post (no session connected yet: saved unchecked)
        await open_list(alice)
        ask = await alice.press(_label(alice, t.BTN_ADD_POST))
        with in_locale(lang):
            assert ask.html == t.ADD_ASK()
        linked = await alice.ask("https://t.me/deals/1")
        with in_locale(lang):
            assert linked.html.startswith(t.post_added(2, "https://t.me/deals/1"))
            assert labels(linked) == [t.BTN_ALL_POSTS()]
        # 3. an own photo
        await open_list(alice)
        await alice.press(_label(alice, t.BTN_ADD_POST))
        await alice.user.send_media("photo", b"\x89PNG" * 100, caption="Big sale")
        copy, added = await alice.user.wait_replies(2)
        assert copy.photo is not None and copy.html == "Big sale"
        v = await view(h)
        assert [p.kind for p in v.posts] == ["text", "link", "media"]
        with in_locale(lang):
            assert added.html.startswith(t.post_added(3, v.posts[2].title))

        listed = await open_list(alice)
        with in_locale(lang):
            assert listed.startswith(t.posts_head(3, MAX))
            for number, p in enumerate(v.posts, start=1):
                assert t.post_line(number, p.title) in listed
            assert t.posts_foot("order", False, False) in listed
        if lang == "ru":
            assert "3 из 10" in listed and "по очереди" in listed

        # Reorder: the photo up (to 2), then the text down (to 2): photo, text, link.
        photo, text, link = v.posts[2], v.posts[0], v.posts[1]
        screen = await alice.press(_label(alice, t.btn_post, 3, photo.title))
        with in_locale(lang):
            assert screen.html.startswith(t.post_screen(3, 3, photo.title, "media", 1, link_preview=True,
                                                        custom_emoji=False))
            assert t.BTN_DOWN() not in labels(screen)  # the last one cannot go down
        moved = await alice.press(_label(alice, t.BTN_UP))
        with in_locale(lang):
            assert moved.html.startswith(t.post_screen(2, 3, photo.title, "media", 1, link_preview=True,
                                                       custom_emoji=False))
        await open_list(alice)
        await alice.press(_label(alice, t.btn_post, 1, text.title))
        await alice.press(_label(alice, t.BTN_DOWN))
        assert [p.id for p in (await view(h)).posts] == [photo.id, text.id, link.id]

        # The text's link preview off, from its screen (now post 2).
        switched = await alice.press(_label(alice, t.btn_link_preview, True))
        with in_locale(lang):
            assert t.link_preview_line(False) in switched.html
            assert t.btn_link_preview(False) in labels(switched)
        assert [p.link_preview for p in (await view(h)).posts] == [True, False, True]
        await alice.user.click(_label(alice, t.BTN_PREVIEW))
        as_sent, _note = await alice.user.wait_replies(2)
        assert as_sent.text == "Hello there, see https://example.com/shop" and as_sent.link_preview is False
        if lang == "ru":
            assert "без предпросмотра" in switched.html

        # Preview of the photo: sent here as groups will see it.
        await open_list(alice)
        await alice.press(_label(alice, t.btn_post, 1, photo.title))
        await alice.user.click(_label(alice, t.BTN_PREVIEW))
        shown, note = await alice.user.wait_replies(2)
        assert shown.photo is not None and shown.text == "Big sale"
        with in_locale(lang):
            assert note.html == post_texts.PREVIEW_OWN()
        # ... and of the link: what is known of it, and how it is sent.
        await alice.press(_label(alice, t.BTN_BACK))
        await open_list(alice)
        await alice.press(_label(alice, t.btn_post, 3, link.title))
        await alice.user.click(_label(alice, t.BTN_PREVIEW))
        described = await alice.user.wait_reply()
        with in_locale(lang):
            assert described.html == post_texts.preview_of_link("https://t.me/deals/1", "", 1) + "\n\n" + \
                post_texts.header_line(False)

        # A fourth post, removed again (asked first).
        await add_text(alice, "Gone soon")
        await open_list(alice)
        await alice.press(_label(alice, t.btn_post, 4, "Gone soon"))
        asked = await alice.press(_label(alice, t.BTN_REMOVE))
        with in_locale(lang):
            assert asked.html == t.remove_ask(4, "Gone soon", False)
        assert len((await view(h)).posts) == 4  # nothing removed before the answer
        await alice.user.click(_label(alice, t.BTN_REMOVE_YES))
        after = await alice.user.wait_reply()
        with in_locale(lang):
            assert after.html.startswith(t.posts_head(3, MAX))
        assert [p.id for p in (await view(h)).posts] == [photo.id, text.id, link.id]



@pytest.mark.parametrize("lang", LANGS)
async def test_rotation_copy_options_and_a_fixed_post_per_group(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer(h, lang, "@cats_group", "@dogs_group")
        await add_text(alice, "First offer")
        await add_text(alice, "Second offer")

        await open_list(alice)
        picker = await alice.press(_label(alice, t.BTN_ROTATION))
        with in_locale(lang):
            assert picker.html == t.rotation_screen("order")
            assert labels(picker)[:3] == [t.btn_rotation("order", True), t.btn_rotation("random", False),
                                         t.btn_rotation("fixed", False)]
        if lang == "ru":
            assert "По очереди" in picker.text and "Случайно" in picker.html
        chosen = await alice.press(_label(alice, t.btn_rotation, "random", False))
        with in_locale(lang):
            assert chosen.html == t.rotation_screen("random")
        assert (await view(h)).rotation == "random"
        fixed = await alice.press(_label(alice, t.btn_rotation, "fixed", False))
        assert (await view(h)).rotation == "fixed"
        with in_locale(lang):
            assert t.BTN_GROUP_POSTS() in labels(fixed)

        # The post of each group: @cats_group always gets post 2; @dogs_group follows the order.
        groups = await alice.press(_label(alice, t.BTN_GROUP_POSTS))
        with in_locale(lang):
            assert t.group_post_line(1, "@cats_group", None, "") in groups.html
            assert t.GROUP_POSTS_HINT() in groups.html
        pick = await alice.press(_label(alice, t.btn_group, 1, "@cats_group"))
        with in_locale(lang):
            assert pick.html == t.group_post_ask("@cats_group")
        done = await alice.press(_label(alice, t.btn_group_post, 2, "Second offer", False))
        with in_locale(lang):
            assert t.group_post_line(1, "@cats_group", 2, "Second offer") in done.html
            assert t.group_post_line(2, "@dogs_group", None, "") in done.html
        if lang == "ru":
            assert "пост 2" in done.text and "по очереди" in done.html

        # Copy options: without the header, then without captions too.
        await open_list(alice)
        copy = await alice.press(_label(alice, t.BTN_COPY))
        with in_locale(lang):
            assert copy.html == t.copy_screen(False, False)
        await alice.press(_label(alice, t.btn_copy, True, False, False))
        v = await view(h)
        assert (v.drop_author, v.drop_media_captions) == (True, False)
        last = await alice.press(_label(alice, t.btn_copy, True, True, False))
        v = await view(h)
        assert (v.drop_author, v.drop_media_captions) == (True, True)
        with in_locale(lang):
            assert last.html == t.copy_screen(True, True)
            assert t.btn_copy(True, True, True) in labels(last)
        if lang == "ru":
            assert "без заголовка и подписей" in last.html



@pytest.mark.parametrize("lang", LANGS)
async def test_add_at_the_cap_says_why_in_customer_words(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock, max_posts=2) as h:
        alice = await customer(h, lang, "@cats_group")
        await add_text(alice, "One")
        await add_text(alice, "Two")
        listed = await open_list(alice)
        with in_locale(lang):
            assert listed.startswith(t.posts_head(2, 2))
        before, posts_before = await h.snapshot(), await view(h)
        answer = await alice.press_answer(_label(alice, t.BTN_ADD_POST))
        with in_locale(lang):
            assert answer.text == t.posts_full(2)
        assert answer.show_alert
        assert "max_posts" not in answer.text and await h.snapshot() == before and await view(h) == posts_before
        if lang == "ru":
            assert "В кампании уже 2 поста" in answer.text
        # The question was not asked: a text sent now is no post.
        reply = await alice.ask("Three")
        with in_locale(lang):
            assert reply.html == customer_texts.UNKNOWN_TEXT()
        assert len((await view(h)).posts) == 2


@pytest.mark.parametrize("lang", LANGS)
async def test_the_only_post_removed_and_forged_buttons_change_nothing(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        await h.grant(BOB)
        bob_post = await posts_service.add_post(h.db, BOB, posts_service.OwnDraft("Bob's"), max_posts=MAX,
                                              now=h.clock.now())
        alice = await customer(h, lang, "@cats_group")
        await add_text(alice, "Only one")
        await open_list(alice)
        screen = await alice.press(_label(alice, t.btn_post, 1, "Only one"))
        with in_locale(lang):
            assert t.BTN_UP() not in labels(screen) and t.BTN_DOWN() not in labels(screen)

        before, posts_before = await h.snapshot(), await view(h)
        forged = [
            PostsCb(action=PostsAction.REMOVE_YES, post=bob_post.id).pack(),
            PostsCb(action=PostsAction.PREVIEW_OFF, post=bob_post.id).pack(),
            PostsCb(action=PostsAction.UP, post=2**63 + 5).pack(),
            PostsCb(action=PostsAction.SET_ROTATION, value="sideways").pack(),
            PostsCb(action=PostsAction.SET_COPY, value="upside").pack(),
            PostsCb(action=PostsAction.SET_GROUP, group=1, post=bob_post.id).pack(),
        ]
        for data in forged:
            await alice.forge(screen.message_id, data)
        await h.idle()
        assert await h.snapshot() == before and await view(h) == posts_before
        assert [p.title for p in (await view(h, BOB)).posts] == ["Bob's"]

        await open_list(alice)  # the last forgery showed the groups' posts
        await alice.press(_label(alice, t.btn_post, 1, "Only one"))
        asked = await alice.press(_label(alice, t.BTN_REMOVE))
        with in_locale(lang):
            assert asked.html == t.remove_ask(1, "Only one", True)
        if lang == "ru":
            assert "единственный пост" in asked.html
        await alice.user.click(_label(alice, t.BTN_REMOVE_YES))
        empty = await alice.user.wait_reply()
        with in_locale(lang):
            assert empty.html == t.posts_head(0, MAX) + "\n\n" + t.NO_POSTS()
        assert (await view(h)).posts == ()


async def test_cycles_carry_the_posts_in_the_order_and_per_group_the_screens_set(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Three posts added on /posts (a text, a channel's post forwarded here, an own photo), the photo moved
    first, @cats_group given the channel's post: @dogs_group gets the three in the new order, one a cycle,
    @cats_group its own."""
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await customer(h, "en", "@cats_group", "@dogs_group")
        await add_text(alice, "Hello there")
        await open_list(alice)
        await alice.press(t.BTN_ADD_POST())
        await alice.user.forward(channel_origin(DEALS_ID, 1, title="Deals", username="deals"), text="Summer sale")
        added = await alice.user.wait_reply()
        assert added.html.startswith(t.post_added(2, "https://t.me/deals/1"))  # a forward, added like a link
        await open_list(alice)
        await alice.press(t.BTN_ADD_POST())
        await alice.user.send_media("photo", b"\x89PNG" * 100, caption="Big sale")
        await alice.user.wait_replies(2)
        text, link, photo = (await view(h)).posts
        await open_list(alice)
        await alice.press(t.btn_post(3, photo.title))
        await alice.press(t.BTN_UP())
        await alice.press(t.BTN_UP())
        assert [p.id for p in (await view(h)).posts] == [photo.id, text.id, link.id]
        await open_list(alice)
        await alice.press(t.BTN_ROTATION())
        await alice.press(t.btn_rotation("fixed", False))
        await alice.press(t.BTN_GROUP_POSTS())
        await alice.press(t.btn_group(1, "@cats_group"))
        await alice.press(t.btn_group_post(3, link.title, False))

        await alice.ask("/run")
        for _ in range(3):
            await cycle(h)
        if not await rotation_recorded(h):
            pytest.skip("this engine sends the first post every cycle: rotation is issue 19 part A's engine")
        to_dogs = [carried(d) for d in h.world.deliveries_to("@dogs_group")]
        assert in_turn(to_dogs, ["photo", "Hello there", "link 1"]), to_dogs
        assert [carried(d) for d in h.world.deliveries_to("@cats_group")] == ["link 1"] * 3
        assert h.world.violations == []
