"""Issue 18 part F over the Bot API emulator, in English and Russian: groups as people have them.

A ``.txt`` list with comments and bare names, a topic told from a message link by the chat being a forum
(the bot's getChat), a channel refused, a group nothing could check shown as "not checked yet" (never as
fine), the group picker (Telegram's chat-request button: ``chat_shared``), pages, a remove button per
group and ``/delgroup 3``. Expected texts are rendered in the user's language (``in_locale``), with a
few literal Russian spot checks so that a wrong catalog cannot pass by construction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botkit import Harness, Player, bot_harness, in_locale

from control_bot import keyboards as kb
from core.texts import groups as gt
from core.texts import links as lt
from core.texts import reach as rt

ALICE = 5101
LOCALES = ["en", "ru"]


async def refs(h: Harness, user_id: int = ALICE) -> list[str]:
    rows = await h.rows("SELECT ref FROM groups WHERE customer_id = ? ORDER BY id", (user_id,))
    return [str(r["ref"]) for r in rows]


async def customer(h: Harness, lang: str) -> Player:
    await h.grant(ALICE)
    return h.user(ALICE, "Alice", language_code=lang)


@pytest.mark.parametrize("lang", LOCALES)
async def test_a_txt_list_skips_comments_and_blank_lines_and_reads_bare_names(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await customer(h, lang)
        h.emu.public_chat("cats_market", title="Cats market")
        listing = (
            b"# my groups\n"
            b"\n"
            b"cats_market\n"
            b"   # dogs_market is not a group any more\n"
            b"@birds_market  # the big one\n"
            b"t.me/fish_market\n"
        )
        reply = await alice.send_file("groups.txt", listing)
        assert await refs(h) == ["@cats_market", "@birds_market", "@fish_market"]
        with in_locale(lang):
            expected = gt.groups_added(
                ["@cats_market", "@birds_market", "@fish_market"], [], [], [], 200, 3,
                unchecked=["@birds_market", "@fish_market"],
            )
        assert reply.html == expected
        # The one Telegram showed is checked, with its title; the others are not.
        rows = await h.rows("SELECT ref, checked_at, chat_kind, title FROM groups ORDER BY id")
        assert [(r["ref"], r["checked_at"] is not None, r["chat_kind"], r["title"]) for r in rows] == [
            ("@cats_market", True, "group", "Cats market"),
            ("@birds_market", False, None, None),
            ("@fish_market", False, None, None),
        ]
        if lang == "ru":
            assert "Добавлено 3 группы" in reply.text and "Ещё не проверены (2)" in reply.text


@pytest.mark.parametrize("lang", LOCALES)
async def test_a_topic_only_in_a_forum_and_channels_and_people_refused(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await customer(h, lang)
        h.emu.public_chat("cats_market", title="Cats market")  # a supergroup, not a forum
        h.emu.public_chat("forum_chat", title="Forum", is_forum=True)
        h.emu.public_chat("news_feed", title="News", chat_type="channel")
        reply = await alice.ask("/addgroups @cats_market#15 forum_chat#15 @news_feed")
        assert await refs(h) == ["@forum_chat#15"]
        with in_locale(lang):
            message_link = lt.message_link_not_topic(lt.echo("@cats_market#15"), "@cats_market", 15)
            channel = lt.group_is_channel(lt.echo("@news_feed"), "@news_feed")
            expected = gt.groups_added(
                ["@forum_chat#15"], [], [], [], 200, 1, refused=[("", message_link), ("", channel)]
            )
        assert reply.html == expected
        if lang == "en":
            assert "that is a message link, not a topic" in reply.text
        else:
            assert "это ссылка на сообщение, а не тема" in reply.text


@pytest.mark.parametrize("lang", LOCALES)
async def test_a_group_nothing_checked_is_never_shown_as_fine(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await customer(h, lang)
        h.emu.public_chat("cats_market", title="Cats market")
        await alice.ask("/addgroups @ghost_chat cats_market")
        screen = await alice.ask("/groups")
        lines = screen.text.splitlines()
        ghost = next(line for line in lines if "@ghost_chat" in line)
        cats = next(line for line in lines if "@cats_market" in line)
        assert "✅" not in ghost and "⏳" in ghost
        with in_locale(lang):
            summary = rt.groups_reach_summary(reachable=0, unreachable=0, checking=2)
        assert summary.splitlines()[0] in screen.text
        assert "Cats market" in cats
        if lang == "ru":
            assert "ещё не проверена" in ghost


@pytest.mark.parametrize("lang", LOCALES)
async def test_pick_groups_adds_the_shared_chat_and_done_removes_the_keyboard(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await customer(h, lang)
        public = h.emu.group_chat(-1001000000555, title="Pet lovers")
        public.username = "Pet_Lovers"
        private = h.emu.group_chat(-1001000000777, title="Closed club")
        with in_locale(lang):
            ask, pick, done, done_text = gt.PICK_GROUPS_ASK(), gt.BTN_PICK_GROUPS(), gt.BTN_PICK_DONE(), gt.PICK_DONE()
        reply = await alice.ask("/pickgroups")
        assert reply.text == ask
        assert alice.user.keyboard() == [[pick], [done]]
        button = h.emu.reply_keyboard(ALICE)[0][0]["request_chat"]
        assert button["chat_is_channel"] is False and button["request_title"] and button["request_username"]

        await alice.user.share_chat(pick, public.id)
        added = await alice.user.wait_reply()
        await alice.user.share_chat(pick, private.id)
        added_private = await alice.user.wait_reply()
        assert await refs(h) == ["@pet_lovers", "-1001000000777"]
        with in_locale(lang):
            assert added.html == gt.groups_added(["@pet_lovers"], [], [], [], 200, 1)
            assert added_private.html == gt.groups_added(["-1001000000777"], [], [], [], 200, 2)
        rows = await h.rows("SELECT title, chat_kind, checked_at FROM groups ORDER BY id")
        assert [(r["title"], r["chat_kind"], r["checked_at"] is not None) for r in rows] == [
            ("Pet lovers", "group", True),
            ("Closed club", "group", True),
        ]
        finished = await alice.user.tap(done)
        assert finished is not None
        reply = await alice.user.wait_reply()
        assert reply.text == done_text
        assert alice.user.keyboard() == []
        if lang == "ru":
            assert pick == "👥 Выбрать группы"


@pytest.mark.parametrize("lang", LOCALES)
async def test_pages_remove_buttons_and_delgroup_by_number(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        alice = await customer(h, lang)
        names = [f"@group_{i:02d}" for i in range(1, 24)]
        await alice.ask("/addgroups " + " ".join(names))
        assert await refs(h) == names
        screen = await alice.ask("/groups")
        with in_locale(lang):
            page_1 = "(" + ("page 1 of 3" if lang == "en" else "страница 1 из 3") + ")"
            next_label = __import__("core.texts.customer", fromlist=["BTN_NEXT"]).BTN_NEXT()
            remove_2 = gt.btn_remove(2)
            removed_toast = gt.group_removed_toast("@group_02")
        assert page_1 in screen.text
        assert [gt.btn_remove(n) for n in range(1, kb.GROUPS_PAGE + 1)] == [
            label for row in screen.buttons for label in row if label.startswith("🗑")
        ]
        second = await alice.press(next_label)
        assert "11. " in second.text and "@group_11" in second.text

        await alice.ask("/groups")
        answer = await alice.press_answer(remove_2)
        assert answer.text == removed_toast
        assert "@group_02" not in await refs(h) and len(await refs(h)) == 22

        reply = await alice.ask("/delgroup 3")
        with in_locale(lang):
            assert reply.html == gt.group_removed("@group_04", 21)
        assert "@group_04" not in await refs(h)
        reply = await alice.ask("/delgroup 99")
        with in_locale(lang):
            assert gt.no_group_number(99, 21) in reply.text
        assert len(await refs(h)) == 21
        if lang == "ru":
            assert "Группы с номером 99 нет" in reply.text
