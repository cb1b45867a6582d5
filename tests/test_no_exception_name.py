"""No exception name ever reaches a person (issue 18 plan §4 G).

Whatever the engine, the pool or a service stored as a reason (a Telethon class name such as
``AuthKeyUnregisteredError``, Telegram's ``CHAT_WRITE_FORBIDDEN``, an ``OutcomeKind``), every text that
may show it says it in words: every event (for the customer and for the admins, the cycle summary with
its folded events included), ``reason_text``, the /groups states, the stats, every customer log line, in
English and in Russian.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import telethon.errors.rpcerrorlist as rpc_errors
from botkit import in_locale
from telethon.errors import RPCError

from core.customer_log import LogKey, LogLine
from core.outcomes import OutcomeKind
from core.states import EventKind
from core.texts import status as status_texts
from core.texts.customer_log import line_text, render_line
from core.texts.events import event_text
from core.texts.groups import groups_list
from core.texts.outcomes import reason_text
from core.texts.reach import group_state, reach_report, unreachable_event, unreachable_reason, what_to_do

EXCEPTION_LIKE = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+Error\b|AuthKey\w+|\b[A-Z][A-Z0-9]*_[A-Z0-9_]{6,}\b")

RPC_NAMES: list[str] = sorted(
    name for name, cls in inspect.getmembers(rpc_errors, inspect.isclass) if issubclass(cls, RPCError)
)
# Telegram's own names of the same errors (CHAT_WRITE_FORBIDDEN), as some paths store them.
TELEGRAM_NAMES: list[str] = sorted({
    str(getattr(cls, "MESSAGE", "")).split(" ")[0].rstrip(":").upper()
    for _, cls in inspect.getmembers(rpc_errors, inspect.isclass)
    if issubclass(cls, RPCError) and re.fullmatch(r"[A-Z_]{8,}", str(getattr(cls, "MESSAGE", "x")).split(" ")[0])
} | {"TOPIC_CLOSED", "ACCOUNT_FROZEN", "FROZEN_METHOD_INVALID", "AUTH_KEY_UNREGISTERED", "SESSION_REVOKED"})
REASONS: list[str] = RPC_NAMES + TELEGRAM_NAMES + [k.value for k in OutcomeKind] + ["AuthKeyNotFound", "WaitPending"]
LOCALES = ("en", "ru")


def _clean(text: str, what: str) -> None:
    found = EXCEPTION_LIKE.findall(text)
    assert not found, f"{what}: {found} in {text!r}"


def _payload(reason: str) -> dict[str, Any]:
    """Every payload key any event reads, the reason in each place a reason goes."""
    return {
        "reason": reason, "error": reason, "detail": reason, "customer_id": 77, "owner_id": 77, "session_id": 5,
        "old_session_id": 5, "new_session_id": 6, "phone": "+10000000000", "group": "@cats", "ref": "@cats",
        "group_ref": "@cats", "link": "https://t.me/c/1/2", "free": 1, "threshold": 5, "api_id": 2040,
        "capacity": 7, "sessions": 2, "days": 30, "expires_at": 1_800_000_000.0, "quarantine_until": 1_800_000_000.0,
        "frozen_until": 1_800_000_000.0, "appeal_url": "https://t.me/spambot", "extended": False, "wanted": 3,
        "days_left": 3, "cycle_no": 4, "total": 3, "sent": 1, "failed": 1, "in_doubt": 1, "unreachable": 1,
        "stopped": reason, "next_at": None, "failures": [{"group": "@cats", "error": reason}],
        "plans": [{"customer_id": 77, "expires_at": 1_800_000_000.0, "sessions": 1}],
    }


@pytest.fixture(params=LOCALES)
def locale(request: pytest.FixtureRequest) -> Iterator[str]:
    with in_locale(request.param, "Europe/Moscow"):
        yield request.param


def test_every_event_says_every_stored_reason_in_words(locale: str) -> None:
    for reason in REASONS:
        payload = _payload(reason)
        folded = [{**_payload(reason), "kind": str(kind), "stopped": None} for kind in EventKind
                  if kind is not EventKind.CYCLE_SUMMARY]
        for kind in EventKind:
            body = {**payload, "problems": folded} if kind is EventKind.CYCLE_SUMMARY else payload
            for admin in (False, True):
                text = event_text(kind, body, for_admin=admin)
                _clean(text, f"{kind} admin={admin} reason={reason} ({locale})")
                if locale == "ru":
                    assert re.search("[а-я]", text), f"{kind} admin={admin} is not in Russian: {text!r}"


def test_reason_text_and_legacy_reasons(locale: str) -> None:
    for reason in REASONS:
        _clean(reason_text(reason), f"reason_text({reason})")
        _clean(reason_text(f"3 failures in a row, last: {reason}"), f"legacy pause reason {reason}")
        _clean(reason_text(f"failures:3:{reason}"), f"pause reason {reason}")


@dataclass
class _Reach:
    reach: str
    writers: list[int] = field(default_factory=list)
    sessions: int = 1
    blocks: list[str] = field(default_factory=list)
    slow_mode: int = 0
    checked: bool = True


def test_groups_states_say_a_pause_reason_in_words(locale: str) -> None:
    for reason in REASONS:
        for paused in (reason, f"failures:3:{reason}"):
            _clean(group_state(paused, None, None, 0.0, _Reach("reachable", [1])), f"/groups paused {paused}")


@dataclass
class _Member:
    session_id: int
    state: str
    can_write: bool
    why_not: str | None


@dataclass
class _Unreachable:
    ref: str
    reach: _Reach
    paused: bool
    own: list[_Member]
    free: list[int] = field(default_factory=list)
    others: int = 0


@dataclass
class _Report:
    customer_id: int
    plan_active: bool
    session_ids: list[int]
    unchecked: list[int]
    groups: int
    reachable: int
    unreachable: list[_Unreachable]
    give_back: int | None


def test_groups_screen_and_reach_screens_say_stored_names_in_words(locale: str) -> None:
    """A reach, a write block or a pause reason the service does not know (a Telethon name stored by an
    older or newer version) is said in words on /groups, in the reach events and on the admins' reach
    screen, never shown as it is."""
    for reason in REASONS:
        states = [
            group_state(reason, None, None, 0.0, _Reach("reachable", [1])),
            group_state(None, None, None, 0.0, _Reach(reason)),
            group_state(None, None, None, 0.0, _Reach("not_member", blocks=[reason])),
            group_state(None, None, None, 0.0, _Reach("forbidden", blocks=[reason])),
            group_state(None, None, None, 0.0, _Reach("forbidden", blocks=["left"])),
        ]
        screen = groups_list([("@cats", "Cats", state) for state in states], first=1, total=5, active=5,
                             paused=0, page=0, pages=1, limit=200)
        _clean(screen, f"/groups with {reason} ({locale})")
        assert ": \n" not in screen, screen  # a state always says why
        for reach in (reason, "forbidden", "not_member", "refused"):
            for admin in (False, True):
                _clean(unreachable_event("@cats", reach, reason, admin=admin), f"unreachable event {reach}/{reason}")
            _clean(unreachable_reason(reach, f"{reason},left"), f"unreachable reason {reach}/{reason}")
            _clean(what_to_do(reach), f"what to do {reach}")
        report = _Report(
            77, True, [5, 6], [], 3, 1,
            [_Unreachable("@cats", _Reach(reason), False, [_Member(5, "active", False, reason)], [7], 1),
             _Unreachable("@dogs", _Reach("forbidden", blocks=[reason]), True, [_Member(6, "active", False, None)])],
            5,
        )
        _clean(reach_report(report), f"admin reach screen with {reason} ({locale})")


def test_stats_show_no_names(locale: str) -> None:
    text = status_texts.stats(
        total_posts=3, total_success=1, total_failures=1, total_flood_waits=1, total_messages_sent=1,
        active_sessions=1, banned_sessions=1, last_activity=1_800_000_000.0, per_group=[("@cats", 1, 1)],
        now=1_800_000_100.0, in_doubt=1,
    )
    _clean(text, "stats")


def test_every_customer_log_line_says_errors_in_words(locale: str) -> None:
    kinds = list(OutcomeKind)
    # Every stored name with an outcome kind beside it (the kinds in turn), and every kind with a name
    # no table knows: what a line says depends on the name, else on the kind.
    cases = [(reason, kinds[i % len(kinds)]) for i, reason in enumerate(REASONS)]
    cases += [("SomeFutureError", kind) for kind in kinds]
    for reason, kind in cases:
        values = {
            "reason": reason, "error": reason, "kind": kind.value, "refusal": reason, "why": reason,
            "group": "@cats", "session": 5, "cycle": 2, "n": 2, "groups": ["@cats"], "seconds": 30,
            "window": 60, "left": 10, "attempts": 2, "failures": 3, "state": reason, "replacement": None,
            "doing": reason, "message": 9, "have": 1, "wanted": 2, "sent": 1, "failed": 1, "waiting": 0,
            "skipped": 0, "in_doubt": 0, "unreachable": 1, "sessions": 1,
        }
        for key in LogKey:
            text = line_text(key, values)
            _clean(text, f"log line {key} kind={kind} error={reason} ({locale})")
            if locale == "ru":
                assert re.search("[а-я]", text), f"log line {key} is not in Russian: {text!r}"
            line = LogLine("2026-12-01", "10:00:00", "WARNING", key, values)
            _clean(render_line(line), f"rendered log line {key}")
