"""End to end through the Bot API emulator: no admin command shortens a quarantine, /health shows each
quarantined session's earliest return, and frozen sessions are counted apart from limited ones."""

from __future__ import annotations

from pathlib import Path

from botkit import ADMIN_ID, DAY, Player, bot_harness, in_locale

from core.texts import fmt
from pool import lifecycle
from sandbox.botapi.models import MessageView
from sandbox.world import frozen


def bot_time(ts: float | None) -> str:
    """A time as the bot writes it to an English reader (the bot always reads inside a reading scope)."""
    with in_locale("en"):
        return fmt.fmt_time(ts)


async def check_sessions(admin: Player, others: list[str]) -> MessageView:
    """/checksessions: a "checking…" line first, then the report; notifications the outbox delivers
    meanwhile (a session found frozen) go to ``others``."""
    await admin.user.say("/checksessions")
    for _ in range(5):
        message = await admin.user.wait_reply()
        if "Session check" in message.text:
            return message
        if "Checking" not in message.text:
            others.append(message.text)
    raise AssertionError("no session check report")


async def test_checksessions_never_shortens_a_quarantine(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        keys = await h.fill_pool(3)
        ids = [int(r["id"]) for r in await h.rows("SELECT id FROM sessions ORDER BY id")]
        limited_id, frozen_id, idle_id = ids
        start = h.clock.now()
        sdir = h.settings.paths.sessions_dir
        await lifecycle.mark_limited(h.db, sdir, limited_id, "PeerFloodError", start)
        until = start + 24 * 3600  # [pool] quarantine_hours, the default
        await h.deliver()
        told = await admin.user.wait_reply()
        assert f"#{limited_id} is limited" in told.text and f"until at least {fmt.fmt_time(until)}" in told.text
        by_id = dict(zip(ids, keys, strict=True))
        frozen.freeze(h.world.accounts[by_id[frozen_id]], start - 60, appeal_url="https://t.me/spambot?x=1")

        reply = await admin.ask("/health")
        assert f"#{limited_id} in quarantine: returns not before {bot_time(until)}" in reply.text

        others: list[str] = []
        for _ in range(2):  # asking again and again changes nothing
            reply = await check_sessions(admin, others)
            assert "still in quarantine: 1" in reply.text
            assert f"#{limited_id}: not before {bot_time(until)}" in reply.text
        [(state, q_until)] = [tuple(r) for r in await h.rows(
            "SELECT state, quarantine_until FROM sessions WHERE id = ?", (limited_id,))]
        assert (state, q_until) == ("limited", until)
        # The frozen account was found by its probe (app config) and set apart; the idle one is fine.
        assert "frozen by Telegram" in reply.text
        await h.deliver()
        while not others:
            others.append((await admin.user.wait_reply()).text)
        assert f"Session #{frozen_id}" in others[0] and "https://t.me/spambot?x=1" in others[0]
        states = {int(r["id"]): r["state"] for r in await h.rows("SELECT id, state FROM sessions")}
        assert states == {limited_id: "limited", frozen_id: "frozen", idle_id: "unused"}
        reply = await admin.ask("/health")
        assert "1 limited, 1 frozen, 0 dead" in reply.text

        # Once the quarantine is over, one check whose probe succeeds returns it.
        await h.clock.advance(DAY)
        reply = await check_sessions(admin, others)
        assert f"back in the pool: 1 (#{limited_id})" in reply.text
        [(state,)] = [tuple(r) for r in await h.rows("SELECT state FROM sessions WHERE id = ?", (limited_id,))]
        assert state == "unused"
