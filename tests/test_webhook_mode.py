"""Webhook mode (issue 20 part C): the emulator runs webhooks as Telegram does (strict URL rules, getUpdates
refused while one is set, updates POSTed in order with the secret header, kept until answered 2xx), and the
real bot in webhook mode answers a customer's /start through it, in English and Russian; a POST without the
secret is refused."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from botkit import TOKEN, bot_harness, in_locale

from core.texts import customer as t
from sandbox.botapi import BotApiEmulator
from sandbox.botapi.webhook import SECRET_HEADER

ALICE = 1001
SECRET = "s3cret-Token_for-the-webhook"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _api(http: aiohttp.ClientSession, emu: BotApiEmulator, method: str, **params: Any) -> dict[str, Any]:
    async with http.post(f"{emu.base_url}/bot{TOKEN}/{method}", json=params) as response:
        body: dict[str, Any] = await response.json()
        return body


async def test_the_emulator_refuses_what_telegram_refuses() -> None:
    async with BotApiEmulator(TOKEN) as emu, aiohttp.ClientSession() as http:
        cases = {
            "http://example.com/hook": "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
            "https://example.com:8080/hook": "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, "
                                             "443 or 8443",
            "https://127.0.0.1/hook": "Bad Request: bad webhook: IP address 127.0.0.1 is reserved",
            "https://10.1.2.3:8443/hook": "Bad Request: bad webhook: IP address 10.1.2.3 is reserved",
        }
        for url, description in cases.items():
            body = await _api(http, emu, "setWebhook", url=url)
            assert (body["ok"], body["error_code"], body["description"]) == (False, 400, description), url
        body = await _api(http, emu, "setWebhook", url="https://bot.example.com/hook", secret_token="no spaces")
        assert body["description"] == "Bad Request: secret token contains unallowed characters"
        body = await _api(http, emu, "setWebhook", url="https://bot.example.com/hook", secret_token="x" * 257)
        assert body["description"] == "Bad Request: secret token is too long"
        assert emu.webhook_url == ""
        assert (await _api(http, emu, "getUpdates"))["ok"] is True

        body = await _api(http, emu, "setWebhook", url="https://bot.example.com:8443/hook", secret_token=SECRET)
        assert body == {"ok": True, "result": True}
        info = (await _api(http, emu, "getWebhookInfo"))["result"]
        assert info["url"] == "https://bot.example.com:8443/hook" and SECRET not in str(info)
        body = await _api(http, emu, "getUpdates")
        assert (body["error_code"], body["description"]) == (
            409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
            "webhook first")
        assert (await _api(http, emu, "deleteWebhook"))["result"] is True
        assert (await _api(http, emu, "getUpdates"))["ok"] is True
        assert (await _api(http, emu, "getWebhookInfo"))["result"]["url"] == ""


async def test_updates_are_posted_in_order_with_the_secret_and_kept_until_answered() -> None:
    seen: list[tuple[int, str | None]] = []
    refuse_first = [True]

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        seen.append((update["update_id"], request.headers.get(SECRET_HEADER)))
        if refuse_first[0]:
            refuse_first[0] = False
            return web.Response(status=502)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with BotApiEmulator(TOKEN, local=True) as emu, aiohttp.ClientSession() as http:
            alice = emu.user(ALICE, "Alice")
            await alice.say("one")
            await alice.say("two")
            body = await _api(http, emu, "setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token=SECRET)
            assert body["ok"] is True  # a local Bot API server takes plain HTTP on any port
            await emu.wait_for(lambda: emu.pending_updates == 0 or None, 30, "the webhook deliveries")
            assert seen == [(1, SECRET), (1, SECRET), (2, SECRET)]  # the refused one again, then the next
            assert [status for _, status in emu.webhook_posts] == [502, 200, 200]
            info = (await _api(http, emu, "getWebhookInfo"))["result"]
            assert info["pending_update_count"] == 0
            assert info["last_error_message"] == "Wrong response from the webhook: 502"
    finally:
        await runner.cleanup()


async def test_a_customer_is_answered_in_webhook_mode(tmp_path: Path) -> None:
    for language in ("en", "ru"):
        port = _free_port()
        url = f"http://127.0.0.1:{port}/tg/updates"
        webhook = {"bot": {"mode": "webhook", "webhook_url": url, "webhook_host": "127.0.0.1", "webhook_port": port,
                           "webhook_secret": SECRET}}
        async with bot_harness(tmp_path / language, sections=webhook, emulator={"local": True}) as h:
            assert h.app.webhook is not None
            await h.grant(ALICE)
            alice = h.user(ALICE, "Alice", language_code=language)
            reply = await alice.ask("/start")
            with in_locale(language):
                greeting = t.main_menu(
                    first_name="Alice", running=False, stop_reason=None, next_run_at=None, plan_sessions=1,
                    plan_expires_at=0, post_kind=None, post_link=None, post_text=None, groups_total=0,
                    groups_paused=0, interval_s=300, now=0,
                ).split("\n")[0]
            assert reply.text.split("\n")[0] == greeting
            assert h.emu.calls_of("getUpdates") == []
            set_calls = h.emu.calls_of("setWebhook")
            assert len(set_calls) == 1 and set_calls[0].params["url"] == url
            assert h.emu.webhook_url == url

            # A POST without the secret (or with another) is refused and handled by nobody.
            forged = {"update_id": 999_999, "message": {"message_id": 1, "date": 0, "text": "/start",
                      "chat": {"id": ALICE, "type": "private"}, "from": {"id": ALICE, "is_bot": False,
                                                                          "first_name": "Alice"}}}
            async with aiohttp.ClientSession() as http:
                for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET.upper()}):
                    async with http.post(url, json=forged, headers=headers) as response:
                        assert response.status == 401
                async with http.get(url) as response:
                    assert response.status == 405
            before = len(alice.user.history())
            await alice.ask("/help")
            assert len(alice.user.history()) == before + 2  # /help and its answer: the forged /start did nothing


async def test_a_webhook_telegram_refuses_is_one_config_error(tmp_path: Path) -> None:
    import pytest

    from core.errors import ConfigError

    port = _free_port()
    webhook = {"bot": {"mode": "webhook", "webhook_url": f"http://127.0.0.1:{port}/hook", "webhook_port": port,
                       "webhook_secret": SECRET}}
    with pytest.raises(ConfigError) as refused:
        async with bot_harness(tmp_path, sections=webhook):  # api.telegram.org's rules: no plain HTTP
            raise AssertionError("started")
    assert refused.value.user_message == (
        "config error: bot.webhook_url: Telegram refused it: Bad Request: bad webhook: An HTTPS URL must be "
        "provided for webhook"
    )
