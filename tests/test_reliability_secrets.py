"""Reliability, secrets: no log line anywhere holds the bot token, an API hash, an auth key or a session
string, and every file and folder holding them is the owner's alone.

Logging is set up as ``adbot run`` does (``control_bot.logfiles.setup_logging`` through ``create_app``), then
made as loud as it gets: every logger at DEBUG, third-party ones included. The run then goes through
Bot API failures (5xx, 4xx, 403, 429, a failed polling request, a failed file download whose error names
the token in its URL) and, in a second test, through Telethon failures (a dead key, spam limits, flood
waits, server errors, refused connections) with real session files opened by Telethon itself.

Checked: ``adbot.log``, the per-customer logs and the console (captured stderr) hold no secret in any
form (hex in either case, the raw bytes' repr, base64, the StringSession); and our own log calls never
pass a secret at all (the redacting filter is a second line, not the only one).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import ipaddress
import json
import logging
import os
import secrets
import sqlite3
import stat
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botkit import ADMIN_ID, BOT_USERNAME, START, TEST_PACING, TOKEN, Harness, make_settings
from telethon import errors, functions, types
from telethon.sessions import StringSession

from control_bot.app import create_app
from control_bot.logfiles import flush_logging, preserved_logging, setup_logging
from control_bot.routers import admin_upload
from core.clock import FakeClock
from core.texts import errors as error_texts
from engine.engine import Engine
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from pool import assign, lifecycle
from pool.intake import import_files
from pool.layout import BANNED, LIMITED
from pool.supply import PoolSupply
from sandbox.botuser import BotApiEmulator, RunningBot
from sandbox.sessionfiles import make_session_bytes, make_sidecar, new_auth_key
from sandbox.world import World
from storage import customers
from storage import groups as group_rows
from storage.db import Database, fetchall
from tests.engine_support import fast_config
from tests.fake_sender import FakeSender, RpcFail, channel, channel_message_sent, dialogs_of
from tests.pool_support import add_pair

CUSTOMER = 1001
OUR_LOGGERS = ("control_bot", "engine", "pool", "storage")
THIRD_PARTY = ("aiogram", "aiogram.event", "aiohttp", "telethon", "apscheduler", "aiosqlite", "asyncio")


# --- capturing ------------------------------------------------------------------------------------


class RawRecords(logging.Handler):
    """Installed first on the root logger: what the code logged, before any handler's filter redacted it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))

    def own_messages(self) -> str:
        return "\n".join(msg for name, _, msg in self.records if name.split(".")[0] in OUR_LOGGERS)


@contextlib.contextmanager
def loudest_logging() -> Iterator[RawRecords]:
    """Every logger at DEBUG and a raw record capture first in line; the root logger's handlers and the
    levels are restored afterwards (whoever installed handlers in between)."""
    saved_levels = {name: logging.getLogger(name).level for name in THIRD_PARTY}
    with preserved_logging():
        try:
            yield RawRecords()
        finally:
            for name, level in saved_levels.items():
                logging.getLogger(name).setLevel(level)


def turn_everything_up(raw: RawRecords) -> None:
    """After ``setup_logging``: DEBUG everywhere (it keeps the noisy libraries at WARNING)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.handlers.insert(0, raw)


def log_texts(logs_dir: Path, stderr: str) -> dict[str, str]:
    flush_logging()
    found = {str(p.relative_to(logs_dir)): p.read_text(encoding="utf-8") for p in sorted(logs_dir.rglob("*.log"))}
    found["<stderr>"] = stderr
    return found


# --- the secrets, in every form they could leak in -----------------------------------------------


def session_keys(sessions_dir: Path) -> list[tuple[bytes, str]]:
    """(auth key, StringSession) of every session file under the pool folders."""
    found = []
    for path in sorted(sessions_dir.rglob("*.session")):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            dc_id, address, port, key = conn.execute(
                "SELECT dc_id, server_address, port, auth_key FROM sessions"
            ).fetchone()
        finally:
            conn.close()
        packed = struct.pack(">B4sH256s", dc_id, ipaddress.ip_address(address).packed, port, key)
        found.append((bytes(key), "1" + StringSession.encode(packed)))
    return found


def key_forms(key: bytes, session_string: str) -> list[str]:
    hex_ = key.hex()
    return [
        hex_,
        hex_[:32],
        hex_[-32:],
        repr(key)[2:42],  # the raw bytes as a repr shows them
        base64.b64encode(key).decode()[:40],
        base64.urlsafe_b64encode(key).decode()[:40],
        session_string,
        session_string[:60],
    ]


def leaks(texts: dict[str, str], secrets_: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(where, which secret) for every secret form found; hex forms are matched in any case."""
    found = []
    for where, text in texts.items():
        folded = text.lower()
        for label, forms in secrets_.items():
            for form in forms:
                hexlike = all(c in "0123456789abcdefABCDEF" for c in form)
                if (form.lower() in folded) if hexlike else (form in text):
                    found.append((where, f"{label}: {form[:12]}…"))
    return found


