"""Issue 18 part H end to end: /grant by id, @username or the user picker, before -> after and its
confirmation, downgrade warnings, forged and stale confirmations, and the admins really told when a
campaign is short of sessions. The real app against the Bot API emulator (tests/botkit.py)."""

from __future__ import annotations

import json
from pathlib import Path

from botkit import ADMIN_ID, Harness, bot_harness, labels

from core.states import EventKind
from pool.assign import SHORT_TOLD_AGAIN_AFTER
from storage import sessions as session_rows

CUSTOMER = 1001
DAY = 86_400.0


async def _owned(h: Harness, user_id: int) -> int:
    async with h.db.read() as conn:
        return len(await session_rows.list_for_owner(conn, user_id))


async def test_a_new_plan_by_id_is_made_at_once_and_the_customer_told(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")
        reply = await admin.ask(f"/grant {CUSTOMER} 2 30")
        assert f"Plan created for {CUSTOMER}: 2 sessions" in reply.text and "+30 days" in reply.text
        assert labels(reply) == []  # nothing to confirm: there was no plan
        assert (await h.customer(CUSTOMER)).plan_sessions == 2
        told = await alice.user.wait_reply()
        assert "Your plan is ready" in told.text


async def test_a_smaller_plan_warns_and_returns_sessions_only_once_confirmed(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")
        await h.fill_pool(4)
        await h.grant(CUSTOMER, sessions=3)
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats @dogs")
        assert "started" in (await alice.ask("/run")).text.lower()
        await h.cycle(CUSTOMER)
        assert await _owned(h, CUSTOMER) == 3

        shown = await admin.ask(f"/grant {CUSTOMER} 1 30")
        assert "Before: 3 sessions until" in shown.text and "After: 1 session until" in shown.text
        assert "Fewer sessions: 2 would be returned to the pool" in shown.text
        assert labels(shown) == ["✅ Confirm", "✖ Cancel"]
        assert await _owned(h, CUSTOMER) == 3 and (await h.customer(CUSTOMER)).plan_sessions == 3

        cancelled = await admin.press("✖ Cancel")
        assert cancelled.message_id == shown.message_id and "not changed" in cancelled.text
        assert (await h.customer(CUSTOMER)).plan_sessions == 3

        shown = await admin.ask(f"/grant {CUSTOMER} 1 30")
        done = await admin.press("✅ Confirm")
        assert done.message_id == shown.message_id
        assert "Plan extended" in done.text and "2 sessions went back to the pool" in done.text
        assert await _owned(h, CUSTOMER) == 1 and (await h.customer(CUSTOMER)).plan_sessions == 1
        async with h.db.read() as conn:
            assert (await session_rows.count_by_state(conn))["unused"] == 3
        assert "was extended" in (await alice.user.wait_reply()).text
        # The campaign goes on with the session it kept.
        report = await h.cycle(CUSTOMER)
        assert report.sent > 0


async def test_forged_used_and_cancelled_confirmations_change_nothing(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await h.grant(CUSTOMER, sessions=2)
        before = await h.snapshot()
        shown = await admin.ask(f"/grant {CUSTOMER} 5 10")
        forged = await admin.forge(shown.message_id, "hp:ok:AAAAAAAAAAAA")
        assert forged.text is not None and "no longer valid" in forged.text
        assert await h.snapshot() == before
        button = shown.button("✅ Confirm")
        assert button is not None
        await admin.press("✅ Confirm")
        confirmed = await h.customer(CUSTOMER)
        assert confirmed.plan_sessions == 5
        again = await admin.forge(shown.message_id, str(button["callback_data"]))  # a second tap
        assert again.text is not None and "no longer valid" in again.text
        assert await h.customer(CUSTOMER) == confirmed


async def test_a_short_campaign_really_tells_the_admins(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")
        await h.fill_pool(1)
        await h.grant(CUSTOMER, sessions=3)
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats")
        started = await alice.ask("/run")
        assert "admin has been told" in started.text
        rows = await h.rows("SELECT customer_id, payload, delivered_at FROM events WHERE kind = ?",
                            (str(EventKind.SESSIONS_SHORT),))
        assert len(rows) == 1 and rows[0]["customer_id"] is None
        await h.deliver()
        told = await admin.user.wait_reply()
        assert told.from_bot
        rows = await h.rows("SELECT delivered_at FROM events WHERE kind = ?", (str(EventKind.SESSIONS_SHORT),))
        assert rows[0]["delivered_at"] is not None

        # The campaign runs short; each cycle tops it up. Not a message per cycle: once for a while.
        await h.cycle(CUSTOMER)
        assert len(await h.rows("SELECT 1 FROM events WHERE kind = ?", (str(EventKind.SESSIONS_SHORT),))) == 1
        await h.clock.advance(SHORT_TOLD_AGAIN_AFTER + 60)
        await h.cycle(CUSTOMER)
        again = await h.rows("SELECT payload FROM events WHERE kind = ? ORDER BY id", (str(EventKind.SESSIONS_SHORT),))
        assert len(again) == 2 and json.loads(again[1]["payload"]) == {
            "customer_id": CUSTOMER, "wanted": 2, "free": 0, "reason": "no_sessions"
        }


async def test_grant_alone_offers_the_user_picker_and_one_name_the_plan_buttons(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")
        usage = await admin.ask("/grant")
        assert "Usage: /grant <user id or @username> <sessions> <days>" in usage.text
        markup = usage.reply_markup or {}
        [[button]] = markup["keyboard"]
        assert button["text"] == "👤 Pick a person"
        request = button["request_users"]
        assert request["user_is_bot"] is False and request["max_quantity"] == 1

        offer = await admin.ask(f"/grant {CUSTOMER}")
        presets = h.settings.bot.plan_presets
        assert labels(offer) == [f"{s} session{'s' if s != 1 else ''} · {d} days" for s, d in presets]
        shown = await admin.press(labels(offer)[0])
        assert shown.message_id == offer.message_id  # a plan button always shows before -> after
        assert "Before: no plan" in shown.text and labels(shown) == ["✅ Confirm", "✖ Cancel"]
        assert await h.rows("SELECT 1 FROM customers") == []
        done = await admin.press("✅ Confirm")
        sessions, days = presets[0]
        assert f"Plan created for {CUSTOMER}" in done.text and f"+{days} days" in done.text
        assert (await h.customer(CUSTOMER)).plan_sessions == sessions
        assert "Your plan is ready" in (await alice.user.wait_reply()).text
