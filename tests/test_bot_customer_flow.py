"""A customer's whole campaign through the real bot: aiogram polling the Bot API emulator over HTTP, the
simulated Telegram world, cycles run on demand."""

from __future__ import annotations

from pathlib import Path

from botkit import bot_harness, labels

from control_bot.callbacks import MenuAction, MenuCb
from core.texts import customer as t
from core.texts import status as status_texts
from core.texts.bot_profile import customer_commands

ALICE = 1001
BOB = 1002


async def test_customer_sets_up_runs_watches_and_stops_a_campaign(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE, sessions=2)
        await h.fill_pool(3)
        alice = h.user(ALICE, "Alice")

        menu = await alice.ask("/start")
        assert "Hello, Alice" in menu.text and "stopped" in menu.text
        assert [t.BTN_RUN(), t.BTN_STATUS()] in menu.buttons

        reply = await alice.ask("/post https://t.me/AdsChannel/5")
        assert "https://t.me/adschannel/5" in reply.text
        c = await h.customer(ALICE)
        assert (c.post_kind, c.post_peer, c.post_msg_id) == ("link", "@adschannel", 5)

        reply = await alice.ask("/addgroups @cats_group\nt.me/dogs_group, -1001234567890 t.me/+InviteHash no/such")
        assert "Added 3 groups" in reply.text
        assert "t.me/+InviteHash" in reply.text and "invite link" in reply.text  # the bad one is named
        assert "no/such" in reply.text  # a bare name is a username now; this is no name at all
        refs = [r["ref"] for r in await h.rows("SELECT ref FROM groups WHERE customer_id = ? ORDER BY id", (ALICE,))]
        assert refs == ["@cats_group", "@dogs_group", "-1001234567890"]

        reply = await alice.ask("/interval 10")
        assert "every 10 min" in reply.text
        assert (await h.customer(ALICE)).interval_s == 600

        # Two of the three groups go on pausing: the cycle then posts one group per session.
        bad = await h.rows("SELECT id FROM groups WHERE ref = '-1001234567890'")
        async with h.db.tx() as conn:
            from storage import groups

            await groups.pause(conn, bad[0]["id"], "paused for the test", h.clock.now())

        reply = await alice.ask("/run")
        assert "Campaign started with 2 sessions. It posts in 2 active groups every 10 min." in reply.text
        assert (await h.customer(ALICE)).status == "running"

        before = await alice.ask("/stats")
        assert "Successful: 0" in before.text

        report = await h.cycle(ALICE)
        assert report.ran
        assert sorted(d.chat_ref for d in h.world.deliveries) == ["@cats_group", "@dogs_group"]
        assert not h.world.violations

        status = await alice.ask("/status")
        assert "running" in status.text and "Last cycle: #1" in status.text
        assert "the post reached 2 of 2 groups" in status.text
        assert "Sessions: 2 of 2 (2 assigned)" in status.text
        assert "Groups: 2 active, 1 paused" in status.text
        assert "Next cycle:" in status.text and "in 10 min" in status.text

        stats = await alice.ask("/stats")
        assert "Posts tried: 2" in stats.text and "Successful: 2" in stats.text
        assert "Messages sent: 2" in stats.text and "Active sessions: 2" in stats.text
        assert "@cats_group: 1 ok, 0 failed" in stats.text

        reply = await alice.ask("/stop")
        assert reply.text == t.STOPPED()
        c = await h.customer(ALICE)
        assert c.status == "stopped" and c.stop_reason == t.STOP_REASON_CUSTOMER
        status = await alice.ask("/status")
        assert "stopped (stopped by you)" in status.text
        await h.cycle(ALICE)
        assert len(h.world.deliveries) == 2  # a stopped campaign sends nothing


