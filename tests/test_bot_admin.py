"""The admin side end to end: the real app polling the Bot API emulator, admins and customers as sandbox
users, the simulated world behind the engine (tests/botkit.py)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from botkit import ADMIN_ID, Harness, Player, bot_harness, in_locale

from control_bot.filters import ANONYMOUS_ADMIN_ID
from control_bot.routers import admin_upload
from core.texts import admin as admin_texts
from core.texts import customer as t
from core.texts import fmt
from sandbox.sessionfiles import make_session_bytes, make_sidecar
from storage import sessions as session_rows

CUSTOMER = 1001
OTHER = 1002
API_HASH = "0123456789abcdef0123456789abcdef"


def bot_time(ts: float | None) -> str:
    """A time as the bot writes it to an English reader (the bot always reads inside a reading scope)."""
    with in_locale("en"):
        return fmt.fmt_time(ts)


@pytest.fixture(autouse=True)
def quick_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    # The batching is what is under test, not its exact quiet time.
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


async def session_counts(h: Harness) -> dict[str, int]:
    async with h.db.read() as conn:
        return await session_rows.count_by_state(conn)


async def no_more_replies(h: Harness, *players: Player, wait: float = 0.4) -> None:
    """Every update handled and an upload batch would have been imported by now: nothing unread."""
    await h.idle()
    await asyncio.sleep(wait)
    await h.idle()
    for player in players:
        assert player.unread() == [], [m.text for m in player.unread()]


async def test_uploads_are_batched_summarised_and_pool_counts_match(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        archive = make_zip(
            {
                "good1.session": make_session_bytes(2),
                "good1.json": json.dumps(make_sidecar(api_id=111)).encode(),
                "nested/good2.session": make_session_bytes(4),
                "x<b>bad.session": b"this is not a session file",
                "notes.txt": b"hello",
            }
        )
        summary = await admin.send_file("upload.zip", archive)
        assert "accepted 3, rejected 2" in summary.text
        assert "x<b>bad.session" in summary.text  # escaped in the HTML, shown as sent
        assert "unsupported file type" in summary.text
        assert "Free sessions in the pool now: 2" in summary.text
        # no API pair yet: the session without a sidecar app is kept but waits for one (good1 has its own)
        assert re.search(r"good2\.session → session #\d+ \(waits for an API pair", summary.text)
        assert summary.text.count("waits for an API pair") == 1

        # A session and its sidecar as two messages in a row, plus files refused on their size
        # alone (never downloaded): one summary for the whole batch.
        await admin.user.send_document("seller7.session", make_session_bytes(1))
        await admin.user.send_document("seller7.json", json.dumps(make_sidecar(api_id=222)).encode())
        await admin.user.send_document("huge.zip", b"\0" * (h.settings.pool.max_upload_bytes + 1))
        await admin.user.send_document("giant.session", b"\0" * (20 * 1024 * 1024 + 1))
        summary = await admin.user.wait_reply()
        assert "accepted 2, rejected 2" in summary.text
        assert re.search(r"seller7\.json → session #\d+", summary.text)
        assert "huge.zip: the file is too large" in summary.text
        assert "giant.session: the file is too large for a bot to download" in summary.text
        await no_more_replies(h, admin)
        downloads = [c for c in h.emu.calls_of("getFile")]
        assert len(downloads) == 3  # the zip and seller7's two files; the big ones were never fetched

        async with h.db.read() as conn:
            rows = await session_rows.list_all(conn)
        own_apps = sorted(r.own_api_id for r in rows if r.own_api_id is not None)
        assert own_apps == [111, 222]

        counts = await session_counts(h)
        pool = await admin.ask("/pool")
        assert f"Free (unused): {counts['unused']}" in pool.text
        assert counts["unused"] == 3
        assert f"Total: {sum(counts.values())}" in pool.text
        assert "No API pairs yet" in pool.text

        # Any other document from an admin is not the pool's (the customer side answers it).
        reply = await admin.send_file("list.pdf", b"%PDF")
        assert "Upload" not in reply.text
        assert await session_counts(h) == counts


async def test_pairs_grant_revoke_and_customer_is_told(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")

        sent = await admin.user.say(f"/addpair 12345 {API_HASH}")
        reply = await admin.user.wait_reply()
        assert "API pair 12345 added" in reply.text
        assert "deleted your message" in reply.text
        assert h.emu.message(ADMIN_ID, sent.message_id).deleted
        assert API_HASH not in reply.text
        rows = await h.rows("SELECT api_id, api_hash, capacity FROM api_pairs")
        assert [tuple(r) for r in rows] == [(12345, API_HASH, h.settings.pool.max_sessions_per_pair)]

        pairs = await admin.ask("/pairs")
        assert "12345" in pairs.text and "0123…ef" in pairs.text and API_HASH not in pairs.text
        assert "already in the pool" in (await admin.ask(f"/addpair 12345 {API_HASH}")).text
        assert "32 hexadecimal" in (await admin.ask("/addpair 777 nothex")).text
        assert "Usage: /addpair <api_id> <api_hash>" in (await admin.ask("/addpair")).text

        reply = await admin.ask(f"/grant {CUSTOMER} 2 30")
        assert f"Plan created for {CUSTOMER}: 2 session(s)" in reply.text
        customer = await h.customer(CUSTOMER)
        assert customer.plan_sessions == 2
        assert customer.plan_expires_at == pytest.approx(h.clock.now() + 30 * 86_400)
        told = await alice.user.wait_reply()
        assert "Your plan is ready: 2 session(s)" in told.text

        reply = await admin.ask(f"/grant {CUSTOMER} 3 10")
        assert "Plan extended" in reply.text
        assert (await h.customer(CUSTOMER)).plan_expires_at == pytest.approx(h.clock.now() + 40 * 86_400)
        assert "was extended" in (await alice.user.wait_reply()).text

        # The customer runs a campaign with pool sessions; /revoke stops it and frees them.
        await h.fill_pool(4)
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats @dogs")
        assert "started" in (await alice.ask("/run")).text.lower()
        await h.cycle(CUSTOMER)
        assert (await session_counts(h))["assigned"] == 3
        # A pair that sessions hold cannot go: each of the pool's 4 keeps its API id for life.
        assert "is used by 4 sessions" in (await admin.ask("/delpair 12345")).text

        reply = await admin.ask(f"/revoke {CUSTOMER}")
        assert "campaign stopped, 3 sessions back in the pool" in reply.text
        customer = await h.customer(CUSTOMER)
        assert customer.status == "stopped" and not customer.plan_active(h.clock.now())
        counts = await session_counts(h)
        assert counts["unused"] == 4 and counts["assigned"] == 0
        told = await alice.user.wait_reply()
        assert "Your plan was ended by the admin" in told.text

        # Back in the pool they still hold it; an unused pair can go.
        assert "is used by 4 sessions" in (await admin.ask("/delpair 12345")).text
        assert "added" in (await admin.ask(f"/addpair 54321 {'f' * 32}")).text
        assert "API pair 54321 removed" in (await admin.ask("/delpair 54321")).text
        assert [r[0] for r in await h.rows("SELECT api_id FROM api_pairs")] == [12345]
        # Moving them is the admin's explicit choice, shown session by session.
        assert "added" in (await admin.ask(f"/addpair 54321 {'f' * 32}")).text
        moved = (await admin.ask("/delpair 12345 move")).text
        assert "API pair 12345 removed" in moved and "4 sessions moved" in moved
        assert moved.count("→ API id 54321") == 4
        assert [r[0] for r in await h.rows("SELECT api_id FROM api_pairs")] == [54321]
        held = await h.rows("SELECT p.api_id FROM sessions s JOIN api_pairs p ON p.id = s.pair_id")
        assert [r[0] for r in held] == [54321] * 4


async def test_bad_arguments_and_non_admins_change_nothing(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, admins=(ADMIN_ID, ANONYMOUS_ADMIN_ID)) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await h.grant(CUSTOMER)
        before = await h.snapshot()
        refusals = {
            f"/grant {CUSTOMER} 0 30": "from 1 to 100",
            f"/grant {CUSTOMER} 101 30": "from 1 to 100",
            f"/grant {CUSTOMER} 1 0": "from 1 to 3650",
            f"/grant {CUSTOMER} 1 3651": "from 1 to 3650",
            "/grant 0 1 1": "The user id must be from 1 to",
            "/grant -5 1 1": "The user id must be a whole number",
            f"/grant {2**63} 1 1": "The user id must be from 1 to",
            "/grant abc 1 1": "not “abc”",
            "/grant 1 2": "Usage: /grant <user_id> <sessions> <days>",
            "/revoke 5555": "There is no customer with id 5555",
            "/revoke": "Usage: /revoke <user_id>",
            "/delpair 999": "There is no API pair with id 999",
            "/adddefaultgroups": "Usage: /adddefaultgroups",
        }
        for command, expected in refusals.items():
            reply = await admin.ask(command)
            assert expected in reply.text, (command, reply.text)
        assert await h.snapshot() == before

        # Not admins: an ordinary user, the anonymous group admin (even when listed), an admin in a group.
        bob = h.user(OTHER, "Bob")
        assert (await bob.ask(f"/grant {OTHER} 5 30")).text == t.UNKNOWN_COMMAND()
        assert (await bob.ask("/admin")).text == t.UNKNOWN_COMMAND()
        # A session file gets what any other file gets from the customer side.
        reply = await bob.send_file("stolen.session", make_session_bytes(2))
        assert reply.text == (await bob.send_file("holiday.pdf", b"%PDF-1.4")).text
        assert "Upload" not in reply.text
        anonymous = h.user(ANONYMOUS_ADMIN_ID, "Group")
        assert (await anonymous.ask(f"/grant {OTHER} 5 30")).text == t.UNKNOWN_COMMAND()
        await admin.user.say(f"/grant {OTHER} 5 30", chat_type="supergroup")
        await admin.user.send_document("group.session", make_session_bytes(2), chat_type="supergroup")
        # A forged panel button from a non-admin is answered like any stale button.
        answer = await bob.forge(bob.last_bot_message().message_id, "adm:pool")
        assert answer.text == t.STALE_BUTTON()
        await no_more_replies(h, bob, anonymous)
        assert await h.snapshot() == before
        assert not list((h.settings.paths.sessions_dir / "unused").glob("*"))


async def test_health_customers_and_panel_agree_with_the_database(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")
        await h.fill_pool(3)
        await h.grant(CUSTOMER, sessions=2)
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats @dogs @birds")
        await alice.ask("/run")
        for _ in range(3):
            await h.cycle(CUSTOMER)
            await h.clock.advance(600)

        reply = await admin.ask("/health")
        now = h.clock.now()
        row = (await h.rows(
            "SELECT SUM(outcome = 'sent'), SUM(outcome = 'failed') FROM sends WHERE finished_at >= ?", (now - 3600,)
        ))[0]
        sent, failed = int(row[0] or 0), int(row[1] or 0)
        assert sent > 0
        assert f"Last hour: {sent} sent, {failed} failed" in reply.text
        (customer_row,) = await h.rows("SELECT cycle_started_at, cycle_finished_at, status FROM customers")
        assert customer_row["status"] == "running"
        assert "Running campaigns: 1" in reply.text
        assert f"Last cycle started: {bot_time(customer_row['cycle_started_at'])}" in reply.text
        assert f"Last cycle finished: {bot_time(customer_row['cycle_finished_at'])}" in reply.text
        counts = await session_counts(h)
        assert f"Pool: {counts['unused']} free, {counts['assigned']} assigned" in reply.text
        assert "Engine: ✅ running" in reply.text

        (today,) = await h.rows("SELECT COUNT(*) FROM sends WHERE outcome = 'sent'")
        reply = await admin.ask("/customers")
        assert f"{CUSTOMER}: plan 2 sessions" in reply.text
        assert "▶ running; sessions 2; groups 3" in reply.text
        assert f"today {today[0]} sent, 0 failed" in reply.text

        # The admins' command menu lists the admin commands after the customer ones.
        menu = [name for name, _ in h.emu.commands_for({"type": "chat", "chat_id": ADMIN_ID})]
        assert menu[-len(admin_texts.ADMIN_COMMANDS):] == [name for name, _ in admin_texts.ADMIN_COMMANDS]
        assert "grant" not in [name for name, _ in h.emu.commands]

        # The panel: buttons open the same reports in place, and lead back.
        panel = await admin.ask("/admin")
        assert [admin_texts.BTN_ADMIN_POOL(), admin_texts.BTN_ADMIN_PAIRS()] in panel.buttons
        shown = await admin.press(admin_texts.BTN_ADMIN_POOL())
        assert shown.message_id == panel.message_id and f"Free (unused): {counts['unused']}" in shown.text
        back = await admin.press(admin_texts.BTN_ADMIN_BACK())
        assert "Admin panel" in back.text
        assert (await admin.forge(panel.message_id, "adm:bogus")).text == t.STALE_BUTTON()
        shown = await admin.press(admin_texts.BTN_ADMIN_CHECK_SESSIONS())
        assert f"Session check</b>: {counts['unused']} checked" in shown.html
        assert f"✅ alive: {counts['unused']}" in shown.text

        reply = await admin.ask("/adddefaultgroups @cats t.me/dogs_club bad!! @cats")
        assert "2 added, 0 already there, 1 not understood" in reply.text
        assert [r[0] for r in await h.rows("SELECT ref FROM default_groups ORDER BY id")] == ["@cats", "@dogs_club"]
        assert "@dogs_club" in (await admin.ask("/defaultgroups")).text


async def test_files_still_waiting_at_shutdown_are_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 60.0)
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await admin.user.send_document("late.session", make_session_bytes(3))
        await h.idle()
        assert admin.unread() == []
    # Shutdown imported the batch and still sent its summary.
    assert len(list((h.settings.paths.sessions_dir / "unused").glob("*.session"))) == 1
    summaries = [m.text for m in h.emu.messages(ADMIN_ID) if m.from_bot and "Upload" in m.text]
    assert summaries and "accepted 1, rejected 0" in summaries[-1]


async def test_long_reports_arrive_in_several_messages(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        ids = [10**9 + i for i in range(120)]
        for user_id in ids:
            await h.grant(user_id)
        await admin.user.say("/customers")
        replies = [await admin.user.wait_reply()]
        while f"{ids[-1]}:" not in replies[-1].text:
            replies.append(await admin.user.wait_reply())
        await no_more_replies(h, admin, wait=0)
        assert len(replies) > 1 and all(len(r.text) <= 4096 for r in replies)
        text = "\n".join(r.text for r in replies)
        assert all(f"{user_id}: plan 1 session" in text for user_id in ids)


async def test_addpair_sent_in_a_group_is_deleted_refused_and_answered_in_private(tmp_path: Path) -> None:
    """Issue 17 point 9: /addpair in a group was ignored (admin commands are private-only) and its hash
    stayed visible to the group. Now the message is deleted, the pair is not added, the admin is told
    in private, and nothing with the hash is said in the group."""
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        sent = await admin.user.say(f"/addpair 12345 {API_HASH}", chat_type="supergroup")
        reply = await admin.user.wait_reply()  # the private chat
        assert "works only in a private chat" in reply.text and "deleted it" in reply.text
        assert API_HASH not in reply.text
        assert h.emu.message(sent.chat_id, sent.message_id).deleted
        assert await h.rows("SELECT api_id FROM api_pairs") == []
        await h.idle()
        in_group = [m for m in admin.user.history(chat_id=sent.chat_id) if m.from_bot]
        assert in_group == []


async def test_dotfiles_in_a_zip_are_named_in_the_upload_summary(tmp_path: Path) -> None:
    """Issue 17 point 9: dotfiles in an archive were skipped without a word."""
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        archive = make_zip(
            {
                "good.session": make_session_bytes(2),
                ".hidden.session": make_session_bytes(3),
                "pack/.DS_Store": b"junk",
                "__MACOSX/._good.session": b"mac metadata",
            }
        )
        summary = await admin.send_file("upload.zip", archive)
        assert "accepted 1, rejected 2" in summary.text
        assert ".hidden.session" in summary.text and ".DS_Store" in summary.text
        assert summary.text.count("hidden file (its name starts with a dot)") == 2
        assert "__MACOSX" not in summary.text
        counts = await session_counts(h)
        assert sum(counts.values()) == 1
