"""Every command's bad input gets a specific reply and changes nothing in the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from botkit import Harness, Player, bot_harness

from core.texts import customer as t
from core.texts import groups as group_texts

ALICE = 1001


async def _unchanged(h: Harness, player: Player, text: str) -> str:
    """Send ``text``; assert the database is the same afterwards; return the reply text."""
    before = await h.snapshot()
    reply = await player.ask(text)
    await h.idle()
    assert await h.snapshot() == before, f"{text!r} changed the database"
    return reply.text


async def test_bad_input_is_refused_specifically_and_changes_nothing(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")

        # /run with nothing set says what is missing, all of it
        text = await _unchanged(h, alice, "/run")
        assert text == t.run_not_ready([t.RUN_NEEDS_POST(), t.RUN_NEEDS_GROUPS()])
        assert "• Set the post with /post." in text and "• Add groups with /addgroups." in text

        # empty arguments ask for the value instead of failing
        assert "Send the post now" in await _unchanged(h, alice, "/post")
        assert "Send the groups to add" in await _unchanged(h, alice, "/addgroups")
        assert group_texts.DEL_GROUP_ASK() in await _unchanged(h, alice, "/delgroup")
        assert "Choose an interval" in await _unchanged(h, alice, "/interval")

        # post links
        text = await _unchanged(h, alice, "/post https://t.me/somechannel")
        assert "needs the message number" in text
        text = await _unchanged(h, alice, "/post https://t.me/+AbCdEfGh123")
        assert "invite link" in text
        text = await _unchanged(h, alice, "/post https://example.com/post/1")
        assert "not a Telegram link" in text
        # 2100 emoji are 4200 UTF-16 units: no Telegram client sends that as one message (the emulator
        # counts as Telegram does); the bot's own refusal of it is tested on the service
        # (tests/test_post_flows.py::test_a_text_too_long_is_refused_in_words_people_count).
        with pytest.raises(ValueError, match="4096"):
            await alice.user.say("/post " + "😀" * 2100)

        # groups
        text = await _unchanged(h, alice, "/addgroups t.me/+InviteOnly")
        assert "invite link" in text and "Nothing to add" not in text
        text = await _unchanged(h, alice, "/delgroup @not_in_the_list")
        assert "@not_in_the_list is not in your groups" in text
        text = await _unchanged(h, alice, "/delgroup ??")
        assert "is not a group" in text

        # interval
        text = await _unchanged(h, alice, "/interval soon")
        assert '"soon" is not a number of minutes' in text
        text = await _unchanged(h, alice, "/interval 0.5")
        assert "30 s is outside the allowed range: the interval must be from 1 min to 1 d." in text
        text = await _unchanged(h, alice, "/interval 100000")
        assert "outside the allowed range" in text

        # unknown things get a hint
        assert await _unchanged(h, alice, "/frobnicate") == t.UNKNOWN_COMMAND()
        assert await _unchanged(h, alice, "hello there") == t.UNKNOWN_TEXT()


async def test_run_names_what_is_missing_step_by_step(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE, sessions=2)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/3")
        text = await _unchanged(h, alice, "/run")
        assert "Add groups with /addgroups." in text and "/post" not in text

        await alice.ask("/addgroups @only_group")
        before = await h.snapshot()
        text = (await alice.ask("/run")).text  # the pool is empty
        assert "needs 2 more sessions and the pool has none free right now" in text
        # Nothing changed but what makes "the admin has been told" true (issue 18): the admins' event.
        after = await h.snapshot()
        assert {k: v for k, v in after.items() if k != "events"} == {k: v for k, v in before.items() if k != "events"}
        assert [(e[1], e[2]) for e in after["events"][len(before["events"]):]] == [(None, "sessions_short")]
        # The outbox delivers it in the background whenever it polls next; delivered now (its lock waits for
        # a delivery already under way), it cannot land inside the next "nothing changed" window.
        await h.deliver()

        group_id = (await h.rows("SELECT id FROM groups"))[0]["id"]
        async with h.db.tx() as conn:
            from storage import groups

            await groups.pause(conn, group_id, "ChatWriteForbiddenError", h.clock.now())
        text = await _unchanged(h, alice, "/run")
        assert "Every group is paused" in text

        await alice.ask("/groups")
        resumed = await alice.press(t.btn_resume("@only_group"))
        assert "1 active, 0 paused" in resumed.text
        await h.fill_pool(1)
        started = await alice.ask("/run")
        assert "Campaign started with 1 session." in started.text and "the other 1 of your plan" in started.text


async def test_answers_to_questions_are_validated_and_the_question_stays_open(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post")
        text = await _unchanged(h, alice, "t.me/+InviteLink")
        assert "invite link" in text
        saved = await alice.ask("https://t.me/c/1234567890/55")
        assert "https://t.me/c/1234567890/55" in saved.text
        c = await h.customer(ALICE)
        assert (c.post_peer, c.post_msg_id) == ("-1001234567890", 55)

        await alice.ask("/interval")
        await alice.press(t.BTN_INTERVAL_OTHER())
        text = await _unchanged(h, alice, "9999999")
        assert "outside the allowed range" in text
        done = await alice.ask("7.5")
        assert "every 7 min 30 s" in done.text
        assert (await h.customer(ALICE)).interval_s == 450

        await alice.ask("/addgroups")
        before = await h.snapshot()
        await alice.user.send_photo(b"\x89PNG fake")
        reply = await alice.user.wait_reply()
        assert reply.text == group_texts.GROUPS_FILE_NOT_TXT()
        assert await h.snapshot() == before


async def test_text_post_keeps_the_text_without_the_command(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        await alice.user.say("/post   Summer <b>sale</b> & more\nsecond line  ")
        preview, reply = await alice.user.wait_replies(2)  # the post as groups see it, then what was saved
        assert preview.text == "Summer <b>sale</b> & more\nsecond line"
        assert "Post set: a text of" in reply.text
        c = await h.customer(ALICE)
        assert c.post_kind == "text"
        assert c.post_text == "Summer <b>sale</b> & more\nsecond line"  # user text is data, not markup
        # The /post command's own entity is cut with it; the rest are re-based on the stored text.
        assert all(e["offset"] + e["length"] <= len(c.post_text) for e in c.post_entities)
        assert [c.post_text[e["offset"] : e["offset"] + e["length"]] for e in c.post_entities] == ["/b"]
        menu = await alice.ask("/start")
        assert "Summer <b>sale</b> & more" in menu.text  # shown escaped, as typed


async def test_groups_from_a_txt_file_and_the_cap(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        reply = await alice.send_file("groups.txt", "\ufeff@file_group_one\n\nt.me/file_group_two\n12345\n".encode())
        assert "Added 2 groups" in reply.text and '"12345"' in reply.text

        before = await h.snapshot()
        reply = await alice.send_file("photo.jpg", b"\xff\xd8 not text")
        assert reply.text == group_texts.GROUPS_FILE_NOT_TXT()
        assert await h.snapshot() == before

        many = "\n".join(f"@bulk_group_{i:03d}" for i in range(199))
        reply = await alice.ask(f"/addgroups {many}")
        assert "Added 198 groups" in reply.text and "limit of 200 groups (1)" in reply.text
        count = await h.rows("SELECT COUNT(*) AS n FROM groups WHERE customer_id = ?", (ALICE,))
        assert count[0]["n"] == 200

        page = await alice.ask("/groups")
        # Ten groups a page (each has its own remove button): 20 pages.
        assert "200 of at most 200" in page.text and "page 1 of 20" in page.text
        second = await alice.press(t.BTN_NEXT())
        assert "page 2 of 20" in second.text and second.message_id == page.message_id
