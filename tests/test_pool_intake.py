"""Session intake: generated Telethon session files, sidecars and archives; hostile uploads refused."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pool_support import NOW, files_on_disk

from pool.intake import IntakeResult, import_files
from sandbox.sessionfiles import TELETHON_SESSION_VERSION, make_session_bytes, make_session_file, make_sidecar
from storage import sessions as session_rows
from storage.db import Database
from storage.sessionfile import validate_session

MAX = 1024 * 1024
# Intake's temporary copies go to the test's own folder (conftest), so a test can see that none is left behind.
pytestmark = pytest.mark.usefixtures("private_tmp")


def _db_bytes(build: Callable[[sqlite3.Connection], None]) -> bytes:
    conn = sqlite3.connect(":memory:")
    build(conn)
    conn.commit()
    data = conn.serialize()
    conn.close()
    return data


def _telethon_tables(conn: sqlite3.Connection, *, sessions: bool = True) -> None:
    conn.execute("create table version (version integer primary key)")
    conn.execute("insert into version values (8)")
    conn.execute("create table entities (id integer primary key, hash integer not null, username text,"
                 " phone integer, name text, date integer)")
    conn.execute("create table sent_files (md5_digest blob, file_size integer, type integer, id integer,"
                 " hash integer, primary key(md5_digest, file_size, type))")
    conn.execute("create table update_state (id integer primary key, pts integer, qts integer, date integer,"
                 " seq integer)")
    if sessions:
        conn.execute("create table sessions (dc_id integer primary key, server_address text, port integer,"
                     " auth_key blob, takeout_id integer, tmp_auth_key blob)")


def _session_with(dc: object = 2, address: object = "149.154.167.51", port: object = 443,
                  key: object = b"k" * 256, rows: int = 1) -> bytes:
    def build(conn: sqlite3.Connection) -> None:
        _telethon_tables(conn)
        for i in range(rows):
            conn.execute("insert into sessions values (?, ?, ?, ?, NULL, x'')", (dc if i == 0 else 3, address, port,
                                                                                key))
    return _db_bytes(build)


def _view_instead_of_table() -> bytes:
    def build(conn: sqlite3.Connection) -> None:
        _telethon_tables(conn, sessions=False)
        conn.execute("create table real_data (a, b, c, d, e, f)")
        conn.execute("insert into real_data values (2, '149.154.167.51', 443, ?, NULL, x'')", (b"k" * 256,))
        conn.execute("create view sessions (dc_id, server_address, port, auth_key, takeout_id, tmp_auth_key)"
                     " as select * from real_data")
    return _db_bytes(build)


def _virtual_sessions() -> bytes:
    def build(conn: sqlite3.Connection) -> None:
        _telethon_tables(conn, sessions=False)
        conn.execute("create virtual table sessions using fts5(dc_id, server_address, port, auth_key, takeout_id,"
                     " tmp_auth_key)")
    return _db_bytes(build)


def _bad_utf8(marker: bytes, build: Callable[[sqlite3.Connection], None]) -> bytes:
    data = bytearray(_db_bytes(build))
    while (at := data.find(marker)) >= 0:
        data[at : at + len(marker)] = b"\xff" * len(marker)
    return bytes(data)


def _bad_utf8_table_name() -> bytes:
    def build(conn: sqlite3.Connection) -> None:
        _telethon_tables(conn)
        conn.execute("create table zzzzzzzz (a)")
        conn.execute("insert into sessions values (2, '149.154.167.51', 443, ?, NULL, x'')", (b"k" * 256,))
    return _bad_utf8(b"zzzzzzzz", build)


def _bad_utf8_address() -> bytes:
    def build(conn: sqlite3.Connection) -> None:
        _telethon_tables(conn)
        conn.execute("insert into sessions values (2, '149.154.167.51', 443, ?, NULL, x'')", (b"k" * 256,))
    return _bad_utf8(b"149.154", build)


def _no_sessions_table() -> bytes:
    return _db_bytes(lambda conn: _telethon_tables(conn, sessions=False))


def _pyrogram() -> bytes:
    def build(conn: sqlite3.Connection) -> None:
        conn.execute("create table sessions (dc_id integer primary key, api_id integer, test_mode integer,"
                     " auth_key blob, date integer, user_id integer, is_bot integer)")
        conn.execute("create table version (number integer primary key)")
    return _db_bytes(build)


def _zip(entries: list[tuple[str, bytes]], *, mode: int | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _lying_zip() -> bytes:
    """A 3 MB member whose headers claim 100 bytes."""
    data = bytearray(_zip([("big.session", b"\0" * 3_000_000)]))
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(sig)
        data[at + offset : at + offset + 4] = struct.pack("<I", 100)
    return bytes(data)


async def _rows(db: Database) -> list[session_rows.SessionRow]:
    async with db.read() as conn:
        return await session_rows.list_all(conn)


async def _assert_no_trace(db: Database, sdir: Path, tmp: Path) -> None:
    assert await _rows(db) == []
    assert files_on_disk(sdir) == [] if sdir.exists() else True
    assert list(tmp.iterdir()) == []


async def test_generated_file_is_what_telethon_reads(tmp_path: Path) -> None:
    from telethon.sessions import SQLiteSession
    from telethon.sessions.sqlite import CURRENT_VERSION

    assert TELETHON_SESSION_VERSION == CURRENT_VERSION
    for version in (7, 8):
        path = tmp_path / f"v{version}.session"
        key = make_session_file(path, dc_id=4, version=version)
        session = SQLiteSession(str(path))  # migrates v7 in place: fine, it is our own copy
        try:
            assert session.dc_id == 4 and session.port == 443
            assert session.auth_key is not None and session.auth_key.key == key
        finally:
            session.close()
        assert validate_session(path.read_bytes()).dc_id == 4


async def test_single_session_accepted(db: Database, sdir: Path, private_tmp: Path) -> None:
    [result] = await import_files(db, sdir, [("+15550001.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    assert result.accepted and result.session_id is not None and result.reason is None
    [row] = await _rows(db)
    assert row.id == result.session_id and row.state == "unused" and row.folder == "unused"
    assert row.own_api_id is None and row.source_name == "+15550001" and row.dc_id == 2
    assert row.file_name.startswith("s") and "+1555" not in row.file_name  # never the upload's name
    path = sdir / "unused" / row.file_name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((sdir / "unused").stat().st_mode) == 0o700
    assert stat.S_IMODE(sdir.stat().st_mode) == 0o700
    assert list(private_tmp.iterdir()) == []


async def test_umask_does_not_widen_modes(db: Database, sdir: Path) -> None:
    import os

    old = os.umask(0)
    try:
        await import_files(db, sdir, [("a.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    finally:
        os.umask(old)
    for path in [sdir, *sdir.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


async def test_session_with_sidecar_keeps_its_app(db: Database, sdir: Path) -> None:
    sidecar = make_sidecar(api_id=2040, api_hash="b18441a1ff607e10a989891a5462e627", phone="15550002")
    results = await import_files(
        db, sdir,
        [("15550002.session", make_session_bytes(version=7)), ("15550002.json", json.dumps(sidecar).encode())],
        max_bytes=MAX, now=NOW,
    )
    assert [r.accepted for r in results] == [True, True]
    assert results[0].session_id == results[1].session_id
    [row] = await _rows(db)
    assert row.own_api_id == 2040 and row.own_api_hash == "b18441a1ff607e10a989891a5462e627"
    assert row.phone == "15550002"
    assert row.device == {
        "device_model": "DESKTOP-4F2K9QX", "system_version": "Windows 10", "app_version": "4.16.8 x64",
        "lang_code": "en", "system_lang_code": "en-US", "lang_pack": "tdesktop",
    }
    assert "b18441" not in repr(row)


async def test_sidecar_key_variants(db: Database, sdir: Path) -> None:
    sidecar = {"api_id": "777", "apiHash": "A" * 32, "device_model": "Pixel 7", "system_version": "SDK 33",
               "appVersion": "10.0", "lang_code": "de", "system_lang_code": "de-DE", "phone_number": "+49 1512 345"}
    results = await import_files(
        db, sdir, [("x.session.json", json.dumps(sidecar).encode()), ("x.session", make_session_bytes())],
        max_bytes=MAX, now=NOW,
    )
    assert all(r.accepted for r in results), results
    [row] = await _rows(db)
    assert row.own_api_id == 777 and row.own_api_hash == "a" * 32 and row.phone == "+491512345"
    assert row.device["device_model"] == "Pixel 7" and row.device["lang_code"] == "de"


async def test_zip_with_sessions_and_sidecars(db: Database, sdir: Path, private_tmp: Path) -> None:
    archive = _zip([
        ("pack/", b""),
        ("pack/a.session", make_session_bytes()),
        ("pack/a.json", json.dumps(make_sidecar(api_id=1)).encode()),
        ("pack/b.session", make_session_bytes(dc_id=4)),
        ("__MACOSX/pack/._a.session", b"junk"),
    ])
    results = await import_files(db, sdir, [("batch.zip", archive)], max_bytes=MAX, now=NOW)
    assert [(r.filename, r.accepted) for r in results] == [
        ("batch.zip/pack/a.session", True), ("batch.zip/pack/a.json", True), ("batch.zip/pack/b.session", True)
    ]
    rows = await _rows(db)
    assert sorted((r.source_name, r.own_api_id) for r in rows) == [("a", 1), ("b", None)]
    assert len(files_on_disk(sdir)) == 2 and list(private_tmp.iterdir()) == []


async def test_wal_mode_file_accepted(db: Database, sdir: Path, tmp_path: Path) -> None:
    path = tmp_path / "wal.session"
    path.write_bytes(make_session_bytes())
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    data = path.read_bytes()
    assert data[18] == 2
    [result] = await import_files(db, sdir, [("wal.session", data)], max_bytes=MAX, now=NOW)
    assert result.accepted, result


def _valid() -> bytes:
    return make_session_bytes()


HOSTILE: list[tuple[str, Callable[[], bytes], str]] = [
    ("not-sqlite.session", lambda: b"hello, this is not a database\n" * 50, "not an SQLite database"),
    ("truncated.session", lambda: _valid()[: 2 * 4096], "truncated: the header says"),
    ("cut.session", lambda: _valid()[:5000], "not a multiple of its 4096-byte page size"),
    ("header-only.session", lambda: _valid()[:60], "ends inside the SQLite header"),
    ("tables.session", _no_sessions_table, "there is no sessions table"),
    ("view.session", _view_instead_of_table, "the sessions table is a view, not a real table"),
    ("virtual.session", _virtual_sessions, "the sessions table is a virtual table, not a real table"),
    ("utf8name.session", _bad_utf8_table_name, "corrupt or unreadable SQLite database"),
    ("utf8addr.session", _bad_utf8_address, "corrupt or unreadable SQLite database"),
    ("nokey.session", lambda: _session_with(key=b""), "no auth key"),
    ("nullkey.session", lambda: _session_with(key=None), "no auth key"),
    ("shortkey.session", lambda: _session_with(key=b"k" * 255), "the auth key is 255 bytes, expected 256"),
    ("textkey.session", lambda: _session_with(key="k" * 256), "the auth key is not binary data"),
    ("two.session", lambda: _session_with(rows=2), "has 2 rows, expected exactly 1"),
    ("dc9.session", lambda: _session_with(dc=9), "data centre id is not 1..5"),
    ("pyro.session", _pyrogram, "a Pyrogram session"),
    ("garbage.session", lambda: _valid()[:100] + b"\xff" * (len(_valid()) - 100), "corrupt"),
    ("traversal.zip", lambda: _zip([("../evil.session", _valid())]), "points outside the archive"),
    ("absolute.zip", lambda: _zip([("/etc/evil.session", _valid())]), "has an absolute path"),
    ("link.zip", lambda: _zip([("a.session", b"/etc/passwd")], mode=stat.S_IFLNK | 0o777), "is a symbolic link"),
    ("nested.zip", lambda: _zip([("inner.zip", _zip([("a.session", _valid())]))]), "itself an archive"),
    ("disguised.zip", lambda: _zip([("inner.session", _zip([("a.session", _valid())]))]), "another archive"),
    ("bomb.zip", lambda: _zip([(f"{i}.session", b"\0" * 30_000_000) for i in range(2)]), "more than 50 MB"),
    ("liar.zip", _lying_zip, "not a valid zip archive"),
    ("many.zip", lambda: _zip([(f"{i}.json", b"{}") for i in range(201)]), "201 entries; at most 200"),
    ("broken.zip", lambda: b"PK\x03\x04 not really", "not a valid zip archive"),
    ("notes.txt", lambda: b"hello", "unsupported file type"),
]


@pytest.mark.parametrize(("name", "build", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_upload_rejected_without_trace(
    db: Database, sdir: Path, private_tmp: Path, name: str, build: Callable[[], bytes], reason: str
) -> None:
    results = await import_files(db, sdir, [(name, build())], max_bytes=64 * 1024 * 1024, now=NOW)
    assert len(results) == 1
    [result] = results
    assert result.filename == name and not result.accepted and result.session_id is None
    assert result.reason is not None and reason in result.reason, result.reason
    await _assert_no_trace(db, sdir, private_tmp)


async def test_encrypted_zip_member_rejected(db: Database, sdir: Path, private_tmp: Path) -> None:
    data = bytearray(_zip([("a.session", _valid())]))
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit
        at = data.find(sig)
        data[at + offset] |= 0x1
    [result] = await import_files(db, sdir, [("enc.zip", bytes(data))], max_bytes=MAX, now=NOW)
    assert not result.accepted and "is encrypted" in (result.reason or "")
    await _assert_no_trace(db, sdir, private_tmp)


async def test_oversized_file_rejected(db: Database, sdir: Path, private_tmp: Path) -> None:
    data = _valid()
    [result] = await import_files(db, sdir, [("big.session", data)], max_bytes=len(data) - 1, now=NOW)
    assert not result.accepted and f"too large ({len(data)} bytes" in (result.reason or "")
    await _assert_no_trace(db, sdir, private_tmp)


async def test_duplicate_session_refused(db: Database, sdir: Path, private_tmp: Path) -> None:
    data = _valid()
    results = await import_files(db, sdir, [("a.session", data), ("copy.session", data)], max_bytes=MAX, now=NOW)
    assert [r.accepted for r in results] == [True, False]
    assert f"already in the pool as #{results[0].session_id}" in (results[1].reason or "")
    [again] = await import_files(db, sdir, [("again.session", data)], max_bytes=MAX, now=NOW)
    assert not again.accepted and "duplicate" in (again.reason or "")
    assert len(await _rows(db)) == 1 and len(files_on_disk(sdir)) == 1
    assert list(private_tmp.iterdir()) == []


async def test_bad_sidecar_rejects_its_session_too(db: Database, sdir: Path, private_tmp: Path) -> None:
    for sidecar, reason in [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"app_id": 5}).encode(), "only one of app_id and app_hash"),
        (json.dumps({"app_id": -5, "app_hash": "a" * 32}).encode(), "app_id must be a positive integer"),
        (json.dumps({"app_id": 5, "app_hash": "xyz"}).encode(), "app_hash must be 32 hexadecimal"),
    ]:
        results = await import_files(
            db, sdir, [("s.session", _valid()), ("s.json", sidecar)], max_bytes=MAX, now=NOW
        )
        assert results == [
            IntakeResult("s.session", False, None, f"its sidecar s.json was rejected: {results[1].reason}"),
            IntakeResult("s.json", False, None, results[1].reason),
        ]
        assert reason in (results[1].reason or "")
        await _assert_no_trace(db, sdir, private_tmp)


async def test_rejected_session_rejects_its_sidecar(db: Database, sdir: Path) -> None:
    results = await import_files(
        db, sdir, [("s.session", b"junk"), ("s.json", json.dumps(make_sidecar()).encode())], max_bytes=MAX, now=NOW
    )
    assert [r.accepted for r in results] == [False, False]
    assert results[1].reason == "its session s.session was rejected"


async def test_sidecar_sent_later_attaches_to_its_session(db: Database, sdir: Path) -> None:
    [first] = await import_files(db, sdir, [("+1999.session", _valid())], max_bytes=MAX, now=NOW)
    sidecar = json.dumps(make_sidecar(api_id=42, phone="1999")).encode()
    [late] = await import_files(db, sdir, [("+1999.json", sidecar)], max_bytes=MAX, now=NOW)
    assert late.accepted and late.session_id == first.session_id
    [row] = await _rows(db)
    assert row.own_api_id == 42 and row.device["device_model"] == "DESKTOP-4F2K9QX"
    [orphan] = await import_files(db, sdir, [("nobody.json", sidecar)], max_bytes=MAX, now=NOW)
    assert not orphan.accepted and "no session named nobody.session" in (orphan.reason or "")


async def test_display_names_are_sanitised(db: Database, sdir: Path) -> None:
    [result] = await import_files(db, sdir, [("evil\u202e\n.txt", b"x")], max_bytes=MAX, now=NOW)
    assert result.filename == "evil??.txt" and not result.accepted


async def test_temp_copies_removed_even_on_success(db: Database, sdir: Path, private_tmp: Path) -> None:
    await import_files(db, sdir, [(f"{i}.session", _valid()) for i in range(3)], max_bytes=MAX, now=NOW)
    assert list(private_tmp.iterdir()) == []
    shutil.rmtree(private_tmp)  # nothing else needs it