def assert_private_tree(*roots: Path) -> None:
    """Every folder 0700, every file 0600 (an SQLite side file inherits its database's mode)."""
    for root in roots:
        assert stat.S_IMODE(root.stat().st_mode) == 0o700, root
        for path in root.rglob("*"):
            expected = 0o700 if path.is_dir() else 0o600
            assert stat.S_IMODE(path.stat().st_mode) == expected, (path, oct(path.stat().st_mode))


def assert_private_dirs(*roots: Path) -> None:
    """Every folder 0700 (the files in data/ and logs/ are reachable only through them)."""
    for root in roots:
        for path in [root, *root.rglob("*")]:
            if path.is_dir():
                assert stat.S_IMODE(path.stat().st_mode) == 0o700, (path, oct(path.stat().st_mode))


# --- the bot, with every logger at DEBUG ------------------------------------------------------------


@contextlib.asynccontextmanager
async def logged_bot(tmp_path: Path, raw: RawRecords) -> AsyncIterator[Harness]:
    """tests/botkit.bot_harness, but with the app's own logging (``configure_logging=True``: console,
    adbot.log and the per-customer files with the redacting filter), turned up to DEBUG."""
    clock = FakeClock(START, auto=True)
    world = World(clock, lenient=True)
    try:
        async with BotApiEmulator(TOKEN, BOT_USERNAME) as emu:
            settings = make_settings(tmp_path, emu.base_url)
            app = await create_app(
                settings,
                clock=clock,
                factory=world,
                pacing=TEST_PACING,
                configure_logging=True,
                outbox_poll_interval=0.05,
                schedule=False,
            )
            turn_everything_up(raw)
            try:
                async with app.running(polling_timeout=1):
                    assert app.polling_task is not None
                    yield Harness(emu, app, clock, world, RunningBot(app.bot, app.dp, emu, app.polling_task))
            finally:
                await app.close()
    finally:
        await clock.aclose()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


