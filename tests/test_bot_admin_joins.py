"""/join and /joins end to end: the real app against the Bot API emulator, the strict simulated world
behind it (tests/botkit.py). Joins run when the test asks the app's runner (the loop's real-time polling
is not what is under test)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from botkit import ADMIN_ID, Harness, Player, bot_harness, labels

from core.clock import FakeClock
from core.texts import customer as t
from core.texts import joins as texts
from pool.assign import ensure_plan
from sandbox.world import World
from storage import memberships
from storage import sessions as session_rows

CUSTOMER = 1001
OTHER = 1002
START = 1_750_000_000.0


async def session_ids(h: Harness) -> list[int]:
    return [int(r[0]) for r in await h.rows("SELECT id FROM sessions ORDER BY id")]


async def join_rows(h: Harness) -> list[tuple[int, str, str, str | None]]:
    rows = await h.rows("SELECT session_id, target, status, reason FROM joins ORDER BY id")
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def run_joins(h: Harness) -> None:
    assert h.app.joins is not None
    await h.app.joins.run_due()


async def quiet(h: Harness, *players: Player) -> None:
    await h.idle()
    await asyncio.sleep(0.2)
    await h.idle()
    for player in players:
        assert player.unread() == [], [m.text for m in player.unread()]


def strict_world() -> tuple[FakeClock, World]:
    clock = FakeClock(START, auto=True)
    return clock, World(clock)


async def test_a_public_group_is_queued_paced_joined_and_listed(tmp_path: Path) -> None:
    clock, world = strict_world()
    async with bot_harness(tmp_path, world=world, clock=clock) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await h.fill_pool(2)
        s1, s2 = await session_ids(h)
        world.add_group("@cats_chat", members=set())
        world.add_group("@dogs_chat", members=set())

        reply = await admin.ask(f"/join {s1},{s2} https://t.me/Cats_Chat")
        assert "Joins of @cats_chat" in reply.text
        assert f"session #{s1}: " in reply.text and f"session #{s2}: " in reply.text and "(now)" in reply.text
        assert "at most once every 10 min and 5 times in 24 hours" in reply.text
        reply = await admin.ask(f"/join {s1} @dogs_chat")
        assert f"session #{s1}: " in reply.text and "(in 10 min)" in reply.text  # paced after the first
        assert world.request_count(method="join") == 0  # nothing joins before its time comes

        await run_joins(h)
        assert world.request_count(method="join") == 2
        listed = await admin.ask("/joins")
        assert listed.text.count("✅ joined") == 2 and "⏳ queued, runs in 10 min" in listed.text
        async with h.db.read() as conn:
            found = await memberships.find(conn, s1, "@cats_chat")
        assert found is not None and found.can_write  # reachable at the next cycle
        await h.clock.advance(600)
        await run_joins(h)
        assert [r[2] for r in await join_rows(h)] == ["joined", "joined", "joined"]
        assert "not queued, already a member" in (await admin.ask(f"/join {s2} @cats_chat")).text  # stored
        assert world.violations == []


async def test_an_invite_is_previewed_then_queued_and_pending_approval_is_reported(tmp_path: Path) -> None:
    clock, world = strict_world()
    async with bot_harness(tmp_path, world=world, clock=clock) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await h.fill_pool(2)
        s1, s2 = await session_ids(h)
        private = world.add_group(None, members=set())
        private.title = "Cat <Lovers>"
        world.joins.add_invite(private.marked_id, "AskFirst123", request_needed=True)

        preview = await admin.ask(f"/join {s1},{s2} t.me/+AskFirst123")
        assert "Cat &lt;Lovers&gt;" in preview.html and "Cat <Lovers>" in preview.text  # escaped, shown as named
        assert "pending" in preview.text and "approve" in preview.text
        assert labels(preview) == [texts.BTN_QUEUE_JOINS(), texts.BTN_CANCEL_JOINS()]
        assert world.request_count(method="check_invite") == 1 and world.request_count(method="join") == 0
        assert await join_rows(h) == []  # nothing queued before the admin says so

        queued = await admin.press(texts.BTN_QUEUE_JOINS())
        assert "Joins of t.me/+AskFirst123 (Cat" in queued.text
        await run_joins(h)
        assert [r[2:] for r in await join_rows(h)] == [("pending", "INVITE_REQUEST_SENT")] * 2
        listed = await admin.ask("/joins")
        assert listed.text.count("🕓 pending") == 2 and "approve new members" in listed.text
        await h.clock.advance(86_400)
        await run_joins(h)
        assert world.request_count(method="join") == 2  # pending stays pending: never asked again
        assert not any(private.is_member(key) for key in world.accounts)


async def test_invites_that_lead_nowhere_and_cancelled_previews_queue_nothing(tmp_path: Path) -> None:
    clock, world = strict_world()
    async with bot_harness(tmp_path, world=world, clock=clock) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await h.fill_pool(1)
        (s1,) = await session_ids(h)
        chat = world.add_group(None, members=set())
        world.joins.add_invite(chat.marked_id, "Expired12345", expired=True)
        world.joins.add_invite(chat.marked_id, "Fine12345678")

        reply = await admin.ask(f"/join {s1} https://t.me/joinchat/Expired12345")
        assert "has expired" in reply.text and "Nothing was queued" in reply.text
        preview = await admin.ask(f"/join {s1} +Fine12345678")
        cancelled = await admin.press(texts.BTN_CANCEL_JOINS())
        assert cancelled.text == texts.JOINS_CANCELLED()
        answer = await admin.forge(preview.message_id, "aj:q:1")  # the preview was taken: gone
        assert answer.text == texts.DRAFT_GONE()
        assert await join_rows(h) == []
        assert world.request_count(method="join") == 0


async def test_a_customers_sessions_join_through_the_engine(tmp_path: Path) -> None:
    clock, world = strict_world()
    async with bot_harness(tmp_path, world=world, clock=clock) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await h.fill_pool(3)
        await h.grant(CUSTOMER, sessions=2)
        owned = await ensure_plan(h.db, h.settings.paths.sessions_dir, CUSTOMER, h.clock.now())
        world.add_group("@cats_chat", members=set())

        reply = await admin.ask(f"/join c{CUSTOMER} @cats_chat")
        assert all(f"session #{sid}: " in reply.text for sid in owned)
        await run_joins(h)
        assert [(r[0], r[2]) for r in await join_rows(h)] == [(sid, "joined") for sid in owned]
        assert world.violations == []
        await h.grant(OTHER)  # a plan, but no session handed out yet
        assert f"Customer {OTHER} holds no session" in (await admin.ask(f"/join c{OTHER} @cats_chat")).text


async def test_arguments_are_checked_and_only_admins_reach_joins(tmp_path: Path) -> None:
    clock, world = strict_world()
    async with bot_harness(tmp_path, world=world, clock=clock) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await h.fill_pool(1)
        (s1,) = await session_ids(h)
        world.add_group("@cats_chat", members=set())
        refusals = {
            "/join": "Usage: /join <sessions> <group>",
            f"/join {s1}": "Usage: /join",
            f"/join {s1} @cats_chat extra": "Usage: /join",
            "/join x,y @cats_chat": "is not a list of sessions",
            f"/join {s1} -1001234567890": "only be joined by its @username or an invite link",
            f"/join {s1} t.me/+15551234567": "phone number link",
            f"/join c{CUSTOMER} @cats_chat": f"There is no customer with id {CUSTOMER}",
            f"/join {','.join(str(i) for i in range(1, 60))} @cats_chat": "at most 50",
        }
        for command, expected in refusals.items():
            assert expected in (await admin.ask(command)).text, command
        reply = await admin.ask(f"/join 999,{s1} @cats_chat")
        assert "session #999: not queued, no such session" in reply.text
        assert len(await join_rows(h)) == 1

        panel = await admin.ask("/admin")
        assert texts.BTN_ADMIN_JOINS() in labels(panel)
        shown = await admin.press(texts.BTN_ADMIN_JOINS())
        assert "🤝 Joins" in shown.text and "⏳ queued" in shown.text

        before = await join_rows(h)
        bob = h.user(OTHER, "Bob")
        assert (await bob.ask(f"/join {s1} @cats_chat")).text == t.UNKNOWN_COMMAND()
        assert (await bob.ask("/joins")).text == t.UNKNOWN_COMMAND()
        assert (await bob.forge(bob.last_bot_message().message_id, "aj:q:1")).text == t.STALE_BUTTON()
        assert (await bob.forge(bob.last_bot_message().message_id, "adm:joins")).text == t.STALE_BUTTON()
        await admin.user.say(f"/join {s1} @cats_chat", chat_type="supergroup")  # an admin, but in a group
        await quiet(h, bob)
        assert await join_rows(h) == before
        assert world.request_count(method="join") == 0


async def test_the_preview_is_made_by_a_session_free_to_ask(tmp_path: Path) -> None:
    clock, world = strict_world()
    async with bot_harness(tmp_path, world=world, clock=clock) as h:
        admin = h.user(ADMIN_ID, "Admin")
        keys = await h.fill_pool(2)
        s1, s2 = await session_ids(h)
        async with h.db.tx() as conn:
            await session_rows.record_cooldown(conn, s1, h.clock.now() + 600, h.clock.now())
        world.accounts[keys[0]].flood_until["send"] = h.clock.now() + 600
        chat = world.add_group(None, members={keys[1]})
        world.joins.add_invite(chat.marked_id, "Fine12345678")

        preview = await admin.ask(f"/join {s1},{s2} t.me/+Fine12345678")
        assert f"Session #{s2} is already a member" in preview.text
        assert world.request_count(account=keys[0]) == 0 and world.violations == []
        queued = await admin.press(texts.BTN_QUEUE_JOINS())
        assert f"session #{s2}: not queued, already a member" in queued.text
        assert f"session #{s1}: " in queued.text and "(in 10 min)" in queued.text  # after its flood wait
