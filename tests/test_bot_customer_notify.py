"""Notifications: what the engine, the pool and the admin services record in the outbox reaches the
right people, through the bot, once."""

from __future__ import annotations

from pathlib import Path

from botkit import ADMIN_ID, bot_harness, labels

from core.states import EventKind
from core.texts import customer as t
from core.texts import groups as group_texts
from storage import events

ALICE = 1001
SECOND_ADMIN = 9001


async def test_paused_group_is_reported_and_can_be_resumed_from_the_list(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, group_failure_limit=1) as h:
        # The session's dialogs say it may write there, yet the group fails every post (the chat is
        # restricted: the group's problem, not a refusal of this session, which would not pause it).
        h.world.add_group("readonly_group")
        h.world.add_fault(kind="error", error="ChatRestrictedError", group="@readonly_group", times=0)
        await h.grant(ALICE)
        await h.fill_pool(1)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @readonly_group")
        await alice.ask("/run")
        await h.cycle(ALICE)

        notice = await alice.user.wait_reply()
        assert "Group @readonly_group was paused" in notice.text
        assert "the group is restricted" in notice.text  # the Telethon error, said in words

        screen = await alice.ask("/groups")
        assert "paused" in screen.text and t.btn_resume("@readonly_group") in labels(screen)
        answer = await alice.press_answer(t.btn_resume("@readonly_group"))
        assert answer.text == group_texts.group_resumed("@readonly_group")
        row = await h.rows("SELECT paused_reason, consecutive_failures FROM groups")
        assert tuple(row[0]) == (None, 0)


