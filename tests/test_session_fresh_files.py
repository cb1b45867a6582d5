"""Issue 17 points 1 and 2: intake stores a fresh session file (never the upload's bytes), connection
addresses come from Telegram's published DC table (never from a file), and files an older version
stored as uploaded are rewritten fresh at start-up.

Hostile files here are what an uploader can write: triggers Telethon's own save statements would run
(``SQLiteSession._update_session_table``: ``delete from sessions`` then ``insert or replace``), views,
extra tables, and any server address and port.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botkit import ADMIN_ID, bot_harness
from pool_support import NOW, file_objects, file_row

from control_bot.cli import main
from control_bot.routers import admin_upload
from core import dcs
from core.ports import SessionCredentials
from engine.telethon_adapter import ClientSettings, build_client
from pool.intake import import_files
from pool.layout import UNUSED, ensure_dir
from pool.reconcile import reconcile
from pool.startup import prepare_pool
from sandbox.sessionfiles import make_session_bytes, new_auth_key
from sandbox.sessionforms import pyrogram_file
from storage import sessions as session_rows
from storage.db import Database
from storage.sessionfile import fresh_image, session_image, validate_session
from tests.fake_sender import FakeSender

MAX = 1024 * 1024

# Triggers that fire on what Telethon does at every save of the session row.
RAISING = "create trigger t_block before delete on sessions begin select raise(abort, 'no saving'); end"
REDIRECT = (
    "create trigger t_redirect after insert on sessions begin"
    " update sessions set server_address = '169.254.169.254', port = 80; end"
)
EXTRAS = (RAISING, REDIRECT, "create view v_spy as select auth_key from sessions", "create table loot (a, b)",
          "create index i_loot on loot (a)")


def _hostile(dc_id: int = 2, *, address: str | None = None, port: int = 443, key: bytes | None = None,
             extras: tuple[str, ...] = EXTRAS) -> bytes:
    """A valid Telethon session file an uploader dressed up with ``extras``."""
    conn = sqlite3.connect(":memory:")
    conn.deserialize(make_session_bytes(dc_id, key, server_address=address, port=port))
    for statement in extras:
        conn.execute(statement)
    conn.commit()
    data = conn.serialize()
    conn.close()
    return data


def _telethon_objects(tmp_path: Path) -> list[tuple[str, str]]:
    """The objects of a file Telethon itself creates (its own schema, nothing else)."""
    from telethon.sessions import SQLiteSession

    session = SQLiteSession(str(tmp_path / "telethon-made.session"))
    session.close()
    return file_objects(tmp_path / "telethon-made.session")


async def _stored(db: Database, sdir: Path, session_id: int) -> Path:
    async with db.read() as conn:
        row = await session_rows.get(conn, session_id)
    assert row is not None
    return sdir / row.folder / row.file_name


def _saves_like_telethon(path: Path) -> tuple[int, str, int]:
    """Open the file with Telethon's own session class, point it at a DC and save, as a client does."""
    from telethon.sessions import SQLiteSession

    session = SQLiteSession(str(path))
    try:
        session.set_dc(session.dc_id, session.server_address, session.port)
        session.save()
    finally:
        session.close()
    dc_id, address, port, _key = file_row(path)
    return dc_id, address, port


# --- the DC table ---------------------------------------------------------------------------------------


def test_dc_table_addresses_are_telegrams_own() -> None:
    for dc_id in dcs.DC_IDS:
        for ipv6 in (False, True):
            address = dcs.address_for(dc_id, ipv6=ipv6)
            assert dcs.is_telegram_address(address) and not dcs.is_foreign(address, dcs.PORT)
            assert (":" in address) == ipv6
    assert dcs.DC_IDS == (1, 2, 3, 4, 5)
    for foreign in ("127.0.0.1", "169.254.169.254", "10.0.0.1", "::1", "fe80::1", "8.8.8.8", "2001:b28:f23e::1"):
        assert dcs.is_foreign(foreign, 443), foreign
    assert dcs.is_foreign("149.154.167.51", 6379)  # Telegram's address, a Redis port
    assert not dcs.is_foreign("::ffff:149.154.167.51", 443)  # IPv4-mapped: the same address
    assert not dcs.is_foreign("91.108.56.130", 80) and not dcs.is_foreign("2a0a:f280:203:a:5000::100", 5222)


