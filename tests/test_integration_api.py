"""The integration API (issue 20 part C) over real HTTP on 127.0.0.1, beside the real bot on the emulator:
the key is required on every call, a plan grant retried (also two at once) applies once, start and stop
are what the customer's /status then says, and the customer is told in their language."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import aiohttp
from botkit import DAY, START, Harness, bot_harness, in_locale
from pydantic import SecretStr

from control_bot.api.auth import KeyCheck
from core.states import EventKind
from core.texts.events import event_text
from core.texts.outcomes import STOP_REASON_CUSTOMER, STOP_REASON_SERVICE
from storage import customers

ALICE = 1001
KEY = "test-key-0123456789abcdef"
OTHER_KEY = "second-key-0123456789abcdef"
API = {"api": {"enabled": True, "host": "127.0.0.1", "port": 0, "keys": [OTHER_KEY, KEY]}}


def _url(h: Harness, path: str) -> str:
    return h.app.http[0].url + path


async def _call(
    http: aiohttp.ClientSession, h: Harness, method: str, path: str, *, key: str | None = KEY,
    body: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    headers = {} if key is None else {"X-API-Key": key}
    async with http.request(method, _url(h, path), headers=headers, json=body) as response:
        return response.status, await response.json()


async def _plan_events(h: Harness) -> int:
    rows = await h.rows("SELECT COUNT(*) AS n FROM events WHERE kind = ? AND customer_id = ?",
                        (EventKind.PLAN_GRANTED.value, ALICE))
    return int(rows[0]["n"])


def test_keys_are_compared_without_shortcuts_and_never_shown() -> None:
    check = KeyCheck([SecretStr(KEY), SecretStr(OTHER_KEY)])
    assert check.accepts(KEY) and check.accepts(OTHER_KEY)
    assert not check.accepts(KEY[:-1]) and not check.accepts(KEY + "x") and not check.accepts("")
    assert not check.accepts(None) and not check.accepts("ключ-не-ascii-0123456789")
    assert KEY not in repr(check) and not KeyCheck([]).accepts(KEY)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_every_call_needs_a_valid_key(tmp_path: Path) -> None:
    routes_log, seen = logging.getLogger("control_bot.api.routes"), _Lines()
    routes_log.addHandler(seen)
    try:
        await _every_call_needs_a_valid_key(tmp_path, seen)
    finally:
        routes_log.removeHandler(seen)


async def _every_call_needs_a_valid_key(tmp_path: Path, seen: _Lines) -> None:
    async with bot_harness(tmp_path, sections=API) as h, aiohttp.ClientSession() as http:
        for method, path in (("GET", "/api/health"), ("GET", f"/api/customers/{ALICE}"),
                             ("POST", f"/api/customers/{ALICE}/plan"), ("POST", f"/api/customers/{ALICE}/start"),
                             ("POST", f"/api/customers/{ALICE}/stop"), ("GET", "/api/nothing-here")):
            for key in (None, "wrong-key-0123456789abcdef", KEY.upper()):
                status, body = await _call(http, h, method, path, key=key, body={})
                assert (status, body["error"]["code"]) == (401, "unauthorized"), (method, path, key)
        before = await h.snapshot()
        status, body = await _call(http, h, "GET", "/api/health")
        assert status == 200 and body["status"] == "ok" and body["engine"]["running"] is True
        status, body = await _call(http, h, "GET", "/api/nothing-here")
        assert (status, body["error"]["code"]) == (404, "not_found")
        status, body = await _call(http, h, "GET", f"/api/customers/{ALICE}")
        assert (status, body["error"]["code"]) == (404, "customer_not_found")
        assert await h.snapshot() == before
        calls = seen.lines
        assert "API: GET /api/health -> 200" in calls and f"API: GET /api/customers/{ALICE} -> 401" in calls
        assert not [line for line in calls if KEY in line or OTHER_KEY in line or "wrong-key" in line]
        assert h.app.redactor is not None  # and were a key ever in a message, the log files would not show it
        assert KEY not in h.app.redactor.redact(f"X-API-Key: {KEY}, {OTHER_KEY}")
        assert OTHER_KEY not in h.app.redactor.redact(f"X-API-Key: {KEY}, {OTHER_KEY}")
        log = (h.settings.paths.logs_dir / "adbot.log").read_text(encoding="utf-8")
        assert KEY not in log and OTHER_KEY not in log and "wrong-key" not in log


async def test_health_gives_adbot_healths_verdict_with_its_problems(tmp_path: Path) -> None:
    """/api/health is the verdict ``adbot health`` gives: a dashboard polling it sees "degraded" too."""
    async with bot_harness(tmp_path, sections=API) as h, aiohttp.ClientSession() as http:
        status, body = await _call(http, h, "GET", "/api/health")
        assert (status, body["status"], body["problems"], body["overdue_campaigns"]) == (200, "ok", [], 0)
        await h.grant(ALICE)
        now = h.clock.now()
        async with h.db.tx() as conn:  # a campaign the engine let fall 20 min behind, with no session
            await customers.set_status(conn, ALICE, "running", now, next_cycle_at=now - 1200)
            await customers.finish_cycle(conn, ALICE, 0, now - 1500, now - 1200)
        status, body = await _call(http, h, "GET", "/api/health")
        assert status == 200 and body["status"] == "degraded" and body["overdue_campaigns"] == 1
        assert body["problems"] == [
            "1 running campaign(s) more than 10 min past their due cycle",
            "campaigns are running but no session is assigned to any customer",
        ]
        assert body["engine"]["running"] is True


async def test_a_retried_plan_grant_is_applied_once(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, sections=API) as h, aiohttp.ClientSession() as http:
        alice = h.user(ALICE, "Alice")
        order = {"request_id": "pay-0001", "sessions": 1, "days": 30}
        status, first = await _call(http, h, "POST", f"/api/customers/{ALICE}/plan", body=order)
        assert status == 201 and first["created"] is True and first["replayed"] is False
        assert first["plan"] == {"sessions": 1, "expires_at": START + 30 * DAY, "active": True}
        status, again = await _call(http, h, "POST", f"/api/customers/{ALICE}/plan", body=order)
        assert status == 200 and again == {**first, "replayed": True}
        assert (await h.customer(ALICE)).plan_expires_at == START + 30 * DAY
        assert await _plan_events(h) == 1
        # the customer is told once, in the chat
        await h.deliver()
        told = alice.unread()
        assert len(told) == 1 and "Your plan is ready: 1 session" in told[0].text

        # the same id for another order is refused, nothing changes
        status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/plan",
                                   body={**order, "days": 60})
        assert (status, body["error"]["code"]) == (409, "request_id_reused")
        assert (await h.customer(ALICE)).plan_expires_at == START + 30 * DAY

        # an extension retried by two workers at once: applied once
        renewal = {"request_id": "pay-0002", "sessions": 1, "days": 10}
        results = await asyncio.gather(*(
            _call(http, h, "POST", f"/api/customers/{ALICE}/plan", body=renewal) for _ in range(2)
        ))
        assert sorted(status for status, _ in results) == [200, 201]
        assert sorted(body["replayed"] for _, body in results) == [False, True]
        assert (await h.customer(ALICE)).plan_expires_at == START + 40 * DAY
        assert await _plan_events(h) == 2
        rows = await h.rows("SELECT request_id FROM api_requests ORDER BY request_id")
        assert [r["request_id"] for r in rows] == ["pay-0001", "pay-0002"]

        # bad requests change nothing
        before = await h.snapshot()
        for bad in ({"sessions": 1, "days": 30}, {**renewal, "request_id": "x" * 129}, {**renewal, "days": "10"},
                    {**renewal, "request_id": "pay-3", "sessions": 0},
                    {**renewal, "request_id": "pay-4", "days": True}):
            status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/plan", body=bad)
            assert (status, body["error"]["code"]) == (400, "bad_request"), bad
        async with http.post(_url(h, f"/api/customers/{ALICE}/plan"), headers={"X-API-Key": KEY},
                             data=b"[not json") as response:
            assert response.status == 400 and (await response.json())["error"]["code"] == "bad_request"
        status, body = await _call(http, h, "POST", "/api/customers/abc/plan", body=renewal)
        assert (status, body["error"]["code"]) == (400, "bad_request")
        assert await h.snapshot() == before


async def _ready_campaign(h: Harness, http: aiohttp.ClientSession, language: str) -> Any:
    alice = h.user(ALICE, "Alice", language_code=language)
    status, _ = await _call(http, h, "POST", f"/api/customers/{ALICE}/plan",
                            body={"request_id": "order-1", "sessions": 1, "days": 30})
    assert status == 201
    await h.deliver()  # the plan's news, before the customer's next action
    await h.fill_pool(1)
    await alice.ask("/post https://t.me/AdsChannel/5")
    await alice.ask("/addgroups @cats_group")
    return alice


async def test_start_and_stop_are_what_the_customer_sees(tmp_path: Path) -> None:
    for language in ("en", "ru"):
        async with bot_harness(tmp_path / language, sections=API) as h, aiohttp.ClientSession() as http:
            alice = await _ready_campaign(h, http, language)
            status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/start")
            assert status == 200 and body["started"] is True and body["sessions"] == 1
            assert (await h.customer(ALICE)).status == "running"
            await h.deliver()
            with in_locale(language):
                started = event_text(EventKind.CAMPAIGN_STARTED, {}, for_admin=False)
            assert [m.text for m in alice.unread()] == [started]  # told in the chat, in their language
            if language == "ru":
                assert "кампания запущена" in started
            with in_locale(language):
                from core.texts import customer as t
                running_word = t.BTN_STOP()
            shown = await alice.ask("/status")
            assert running_word in str(shown.buttons), shown
            status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/start")
            assert status == 200 and body["started"] is False  # already running: nothing changes
            await h.deliver()
            assert alice.unread() == []  # nor is anyone told again

            status, view = await _call(http, h, "GET", f"/api/customers/{ALICE}")
            assert status == 200 and view["status"]["campaign"] == "running"
            assert view["config"]["post"] == {"kind": "link", "link": "https://t.me/adschannel/5"}
            assert [g["ref"] for g in view["config"]["groups"]] == ["@cats_group"]
            assert view["config"]["plan"]["sessions"] == 1 and view["status"]["sessions"] == {"assigned": 1}
            assert any("started" in line.lower() for line in view["log"]), view["log"]

            status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/stop")
            assert status == 200 and body["stopped"] is True
            c = await h.customer(ALICE)
            assert c.status == "stopped" and c.stop_reason == STOP_REASON_SERVICE
            await h.deliver()
            with in_locale(language):
                expected = event_text(EventKind.CAMPAIGN_STOPPED, {"reason": STOP_REASON_SERVICE}, for_admin=False)
            assert [m.text for m in alice.unread()] == [expected]
            shown = await alice.ask("/status")
            with in_locale(language):
                from core.texts.outcomes import reason_words
                stopped_words = reason_words(STOP_REASON_SERVICE)
                by_you = reason_words(STOP_REASON_CUSTOMER)
            assert stopped_words in shown.text and by_you not in shown.text  # the shop stopped it, not the customer
            status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/stop")
            assert status == 200 and body["stopped"] is False


async def test_start_refusals_are_stable_codes(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, sections=API) as h, aiohttp.ClientSession() as http:
        status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/start")
        assert (status, body["error"]["code"]) == (404, "customer_not_found")
        await h.grant(ALICE)
        status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/start")
        assert (status, body["error"]["code"]) == (409, "not_ready") and "post" in body["error"]["message"]
        await h.clock.advance(31 * DAY)
        status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/start")
        assert (status, body["error"]["code"]) == (409, "plan_inactive")
        status, body = await _call(http, h, "GET", f"/api/customers/{ALICE}")
        assert status == 200 and body["config"]["plan"]["active"] is False


def test_the_openapi_description_matches_the_server() -> None:
    import json
    import re

    from control_bot.api import errors as codes
    from control_bot.api.routes import build_api
    from control_bot.api.service import ApiContext
    from core.config import Settings

    text = (Path(__file__).resolve().parent.parent / "docs" / "API.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(\{\n  \"openapi\".*?)\n```", text, re.DOTALL)
    assert block is not None
    doc = json.loads(block.group(1))
    described = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    settings = Settings.model_validate({"api": {"enabled": True, "keys": [KEY]}})
    app = build_api(ApiContext(settings, None, None, None, lambda: None))  # type: ignore[arg-type]
    served = {(r.resource.canonical, r.method) for r in app.router.routes() if r.resource is not None}
    assert described == served
    documented = set(doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])
    defined = {v for k, v in vars(codes).items() if k.isupper() and isinstance(v, str)}
    assert documented == defined


async def test_a_smaller_plan_gives_the_least_needed_sessions_back(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, sections=API) as h, aiohttp.ClientSession() as http:
        alice = h.user(ALICE, "Alice")
        status, _ = await _call(http, h, "POST", f"/api/customers/{ALICE}/plan",
                                body={"request_id": "big", "sessions": 2, "days": 30})
        assert status == 201
        await h.fill_pool(2)
        await alice.ask("/post https://t.me/AdsChannel/5")
        await alice.ask("/addgroups @cats_group")
        status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/start")
        assert status == 200 and body["sessions"] == 2
        await h.cycle(ALICE)
        states = "SELECT state, COUNT(*) AS n FROM sessions GROUP BY state ORDER BY state"
        assert [tuple(r) for r in await h.rows(states)] == [("assigned", 2)]

        order = {"request_id": "small", "sessions": 1, "days": 30}
        status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/plan", body=order)
        assert status == 201 and body["plan"]["sessions"] == 1
        assert [tuple(r) for r in await h.rows(states)] == [("assigned", 1), ("unused", 1)]
        status, body = await _call(http, h, "POST", f"/api/customers/{ALICE}/plan", body=order)
        assert status == 200 and body["replayed"] is True
        assert [tuple(r) for r in await h.rows(states)] == [("assigned", 1), ("unused", 1)]
        await h.cycle(ALICE)  # the campaign goes on with the one it kept
        assert len(h.world.deliveries) == 2