async def test_no_secret_reaches_a_log_through_bot_api_errors_at_debug_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)
    old_umask = os.umask(0)  # the modes below come from the code, not from a friendly umask
    for loose in ("data", "logs", "sessions"):
        (tmp_path / loose).mkdir(mode=0o755)
    pair_hashes = [secrets.token_hex(16), secrets.token_hex(16).upper()]
    sidecar_hashes = [secrets.token_hex(16).upper(), secrets.token_hex(16), secrets.token_hex(16)]
    uploaded = [new_auth_key() for _ in range(3)]
    try:
        with loudest_logging() as raw:
            async with logged_bot(tmp_path, raw) as h:
                admin = h.user(ADMIN_ID, "Admin")
                customer = h.user(CUSTOMER, "Carol")
                for i, api_hash in enumerate(pair_hashes):
                    assert "added" in (await admin.ask(f"/addpair {12345 + i} {api_hash}")).text
                assert "already in the pool" in (await admin.ask(f"/addpair 12345 {pair_hashes[0]}")).text
                sidecars = [json.dumps(make_sidecar(api_id=700 + i, api_hash=x)).encode()
                            for i, x in enumerate(sidecar_hashes)]
                await admin.user.send_document("a.session", make_session_bytes(2, uploaded[0]))
                await admin.user.send_document("a.json", sidecars[0])
                await admin.user.send_document("b.session", make_session_bytes(4, uploaded[1]))
                await admin.user.send_document("b.json", sidecars[1])
                await admin.user.send_document(
                    "c.zip", zipped({"c.session": make_session_bytes(1, uploaded[2]), "c.json": sidecars[2]})
                )
                summary = await admin.user.wait_reply()
                assert "accepted 6, rejected 0" in summary.text, summary.text
                for key in uploaded:
                    h.world.add_account(hashlib.sha256(key).hexdigest())
                await h.fill_pool(1)

                await h.grant(CUSTOMER, sessions=3)
                await customer.ask("/post https://t.me/adschannel/5")
                await customer.ask("/addgroups @cats @dogs @birds")
                assert "started" in (await customer.ask("/run")).text.lower()
                await h.cycle(CUSTOMER)
                await h.deliver()
                await h.idle()

                # The Bot API refuses, in every way it can.
                for status, description in (
                    (500, "Internal Server Error"),
                    (400, "Bad Request: chat not found"),
                    (502, "Bad Gateway"),
                ):
                    h.emu.inject_error("sendMessage", status, description)
                    reply = await customer.ask("/status")
                    assert reply.text.startswith("Sorry, something went wrong"), reply.text
                h.emu.inject_error("sendMessage", 403, "Forbidden: bot was blocked by the user")
                await customer.user.say("/stats")
                h.emu.inject_retry_after("sendMessage", 61)  # longer than the bot waits: it gives up
                await customer.user.say("/stats")
                await h.idle()
                h.emu.inject_retry_after("sendMessage", 1)  # short: waited out and retried
                assert (await customer.ask("/stats")).text not in (error_texts.GENERIC_ERROR(), "")
                h.emu.inject_error("getUpdates", 502, "Bad Gateway")
                assert (await customer.ask("/groups")).text
                h.emu.inject_error("editMessageText", 400, "Bad Request: message can't be edited")
                h.emu.inject_error("answerCallbackQuery", 400, "Bad Request: query is too old")
                await customer.press(customer.last_bot_message().buttons[-1][-1])
                h.emu.inject_error("getFile", 400, "Bad Request: file is too big")
                assert "something went wrong" in (await customer.send_file("groups.txt", b"@fish")).text

                # A download that fails after getFile: aiohttp's error names the URL, token included.
                stored = h.emu.upload_user_file(CUSTOMER, "document", "more.txt", b"@more_groups")
                h.emu._files_by_path.pop(stored.file_path)  # the sandbox has no public way to lose a file
                h.emu.user_sends(CUSTOMER, CUSTOMER, file=stored)
                assert "something went wrong" in (await customer.user.wait_reply()).text
                await h.idle()
                sessions_dir, logs_dir = h.settings.paths.sessions_dir, h.settings.paths.logs_dir
                data_dir = h.settings.paths.data_dir
                keys = session_keys(sessions_dir)
            flush_logging()
            stderr = capsys.readouterr().err
    finally:
        os.umask(old_umask)

    texts = log_texts(logs_dir, stderr)
    assert str(CUSTOMER) + "/" in " ".join(texts), texts.keys()  # a per-customer log was written
    everything = "\n".join(texts.values())
    for sign in (" DEBUG ", "handler failed", "giving up", "Failed to fetch updates"):
        assert sign in everything, sign  # the run really went through the loud and failing paths
    assert len(keys) == 4
    secret_forms: dict[str, list[str]] = {"bot token": [TOKEN, TOKEN.split(":", 1)[1]]}
    for i, api_hash in enumerate(pair_hashes + sidecar_hashes):
        secret_forms[f"api hash {i}"] = [api_hash]
    for i, (key, session_string) in enumerate(keys):
        secret_forms[f"auth key {i}"] = key_forms(key, session_string)
    assert leaks(texts, secret_forms) == []
    own = {"our own log calls": raw.own_messages()}
    assert leaks(own, secret_forms) == []
    assert len(raw.records) > 200
    assert "[redacted]" in everything  # the token in a download URL
    assert_private_tree(sessions_dir)
    assert_private_dirs(data_dir, logs_dir)


