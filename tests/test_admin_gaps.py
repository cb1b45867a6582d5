"""Issue 18's admin-side gaps, over the Bot API emulator in English and Russian: an upload accepted
without a usable API pair says exactly what it lacks; a missing replacement is worded (never its key);
a text says the admin was told only when an admin is configured to be told; an admin's swap is a line of
the customer's own log in their language; /grant and /revoke say "Usage:" once and never show a bound."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from botkit import ADMIN_ID, bot_harness, in_locale

from control_bot.routers import admin_upload
from control_bot.services import admin_reach
from core.customer_log import LogKey
from core.states import EventKind
from core.texts import customer as ct
from core.texts import customer_log as log_texts
from core.texts import events as event_texts
from core.texts import intake as intake_texts
from core.texts import plans as plan_texts
from core.texts.fmt import esc
from pool.assign import assign
from pool.intake import NO_PAIR_ROOM, NO_SIDECAR, NO_SIDECAR_APP
from sandbox.sessionfiles import make_session_bytes
from storage import events

CUSTOMER = 4242
LANGS = ["en", "ru"]
POST = "Fresh kittens for sale"


@pytest.fixture(autouse=True)
def quick_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def line_of(text: str | None, name: str) -> str:
    assert text is not None
    [line] = [line for line in text.splitlines() if name in line]
    return line


@pytest.mark.parametrize("lang", LANGS)
async def test_an_upload_without_a_usable_pair_says_exactly_what_it_lacks(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin", language_code=lang)
        # No API pair at all: a zip with a session and no sidecar, and one whose sidecar has no app.
        archive = make_zip({
            "alone.session": make_session_bytes(2),
            "noapp.session": make_session_bytes(3),
            "noapp.json": json.dumps({"phone": "+15550001"}).encode(),
        })
        summary = await admin.send_file("upload.zip", archive)
        with in_locale(lang):
            no_sidecar = intake_texts.lacks_note((NO_PAIR_ROOM, NO_SIDECAR))
            no_app = intake_texts.lacks_note((NO_PAIR_ROOM, NO_SIDECAR_APP))
            generic = intake_texts.WAITS_FOR_PAIR()
        assert no_sidecar != no_app
        assert line_of(summary.text, "alone.session").endswith(f"({no_sidecar})")
        assert line_of(summary.text, "noapp.session").endswith(f"({no_app})")
        assert summary.text is not None and generic not in summary.text
        if lang == "ru":
            assert "нет app_id и app_hash" in no_app and ".json к ней не пришёл" in no_sidecar

        # A pair that is full, then a plain .session: it waits, and says it came without a sidecar.
        await h.add_pair(capacity=1)
        await h.fill_pool(1)
        await admin.user.send_document("later.session", make_session_bytes(4))
        summary = await admin.user.wait_reply()
        while "later.session" not in (summary.text or ""):  # the PAIR_FULL notice may come first
            summary = await admin.user.wait_reply()
        assert line_of(summary.text, "later.session").endswith(f"({no_sidecar})")


def test_the_cli_names_what_a_waiting_session_lacks() -> None:
    from core.texts import cli

    assert cli.import_accepted("a.session", 1, None, True, (NO_PAIR_ROOM, NO_SIDECAR)).endswith(
        "(waits for an API pair: none has room, and no .json sidecar came with it; add one with 'adbot pairs add'"
        " or import its sidecar)"
    )
    assert "its .json sidecar has no app_id and app_hash" in cli.import_accepted(
        "a.session", 1, None, True, (NO_PAIR_ROOM, NO_SIDECAR_APP)
    )
    assert cli.import_accepted("a.session", 1, None, False, ()) == "accepted  a.session -> session #1"


@pytest.mark.parametrize("lang", LANGS)
async def test_a_missing_replacement_is_worded_for_admins_and_customer(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin", language_code=lang)
        alice = h.user(CUSTOMER, "Alice", language_code=lang)
        await admin.ask("/start")
        await alice.ask("/start")
        await h.grant(CUSTOMER)
        for reason in ("no_sessions", "no_pair"):
            async with h.db.tx() as conn:
                await events.add(conn, CUSTOMER, EventKind.NO_REPLACEMENT, h.clock.now(), session_id=7, reason=reason)
                await events.add(conn, None, EventKind.NO_REPLACEMENT, h.clock.now(), session_id=7,
                                 owner_id=CUSTOMER, reason=reason)
            await h.deliver()
            to_admin = await admin.user.wait_reply()
            to_alice = await alice.user.wait_reply()
            with in_locale(lang):
                told_admin = event_texts.event_text(EventKind.NO_REPLACEMENT, {"session_id": 7, "owner_id": CUSTOMER,
                                                    "reason": reason}, for_admin=True)
                told_alice = event_texts.event_text(EventKind.NO_REPLACEMENT, {"session_id": 7, "reason": reason},
                                                    for_admin=False)
                words = esc(ct_reason(reason))
            assert to_admin.html == told_admin and words in told_admin
            assert to_alice.html == told_alice
            for text in (to_admin.text or "", to_alice.text or ""):
                assert "no_sessions" not in text and "no_pair" not in text
        if lang == "ru":
            assert "ждут API-пару" in (to_admin.text or "") and "/addpair" in (to_admin.text or "")


def ct_reason(reason: str) -> str:
    from core.texts.outcomes import reason_words

    return reason_words(reason)


@pytest.mark.parametrize("lang", LANGS)
async def test_without_admins_nobody_is_said_to_be_told(tmp_path: Path, lang: str) -> None:
    """``[bot] admins`` empty: the pool still writes its admins' events, but no text says they were told."""
    async with bot_harness(tmp_path, admins=()) as h:
        olga = h.user(CUSTOMER, "Olga", language_code=lang)
        await olga.ask("/start")
        await h.grant(CUSTOMER, sessions=2)
        await olga.user.say(f"/post {POST}")
        await olga.user.wait_replies(2)
        await olga.ask("/addgroups @cats_group")

        refused = await olga.ask("/run")
        with in_locale(lang):
            assert refused.html == esc(ct.run_no_sessions(2, 0, admins_told=False))
            told = ct.run_no_sessions(2, 0)
        assert refused.html != esc(told)

        await h.fill_pool(1)
        started = await olga.ask("/run")
        c = await h.customer(CUSTOMER)
        with in_locale(lang):
            now = h.clock.now()
            assert started.html == ct.run_started(1, 1, c.interval_s, now, now, short=1, admins_told=False)
            assert started.html != ct.run_started(1, 1, c.interval_s, now, now, short=1)

        # A session with no replacement: the customer's notification does not say the admin was told.
        # (Stopped first: a running campaign's notice is held for its cycle summary, tested on its own below.)
        await olga.ask("/stop")
        async with h.db.tx() as conn:
            await events.add(conn, CUSTOMER, EventKind.NO_REPLACEMENT, h.clock.now(), session_id=1,
                             reason="no_sessions")
        await h.deliver()
        note = await olga.user.wait_reply()
        with in_locale(lang):
            assert note.html == event_texts.event_text(
                EventKind.NO_REPLACEMENT, {"session_id": 1, "reason": "no_sessions"}, for_admin=False,
                admins_told=False,
            )
            told_note = event_texts.event_text(EventKind.NO_REPLACEMENT, {"session_id": 1}, for_admin=False)
        assert note.html != told_note


