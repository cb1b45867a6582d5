"""Reachability views end to end (issue 15): the customer's /groups says per group whether their sessions
can post there and why not; the admins' reach screen lists a customer's unreachable groups with the pool
sessions in them, and a swap gives the customer a free member session. The real app against the Bot API
emulator, the simulated world in strict mode (each account in the groups it is a member of)."""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from botkit import ADMIN_ID, START, Harness, bot_harness, labels

from control_bot.callbacks import ReachCb, ReachJoinCb, ReachSwapCb
from core.clock import FakeClock
from core.texts import customer as t
from core.texts import reach as rt
from pool import lifecycle
from pool.assign import assign
from sandbox.world import World
from storage import groups, memberships
from storage import sessions as session_rows

ALICE = 1001
BOB = 1002


@contextlib.asynccontextmanager
async def strict(tmp_path: Path, *, auto: bool = True, **engine: Any) -> AsyncIterator[Harness]:
    """The bot with a strict world: an account is in a group only when the group names it a member."""
    clock = FakeClock(START, auto=auto)
    try:
        async with bot_harness(tmp_path, world=World(clock), clock=clock, **engine) as h:
            yield h
    finally:
        await clock.aclose()


async def pool_sessions(h: Harness, count: int) -> dict[int, str]:
    """``count`` sessions in the pool: session id -> the world account it is."""
    keys = await h.fill_pool(count)
    found: dict[int, str] = {}
    async with h.db.read() as conn:
        for key in keys:
            row = await session_rows.get_by_key_sha(conn, key)
            assert row is not None
            found[row.id] = key
    return found


async def scan(h: Harness, *session_ids: int) -> None:
    """What membership discovery stores: each session's own dialogs as the world lists them."""
    for sid in session_ids:
        port = h.world.open(await lifecycle.credentials(h.db, h.settings.paths.sessions_dir, sid))
        await port.connect()
        try:
            dialogs = await port.dialogs()
        finally:
            await port.close()
        async with h.db.tx() as conn:
            await memberships.replace_for_session(conn, sid, dialogs, h.clock.now())


def line_of(text: str, ref: str) -> str:
    return next(line for line in text.splitlines() if f" {ref} " in line)


async def owned(h: Harness, customer_id: int) -> list[int]:
    async with h.db.read() as conn:
        return [s.id for s in await session_rows.list_for_owner(conn, customer_id)]


async def test_groups_say_per_group_what_the_customers_sessions_can_do_there(tmp_path: Path) -> None:
    async with strict(tmp_path) as h:
        sessions = await pool_sessions(h, 3)
        one, two, three = sorted(sessions)
        k1, k2, k3 = (sessions[s] for s in (one, two, three))
        h.world.add_channel("adschannel", posts=[5])
        h.world.add_group("open_group", members={k1, k2})
        h.world.add_group("slow_group", members={k1}, slow_mode=30)
        h.world.add_group("waiting_group", members={k2})
        h.world.add_group("muted_group", members={k1, k2}, forbidden={k1, k2})
        h.world.add_group("readonly_group", members={k1}, read_only=True)
        h.world.add_channel("news_channel", members={k2})
        h.world.add_group("far_group", members={k3})
        h.emu.public_chat("far_group", title="Far group")  # the bot's getChat shows it: it was checked on add
        h.world.add_group("paused_group", members={k1})
        refs = ["@open_group", "@slow_group", "@waiting_group", "@muted_group", "@readonly_group",
                "@news_channel", "@far_group", "@paused_group"]
        await h.grant(ALICE, sessions=2)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups " + " ".join(refs))
        async with h.db.tx() as conn:
            paused = await groups.get(conn, ALICE, "@paused_group")
            waiting = await groups.get(conn, ALICE, "@waiting_group")
            assert paused is not None and waiting is not None
            await groups.pause(conn, paused.id, "ChatWriteForbiddenError", h.clock.now())
            await groups.set_slowmode(conn, waiting.id, 60, h.clock.now() + 45)

        # No session yet (a plan's sessions are given at /run): nothing is known.
        screen = await alice.ask("/groups")
        assert "✅ ok" not in screen.text
        assert "not checked yet: your sessions are given when you /run" in line_of(screen.text, "@open_group")
        assert "⏸ paused: the account may not write there" in line_of(screen.text, "@paused_group")
        assert "✅ 0 reachable · ⏳ 7 not checked yet" in screen.text

        assert "Campaign started with 2 sessions." in (await alice.ask("/run")).text
        assert await owned(h, ALICE) == [one, two]
        screen = await alice.ask("/groups")
        assert "⏳ checking: your sessions' chats are being read" in line_of(screen.text, "@open_group")

        await scan(h, one)  # the other one still unread: what only it could reach is still being checked
        screen = await alice.ask("/groups")
        assert "✅ reachable (1 of your 2 sessions)" in line_of(screen.text, "@open_group")
        assert "⏳ checking" in line_of(screen.text, "@far_group")

        await scan(h, two, three)
        screen = await alice.ask("/groups")
        text = screen.text
        assert line_of(text, "@open_group").endswith("✅ reachable (2 of your 2 sessions)")
        assert line_of(text, "@slow_group").endswith("✅ reachable (1 of your 2 sessions), 🐢 slow mode 30 s")
        assert line_of(text, "@waiting_group").endswith(
            "✅ reachable (1 of your 2 sessions), 🐢 slow mode 1 min, next post in 45 s")
        assert line_of(text, "@muted_group").endswith("🚫 no posting: banned from writing")
        assert line_of(text, "@readonly_group").endswith("🚫 no posting: read-only (admins only)")
        assert line_of(text, "@news_channel").endswith("🚫 no posting: a broadcast channel, not a group")
        assert line_of(text, "@far_group").endswith("🚫 unreachable: none of your sessions is a member")
        assert "⏸ paused" in line_of(text, "@paused_group")
        assert "8 of at most 200, 7 active, 1 paused" in text
        assert "✅ 3 reachable · 🚫 4 unreachable" in text and "/delgroup" in text
        assert "not_member" not in text and "read_only" not in text  # plain words only
        assert t.btn_resume("@paused_group") in labels(screen)