# --- Telethon, with real session files and every logger at DEBUG ----------------------------------


def resolved(request: Any) -> Any:
    name = request.username
    channel_id = 1_000_000 + zlib.crc32(name.encode()) % 1_000_000
    return types.contacts.ResolvedPeer(
        peer=types.PeerChannel(channel_id), chats=[channel(channel_id, channel_id * 7, name)], users=[]
    )


GROUPS = [f"@group_{i:02d}" for i in range(12)]


def in_every_group(request: Any) -> Any:
    """getDialogs: the account is in every group of the campaign (the archive folder is empty)."""
    chats = [resolved(functions.contacts.ResolveUsernameRequest(ref[1:])).chats[0] for ref in GROUPS]
    return dialogs_of(chats if not request.folder_id else [])


def forwarded(request: Any) -> Any:
    return channel_message_sent(request.to_peer.channel_id, 77, request.random_id[0])


Behaviour = Callable[[FakeSender], None]


def dead_key(fake: FakeSender) -> None:
    # Every authorised request meets the 401: the first connect reads the app config, not the self user.
    for request in (functions.users.GetUsersRequest, functions.help.GetAppConfigRequest,
                    functions.messages.ForwardMessagesRequest):
        fake.always(request, errors.AuthKeyUnregisteredError)


def spam_limited(fake: FakeSender) -> None:
    fake.always(functions.messages.ForwardMessagesRequest, errors.PeerFloodError)


def flaky(fake: FakeSender) -> None:
    fake.script(
        functions.messages.ForwardMessagesRequest,
        RpcFail(420, "FLOOD_WAIT_30"),
        RpcFail(500, "INTERNAL_SERVER_ERROR"),
        RpcFail(400, "SOMETHING_NEW_AND_UNKNOWN"),
        RpcFail(403, "CHAT_WRITE_FORBIDDEN"),
    )


def unreachable(fake: FakeSender) -> None:
    fake.refuse_connect = ConnectionError("Connection to Telegram failed 3 time(s)")