# --- point 1: intake writes a fresh file ------------------------------------------------------------------


async def test_upload_with_triggers_views_and_tables_is_stored_fresh(
    db: Database, sdir: Path, tmp_path: Path, private_tmp: Path
) -> None:
    key = new_auth_key()
    [result] = await import_files(db, sdir, [("dressed.session", _hostile(4, key=key))], max_bytes=MAX, now=NOW)
    assert result.accepted and result.note is None  # a Telegram address: nothing to tell
    path = await _stored(db, sdir, result.session_id or 0)
    assert file_objects(path) == _telethon_objects(tmp_path)  # no trigger, view, extra table or index
    assert file_row(path) == (4, dcs.address_for(4), 443, key)
    # Telethon saves it as every client does: no trigger aborts it or redirects the address.
    assert _saves_like_telethon(path) == (4, dcs.address_for(4), 443)
    assert list(private_tmp.iterdir()) == []


async def test_stored_file_is_exactly_the_fresh_image(db: Database, sdir: Path) -> None:
    upload = _hostile(3)
    [result] = await import_files(db, sdir, [("a.session", upload)], max_bytes=MAX, now=NOW)
    path = await _stored(db, sdir, result.session_id or 0)
    assert path.read_bytes() == fresh_image(validate_session(upload))
    assert path.read_bytes() != upload