async def test_admin_reach_screen_and_a_swap(tmp_path: Path) -> None:
    async with strict(tmp_path) as h:
        sessions = await pool_sessions(h, 4)
        one, two, three, four = sorted(sessions)
        k1, k2, k3 = sessions[one], sessions[two], sessions[three]
        h.world.add_channel("adschannel", posts=[5])
        h.world.add_group("cats", members={k1})
        h.world.add_group("dogs", members={k3})
        h.world.add_group("birds", members={k2, k3}, forbidden={k2})
        await scan(h, one, two, three, four)
        await h.grant(ALICE, sessions=2)
        await h.grant(BOB, sessions=1)
        # Alice's sessions are given before she has groups, so in the pool's order (#1, #2) and not by
        # what they reach: the swap below has something to mend.
        await assign(h.db, h.settings.paths.sessions_dir, ALICE, 2, h.clock.now())
        admin, alice, bob = h.user(ADMIN_ID, "Admin"), h.user(ALICE, "Alice"), h.user(BOB, "Bob")
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats @dogs @birds")
        await h.app.engine.refreshes_done()  # the new groups' reads, and Alice told about @dogs
        await h.app.outbox.deliver_pending()
        await h.idle()
        assert "Campaign started" in (await alice.ask("/run")).text
        assert await owned(h, ALICE) == [one, two]
        await h.cycle(ALICE)
        # A running campaign's reads keep their ports: the engine holds #2's too (it sends nothing).
        await h.app.engine.refresh_memberships(ALICE)
        assert two in h.app.engine.accounts

        # From the panel: a customer picker, then the customer's screen.
        await admin.ask("/admin")
        picker = await admin.press(rt.BTN_ADMIN_REACH())
        assert "pick a customer" in picker.text and rt.btn_reach_customer(ALICE, True) in labels(picker)
        assert rt.btn_reach_customer(BOB, False) in labels(picker)
        screen = await admin.press(rt.btn_reach_customer(ALICE, True))
        assert screen.message_id == picker.message_id
        text = screen.text
        assert f"Sessions: #{one}, #{two}" in text and "Groups: 3, 1 reachable, 2 not" in text
        dogs = text[text.index("@dogs"):].splitlines()
        assert "none of their sessions is a member" in dogs[0] and f"free members: #{three}" in dogs[1]
        birds = text[text.index("@birds"):].splitlines()
        assert "members, may not write: banned" in birds[0]
        assert f"theirs: #{two} (banned)" in birds[1] and f"free members: #{three}" in birds[1]
        assert "@cats" not in text
        swap = rt.btn_swap(three, two, 2)  # #2 reaches nothing on its own; #1 alone reaches @cats
        assert swap in labels(screen) and rt.btn_swap(four, two, 1) not in labels(screen)
        again = await admin.ask(f"/reach {ALICE}")
        assert again.text == text
        assert (await admin.ask("/reach")).text == "Usage: /reach <user_id>"
        assert "There is no customer with id 5555" in (await admin.ask("/reach 5555")).text
        assert "There is no customer" in (await admin.forge(again.message_id, ReachCb(customer_id=2**63).pack())).text

        # A non-admin's forged press changes nothing.
        before = await h.snapshot()
        menu = await bob.ask("/start")
        stale = ReachSwapCb(customer_id=ALICE, give=two, take=three).pack()
        assert (await bob.forge(menu.message_id, stale)).text == t.STALE_BUTTON()
        assert (await bob.forge(menu.message_id, ReachCb(customer_id=ALICE).pack())).text == t.STALE_BUTTON()
        assert (await bob.ask(f"/reach {ALICE}")).text == t.UNKNOWN_COMMAND()
        await h.idle()
        assert await h.snapshot() == before and await owned(h, ALICE) == [one, two]

        # The swap: #3 is Alice's, #2 back in the pool, its port closed, files moved, modes kept.
        live = h.world.live_ports()
        after = await admin.press(swap)
        assert after.message_id == again.message_id and "Every group is reachable" in after.text
        assert await owned(h, ALICE) == [one, three]
        async with h.db.read() as conn:
            given, taken = await session_rows.get(conn, two), await session_rows.get(conn, three)
        assert given is not None and given.state == "unused" and given.owner_id is None
        assert given.pair_id is not None  # it keeps its API pair (its identity) back in the pool
        assert taken is not None and taken.state == "assigned" and taken.owner_id == ALICE
        root = h.settings.paths.sessions_dir
        assert (root / "unused" / given.file_name).is_file()
        assert (root / f"assigned/{ALICE}" / taken.file_name).is_file()
        assert not (root / f"assigned/{ALICE}" / given.file_name).exists()
        for path in (root / "unused" / given.file_name, root / f"assigned/{ALICE}" / taken.file_name):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert two not in h.app.engine.accounts and h.world.live_ports() == live - 1
        assert "✅ 3 reachable" in (await alice.ask("/groups")).text

        # The next cycle uses the new set only, never two live ports for one account.
        await h.cycle(ALICE)
        assert set(h.app.engine.accounts.open_sessions) <= {one, three}
        assert [v for v in h.world.violations if v.kind == "two_live_ports"] == []

        # The same button again is stale: refused, nothing changes.
        before = await h.snapshot()
        answer = await admin.forge(after.message_id, stale)
        assert answer.show_alert and answer.text == rt.not_their_session(two, ALICE)
        taken_elsewhere = ReachSwapCb(customer_id=ALICE, give=one, take=two).pack()
        async with h.db.tx() as conn:
            await session_rows.claim_ids(conn, BOB, f"assigned/{BOB}", h.clock.now(), [two])  # as if Bob got it
        before = await h.snapshot()
        answer = await admin.forge(after.message_id, taken_elsewhere)
        assert answer.text == rt.session_not_free(two)
        forged = ReachSwapCb(customer_id=ALICE, give=2**63, take=three).pack()
        assert (await admin.forge(after.message_id, forged)).text == rt.not_their_session(2**63, ALICE)
        await h.idle()
        assert await h.snapshot() == before and await owned(h, ALICE) == [one, three]
        assert one in h.app.engine.accounts  # a refused swap released nothing