async def test_logs_show_only_the_customers_own_lines_and_the_day_file(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        await h.grant(BOB)
        alice, bob = h.user(ALICE, "Alice"), h.user(BOB, "Bob")
        empty = await alice.ask("/logs")
        assert empty.text == status_texts.NO_LOGS()

        await alice.ask("/post https://t.me/alicechannel/1")
        await bob.ask("/post https://t.me/bobchannel/7")
        await bob.ask("/addgroups @bob_secret_group")

        logs = await alice.ask("/logs")
        assert "https://t.me/alicechannel/1" in logs.text
        assert "bobchannel" not in logs.text and "bob_secret_group" not in logs.text
        assert logs.html.count("<pre>") == 1

        document = await alice.press(t.BTN_LOG_FILE())
        assert document.document is not None
        content = document.document.data.decode()
        assert "alicechannel" in content and "bob" not in content


async def test_menu_buttons_edit_in_place_and_refresh_copes_with_unchanged_content(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        menu = await alice.ask("/start")

        status = await alice.press(t.BTN_STATUS())
        assert status.edited and status.message_id == menu.message_id
        assert status.text.startswith("Status")

        answer = await alice.press_answer(t.BTN_REFRESH())  # same content: "message is not modified"
        assert answer.text == t.UP_TO_DATE()

        stats = await alice.press(t.BTN_MENU())
        assert stats.message_id == menu.message_id
        stats = await alice.press(t.BTN_STATS())
        assert stats.message_id == menu.message_id and stats.text.startswith("Stats")
        answer = await alice.press_answer(t.BTN_REFRESH())
        assert answer.text == t.UP_TO_DATE()

        await alice.press(t.BTN_MENU())
        interval = await alice.press(t.BTN_INTERVAL())
        assert interval.message_id == menu.message_id
        done = await alice.press(t.btn_interval(15))
        assert "every 15 min" in done.text and done.message_id == menu.message_id
        assert (await h.customer(ALICE)).interval_s == 900

        bot_messages = [m for m in alice.user.history() if m.from_bot]
        assert len(bot_messages) == 1  # every screen above was the same message, edited


async def test_every_action_is_also_a_button(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        await h.fill_pool(1)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/start")

        ask = await alice.press(t.BTN_POST())
        assert "not set" in ask.text
        ask = await alice.press(t.BTN_SET_POST())
        assert "Send the post now" in ask.text
        await alice.user.say("Big sale today!\nSecond line")
        preview, saved = await alice.user.wait_replies(2)  # the post as groups see it, then what was saved
        assert preview.text == "Big sale today!\nSecond line"
        assert "Post set: a text" in saved.text
        c = await h.customer(ALICE)
        assert c.post_kind == "text" and c.post_text == "Big sale today!\nSecond line"

        await alice.ask("/start")
        await alice.press(t.BTN_GROUPS())
        ask = await alice.press(t.BTN_ADD_GROUPS())
        assert "Send the groups to add" in ask.text
        added = await alice.ask("@first_group @second_group")
        assert "Added 2 groups" in added.text

        await alice.ask("/start")
        await alice.press(t.BTN_GROUPS())
        await alice.press(t.BTN_DEL_GROUP())
        removed = await alice.ask("@second_group")
        assert "Removed" in removed.text and "1 group" in removed.text

        menu = await alice.ask("/start")
        started = await alice.press(t.BTN_RUN())
        assert started.message_id == menu.message_id and "Campaign started" in started.text
        stopped = await alice.press(t.BTN_STOP())
        assert stopped.text == t.STOPPED()

        await alice.ask("/start")
        logs = await alice.press(t.BTN_LOGS())
        assert "latest log lines" in logs.text
        help_ = await alice.ask("/help")
        assert "/addgroups" in help_.text
        for command, description in customer_commands():
            assert (command, description) in h.emu.commands
            assert f"/{command}" in help_.text  # /help names every command of the menu


async def test_default_groups_are_copied_into_the_customers_list(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        groups_screen = await alice.ask("/groups")
        assert t.BTN_DEFAULT_GROUPS() not in labels(groups_screen)

        async with h.db.tx() as conn:
            from storage import groups

            await groups.add_defaults(conn, ["@default_one", "@default_two"], h.clock.now())
        await alice.ask("/addgroups @default_one")
        await alice.ask("/groups")
        reply = await alice.press(t.BTN_DEFAULT_GROUPS())
        assert "Added 1 group" in reply.text and "Already in your list (1)" in reply.text
        refs = [r["ref"] for r in await h.rows("SELECT ref FROM groups WHERE customer_id = ? ORDER BY id", (ALICE,))]
        assert refs == ["@default_one", "@default_two"]
        again = await alice.ask("/usedefaults")
        assert "Already in your list (2)" in again.text


async def test_pending_question_is_dropped_by_another_command(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        ask = await alice.ask("/post")
        assert "Send the post now" in ask.text
        await alice.ask("/status")
        reply = await alice.ask("this was meant as something else")
        assert reply.text == t.UNKNOWN_TEXT()
        assert (await h.customer(ALICE)).post_kind is None

        await alice.ask("/post")
        reply = await alice.ask("/cancel")
        assert reply.text == t.CANCELLED()
        reply = await alice.ask("/cancel")
        assert reply.text == t.NOTHING_TO_CANCEL()

        menu = await alice.ask("/start")
        forged = await alice.forge(menu.message_id, MenuCb(action=MenuAction.HOME).pack())
        assert forged.text == t.UP_TO_DATE()  # a valid button data on the menu itself: nothing to change


async def test_stats_show_a_post_without_a_new_message_apart_from_success_and_failure(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE, sessions=1)
        await h.fill_pool(1)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/AdsChannel/5")
        await alice.ask("/addgroups @cats_group @dogs_group")
        h.world.add_fault(kind="dropped", group="@dogs_group")  # taken, answered with no new message
        await alice.ask("/run")

        report = await h.cycle(ALICE)

        assert (report.sent, report.in_doubt, report.failed) == (1, 1, 0)
        assert [d.chat_ref for d in h.world.deliveries] == ["@cats_group"]
        stats = await alice.ask("/stats")
        assert "Successful: 1" in stats.text and "Failed: 0" in stats.text
        assert "Unconfirmed (no new message seen, not repeated): 1" in stats.text
        before = await h.rows("SELECT COUNT(*) AS n FROM sends WHERE outcome = 'in_doubt'")
        assert before[0]["n"] == 1


def test_every_customer_command_is_in_the_menu_and_in_help() -> None:
    """A command a customer's router answers is in the command menu (and so in /help, checked above)."""
    import re

    routers = Path(__file__).resolve().parents[1] / "control_bot" / "routers"
    handled = set()
    for module in (*routers.glob("customer_*.py"), routers / "settings.py"):
        handled.update(re.findall(r'Command\("([a-z_]+)"', module.read_text(encoding="utf-8")))
    menu = {command for command, _description in customer_commands()}
    assert "pickgroups" in handled
    assert handled <= menu, handled - menu
    shown = t.help_text(60, 86_400, 200)
    assert all(f"/{command}" in shown for command in menu)
