"""Posts as people send them (issue 18 part E), end to end in English and Russian: the real bot over the
Bot API emulator, a strict simulated world (only the chats declared exist, sessions only where they are
members), the engine's sessions sending what was saved.

Expected texts are rendered with ``in_locale`` (what a reader of that language gets), plus a few literal
Russian checks so a wrong catalog cannot pass by construction.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from control_bot.services import post as post_service
from core.clock import FakeClock
from core.errors import InputError
from core.texts import post as t
from sandbox.botapi.media import channel_origin
from sandbox.world import World
from tests.botkit import START, Harness, Player, bot_harness, in_locale, labels

ALICE = 1001
LANGS = ["en", "ru"]
DEALS_ID = -1001555000111  # the Bot API id of @deals (what forward_origin carries)


def strict_world(clock: FakeClock) -> World:
    world = World(clock)
    deals = world.add_channel("deals", posts=[1, 2, 3, 4, 5])
    deals.posts[1] = "Summer sale: everything half price"
    deals.albums.update({3: 77, 4: 77, 5: 77})
    deals.media.update({3: "photo", 4: "photo", 5: "video"})
    world.add_channel("locked", posts=[1], noforwards=True)
    world.add_group("cats_group")
    return world


async def connected_customer(h: Harness, lang: str) -> Player:
    """A customer whose session is connected: a first campaign cycle has run (a text post, one group)."""
    await h.grant(ALICE)
    await h.fill_pool(1)
    alice = h.user(ALICE, "Alice", language_code=lang)
    await alice.user.say("/post first text")
    await alice.user.wait_replies(2)
    await alice.ask("/addgroups @cats_group")
    await alice.ask("/run")
    report = await h.cycle(ALICE)
    assert report.sent == 1
    return alice


async def saved_after_preview(alice: Player) -> str:
    """The bot's last answer to a post: the preview (when it can show one) comes before it."""
    await alice.h.idle()
    return alice.last_bot_message().text


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START, auto=True)