def test_cli_import_of_a_trigger_laden_file_stores_one_without(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upload = tmp_path / "hostile.session"
    upload.write_bytes(_hostile(5, address="127.0.0.1", port=6379))
    assert main(["pool", "import", str(upload), "--config", config]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("accepted  hostile.session -> session #1 (its file named server 127.0.0.1:6379,")
    assert "ignored" in out[0] and out[-1] == "1 accepted, 0 rejected"
    [stored] = (tmp_path / "sessions" / UNUSED).iterdir()
    assert file_objects(stored) == _telethon_objects(tmp_path)
    assert file_row(stored)[:3] == (5, dcs.address_for(5), 443)
    assert _saves_like_telethon(stored) == (5, dcs.address_for(5), 443)
    assert main(["pool", "reconcile", "--config", config]) == 0
    assert "agree" in capsys.readouterr().out  # nothing left to rewrite


def test_validate_session_writes_nothing_anywhere(private_tmp: Path) -> None:
    """No copy of the upload (it holds the auth key) in the temp folder, even for a moment: a SIGKILL
    at that moment would leave it there. Every file opened for writing and every SQLite database
    opened while it runs is recorded (Python's audit events), with the temp folder's contents then."""
    watching: list[bool] = []
    seen: list[tuple[str, Any, list[str]]] = []
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND

    def temp_files() -> list[str]:
        watching.clear()  # listing the folder raises audit events of its own
        try:
            return sorted(p.name for p in private_tmp.rglob("*"))
        finally:
            watching.append(True)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not watching:
            return
        if (
            event == "sqlite3.connect"
            or (event == "open" and isinstance(args[2], int) and args[2] & writing)
            or event in ("os.mkdir", "os.rename", "os.replace", "tempfile.mkdtemp", "tempfile.mkstemp")
        ):
            seen.append((event, str(args[0]), temp_files()))

    sys.addaudithook(hook)  # cannot be removed: it does nothing once ``watching`` is empty again
    key = new_auth_key()
    upload = _hostile(4, address="127.0.0.1", port=6379, key=key)
    watching.append(True)
    try:
        info = validate_session(upload)
    finally:
        watching.clear()
    assert info.dc_id == 4 and info.auth_key == key and info.auth_key_sha == hashlib.sha256(key).hexdigest()
    assert ("sqlite3.connect", ":memory:", []) in seen  # the hook saw validate_session's own database
    assert [event for event in seen if event[:2] != ("sqlite3.connect", ":memory:")] == []
    assert all(files == [] for _event, _target, files in seen)
    assert list(private_tmp.iterdir()) == []
    assert key.hex() not in repr(info) and repr(key) not in repr(info)  # the key stays out of reprs and logs


# --- point 2: addresses from the DC table -----------------------------------------------------------------


FOREIGN = [("127.0.0.1", 6379), ("169.254.169.254", 80), ("10.1.2.3", 443), ("::1", 6379),
           ("149.154.167.51", 22)]


@pytest.mark.parametrize(("address", "port"), FOREIGN, ids=[f"{a}:{p}" for a, p in FOREIGN])
async def test_foreign_address_accepted_with_its_dc_and_a_note(
    db: Database, sdir: Path, address: str, port: int
) -> None:
    [result] = await import_files(
        db, sdir, [("odd.session", _hostile(3, address=address, port=port, extras=()))], max_bytes=MAX, now=NOW
    )
    assert result.accepted, result.reason
    shown = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    assert result.note is not None and shown in result.note and "ignored" in result.note
    path = await _stored(db, sdir, result.session_id or 0)
    assert file_row(path)[:3] == (3, dcs.address_for(3), 443)
    async with db.read() as conn:
        row = await session_rows.get(conn, result.session_id or 0)
    assert row is not None and row.dc_id == 3


def _gramjs(dc_id: int, key: bytes, address: str, port: int) -> bytes:
    """A GramJS string line with any port (0..65535; GramJS's own writer stops at 32767)."""
    text = address.encode()
    raw = struct.pack(">Bh", dc_id, len(text)) + text + struct.pack(">H", port) + key
    return ("1" + base64.b64encode(raw).decode()).encode()


# Every other form that names a server (Kurigram v7 files, GramJS strings; Telethon strings are in
# tests/test_session_forms.py): the same FOREIGN addresses, each accepted with its DC and a note.
FORM_FOREIGN: list[tuple[str, str, int | None, Callable[[int, bytes, str, int | None], tuple[str, bytes]]]] = [
    *[(f"kurigram-v7 {a}:{p}", a, p, lambda dc, key, a, p: ("k.session", pyrogram_file(
        dc, key, version=7, server=(a, p)))) for a, p in FOREIGN],
    ("kurigram-v7-migrated", "169.254.169.254", 80, lambda dc, key, a, p: ("m.session", pyrogram_file(
        dc, key, version=7, migrated=True, server=(a, p)))),
    ("kurigram-v7 no port", "127.0.0.1", None, lambda dc, key, a, p: ("n.session", pyrogram_file(
        dc, key, version=7, server=(a, p)))),
    *[(f"gramjs {a}:{p}", a, p, lambda dc, key, a, p: ("g.txt", _gramjs(dc, key, a, p or 0)))
      for a, p in [*FOREIGN, ("127.0.0.1", 65535), ("10.1.2.3", 40000), ("149.154.167.51", 65535), ("10.1.2.3", 0)]],
]


@pytest.mark.parametrize(("address", "port", "build"), [f[1:] for f in FORM_FOREIGN], ids=[f[0] for f in FORM_FOREIGN])
async def test_foreign_address_of_any_form_is_accepted_with_its_dc_and_a_note(
    db: Database, sdir: Path, address: str, port: int | None,
    build: Callable[[int, bytes, str, int | None], tuple[str, bytes]],
) -> None:
    key = new_auth_key()
    [result] = await import_files(db, sdir, [build(3, key, address, port)], max_bytes=MAX, now=NOW)
    assert result.accepted, result.reason
    if port is None:
        shown = f"server {address}, which"
    else:
        shown = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    assert result.note is not None and shown in result.note and "ignored" in result.note, result.note
    path = await _stored(db, sdir, result.session_id or 0)
    assert file_row(path) == (3, dcs.address_for(3), 443, key)


# A server that is no IP address (a host name, a blob, NULL) or an unusable port: Telethon would dial it,
# we never do, so the session is taken with its DC id and the admin told, without the file's own text.
ODD: list[tuple[str, str, Callable[[int, bytes], tuple[str, bytes]]]] = [
    ("telethon host name", "a server that is not an IP address",
     lambda dc, key: ("h.session", _hostile(dc, key=key, address="evil.example", extras=()))),
    ("telethon blob address", "a server that is not an IP address", lambda dc, key: ("b.session", _hostile(
        dc, key=key, extras=("UPDATE sessions SET server_address = x'7f000001'",)))),
    ("telethon NULL address", "a server that is not an IP address", lambda dc, key: ("n.session", _hostile(
        dc, key=key, extras=("UPDATE sessions SET server_address = NULL",)))),
    ("telethon port 70000", "server 127.0.0.1, which",
     lambda dc, key: ("p.session", _hostile(dc, key=key, address="127.0.0.1", port=70000, extras=()))),
    ("telethon text port", "server 149.154.167.51, which", lambda dc, key: ("t.session", _hostile(
        dc, key=key, address="149.154.167.51", extras=("UPDATE sessions SET port = 'http'",)))),
    ("kurigram-v7 host name", "a server that is not an IP address",
     lambda dc, key: ("k.session", pyrogram_file(dc, key, version=7, server=("evil.example", 443)))),
    ("kurigram-v7 blob address", "a server that is not an IP address", lambda dc, key: ("kb.session", pyrogram_file(
        dc, key, version=7, extra_sql=["UPDATE sessions SET server_address = x'7f000001'"]))),
    ("kurigram-v7 port 0", "server 127.0.0.1, which",
     lambda dc, key: ("k0.session", pyrogram_file(dc, key, version=7, server=("127.0.0.1", 0)))),
    ("kurigram-v7 text port", "which is not Telegram's", lambda dc, key: ("kt.session", pyrogram_file(
        dc, key, version=7, extra_sql=["UPDATE sessions SET port = 'http'"]))),
    ("gramjs host name", "a server that is not an IP address",
     lambda dc, key: ("g.txt", _gramjs(dc, key, "evil.example", 443))),
]


@pytest.mark.parametrize(("shown", "build"), [o[1:] for o in ODD], ids=[o[0] for o in ODD])
async def test_a_server_that_is_no_ip_or_port_is_ignored_with_a_note_in_any_form(
    db: Database, sdir: Path, shown: str, build: Callable[[int, bytes], tuple[str, bytes]]
) -> None:
    key = new_auth_key()
    [result] = await import_files(db, sdir, [build(4, key)], max_bytes=MAX, now=NOW)
    assert result.accepted, result.reason
    assert result.note is not None and shown in result.note and "ignored" in result.note, result.note
    assert "evil" not in result.note and "http" not in result.note  # the file's own text is never shown
    assert file_row(await _stored(db, sdir, result.session_id or 0)) == (4, dcs.address_for(4), 443, key)


async def test_a_test_servers_kurigram_file_with_a_foreign_address_gets_its_note(db: Database, sdir: Path) -> None:
    data = pyrogram_file(2, version=7, test_mode=True, server=("127.0.0.1", 6379))
    [result] = await import_files(db, sdir, [("t.session", data)], max_bytes=MAX, now=NOW, allow_test_servers=True)
    assert result.accepted and result.note is not None and "127.0.0.1:6379" in result.note
    path = await _stored(db, sdir, result.session_id or 0)
    assert file_row(path)[:3] == (2, dcs.address_for(2, test=True), 443)


async def test_the_admins_upload_summary_says_the_address_was_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)  # the batching's quiet time is not under test
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        summary = await admin.send_file("seller.session", _hostile(4, address="169.254.169.254", port=80))
        assert "accepted 1, rejected 0" in summary.text
        assert "its file named server 169.254.169.254:80, which is not Telegram's: ignored" in summary.text
        [stored] = (h.settings.paths.sessions_dir / UNUSED).iterdir()
        assert file_row(stored)[:3] == (4, dcs.address_for(4), 443)
        assert file_objects(stored) == _telethon_objects(tmp_path)


async def test_a_scoped_ipv6_address_is_shown_without_the_files_text(db: Database, sdir: Path) -> None:
    [result] = await import_files(
        db, sdir, [("s.session", _hostile(2, address="fe80::1%evil<b>", extras=()))], max_bytes=MAX, now=NOW
    )
    assert result.accepted and result.note is not None
    assert "[fe80::1]:443" in result.note and "evil" not in result.note


@pytest.mark.parametrize("ipv6", [False, True])
async def test_ipv6_telegram_address_keeps_its_dc(db: Database, sdir: Path, ipv6: bool) -> None:
    upload = make_session_bytes(4, server_address=dcs.address_for(4, ipv6=True))
    [result] = await import_files(db, sdir, [("v6.session", upload)], max_bytes=MAX, now=NOW, ipv6=ipv6)
    assert result.accepted and result.note is None
    path = await _stored(db, sdir, result.session_id or 0)
    assert file_row(path)[:3] == (4, dcs.address_for(4, ipv6=ipv6), 443)  # its DC, in the configured family


def _creds(path: Path) -> SessionCredentials:
    return SessionCredentials(session_id=1, path=path, api_id=1, api_hash="0" * 32, device={})


async def _dial(path: Path, *, ipv6: bool) -> tuple[Any, FakeSender]:
    client = build_client(_creds(path), ClientSettings(ipv6=ipv6))
    fake = FakeSender.install(client)
    await client.connect()
    return client, fake


FILES: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("redis", lambda key: session_image(4, "127.0.0.1", 6379, key)),
    ("metadata", lambda key: session_image(4, "169.254.169.254", 80, key)),
    ("ipv6", lambda key: session_image(4, dcs.address_for(4, ipv6=True), 443, key)),
    ("ipv4-other-dc", lambda key: session_image(4, dcs.address_for(1), 443, key)),
]


