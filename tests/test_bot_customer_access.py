"""Who may use the customer side: only granted customers, each only their own campaign."""

from __future__ import annotations

from pathlib import Path

from botkit import ADMIN_ID, DAY, START, bot_harness, labels

from control_bot.callbacks import GroupResumeCb, IntervalCb
from core.texts import admin as admin_texts
from core.texts import customer as t
from core.texts import groups as group_texts
from core.texts import onboarding
from sandbox.botapi.html import parse_html

ALICE = 1001
BOB = 1002
STRANGER = 1003


async def test_ungranted_user_is_refused_politely_and_offered_access(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        stranger = h.user(STRANGER, "Stranger")
        before = await h.snapshot()
        start = await stranger.ask("/start")
        assert start.text == parse_html(onboarding.welcome("Stranger")).text
        assert labels(start) == [onboarding.BTN_REQUEST_ACCESS()]
        for command in ("/post https://t.me/chan/1", "/addgroups @somewhere", "/run", "/status", "/logs"):
            reply = await stranger.ask(command)
            assert reply.text == onboarding.not_a_customer(STRANGER), command
        reply = await stranger.ask("/help")
        assert reply.text == parse_html(onboarding.help_not_customer()).text
        assert labels(reply) == [onboarding.BTN_REQUEST_ACCESS()]
        reply = await stranger.send_file("groups.txt", b"@a_group_name")
        assert reply.text == onboarding.not_a_customer(STRANGER)
        assert await h.snapshot() == before


async def test_expired_plan_stops_the_campaign_and_tells_the_customer(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE, sessions=1, days=1)
        await h.fill_pool(1)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @target_group")
        await alice.ask("/run")

        h.clock.set(START + 2 * DAY)
        report = await h.cycle(ALICE)
        assert report.reason == "plan_expired"
        notice = await alice.user.wait_reply()  # delivered by the outbox sender, not by a test call
        assert "plan has expired" in notice.text
        assert (await h.customer(ALICE)).status == "stopped"
        assert not h.world.deliveries

        reply = await alice.ask("/status")
        assert "Your plan ended on" in reply.text and "/start" in reply.text
        start = await alice.ask("/start")
        assert "Your plan ended on" in start.text and labels(start) == [onboarding.BTN_REQUEST_ACCESS()]
        before = await h.snapshot()
        refused = await alice.ask("/run")
        assert "Your plan ended on" in refused.text
        assert await h.snapshot() == before


async def test_a_customer_can_never_see_or_touch_another_customers_campaign(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        await h.grant(BOB)
        await h.fill_pool(2)
        alice, bob = h.user(ALICE, "Alice"), h.user(BOB, "Bob")
        await alice.ask("/post https://t.me/alice_ads/9")
        await alice.ask("/addgroups @alice_private_group @alice_other_group")
        paused = (await h.rows("SELECT id FROM groups WHERE ref = '@alice_private_group'"))[0]["id"]
        async with h.db.tx() as conn:
            from storage import groups

            await groups.pause(conn, paused, "paused for the test", h.clock.now())
        await alice.ask("/run")

        bob_screen = await bob.ask("/groups")
        assert "alice" not in bob_screen.text and "none yet" in bob_screen.text
        bob_status = await bob.ask("/status")
        assert "alice" not in bob_status.text and "stopped" in bob_status.text
        bob_logs = await bob.ask("/logs")
        assert "alice" not in bob_logs.text

        before = await h.snapshot()
        # a forged button: resume Alice's paused group by its id
        answer = await bob.forge(bob_screen.message_id, GroupResumeCb(group_id=paused).pack())
        assert answer.show_alert and answer.text == group_texts.GROUP_NOT_FOUND()
        # commands naming her group or her campaign
        reply = await bob.ask("/delgroup @alice_private_group")
        assert "not in your groups" in reply.text
        reply = await bob.ask("/stop")
        assert reply.text == t.NOT_RUNNING()
        # forged data that does not unpack, and a preset outside the bounds
        answer = await bob.forge(bob_screen.message_id, "cgr:not-a-number")
        assert answer.text == t.STALE_BUTTON()
        answer = await bob.forge(bob_screen.message_id, "cm:no-such-action")
        assert answer.text == t.STALE_BUTTON()
        answer = await bob.forge(bob_screen.message_id, IntervalCb(minutes=100000).pack())
        assert answer.show_alert and answer.text is not None and "outside the allowed range" in answer.text
        await h.idle()
        assert await h.snapshot() == before
        assert (await h.customer(ALICE)).status == "running"

        # a stranger pressing a forged button is told they have no plan, and nothing changes
        stranger = h.user(STRANGER, "Stranger")
        stranger_msg = await stranger.ask("/start")
        answer = await stranger.forge(stranger_msg.message_id, GroupResumeCb(group_id=paused).pack())
        assert answer.show_alert and answer.text == onboarding.not_a_customer(STRANGER)
        assert await h.snapshot() == before

        # her own button does work
        screen = await alice.ask("/groups")
        answer = await alice.forge(screen.message_id, GroupResumeCb(group_id=paused).pack())
        assert answer.text == group_texts.group_resumed("@alice_private_group")
        assert (await h.rows("SELECT paused_reason FROM groups WHERE id = ?", (paused,)))[0][0] is None


async def test_groups_and_channels_get_no_answers(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        await alice.user.say("/status", chat_type="supergroup")
        await alice.user.say("/start", chat_type="supergroup")
        await h.idle()
        assert not [m for m in h.emu.messages(h.emu.group_chat().id) if m.from_bot]


async def test_an_admin_without_a_plan_gets_the_admin_panel(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        reply = await admin.ask("/start")
        assert reply.text == parse_html(admin_texts.admin_panel()).text
        assert onboarding.BTN_REQUEST_ACCESS() not in labels(reply)
