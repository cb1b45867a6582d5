"""The admin service layer and its pieces, without the bot: parsing, plans, reports, size checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from control_bot.services import admin
from core.errors import InputError, NotFound
from core.states import EventKind
from core.texts import admin as admin_texts
from core.texts.outcomes import STOP_REASON_REVOKED
from core.texts.split import TELEGRAM_LIMIT, split_message, utf16_len
from storage import customers, events
from storage.db import Database

NOW = 1_800_000_000.0


@pytest.mark.parametrize("raw", ["", "abc", "-1", "+5", "1.5", "1e3", "٣", "0", "101", " ", "9" * 30])
def test_sessions_must_be_a_plain_number_in_range(raw: str) -> None:
    with pytest.raises(InputError) as caught:
        admin.parse_sessions(raw)
    assert "The number of sessions" in caught.value.user_message


def test_parsers_accept_the_bounds() -> None:
    assert admin.parse_sessions(" 1 ") == 1 and admin.parse_sessions("100") == 100
    assert admin.parse_days("1") == 1 and admin.parse_days("3650") == 3650
    assert admin.parse_user_id(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(InputError):
        admin.parse_user_id(str(2**63))
    with pytest.raises(InputError, match="Usage: x"):
        admin.split_args("1 2 3", 2, "x")
    assert admin.split_args(" 1\n 2 ", 2, "x") == ["1", "2"]


def test_sizes_are_refused_before_download() -> None:
    assert admin.refuse_before_download(None, 1024) is None
    assert admin.refuse_before_download(1024, 1024) is None
    too_big = admin.refuse_before_download(1025, 1024)
    assert too_big is not None and "1025 bytes; the limit is 1024" in too_big
    bot_limit = admin.refuse_before_download(admin.BOT_API_DOWNLOAD_LIMIT + 1, 10**9)
    assert bot_limit is not None and "20 MB" in bot_limit


@given(st.lists(st.text(alphabet="ab<>\n", max_size=60), max_size=200))
def test_split_message_keeps_every_line_and_the_limit(lines: list[str]) -> None:
    text = "\n".join(lines)
    chunks = split_message(text, limit=100)
    assert "\n".join(chunks) == text
    assert all(len(c) <= 100 for c in chunks if "\n" in c)


async def test_grant_records_the_notification_in_the_same_change(db: Database) -> None:
    result = await admin.grant_plan(db, 77, 2, 10, now=NOW, default_interval=300)
    assert result.created and result.customer.plan_expires_at == NOW + 10 * 86_400
    again = await admin.grant_plan(db, 77, 3, 5, now=NOW + 86_400, default_interval=300)
    assert not again.created and again.customer.plan_expires_at == NOW + 15 * 86_400
    async with db.read() as conn:
        told = await events.list_for(conn, 77)
    assert [(e.kind, e.payload["sessions"], e.payload["extended"]) for e in reversed(told)] == [
        (EventKind.PLAN_GRANTED, 2, False),
        (EventKind.PLAN_GRANTED, 3, True),
    ]
    with pytest.raises(InputError):
        await admin.grant_plan(db, 77, 0, 5, now=NOW, default_interval=300)


class StopRecorder:
    def __init__(self) -> None:
        self.stopped: list[tuple[int, str]] = []

    async def stop_campaign(self, customer_id: int, reason: str, *, wait: bool = False) -> None:
        self.stopped.append((customer_id, reason))


async def test_revoke_stops_only_a_running_campaign_and_refuses_strangers(db: Database, tmp_path: Path) -> None:
    engine = StopRecorder()
    with pytest.raises(NotFound):
        await admin.revoke_plan(db, tmp_path, 5, now=NOW, engine=engine)
    await admin.grant_plan(db, 5, 1, 1, now=NOW, default_interval=300)
    result = await admin.revoke_plan(db, tmp_path, 5, now=NOW + 10, engine=engine)
    assert engine.stopped == [] and not result.was_running
    await admin.grant_plan(db, 6, 1, 1, now=NOW, default_interval=300)
    async with db.tx() as conn:
        await customers.set_status(conn, 6, "running", NOW)
    result = await admin.revoke_plan(db, tmp_path, 6, now=NOW + 10, engine=engine)
    assert engine.stopped == [(6, STOP_REASON_REVOKED)] and result.was_running
    async with db.read() as conn:
        six = await customers.get(conn, 6)
    assert six is not None and six.status == "stopped" and six.plan_expires_at == NOW + 10


async def test_a_long_customer_list_splits_into_messages(db: Database) -> None:
    for user_id in range(1, 121):
        await admin.grant_plan(db, 10**9 + user_id, 3, 30, now=NOW, default_interval=300)
    text = admin_texts.customers_list(await admin.list_customers(db, NOW), NOW)
    chunks = split_message(text, limit=4000)
    assert len(chunks) > 1 and all(len(c) <= 4000 for c in chunks)
    assert all(f"{10**9 + i}</code>" in "".join(chunks) for i in (1, 60, 120))
    sent = split_message(text)  # what send_report sends: Telegram's limit, in UTF-16 units
    assert len(sent) > 1 and all(utf16_len(c) <= TELEGRAM_LIMIT for c in sent) and "\n".join(sent) == text