@pytest.mark.parametrize("ipv6", [False, True])
@pytest.mark.parametrize(("name", "build"), FILES, ids=[f[0] for f in FILES])
async def test_build_client_connects_to_the_dc_table_address(
    tmp_path: Path, name: str, build: Callable[[bytes], bytes], ipv6: bool
) -> None:
    """Even a file stored by an older version (as uploaded): Telethon dials its DC's published address,
    never the file's, and an address of the other family does not reset it to DC 2."""
    key = new_auth_key()
    path = tmp_path / f"{name}.session"
    path.write_bytes(build(key))
    client, fake = await _dial(path, ipv6=ipv6)
    try:
        want = dcs.address_for(4, ipv6=ipv6)
        assert fake.dialed == [(want, 443, 4)]
        assert (client.session.dc_id, client.session.server_address, client.session.port) == (4, want, 443)
        assert client.session.auth_key.key == key
    finally:
        await client.disconnect()
    assert file_row(path) == (4, want, 443, key)  # corrected in the file too


async def test_build_client_leaves_a_table_address_untouched(tmp_path: Path) -> None:
    path = tmp_path / "ok.session"
    data = session_image(2, dcs.address_for(2), 443, new_auth_key())
    path.write_bytes(data)
    client = build_client(_creds(path), ClientSettings())
    client.session.close()
    assert path.read_bytes() == data