@pytest.mark.parametrize("lang", LANGS)
def test_a_folded_missing_replacement_follows_whether_admins_were_told(lang: str) -> None:
    summary = {"cycle_no": 3, "total": 1, "sent": 1, "problems": [{"kind": "no_replacement", "session_id": 2,
                                                                     "reason": "no_pair"}]}
    with in_locale(lang):
        alone = event_texts.event_text(EventKind.NO_REPLACEMENT, {"session_id": 2}, for_admin=False)
        untold = event_texts.event_text(EventKind.NO_REPLACEMENT, {"session_id": 2}, for_admin=False,
                                        admins_told=False)
        assert alone in event_texts.event_text(EventKind.CYCLE_SUMMARY, summary, for_admin=False)
        folded = event_texts.event_text(EventKind.CYCLE_SUMMARY, summary, for_admin=False, admins_told=False)
        assert untold in folded and alone not in folded


@pytest.mark.parametrize("lang", LANGS)
async def test_an_admins_swap_is_a_line_of_the_customers_log_in_their_language(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        alice = h.user(CUSTOMER, "Alice", language_code=lang)
        await alice.ask("/start")
        await h.fill_pool(2)
        await h.grant(CUSTOMER, sessions=1)
        [give] = await assign(h.db, h.settings.paths.sessions_dir, CUSTOMER, 1, h.clock.now())
        [take] = [r["id"] for r in await h.rows("SELECT id FROM sessions WHERE state = 'unused'")]
        await admin_reach.swap_session(h.db, h.app.engine, h.settings.paths.sessions_dir, CUSTOMER, give, take,
                                       h.clock.now())
        logs = await alice.ask("/logs")
        with in_locale(lang):
            line = log_texts.line_text(str(LogKey.SESSION_SWAPPED), {"session": take, "returned": give})
        assert line in (logs.text or "")
        assert "admin swap" not in (logs.text or "")
        if lang == "ru":
            assert "вернулась в пул" in line


@pytest.mark.parametrize("lang", LANGS)
async def test_grant_and_revoke_say_usage_once_and_never_a_bound(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin", language_code=lang)
        with in_locale(lang):
            usage_grant, usage_revoke = plan_texts.USAGE_GRANT(), plan_texts.USAGE_REVOKE()
            huge = plan_texts.not_a_person(str(2**63))
        word = usage_grant.split()[0]  # "Usage:" in the reader's language
        assert usage_revoke.startswith(word)
        for ask, usage in (("/grant 1 2", usage_grant), ("/grant", usage_grant), ("/revoke", usage_revoke),
                           ("/revoke 1 2", usage_revoke)):
            reply = await admin.ask(ask)
            assert reply.text == usage and (reply.text or "").count(word) == 1, ask
        for ask in (f"/grant {2**63} 1 30", f"/revoke {2**63}", f"/grant {2**63}"):
            reply = await admin.ask(ask)
            assert reply.text == huge, ask
            assert str(2**63 - 1) not in (reply.text or "")


@pytest.mark.parametrize("lang", LANGS)
def test_a_typed_user_id_is_refused_without_a_bound(lang: str) -> None:
    from control_bot.services import admin as admin_service
    from core.errors import InputError
    from core.texts import admin as admin_texts

    for raw in (str(2**63), "0", "-5", "abc"):
        with in_locale(lang), pytest.raises(InputError) as caught:
            admin_service.parse_user_id(raw)
        with in_locale(lang):
            assert caught.value.user_message == admin_texts.not_a_user_id(raw)
        assert str(2**63 - 1) not in caught.value.user_message
    assert admin_service.parse_user_id(str(2**63 - 1)) == 2**63 - 1