async def test_a_swap_waits_for_the_running_cycle(tmp_path: Path) -> None:
    async with strict(tmp_path, auto=False) as h:
        sessions = await pool_sessions(h, 2)
        one, two = sorted(sessions)
        h.world.add_channel("adschannel", posts=[5])
        h.world.add_group("cats", members={sessions[one]})
        h.world.add_group("dogs", members={sessions[two]})
        await scan(h, one, two)
        await h.grant(ALICE, sessions=1)
        admin, alice = h.user(ADMIN_ID, "Admin"), h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats")
        await alice.ask("/run")
        assert await owned(h, ALICE) == [one]
        h.world.add_fault(kind="timeout", session=one, seconds=0)  # the send hangs until its timeout
        cycle = asyncio.ensure_future(h.cycle(ALICE))
        while h.world.request_count(method="forward") == 0:
            await asyncio.sleep(0.01)

        before = await h.snapshot()
        press = ReachSwapCb(customer_id=ALICE, give=one, take=two).pack()
        screen = await admin.ask(f"/reach {ALICE}")
        answer = await admin.forge(screen.message_id, press)
        assert answer.show_alert and answer.text == rt.SWAP_BUSY()
        assert await h.snapshot() == before and await owned(h, ALICE) == [one]

        await h.clock.advance(h.settings.engine.send_timeout + 1)
        await cycle
        answer = await admin.forge(screen.message_id, press)
        assert answer.text == rt.swapped(two, one)
        assert await owned(h, ALICE) == [two] and one not in h.app.engine.accounts