@pytest.mark.parametrize("lang", LANGS)
async def test_a_post_forwarded_from_a_channel_is_checked_and_set(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await connected_customer(h, lang)
        reads = h.world.request_count(method="read")

        await alice.ask("/post")
        await alice.user.forward(channel_origin(DEALS_ID, 1, title="Deals", username="deals"), text="Summer sale")
        text = await saved_after_preview(alice)

        c = await h.customer(ALICE)
        assert (c.post_kind, c.post_peer, c.post_msg_id, c.drop_author) == ("link", "@deals", 1, False)
        with in_locale(lang):
            expected = "\n\n".join([
                t.post_saved_link("https://t.me/deals/1", True, checked=True),
                t.preview_of_link("https://t.me/deals/1", "Summer sale: everything half price", 1),
                t.header_line(False),
            ])
            assert text == expected
            assert labels(alice.last_bot_message())[0] == t.BTN_DROP_AUTHOR()
        assert h.world.request_count(method="read") == reads + 1  # one read by the connected session
        if lang == "ru":
            assert "Ваша сессия его прочитала" in text and "Переслано из" in text

        # The header toggle: forwarded without "Forwarded from" from now on, and back.
        with in_locale(lang):
            drop, keep = t.BTN_DROP_AUTHOR(), t.BTN_KEEP_AUTHOR()
            changed = t.header_changed(True)
        edited = await alice.press(drop)
        assert edited.text == changed and (await h.customer(ALICE)).drop_author is True
        await alice.press(keep)
        assert (await h.customer(ALICE)).drop_author is False

        # The next cycle forwards it (the campaign is running).
        h.clock.set(h.clock.now() + 400)
        await h.cycle(ALICE)
        (delivery,) = [d for d in h.world.deliveries_to("@cats_group") if d.source_msg == 1]
        assert delivery.drop_author is False
        assert h.world.violations == []


@pytest.mark.parametrize("lang", LANGS)
async def test_pasted_links_are_checked_missing_locked_and_albums(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await connected_customer(h, lang)
        before = await h.customer(ALICE)

        missing = await alice.ask("/post https://t.me/deals/99")
        locked = await alice.ask("/post https://t.me/locked/1")
        with in_locale(lang):
            assert missing.text == t.post_missing("https://t.me/deals/99")
            assert locked.text == t.post_no_forwards("https://t.me/locked/1")
        after = await h.customer(ALICE)
        assert (after.post_kind, after.post_text) == (before.post_kind, before.post_text)  # nothing changed
        if lang == "ru":
            assert "поста нет" in missing.text and "запрещает пересылку" in locked.text

        await alice.user.say("/post https://t.me/deals/4")
        text = await saved_after_preview(alice)
        with in_locale(lang):
            assert text.startswith(t.post_saved_link("https://t.me/deals/4", True, checked=True, album=3))
            assert t.preview_of_link("https://t.me/deals/4", "post 3", 3) in text
        c = await h.customer(ALICE)
        assert (c.post_peer, c.post_msg_id) == ("@deals", 4)
        h.clock.set(h.clock.now() + 400)
        await h.cycle(ALICE)
        albums = [d for d in h.world.deliveries_to("@cats_group") if d.source_chat is not None]
        assert len(albums) == 1  # the whole album in one forward
        assert h.world.violations == []


@pytest.mark.parametrize("lang", LANGS)
async def test_with_no_session_connected_a_link_is_saved_unchecked_and_said_so(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice", language_code=lang)
        reply = await alice.ask("/post https://t.me/deals/99")  # cannot be checked now: saved
        with in_locale(lang):
            assert reply.text == t.post_saved_link("https://t.me/deals/99", False) + "\n\n" + t.header_line(False)
        assert (await h.customer(ALICE)).post_msg_id == 99
        assert h.world.request_count() == 0  # no session was opened for it
        if lang == "ru":
            assert "будет проверен в первом цикле" in reply.text


@pytest.mark.parametrize("lang", LANGS)
async def test_own_photo_is_kept_previewed_and_posted_as_media(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await connected_customer(h, lang)
        await alice.ask("/post")
        await alice.user.send_media("photo", b"\x89PNG" * 100, caption="Big sale",
                                    entities=[{"type": "bold", "offset": 0, "length": 3}])
        preview, saved = await alice.user.wait_replies(2)

        assert preview.photo is not None and preview.text == "Big sale"
        assert preview.entities == ({"type": "bold", "offset": 0, "length": 3},)
        with in_locale(lang):
            summary = t.post_summary("text", None, "Big sale", ["photo"])
            assert saved.text == t.post_saved_own(True, summary) + "\n\n" + t.PREVIEW_OWN()
        c = await h.customer(ALICE)
        assert (c.post_kind, c.post_media, c.post_text) == ("text", 1, "Big sale")
        kept = list((h.settings.paths.data_dir / "media").iterdir())
        assert len(kept) == 1 and kept[0].read_bytes() == b"\x89PNG" * 100
        assert kept[0].stat().st_mode & 0o777 == 0o600

        h.clock.set(h.clock.now() + 400)
        await h.cycle(ALICE)
        delivery = h.world.deliveries_to("@cats_group")[-1]
        assert (delivery.media, delivery.text) == (("photo",), "Big sale")  # media, not text
        if lang == "ru":
            assert "Так его увидят в группах" in saved.text


@pytest.mark.parametrize("lang", LANGS)
async def test_a_photo_without_caption_is_the_post_in_the_menu_status_and_post(tmp_path: Path, lang: str) -> None:
    """One summary of the post everywhere (the menu, /status, /post): it knows media, so a photo with no
    caption is "a photo", never "not set"."""
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice", language_code=lang)
        await alice.ask("/post")
        await alice.user.send_media("photo", b"\x89PNG" * 100)
        await alice.user.wait_replies(2)
        with in_locale(lang):
            summary = t.post_summary("text", None, "", ["photo"])
            unset = t.post_summary(None, None, None)
        assert summary != unset
        menu = await alice.ask("/start")
        status = await alice.ask("/status")
        question = await alice.ask("/post")
        for screen in (menu, status, question):
            assert summary in screen.html and unset not in screen.html, screen.html
        if lang == "ru":
            assert "фото" in menu.text
        else:
            assert "Post: a photo" in menu.text and "Post: a photo" in status.text


@pytest.mark.parametrize("lang", LANGS)
async def test_own_album_is_collected_and_posted_in_one_request(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await connected_customer(h, lang)
        await alice.ask("/post")
        await alice.user.send_album([("photo", b"one" * 50), ("video", b"two" * 50), ("photo", b"three" * 50)],
                                    caption="Three at once")
        first, second, third, saved = await alice.user.wait_replies(4)

        assert first.media_group_id == second.media_group_id == third.media_group_id is not None
        assert (first.photo is not None, second.video is not None, first.text) == (True, True, "Three at once")
        with in_locale(lang):
            summary = t.post_summary("text", None, "Three at once", ["photo", "video", "photo"])
            assert saved.text == t.post_saved_own(True, summary) + "\n\n" + t.PREVIEW_OWN()
        assert (await h.customer(ALICE)).post_media == 3

        h.clock.set(h.clock.now() + 400)
        await h.cycle(ALICE)
        delivery = h.world.deliveries_to("@cats_group")[-1]
        assert delivery.media == ("photo", "video", "photo")
        assert h.world.request_count(method="send_media") == 1
        assert h.world.violations == []


@pytest.mark.parametrize("lang", LANGS)
async def test_a_forward_from_a_person_is_kept_as_own_content(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice", language_code=lang)
        await alice.ask("/post")
        await alice.user.forward({"type": "hidden_user", "date": 1, "sender_user_name": "Bob"},
                                 text="https://t.me/deals/1")
        preview, saved = await alice.user.wait_replies(2)
        assert preview.text == "https://t.me/deals/1"
        c = await h.customer(ALICE)
        assert (c.post_kind, c.post_text) == ("text", "https://t.me/deals/1")  # their text, not a link post
        with in_locale(lang):
            assert saved.text.startswith(t.FROM_A_PERSON())
        if lang == "ru":
            assert "пересланное сообщение человека" in saved.text


@pytest.mark.parametrize("lang", LANGS)
async def test_what_cannot_be_a_post_is_refused(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice", language_code=lang)
        await alice.ask("/post")
        await alice.user.send_album([("document", b"a" * 10), ("photo", b"b" * 10)])
        refused = await alice.user.wait_reply()
        with in_locale(lang):
            assert refused.text == t.ALBUM_MIXED()
        assert (await h.customer(ALICE)).post_kind is None


@pytest.mark.parametrize("lang", LANGS)
async def test_a_channel_post_forwarded_any_time_sets_the_post_and_big_files_are_refused(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice", language_code=lang)
        # No /post first: a channel's post forwarded to the bot is meant as the post.
        await alice.user.forward(channel_origin(DEALS_ID, 2, title="Deals", username="deals"), text="x")
        await h.idle()
        assert (await h.customer(ALICE)).post_link == "https://t.me/deals/2"

        await alice.ask("/post")
        await alice.user.send_media("video", b"\x00" * (20 * 1024 * 1024 + 1), file_name="big.mp4")
        refused = await alice.user.wait_reply()
        with in_locale(lang):
            assert refused.text == t.media_too_big(20)
        assert (await h.customer(ALICE)).post_link == "https://t.me/deals/2"  # nothing changed
        assert not (h.settings.paths.data_dir / "media").exists()  # nothing downloaded


@pytest.mark.parametrize("lang", LANGS)
async def test_a_channel_album_forwarded_here_is_saved_once_with_one_check(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    """Telegram delivers a forwarded album as one message per item, each naming its own post: one save,
    one read through the customer's sessions (their flood budget), one answer."""
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        alice = await connected_customer(h, lang)
        reads = h.world.request_count(method="read")

        origins = [channel_origin(DEALS_ID, post, title="Deals", username="deals") for post in (3, 4, 5)]
        await alice.user.forward_album(origins, [("photo", b"1"), ("photo", b"2"), ("video", b"3")],
                                       caption="post 3")
        (saved,) = await alice.user.wait_replies(1, timeout=10)
        await h.idle()

        c = await h.customer(ALICE)
        assert (c.post_kind, c.post_peer, c.post_msg_id) == ("link", "@deals", 3)
        with in_locale(lang):
            assert saved.text.startswith(t.post_saved_link("https://t.me/deals/3", True, checked=True, album=3))
            assert t.header_line(False) in saved.text
        assert h.world.request_count(method="read") == reads + 1
        assert alice.unread() == []  # no second save, no second preview
        assert not (h.settings.paths.data_dir / "media").exists()  # a link post: nothing downloaded
        if lang == "ru":
            assert "альбом из 3 сообщений" in saved.text

        h.clock.set(h.clock.now() + 400)
        await h.cycle(ALICE)
        albums = [d for d in h.world.deliveries_to("@cats_group") if d.source_chat is not None]
        assert len(albums) == 1  # the whole album in one forward
        assert h.world.violations == []


@pytest.mark.parametrize("lang", LANGS)
async def test_a_caption_is_measured_as_telegram_counts_it(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    """600 emoji are 600 characters to a person and 1,200 UTF-16 units to Telegram: over the 1,024 of a
    caption (a Premium user's client sends up to 2,048), refused in words a person counts."""
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice", language_code=lang, is_premium=True)
        await alice.ask("/post")
        caption = "😀" * 600
        await alice.user.send_media("photo", b"\x89PNG" * 10, caption=caption)
        refused = await alice.user.wait_reply(timeout=10)
        with in_locale(lang):
            assert refused.text == t.caption_too_long(caption, 1024)
        assert (await h.customer(ALICE)).post_kind is None  # nothing changed
        assert not (h.settings.paths.data_dir / "media").exists()  # refused before downloading
        assert ("600" in refused.text and "176" in refused.text) and "1200" not in refused.text.replace(" ", "")
        if lang == "ru":
            assert "В подписи 600 символов" in refused.text and "Сократите её примерно на 176 символов" in refused.text

        await alice.ask("/post")
        await alice.user.send_media("photo", b"\x89PNG" * 10, caption="😀" * 512)  # exactly 1,024 units: fits
        preview, _saved = await alice.user.wait_replies(2, timeout=10)
        assert preview.photo is not None and preview.text == "😀" * 512  # the copy back fits Telegram's count
        assert (await h.customer(ALICE)).post_media == 1


@pytest.mark.parametrize("lang", LANGS)
async def test_a_post_over_the_media_cap_is_refused_before_downloading(
    tmp_path: Path, lang: str, clock: FakeClock
) -> None:
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock, max_post_media_mb=1) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice", language_code=lang)
        await alice.ask("/post")
        await alice.user.send_album([("photo", b"a" * 600_000), ("photo", b"b" * 600_000)])
        refused = await alice.user.wait_reply(timeout=10)
        with in_locale(lang):
            assert refused.text == t.media_over_cap(2, 1)
        assert (await h.customer(ALICE)).post_kind is None
        assert not (h.settings.paths.data_dir / "media").exists()
        if lang == "ru":
            assert "не больше 1 МБ" in refused.text

        await alice.ask("/post")
        await alice.user.send_media("photo", b"c" * 600_000)  # within the cap
        await alice.user.wait_replies(2, timeout=10)
        assert (await h.customer(ALICE)).post_media == 1


@pytest.mark.parametrize("lang", LANGS)
async def test_a_text_too_long_is_refused_in_words_people_count(tmp_path: Path, lang: str, clock: FakeClock) -> None:
    """A text over one message (only a caller of the service can make one: Telegram's clients split it):
    refused with its length as people count it and how much to cut, nothing changed."""
    async with bot_harness(tmp_path, world=strict_world(clock), clock=clock) as h:
        await h.grant(ALICE)
        before = await h.snapshot()
        text = "😀" * 2100  # 2,100 characters, 4,200 UTF-16 units
        with in_locale(lang), pytest.raises(InputError) as info:
            await post_service.set_post(h.db, ALICE, text, [], h.clock.now())
        with in_locale(lang):
            assert info.value.user_message == t.post_too_long(text)
        refused = info.value.user_message
        assert "104" in refused and "4200" not in refused.replace(" ", "").replace(",", "").replace("\u00a0", "")
        assert await h.snapshot() == before
        if lang == "ru":
            assert "В тексте 2" in refused and "Сократите его примерно на 104 символа" in refused
            assert "Ничего не изменено" in refused
        else:
            assert "The text has 2,100 characters" in refused and "Nothing was changed." in refused
