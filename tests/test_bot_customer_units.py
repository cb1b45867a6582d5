"""The customer side's pure pieces: post text and entities, interval parsing, texts, pacing, retries,
the error mapping and the admin filter."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import GetUpdates, SendMessage
from aiogram.types import CallbackQuery, Chat, Message, User

from control_bot import errors
from control_bot.filters import ANONYMOUS_ADMIN_ID, IsAdmin
from control_bot.middlewares import FloodControl, Pacer, Pacing, TokenBucket
from control_bot.notify import _chunks
from control_bot.services.campaign import IntervalBounds, parse_interval_minutes
from control_bot.services.post import command_argument, looks_like_link, shift_entities, trim_post
from control_bot.services.reach import GroupReach, Reach
from core.config import Settings
from core.errors import AccessDenied, IntervalError, LinkError, StorageBusy
from core.outcomes import OutcomeKind
from core.states import EventKind
from core.texts import errors as error_texts
from core.texts import events as event_texts
from core.texts import fmt
from core.texts import reach as rt
from core.texts import status as status_texts
from core.texts.outcomes import OUTCOME_TEXTS, reason_text
from core.texts.split import TELEGRAM_LIMIT, utf16_len

# --- post text -------------------------------------------------------------------------------------


def _slices(text: str, entities: list[dict[str, Any]]) -> list[tuple[str, str]]:
    units = text.encode("utf-16-le")
    return [(e["type"], units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")) for e in entities]


def test_command_argument_rebases_entities_in_utf16_units() -> None:
    text = "/post@adbot_test_bot  😀 Big *sale* 🎉 today"
    # offsets as Telegram gives them (UTF-16): the emoji before "Big" counts 2 units
    sale = utf16_len("/post@adbot_test_bot  😀 Big ")
    entities = [
        {"type": "bot_command", "offset": 0, "length": 20},
        {"type": "bold", "offset": sale, "length": 6},
        {"type": "text_link", "offset": sale + 7, "length": 2, "url": "https://example.com"},
    ]
    body, moved = command_argument(text, entities)
    assert body == "😀 Big *sale* 🎉 today"
    assert _slices(body, moved) == [("bold", "*sale*"), ("text_link", "🎉")]
    assert moved[1]["url"] == "https://example.com"


def test_entities_are_clipped_to_what_is_left() -> None:
    text, entities = trim_post("  bold  ", [{"type": "bold", "offset": 0, "length": 8}])
    assert text == "bold" and entities == [{"type": "bold", "offset": 0, "length": 4}]
    assert shift_entities([{"type": "italic", "offset": 0, "length": 3}], cut=5, new_length=10) == []


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("https://t.me/chan/1", True),
        ("t.me/chan/1", True),
        ("tg://resolve?domain=chan&post=1", True),
        ("@chan", True),
        ("+InviteHash", True),
        ("http://example.com", True),
        ("Buy now!", False),
        ("Visit t.me/chan/1 today", False),
        ("", False),
    ],
)
def test_looks_like_link(text: str, link: bool) -> None:
    assert looks_like_link(text) is link


BOUNDS = IntervalBounds(60, 86_400)


@pytest.mark.parametrize(
    ("text", "seconds"), [("15", 900), ("7,5", 450), ("7.5 min", 450), (" 1 ", 60), ("1440", 86_400)]
)
def test_interval_minutes(text: str, seconds: int) -> None:
    assert parse_interval_minutes(text, BOUNDS) == seconds


@pytest.mark.parametrize("text", ["0", "0.5", "1441", "abc", "-5", "5h", "1e3", ""])
def test_bad_intervals_say_why(text: str) -> None:
    with pytest.raises(IntervalError) as caught:
        parse_interval_minutes(text, BOUNDS)
    assert caught.value.user_message


# --- texts -----------------------------------------------------------------------------------------


def test_logs_fit_one_message_newest_kept_and_escaped() -> None:
    lines = [f"2025-01-01 00:00:{i % 60:02d} INFO line {i} <tag> & stuff " + "x" * 80 for i in range(100)]
    rendered = status_texts.logs(lines)
    assert len(rendered) <= 4096
    assert "line 99" in rendered and "line 0 " not in rendered
    assert "<tag>" not in rendered and "&lt;tag&gt;" in rendered


@pytest.mark.parametrize("kind", list(EventKind))
@pytest.mark.parametrize("for_admin", [False, True])
def test_every_event_kind_has_a_text_with_payload_escaped(kind: EventKind, for_admin: bool) -> None:
    payload = {"reason": "<script>", "group": "<g>", "session_id": 3, "owner_id": 5, "free": 1, "link": "<l>"}
    text = event_texts.event_text(kind, payload, for_admin=for_admin)
    assert text and "<script>" not in text and "<g>" not in text and "<l>" not in text
    assert text == event_texts.event_text(kind, payload, for_admin=for_admin)
    assert event_texts.event_text(kind, {}, for_admin=for_admin)  # every key is optional


def test_group_states() -> None:
    # Issue 15: "ok" became what the customer's sessions can do there (tests/test_reach.py has every state).
    ok = GroupReach("@g", Reach.REACHABLE, writers=(1,), sessions=2, blocks=(), slow_mode=0, unchecked=())
    assert rt.group_state(None, None, None, 100.0, ok) == "✅ reachable (1 of your 2 sessions)"
    slow = rt.group_state(None, 130.0, 30, 100.0, ok)
    assert slow == "✅ reachable (1 of your 2 sessions), 🐢 slow mode 30 s, next post in 30 s"
    # The window is over: no next post, the slow mode is still known.
    assert rt.group_state(None, 90.0, 30, 100.0, ok) == "✅ reachable (1 of your 2 sessions), 🐢 slow mode 30 s"
    paused = rt.group_state("3 failures in a row, last: ChatAdminRequiredError", None, None, 100.0, ok)
    assert paused == "⏸ paused: 3 failures in a row, last: only admins may post there"


def test_every_outcome_kind_is_worded_and_a_stored_kind_reads_as_words() -> None:
    assert set(OUTCOME_TEXTS) == set(OutcomeKind) and all(OUTCOME_TEXTS.values())
    assert reason_text("post_invalid") == "the post can no longer be sent"
    assert reason_text("by_customer") == "stopped by you" and reason_text("<odd>") == "&lt;odd&gt;"


def test_durations_and_minutes() -> None:
    assert [fmt.fmt_duration(s) for s in (5, 300, 330, 3900, 90_000)] == [
        "5 s",
        "5 min",
        "5 min 30 s",
        "1 h 5 min",
        "1 d 1 h",
    ]
    # Intervals are durations too: never rounded to one unit (150 s is not "2 min").
    assert [fmt.fmt_duration(s) for s in (60, 90, 150, 86_400, 90_061)] == [
        "1 min",
        "1 min 30 s",
        "2 min 30 s",
        "1 d",
        "1 d 1 h",
    ]


# --- pacing and retries ----------------------------------------------------------------------------


def test_token_bucket_allows_a_burst_then_one_per_second() -> None:
    bucket = TokenBucket(rate=1.0, burst=3, now=0.0)
    assert [bucket.reserve(0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert bucket.reserve(10.0) == 0.0


def test_pacer_limits_each_chat_and_the_total() -> None:
    now = [0.0]
    pacer = Pacer(Pacing(per_chat_rate=1.0, per_chat_burst=2, global_rate=10.0, global_burst=3), clock=lambda: now[0])
    assert pacer.delay_for(1) == 0.0 and pacer.delay_for(1) == 0.0
    assert pacer.delay_for(1) == pytest.approx(1.0)  # third message in one chat waits
    assert pacer.delay_for(2) == pytest.approx(0.1)  # the overall burst of 3 is spent
    now[0] = 5.0
    assert pacer.delay_for(2) == 0.0


async def test_retry_after_is_honoured_a_bounded_number_of_times() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    method = SendMessage(chat_id=1, text="hi")
    calls = 0

    async def flaky(bot: Any, m: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TelegramRetryAfter(method=m, message="Too Many Requests", retry_after=2)
        return "ok"

    control = FloodControl(Pacing(max_retries=3), sleep=sleep)
    assert await control(flaky, None, method) == "ok"  # type: ignore[arg-type]
    assert slept == [2, 2]

    async def always(bot: Any, m: Any) -> Any:
        raise TelegramRetryAfter(method=m, message="Too Many Requests", retry_after=1)

    slept.clear()
    with pytest.raises(TelegramRetryAfter):
        await FloodControl(Pacing(max_retries=2), sleep=sleep)(always, None, method)  # type: ignore[arg-type]
    assert slept == [1, 1]

    async def long_wait(bot: Any, m: Any) -> Any:
        raise TelegramRetryAfter(method=m, message="Too Many Requests", retry_after=3600)

    slept.clear()
    with pytest.raises(TelegramRetryAfter):
        await FloodControl(Pacing(), sleep=sleep)(long_wait, None, method)  # type: ignore[arg-type]
    assert slept == []


async def test_polling_is_not_paced() -> None:
    async def sleep(seconds: float) -> None:
        raise AssertionError("getUpdates must never wait for the pacer")

    async def fine(bot: Any, m: Any) -> Any:
        return []

    control = FloodControl(Pacing(global_rate=0.001, global_burst=0), sleep=sleep)
    assert await control(fine, None, GetUpdates()) == []  # type: ignore[arg-type]


def test_outbox_chunks_fit_telegram_messages() -> None:
    parts = [(i, "x" * 1500) for i in range(5)]
    chunks = _chunks(parts)
    assert [len(c) for c in chunks] == [3002, 3002, 1500]
    assert all(len(c) <= TELEGRAM_LIMIT for c in _chunks([(1, "y" * 5000)]))


# --- errors and filters ----------------------------------------------------------------------------


def test_error_replies() -> None:
    method = SendMessage(chat_id=1, text="x")
    assert errors.reply_for(LinkError('"<x>" is not a link')) == '"&lt;x&gt;" is not a link'
    assert errors.reply_for(AccessDenied("no")) == "no"
    assert errors.reply_for(StorageBusy()) == error_texts.TRY_AGAIN()
    assert errors.reply_for(ValueError("internal detail")) == error_texts.GENERIC_ERROR()
    assert errors.reply_for(TelegramForbiddenError(method=method, message="blocked")) is None
    assert errors.reply_for(TelegramBadRequest(method=method, message="bad")) == error_texts.GENERIC_ERROR()


def _message(user_id: int | None, chat_type: str = "private") -> Message:
    user = None if user_id is None else User(id=user_id, is_bot=False, first_name="U")
    return Message(message_id=1, date=0, chat=Chat(id=user_id or -100, type=chat_type), from_user=user, text="/admin")


async def test_is_admin_filter() -> None:
    settings = Settings.model_validate({"bot": {"admins": [42, ANONYMOUS_ADMIN_ID]}})
    check = IsAdmin()
    assert await check(_message(42), settings)
    assert not await check(_message(43), settings)
    assert not await check(_message(42, "supergroup"), settings)
    assert not await check(_message(ANONYMOUS_ADMIN_ID), settings)  # even if listed by mistake
    assert not await check(_message(None), settings)
    press = CallbackQuery(
        id="1", from_user=User(id=42, is_bot=False, first_name="U"), chat_instance="c", message=_message(42), data="x"
    )
    assert await check(press, settings)