async def test_new_groups_have_the_sessions_dialogs_read_at_once(tmp_path: Path) -> None:
    """No cycle needed: adding groups reads the customer's sessions' dialogs in the background."""
    async with strict(tmp_path) as h:
        sessions = await pool_sessions(h, 2)
        one, two = sorted(sessions)
        h.world.add_channel("adschannel", posts=[5])
        h.world.add_group("first_group", members={sessions[one]})
        h.world.add_group("late_group", members={sessions[two]})
        await h.grant(ALICE, sessions=2)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @first_group")  # no session yet: nothing to read
        assert "Campaign started" in (await alice.ask("/run")).text
        assert h.app.engine.discovery.reads == 0
        await alice.ask("/addgroups @late_group")
        await h.app.engine.refreshes_done()
        assert h.app.engine.discovery.reads == 2
        screen = await alice.ask("/groups")
        assert "✅ reachable (1 of your 2 sessions)" in line_of(screen.text, "@late_group")
        assert "✅ reachable (1 of your 2 sessions)" in line_of(screen.text, "@first_group")
        assert await alice.ask("/addgroups @late_group")  # nothing new: nothing read again
        await h.idle()
        assert h.app.engine.discovery.reads == 2


async def test_a_public_group_none_of_their_sessions_is_in_is_joined_on_the_admins_press(tmp_path: Path) -> None:
    async with strict(tmp_path) as h:
        sessions = await pool_sessions(h, 2)
        one, two = sorted(sessions)
        h.world.add_channel("adschannel", posts=[5])
        h.world.add_group("cats", members={sessions[one]})
        h.world.add_group("tea_room", members=set())  # public, nobody in it yet
        await h.grant(ALICE, sessions=2)
        await h.grant(BOB, sessions=1)
        admin, alice, bob = h.user(ADMIN_ID, "Admin"), h.user(ALICE, "Alice"), h.user(BOB, "Bob")
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats @tea_room")
        assert "Campaign started" in (await alice.ask("/run")).text
        await h.cycle(ALICE)  # reads their sessions' dialogs: @tea_room is in none of them
        await h.app.outbox.deliver_pending()
        await h.idle()
        assert not h.world.deliveries_to("@tea_room")
        screen = await admin.ask(f"/reach {ALICE}")
        assert "@tea_room" in screen.text and rt.btn_join("@tea_room") in labels(screen)
        assert rt.btn_join("@cats") not in labels(screen)  # reachable: nothing to join

        # A forged press for a group that is not Alice's, and a non-admin's, queue nothing.
        async with h.db.read() as conn:
            cats = await groups.get(conn, ALICE, "@cats")
            tea = await groups.get(conn, ALICE, "@tea_room")
        assert cats is not None and tea is not None
        forged = ReachJoinCb(customer_id=BOB, group_id=tea.id).pack()
        assert (await admin.forge(screen.message_id, forged)).text == rt.GROUP_GONE()
        menu = await bob.ask("/start")
        assert (await bob.forge(menu.message_id, ReachJoinCb(customer_id=ALICE, group_id=tea.id).pack())).text \
            == t.STALE_BUTTON()
        assert await h.app.joins.run_due() == []

        queued = await admin.press(rt.btn_join("@tea_room"))
        assert "@tea_room" in queued.text and f"session #{one}" in queued.text and f"session #{two}" in queued.text
        done = await h.app.joins.run_due()
        assert sorted((d.session_id, d.status) for d in done) == [(one, "joined"), (two, "joined")]
        assert h.world.chat("@tea_room") is not None
        await h.cycle(ALICE)
        assert h.world.deliveries_to("@tea_room")  # reachable from the next cycle on
