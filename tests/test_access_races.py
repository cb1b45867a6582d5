"""Access requests under pressure: a card's plan button and /grant landing together grant once (either
order, and two /grant confirms); a declined person cannot send a new round of cards for a day; a
stranger's repeated presses while a request is open never re-send the cards.

The races are made deterministic: the first grant (``admin.grant_in``, inside its transaction) starts the
other admin's answer and lets it run as far as it can before going on; it must wait for the write lock
and then find the request answered or the plan changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from control_bot.services import access, plans
from control_bot.services import admin as admin_service
from core.errors import InputError
from core.states import EventKind
from core.texts import onboarding as t
from sandbox.botapi.html import parse_html
from storage import customers, events, users
from storage.db import Database
from tests.botkit import ADMIN_ID, DAY, bot_harness, in_locale
from tests.pool_support import NOW

STRANGER = 777
ADMIN_2 = 2
CONTACT = "@adbot_owner"


async def _granted(db: Database, user_id: int) -> tuple[float, int]:
    """(days of plan left, PLAN_GRANTED events) of ``user_id``."""
    async with db.read() as conn:
        customer = await customers.get(conn, user_id)
        told = [e for e in await events.list_for(conn, user_id) if e.kind == EventKind.PLAN_GRANTED]
    assert customer is not None
    return (customer.plan_expires_at - NOW) / DAY, len(told)


async def _asked(db: Database) -> None:
    async with db.tx() as conn:
        await users.touch(conn, STRANGER, "bob", "Bob", "en", NOW)
    assert (await access.ask(db, STRANGER, NOW)).outcome is access.Asked.SENT


def _meanwhile(monkeypatch: pytest.MonkeyPatch, other: Callable[[], Awaitable[Any]]) -> list[asyncio.Task[Any]]:
    """The first ``grant_in`` (inside the first answer's transaction) starts ``other`` and lets it run
    until it blocks; the task is returned for its outcome."""
    real = admin_service.grant_in
    started: list[asyncio.Task[Any]] = []

    async def grant_in(*args: Any, **kwargs: Any) -> admin_service.GrantResult:
        if not started:
            started.append(asyncio.create_task(other()))
            await asyncio.sleep(0.05)
        return await real(*args, **kwargs)

    monkeypatch.setattr(admin_service, "grant_in", grant_in)
    return started


async def _confirm(db: Database, admin_id: int, token: str, tmp_path: Path) -> plans.Applied:
    return await plans.confirm(
        db, admin_id, token, now=NOW, default_interval=300, sessions_dir=tmp_path, engine=None
    )


async def test_a_card_press_while_grant_is_confirmed_grants_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _asked(db)
    proposal = await plans.propose_plan(db, ADMIN_2, STRANGER, 1, 30, now=NOW)
    assert not proposal.change.needs_confirmation  # a new plan: /grant applies it at once
    other: list[asyncio.Task[plans.Applied]] = []

    async def get(conn: Any, user_id: int) -> customers.Customer | None:
        # The card has seen the request open; admin 2's /grant lands now (as far as it can go).
        if not other:
            other.append(asyncio.create_task(_confirm(db, ADMIN_2, proposal.token, tmp_path)))
            await asyncio.sleep(0.05)
        return await customers.get(conn, user_id)

    monkeypatch.setattr(access, "customers", SimpleNamespace(get=get))
    result = await access.Answering().grant(db, STRANGER, 1, 1, 30, now=NOW, default_interval=300)
    assert result.answer is access.Answer.GRANTED
    with pytest.raises(InputError):  # /grant finds the plan changed since it was shown: refused
        await other[0]
    assert await _granted(db, STRANGER) == (30, 1)


async def test_grant_confirmed_while_a_card_is_pressed_grants_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _asked(db)
    proposal = await plans.propose_plan(db, ADMIN_2, STRANGER, 1, 30, now=NOW)
    other = _meanwhile(
        monkeypatch, lambda: access.Answering().grant(db, STRANGER, 1, 1, 30, now=NOW, default_interval=300)
    )
    applied = await _confirm(db, ADMIN_2, proposal.token, tmp_path)
    assert applied.created
    assert (await other[0]).answer is access.Answer.CLOSED  # /grant answered the request
    assert await _granted(db, STRANGER) == (30, 1)
    async with db.read() as conn:
        assert await users.pending_request(conn, STRANGER) is None


async def test_two_grant_confirms_at_once_grant_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _asked(db)
    first = await plans.propose_plan(db, ADMIN_ID, STRANGER, 1, 30, now=NOW)
    second = await plans.propose_plan(db, ADMIN_2, STRANGER, 1, 30, now=NOW)
    other = _meanwhile(monkeypatch, lambda: _confirm(db, ADMIN_2, second.token, tmp_path))
    assert (await _confirm(db, ADMIN_ID, first.token, tmp_path)).created
    with pytest.raises(InputError):
        await other[0]
    assert await _granted(db, STRANGER) == (30, 1)


async def test_card_presses_and_grants_all_at_once_grant_once(db: Database, tmp_path: Path) -> None:
    await _asked(db)
    proposals = [await plans.propose_plan(db, a, STRANGER, 1, 30, now=NOW) for a in (ADMIN_ID, ADMIN_2)]
    answering = access.Answering()
    outcomes = await asyncio.gather(
        *(_confirm(db, a, p.token, tmp_path)
          for a, p in zip((ADMIN_ID, ADMIN_2), proposals, strict=True)),
        *(answering.grant(db, STRANGER, a, 1, 30, now=NOW, default_interval=300) for a in (ADMIN_ID, ADMIN_2)),
        return_exceptions=True,
    )
    assert await _granted(db, STRANGER) == (30, 1)
    done = [o for o in outcomes if isinstance(o, plans.Applied) or getattr(o, "answer", None) is access.Answer.GRANTED]
    assert len(done) == 1, outcomes


# --- asking again ------------------------------------------------------------------------------------


async def test_a_declined_person_waits_a_day_before_asking_again(db: Database) -> None:
    await _asked(db)
    assert (await access.Answering().decline(db, STRANGER, ADMIN_ID, now=NOW)).answer is access.Answer.DECLINED
    for later in (0.0, 3600.0, access.DECLINE_COOLDOWN - 1):
        again = await access.ask(db, STRANGER, NOW + later)
        assert again.outcome is access.Asked.DECLINED  # no request opened: no cards
        assert again.again_at == NOW + access.DECLINE_COOLDOWN
    async with db.read() as conn:
        assert await users.pending_request(conn, STRANGER) is None
    assert (await access.ask(db, STRANGER, NOW + access.DECLINE_COOLDOWN)).outcome is access.Asked.SENT


async def test_presses_at_once_open_one_request(db: Database) -> None:
    asked = await asyncio.gather(*(access.ask(db, STRANGER, NOW) for _ in range(5)))
    assert sorted(a.outcome for a in asked) == [access.Asked.PENDING] * 4 + [access.Asked.SENT]


def _plain(html: str) -> str:
    return parse_html(html).text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_declined_recently_over_the_bot_no_new_cards(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        h.settings.bot.contact = CONTACT
        admin = h.user(ADMIN_ID, "Anna")
        stranger = h.user(STRANGER, "Mira", language_code=lang)
        await stranger.ask("/start")
        with in_locale(lang):
            request = t.BTN_REQUEST_ACCESS()
        await stranger.press(request)
        await admin.user.wait_reply()
        # pressing again and again while it is open: never a second card
        for _ in range(3):
            await stranger.ask("/start")
            await stranger.press(request)
        await h.idle()
        assert admin.unread() == []

        with in_locale("en"):
            await admin.press(t.BTN_DECLINE())
        await stranger.user.wait_reply()  # told politely
        declined_at = (await h.rows("SELECT handled_at FROM access_requests"))[0]["handled_at"]
        for _ in range(2):
            await stranger.ask("/start")
            refused = await stranger.press(request)
            with in_locale(lang):
                expected = f"{t.declined_recently(declined_at + DAY)}\n\n{t.contact_line(CONTACT)}"
            assert refused.text == _plain(expected)
        if lang == "ru":
            assert refused.text.startswith("Ваш последний запрос недавно отклонили")
        await h.idle()
        assert admin.unread() == []
        assert len(await h.rows("SELECT * FROM access_requests")) == 1

        # a day later they may ask again: one new card
        h.clock.set(declined_at + DAY)
        await stranger.ask("/start")
        sent = await stranger.press(request)
        with in_locale(lang):
            assert sent.text.startswith(_plain(t.REQUEST_SENT()))
        await admin.user.wait_reply()
        await h.idle()
        assert admin.unread() == []