# --- start-up: files an older version stored as uploaded --------------------------------------------------


async def _old_stored(db: Database, sdir: Path, data: bytes, *, test: bool = False) -> tuple[int, Path]:
    """A session stored the way intake did before issue 17: the uploaded bytes as they were (``test``: a
    test-server session's row)."""
    name = f"s{hashlib.sha256(data).hexdigest()[:16]}.session"
    path = ensure_dir(sdir, UNUSED) / name
    path.write_bytes(data)
    path.chmod(0o600)
    async with db.tx() as conn:
        sid = await session_rows.insert(
            conn, file_name=name, auth_key_sha=validate_session(data).auth_key_sha, dc_id=validate_session(data).dc_id,
            folder=UNUSED, now=NOW, test_mode=test,
        )
    return sid, path


async def test_startup_rewrites_an_old_trigger_laden_file(db: Database, sdir: Path, tmp_path: Path) -> None:
    key = new_auth_key()
    dirty, dirty_path = await _old_stored(db, sdir, _hostile(5, address="127.0.0.1", port=6379, key=key))
    clean_data = session_image(2, dcs.address_for(2), 443, new_auth_key())
    _clean, clean_path = await _old_stored(db, sdir, clean_data)
    leftover = dirty_path.with_name(dirty_path.name + ".tmp")  # a rewrite a crash interrupted
    leftover.write_bytes(b"half")

    report = await prepare_pool(db, sdir, max_sessions_per_pair=7)

    assert file_objects(dirty_path) == _telethon_objects(tmp_path)
    assert file_row(dirty_path) == (5, dcs.address_for(5), 443, key)
    assert _saves_like_telethon(dirty_path) == (5, dcs.address_for(5), 443)
    assert oct(dirty_path.stat().st_mode & 0o777) == "0o600"
    assert clean_path.read_bytes() == clean_data  # a file with nothing extra is not touched
    assert not leftover.exists()
    assert report.unknown == [] and not report.clean
    assert report.sanitized.rewritten == [(dirty, ["index", "table", "trigger", "trigger", "view"])]
    lines = report.lines()
    assert f"session #{dirty}: its file carried 1 index(s), 1 table(s), 2 trigger(s), 1 view(s)" in lines[-2]
    assert lines[-1] == f"removed the leftover of an interrupted rewrite: unused/{leftover.name}"
    assert sorted(p.name for p in dirty_path.parent.iterdir()) == sorted([dirty_path.name, clean_path.name])

    again = await reconcile(db, sdir)
    assert again.clean  # rewritten once: the next start finds nothing