@pytest.mark.usefixtures("telethon_sleeps")  # Telethon sleeps between its own retries of a 500: not in a test
async def test_no_secret_reaches_a_log_through_telethon_errors_at_debug_level(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions_dir, logs_dir = tmp_path / "sessions", tmp_path / "logs"
    hashes = [secrets.token_hex(16) for _ in range(5)]
    clock = FakeClock(START, auto=True)
    with loudest_logging() as raw:
        setup_logging(logs_dir, level=logging.DEBUG, secrets=[TOKEN])
        turn_everything_up(raw)
        files = []
        for i, api_hash in enumerate(hashes):
            files.append((f"s{i}.session", make_session_bytes(2)))
            files.append((f"s{i}.json", json.dumps(make_sidecar(api_id=900 + i, api_hash=api_hash.upper())).encode()))
        results = await import_files(db, sessions_dir, files, max_bytes=1 << 20, now=START)
        assert all(r.accepted for r in results), results
        ids = sorted({r.session_id for r in results if r.session_id is not None})
        behaviours: dict[int, Behaviour] = dict(zip(ids, (dead_key, spam_limited, flaky, unreachable), strict=False))
        fakes: list[FakeSender] = []

        def builder(creds: Any, client_settings: ClientSettings) -> Any:
            client = build_client(creds, client_settings)  # the real file, opened by Telethon's SQLiteSession
            fake = FakeSender.install(client)
            fake.always(functions.contacts.ResolveUsernameRequest, resolved)
            fake.always(functions.messages.GetDialogsRequest, in_every_group)
            fake.always(functions.messages.ForwardMessagesRequest, forwarded)
            behave = behaviours.get(creds.session_id)
            if behave is not None:
                behave(fake)
            fakes.append(fake)
            return client

        async with db.tx() as conn:
            await customers.grant(conn, CUSTOMER, 4, 30, START, 300)
            await customers.set_post_link(conn, CUSTOMER, "https://t.me/ads/1", "@ads", 1, False, START)
            await group_rows.add_many(conn, CUSTOMER, GROUPS, START)
        await assign.ensure_plan(db, sessions_dir, CUSTOMER, START)
        engine = Engine(db, TelethonFactory(client_builder=builder), PoolSupply(db, sessions_dir), clock,
                        fast_config(send_spacing=0.0), schedule=False, connect_rate=None)
        try:
            await engine.start()
            await engine.start_campaign(CUSTOMER)
            for cycle in range(3):
                clock.set(START + 400 * (cycle + 1))
                await engine.run_cycle(CUSTOMER)
        finally:
            await engine.shutdown()
            await clock.aclose()
        keys = session_keys(sessions_dir)
        async with db.read() as conn:
            states = {r[0]: r[1] for r in await fetchall(conn, "SELECT id, state FROM sessions")}
        flush_logging()
        stderr = capsys.readouterr().err

    assert states[ids[0]] == "dead" and states[ids[1]] == "limited", states
    assert list((sessions_dir / BANNED).glob("*.session")) and list((sessions_dir / LIMITED).glob("*.session"))
    assert sum(len(f.of(functions.messages.ForwardMessagesRequest)) for f in fakes) > 10
    texts = log_texts(logs_dir, stderr)
    everything = "\n".join(texts.values())
    for sign in ("telethon.client", "AuthKeyUnregisteredError", "PeerFloodError", "FloodWaitError", "ConnectionError",
                 "SOMETHING_NEW_AND_UNKNOWN", " DEBUG aiosqlite"):
        assert sign in everything, sign
    secret_forms: dict[str, list[str]] = {f"api hash {i}": [x] for i, x in enumerate(hashes)}
    for i, (key, session_string) in enumerate(keys):
        secret_forms[f"auth key {i}"] = key_forms(key, session_string)
    assert len(keys) == len(hashes)
    assert leaks(texts, secret_forms) == []
    assert leaks({"our own log calls": raw.own_messages()}, secret_forms) == []
    # aiosqlite's debug lines name the function run in its thread, never a statement's parameters
    # (storage.db runs each query as one call): no API hash reaches any record, not even before redaction.
    assert leaks({"every record, unredacted": "\n".join(msg for _, _, msg in raw.records)}, secret_forms) == []
    assert_private_tree(sessions_dir)


# --- file modes through a session's whole life ----------------------------------------------------


async def test_session_files_stay_private_through_import_assignment_death_and_quarantine(
    db: Database, tmp_path: Path
) -> None:
    sessions_dir = tmp_path / "sessions"
    old_umask = os.umask(0)
    try:
        results = await import_files(
            db, sessions_dir, [(f"{i}.session", make_session_bytes(2)) for i in range(4)], max_bytes=1 << 20, now=START
        )
        ids = [r.session_id for r in results if r.session_id is not None]
        assert len(ids) == 4
        assert_private_tree(sessions_dir)
        async with db.tx() as conn:
            await customers.grant(conn, CUSTOMER, 3, 30, START, 300)
        await add_pair(db, 2040)
        owned = await assign.ensure_plan(db, sessions_dir, CUSTOMER, START)
        assert len(list((sessions_dir / "assigned" / str(CUSTOMER)).glob("*.session"))) == 3
        assert_private_tree(sessions_dir)
        await lifecycle.mark_dead(db, sessions_dir, owned[0], "AuthKeyUnregisteredError", START)
        await lifecycle.mark_limited(db, sessions_dir, owned[1], "PeerFloodError", START)
        assert len(list((sessions_dir / BANNED).glob("*.session"))) == 1
        assert len(list((sessions_dir / LIMITED).glob("*.session"))) == 1
        assert_private_tree(sessions_dir)
        assert await lifecycle.release_limited(db, sessions_dir, owned[1], START + 24 * 3600)  # its quarantine over
        await assign.revoke(db, sessions_dir, CUSTOMER, START)
        assert len(list((sessions_dir / "unused").glob("*.session"))) == 3
        assert_private_tree(sessions_dir)
    finally:
        os.umask(old_umask)
