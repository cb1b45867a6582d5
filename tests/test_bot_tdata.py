"""Issue 21b over the Bot API emulator: a zipped Telegram Desktop tdata locked by a passcode is refused
with a reason naming the passcode, the bot asks for it, deletes the admin's reply holding it, downloads
the archive again and stores every account (fresh Telethon files, Telegram Desktop's identity), which
then connects in the contract fake. The passcode is in no bot message and no log record."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

import pytest
from botkit import ADMIN_ID, bot_harness
from pool_support import assert_connects_as

from control_bot.routers import admin_upload
from core.texts import intake as intake_texts
from core.texts import tdata as texts
from sandbox.tdata import FAST_ARGON2, TAccount, make_tdata, zip_tdata
from storage import sessions as session_rows

PASSCODE = "pässcode 42"


def key(seed: int) -> bytes:
    return hashlib.sha512(b"bot%d" % seed).digest() * 4


ACCOUNTS = [TAccount(0, 5000000001, 4, key(0)), TAccount(2, 222222, 2, key(1), wide_ids=False)]


@pytest.fixture(autouse=True)
def quick_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)


async def test_a_locked_tdata_is_imported_with_the_passcode_the_admin_replies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    archive = zip_tdata({"tdata": make_tdata(ACCOUNTS, passcode=PASSCODE, kdf=FAST_ARGON2)})
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        summary = await admin.send_file("seller.zip", archive)
        assert "accepted 0, rejected 1" in summary.text
        assert f"seller.zip/tdata: {texts.PASSCODE_REQUIRED()}" in summary.text
        ask = await admin.user.wait_reply()
        assert ask.text == texts.ask_passcode("seller.zip")
        assert "Reply to this message with the passcode" in ask.text

        # a wrong passcode: deleted, refused, asked again
        wrong = await admin.user.say("not it", reply_to=ask.message_id)
        summary = await admin.user.wait_reply()
        assert h.emu.message(ADMIN_ID, wrong.message_id).deleted
        assert f"seller.zip/tdata: {texts.WRONG_PASSCODE()}" in summary.text
        again = await admin.user.wait_reply()
        assert again.text == texts.ask_again("seller.zip")

        sent = await admin.user.say(PASSCODE, reply_to=again.message_id)
        summary = await admin.user.wait_reply()
        assert h.emu.message(ADMIN_ID, sent.message_id).deleted
        assert "accepted 2, rejected 0" in summary.text
        assert "seller.zip/tdata account 1 → session #" in summary.text
        assert "seller.zip/tdata account 3 → session #" in summary.text
        assert len(h.emu.calls_of("getFile")) == 3  # the upload, then once per reply: never kept

        # a reply to a request already answered: deleted too, and the admin told to send it again
        late = await admin.user.say(PASSCODE, reply_to=ask.message_id)
        answer = await admin.user.wait_reply()
        assert h.emu.message(ADMIN_ID, late.message_id).deleted
        assert answer.text == texts.PASSCODE_EXPIRED()
        await h.idle()
        await asyncio.sleep(0.4)
        assert admin.unread() == []

        async with h.db.read() as conn:
            rows = sorted(await session_rows.list_all(conn), key=lambda r: r.id)
        identities = [(r.dc_id, r.own_api_id, r.device["lang_pack"]) for r in rows]
        assert identities == [(4, 2040, "tdesktop"), (2, 2040, "tdesktop")]
        for row, account in zip(rows, ACCOUNTS, strict=True):
            await assert_connects_as(
                h.db, h.settings.paths.sessions_dir, row.id, dc_id=account.dc_id, auth_key=account.auth_key,
                api_id=2040, lang_pack="tdesktop",
            )

        shown = [m.text or "" for m in h.emu.messages(ADMIN_ID) if m.from_bot]
        assert not any(PASSCODE in text or "not it" in text for text in shown)
    assert not any(PASSCODE in r.getMessage() or "not it" in r.getMessage() for r in caplog.records)


async def test_an_unlocked_tdata_asks_nothing_and_a_lone_file_is_refused(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        summary = await admin.send_file("open.zip", zip_tdata({"tdata": make_tdata(ACCOUNTS[:1], legacy=True)}))
        assert "accepted 1, rejected 0" in summary.text
        summary = await admin.send_file("key_datas.zip", make_tdata(ACCOUNTS[:1])["key_datas"])
        assert intake_texts.LONE_TDATA_FILE() in summary.text
        await h.idle()
        await asyncio.sleep(0.4)
        assert admin.unread() == []


async def test_a_passcode_request_expires_and_a_late_reply_is_still_deleted(tmp_path: Path) -> None:
    archive = zip_tdata({"tdata": make_tdata(ACCOUNTS[:1], passcode=PASSCODE, legacy=True)})
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        summary = await admin.send_file("old.zip", archive)
        assert texts.PASSCODE_REQUIRED() in summary.text
        ask = await admin.user.wait_reply()
        h.clock.set(h.clock.now() + admin_upload.PASSCODE_TTL + 1)
        late = await admin.user.say(PASSCODE, reply_to=ask.message_id)
        answer = await admin.user.wait_reply()
        assert h.emu.message(ADMIN_ID, late.message_id).deleted
        assert answer.text == texts.PASSCODE_EXPIRED()
        assert len(h.emu.calls_of("getFile")) == 1  # never downloaded again
        async with h.db.read() as conn:
            assert await session_rows.list_all(conn) == []

        # a reply to another bot message is no passcode: it reaches the ordinary handlers, not deleted
        other = await admin.user.say("hello", reply_to=summary.message_id)
        await admin.user.wait_reply()
        assert not h.emu.message(ADMIN_ID, other.message_id).deleted