async def test_startup_rewrite_uses_the_configured_family(db: Database, sdir: Path) -> None:
    _sid, path = await _old_stored(db, sdir, _hostile(1, extras=(RAISING,)))
    await reconcile(db, sdir, ipv6=True)
    assert file_row(path)[:3] == (1, dcs.address_for(1, ipv6=True), 443)


async def test_startup_reports_a_stored_file_it_cannot_read(db: Database, sdir: Path) -> None:
    sid, path = await _old_stored(db, sdir, _hostile(2))
    path.write_bytes(b"\0" * 4096)  # damaged since
    report = await reconcile(db, sdir)
    assert report.sanitized.unreadable == [sid]
    assert f"session #{sid}: its file could not be read to check it for triggers; left as is" in report.lines()
    assert path.read_bytes() == b"\0" * 4096


async def test_startup_leaves_a_clean_telethon_v7_file_alone(db: Database, sdir: Path) -> None:
    """Telethon's schema 7 (before 1.40) is Telethon's own: a clean v7 file is not rewritten at every start
    (Telethon migrates it itself when the engine opens it); a v7 file with a trigger still is, and only the
    trigger is reported."""
    clean_data = session_image(3, dcs.address_for(3), 443, new_auth_key(), version=7)
    _clean, clean_path = await _old_stored(db, sdir, clean_data)
    key = new_auth_key()
    dirty_data = session_image(2, dcs.address_for(2), 443, key, version=7)
    conn = sqlite3.connect(":memory:")
    conn.deserialize(dirty_data)
    conn.execute(RAISING)
    conn.commit()
    dirty_data = conn.serialize()
    conn.close()
    dirty, dirty_path = await _old_stored(db, sdir, dirty_data)
    report = await reconcile(db, sdir)
    assert clean_path.read_bytes() == clean_data
    assert report.sanitized.rewritten == [(dirty, ["trigger"])]
    assert file_row(dirty_path) == (2, dcs.address_for(2), 443, key)
    assert (await reconcile(db, sdir)).clean


@pytest.mark.parametrize("ipv6", [False, True])
async def test_startup_rewrite_of_a_test_servers_session_keeps_it_on_the_test_dcs(
    db: Database, sdir: Path, ipv6: bool
) -> None:
    key = new_auth_key()
    sid, path = await _old_stored(
        db, sdir, _hostile(2, address=dcs.TEST_IPV4[2], key=key, extras=(RAISING,)), test=True
    )
    report = await reconcile(db, sdir, ipv6=ipv6)
    assert report.sanitized.rewritten == [(sid, ["trigger"])]
    assert file_row(path) == (2, dcs.address_for(2, ipv6=ipv6, test=True), 443, key)  # never a production DC


async def test_startup_rewrite_of_a_test_session_on_a_dc_the_test_servers_lack_leaves_it(
    db: Database, sdir: Path
) -> None:
    data = _hostile(5, extras=(RAISING,))
    sid, path = await _old_stored(db, sdir, data, test=True)
    report = await reconcile(db, sdir)
    assert report.sanitized.unreadable == [sid] and report.sanitized.rewritten == []
    assert path.read_bytes() == data


@pytest.mark.parametrize("target_exists", [True, False], ids=["to-a-file", "dangling"])
async def test_startup_rewrite_never_follows_a_symlink_planted_at_its_tmp(
    db: Database, sdir: Path, tmp_path: Path, target_exists: bool
) -> None:
    key = new_auth_key()
    sid, path = await _old_stored(db, sdir, _hostile(4, key=key, extras=(RAISING,)))
    victim = tmp_path / "victim.db"
    if target_exists:
        victim.write_bytes(b"precious")
    tmp = path.with_name(path.name + ".tmp")
    tmp.symlink_to(victim)
    report = await reconcile(db, sdir)
    assert report.sanitized.rewritten == [(sid, ["trigger"])]
    if target_exists:
        assert victim.read_bytes() == b"precious"
    else:
        assert not victim.exists()
    assert not path.is_symlink() and file_row(path) == (4, dcs.address_for(4), 443, key)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not tmp.exists() and not tmp.is_symlink()