async def test_a_group_no_session_may_write_in_is_told_once_with_what_to_do(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        h.world.add_group("readonly_group", read_only=True)
        await h.grant(ALICE)
        await h.fill_pool(1)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @readonly_group @open_group")
        await alice.ask("/run")
        await h.cycle(ALICE)

        notice = await alice.user.wait_reply()
        assert "Posts to @readonly_group are on hold" in notice.text
        assert "only its admins may post there" in notice.text  # the session's reason, in words
        assert "Check the group's permissions" in notice.text  # what the customer can do
        assert len(h.world.deliveries_to("@open_group")) == 1 and h.world.deliveries_to("@readonly_group") == []
        await h.clock.advance(300)
        await h.cycle(ALICE)
        await h.deliver()
        await h.idle()
        assert not [m for m in alice.unread() if "on hold" in m.text]  # told once, not every cycle
        assert len(h.world.deliveries_to("@open_group")) == 2


async def test_unreachable_post_stops_the_campaign_with_a_notice(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        h.world.add_channel("real_channel", posts=[1])
        await h.grant(ALICE)
        await h.fill_pool(1)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/real_channel/99")
        await alice.ask("/addgroups @some_group")
        await alice.ask("/run")
        await h.cycle(ALICE)

        notice = await alice.user.wait_reply()
        assert "https://t.me/real_channel/99 can no longer be sent" in notice.text
        assert "the post was deleted" in notice.text
        assert not notice.text.startswith("📋")  # at once, not held for the cycle's summary
        summary = await alice.user.wait_reply()  # then how the cycle it stopped ended
        assert "Cycle 1: the post reached 0 of 1 group." in summary.text
        assert "Your campaign was stopped: the post's source can no longer be read or forwarded" in summary.text
        assert (await h.customer(ALICE)).status == "stopped"
        status = await alice.ask("/status")
        assert "stopped (the post's source can no longer be read or forwarded)" in status.text
        rows = await h.rows("SELECT outcome, error FROM sends")
        assert [tuple(r) for r in rows] == [("skipped", "source_failed:MessageIdInvalidError")]  # no group blamed
        assert h.world.request_count(method="forward") == 0  # the read of the post found it gone


async def test_a_group_that_refuses_the_sessions_posts_is_put_on_hold_with_the_reason(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        # The session's dialogs say it may write there, yet only admins may post: a permanent refusal.
        h.world.add_group("admins_only")
        h.world.add_fault(kind="error", error="ChatAdminRequiredError", group="@admins_only", times=0)
        await h.grant(ALICE)
        await h.fill_pool(1)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @admins_only @open_group")
        await alice.ask("/run")
        await h.cycle(ALICE)
        await h.clock.advance(300)
        await h.cycle(ALICE)

        first = await alice.user.wait_reply()  # the first cycle's summary: the refused post failed
        assert "the post reached 1 of 2 groups" in first.text and "1 post failed" in first.text
        notice = await alice.user.wait_reply()  # the second's: the group is on hold
        assert "Posts to @admins_only are on hold" in notice.text
        assert "it refused posts from your sessions that are in it (only admins may post there)" in notice.text
        assert h.world.request_count(method="forward") == 3  # the refusing group once, never again
        row = await h.rows("SELECT paused_reason, consecutive_failures, reach FROM groups WHERE ref = '@admins_only'")
        assert tuple(row[0]) == (None, 0, "refused")
        screen = await alice.ask("/groups")
        assert "@admins_only" in screen.text and "unreachable" in screen.text


async def test_restart_with_on_restart_stop_tells_the_customer(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        await h.fill_pool(1)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/1")
        await alice.ask("/addgroups @some_group")
        await alice.ask("/run")
    async with bot_harness(tmp_path, users=[(ALICE, "Alice")]) as h:
        alice = h.user(ALICE, "Alice")
        notice = await alice.user.wait_reply()
        assert notice.text.startswith("⏹ Your campaign was stopped: the service restarted")
        assert (await h.customer(ALICE)).status == "stopped"


async def test_events_are_merged_per_chat_admin_events_reach_every_admin(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, admins=(ADMIN_ID, SECOND_ADMIN), users=[(SECOND_ADMIN, "Second")]) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        admin, second = h.user(ADMIN_ID, "Admin"), h.user(SECOND_ADMIN, "Second")
        await admin.ask("/start")  # the admin's private chat exists
        now = h.clock.now()
        async with h.db.tx() as conn:
            await events.add(conn, ALICE, EventKind.SESSION_REPLACED, now, old_session_id=1, new_session_id=2)
            await events.add(conn, ALICE, EventKind.GROUP_PAUSED, now, group="@g<b>", reason="ChannelPrivateError")
            await events.add(conn, ALICE, EventKind.PLAN_GRANTED, now, sessions=2, days=30, expires_at=now + 86400)
            await events.add(conn, None, EventKind.POOL_LOW, now, free=1, threshold=3)
        h.app.outbox.wake()

        merged = await alice.user.wait_reply()
        assert "replaced" in merged.text and "@g<b>" in merged.text and "You have" not in merged.text
        assert "Your plan is ready: 2 sessions" in merged.text
        assert "private" in merged.text  # ChannelPrivateError in words
        for person in (admin, second):
            low = await person.user.wait_reply()
            assert "session pool is low: 1 free" in low.text
        assert await h.deliver() == 0  # waits for the sender's pass: everything was marked by it
        assert len([m for m in alice.user.history() if m.from_bot]) == 1
        assert not await h.rows("SELECT id FROM events WHERE delivered_at IS NULL")


async def test_blocked_user_and_failing_sends(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, admins=(ADMIN_ID, SECOND_ADMIN), users=[(SECOND_ADMIN, "Second")]) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        admin, second = h.user(ADMIN_ID, "Admin"), h.user(SECOND_ADMIN, "Second")
        await admin.ask("/start")
        await h.idle()
        await h.app.outbox.stop()  # drive the passes by hand
        alice.user.block_bot()
        now = h.clock.now()
        async with h.db.tx() as conn:
            await events.add(conn, None, EventKind.PAIR_FULL, now, api_id=2040, capacity=7)
            await events.add(conn, ALICE, EventKind.PLAN_REVOKED, now)

        # the first admin's send fails for now: the admin event stays undelivered, Alice's (blocked) does not
        h.emu.inject_error("sendMessage", 502, "Bad Gateway")
        await h.deliver()
        undelivered = await h.rows("SELECT kind FROM events WHERE delivered_at IS NULL")
        assert [r["kind"] for r in undelivered] == ["pair_full"]

        assert await h.deliver() == 1
        for person in (admin, second):
            got = [m for m in person.user.history() if m.from_bot and "API pair 2040 is full" in m.text]
            assert len(got) == 1, person.user.first_name  # nobody gets it twice
        assert not await h.rows("SELECT id FROM events WHERE delivered_at IS NULL")
