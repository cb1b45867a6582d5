"""``/proxy`` end to end: the real app polling the Bot API emulator, the check run through a local fake
SOCKS5 proxy (never the internet), refusals that change nothing, and /health showing each session's proxy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from botkit import ADMIN_ID, bot_harness

from control_bot.routers import admin_upload
from core import dcs
from core.texts import customer as t
from pool.layout import UNUSED
from sandbox.sessionfiles import make_session_bytes, make_sidecar, new_auth_key
from storage import proxies as proxy_rows
from storage import sessions as session_rows
from tests.fake_proxy import FakeProxy, closed_port, running

OTHER = 1002


@pytest.fixture(autouse=True)
def quick_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)


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
        assert (await bob.ask("/proxy 1 off")).text == t.UNKNOWN_COMMAND()
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


async def test_upload_with_a_sidecar_proxy_says_how_its_check_went(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h, running(FakeProxy("http")) as fake:
        admin = h.user(ADMIN_ID, "Admin")
        good = make_sidecar(proxy={"type": "http", "host": "127.0.0.1", "port": fake.port, "user": "u", "pass": "s3"})
        bad = make_sidecar(proxy=f"socks5://127.0.0.1:{closed_port()}")
        await admin.user.send_document("a.session", make_session_bytes(2))
        await admin.user.send_document("a.json", json.dumps(good).encode())
        await admin.user.send_document("b.session", make_session_bytes(2))
        summary = await admin.send_file("b.json", json.dumps(bad).encode())
        assert "accepted 4, rejected 0" in summary.text
        assert f"a.session → session #1 (proxy http://127.0.0.1:{fake.port})" in summary.text
        assert "b.session → session #2 (proxy socks5://127.0.0.1:" in summary.text
        assert "stored but did not reach Telegram" in summary.text and "s3" not in summary.text
        assert fake.connects == [("149.154.167.51", 443)]
        health = await admin.ask("/health")
        assert "2 of 2 sessions have one; 0 direct, 1 failed check" in health.text


async def test_admins_proxy_is_checked_on_the_address_the_session_will_connect_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[pool] ipv6`` and a test-server session's test DC: what the engine will dial, not production IPv4."""
    async with bot_harness(tmp_path) as h, running(FakeProxy("socks5")) as fake:
        admin = h.user(ADMIN_ID, "Admin")
        await h.fill_pool(1)
        key = new_auth_key()
        async with h.db.tx() as conn:
            test_sid = await session_rows.insert(
                conn, file_name="t.session", auth_key_sha=hashlib.sha256(key).hexdigest(), dc_id=3,
                folder=UNUSED, now=h.clock.now(), test_mode=True,
            )
        monkeypatch.setattr(h.settings.pool, "ipv6", True)  # as `[pool] ipv6 = true` in the config
        assert "now connects through" in (await admin.ask(f"/proxy 1 socks5://127.0.0.1:{fake.port}")).text
        assert "now connects through" in (await admin.ask(f"/proxy {test_sid} socks5://127.0.0.1:{fake.port}")).text
        assert fake.connects == [(dcs.IPV6[2], 443), (dcs.TEST_IPV6[3], 443)]
