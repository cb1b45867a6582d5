"""``/proxy`` end to end: the real app polling the Bot API emulator, the check run through a local fake
SOCKS5 proxy (never the internet), refusals that change nothing, and /health showing each session's proxy."""

from __future__ import annotations

from pathlib import Path

from botkit import ADMIN_ID, bot_harness

from core.texts import customer as t
from storage import proxies as proxy_rows
from tests.fake_proxy import FakeProxy, closed_port, running

OTHER = 1002


async def test_admin_sets_checks_refuses_and_clears_a_sessions_proxy(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h, running(FakeProxy("socks5", auth=("alice", "pw7"))) as fake:
        admin = h.user(ADMIN_ID, "Admin")
        bob = h.user(OTHER, "Bob")
        await h.fill_pool(2)

        sent = await admin.user.say(f"/proxy 1 socks5://alice:pw7@127.0.0.1:{fake.port}")
        reply = await admin.user.wait_reply()
        assert f"Session #1 now connects through socks5://127.0.0.1:{fake.port}" in reply.text
        assert "pw7" not in reply.text and "alice" not in reply.text
        assert h.emu.message(ADMIN_ID, sent.message_id).deleted  # the password does not stay in the chat
        assert fake.connects == [("149.154.167.51", 443)] and fake.logins == [("alice", "pw7")]
        async with h.db.read() as conn:
            row = await proxy_rows.get(conn, 1)
        assert row is not None and row.spec.password == "pw7" and row.set_by == f"admin:{ADMIN_ID}"

        # Refusals say why and change nothing.
        dead = await admin.ask(f"/proxy 2 socks5://127.0.0.1:{closed_port()}")
        assert "did not reach Telegram" in dead.text and "Nothing was changed" in dead.text
        assert "SOCKS4" in (await admin.ask("/proxy 2 socks4://1.2.3.4:1080")).text
        assert "Usage: /proxy" in (await admin.ask("/proxy 2")).text
        assert "whole number" in (await admin.ask("/proxy two off")).text
        assert (await admin.ask("/proxy 99 off")).text == "There is no session #99."
        async with h.db.read() as conn:
            assert await proxy_rows.get(conn, 2) is None

        # Not an admin: the command does not exist for them, and nothing changes.
        assert (await bob.ask("/proxy 1 off")).text == t.UNKNOWN_COMMAND
        async with h.db.read() as conn:
            assert await proxy_rows.get(conn, 1) is not None

        health = await admin.ask("/health")
        assert "Proxies (optional): 1 of 2 sessions have one; 1 direct, 0 failed check" in health.text
        assert f"socks5://127.0.0.1:{fake.port}: #1" in health.text and "direct: #2" in health.text
        assert "pw7" not in health.text

        assert "Session #1 now connects directly" in (await admin.ask("/proxy 1 off")).text
        assert "had no proxy: nothing changed" in (await admin.ask("/proxy 1 off")).text
        async with h.db.read() as conn:
            assert await proxy_rows.list_all(conn) == {}
    logged = "".join(f.read_text(errors="replace") for f in (tmp_path / "logs").rglob("*") if f.is_file())
    assert "proxy set to socks5://127.0.0.1" in logged  # the change is logged, masked
    assert "pw7" not in logged and "alice" not in logged
