"""Issue 21: one intake for every form, by the pool's intake, the CLI (``adbot pool import``) and the bot
(Bot API emulator). For each form the pool holds a Telethon file written by adbot (Telethon's schema
only, the DC table's address) with the same auth key and DC, and the account connects in the contract
fake (``FakeSender``: Telethon's own client, no socket); duplicates are reported once whatever the form;
each hostile input is refused with its reason and changes nothing; test-server sessions only with
``[pool] allow_test_servers``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botkit import ADMIN_ID, bot_harness
from pool_support import NOW, add_pair, file_objects, file_row, files_on_disk, telethon_objects

from control_bot.cli import main
from control_bot.routers import admin_upload
from core import dcs
from core.official_apps import OFFICIAL_APPS
from core.ports import SessionCredentials
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from pool import lifecycle
from pool.intake import IntakeResult, import_files
from sandbox.sessionfiles import make_sidecar, new_auth_key
from sandbox.sessionforms import gramjs_string, pyrogram_file, pyrogram_string, telethon_string
from storage import sessions as session_rows
from storage.db import Database
from storage.sessionfile import session_image
from tests.fake_sender import FakeSender

MAX = 1024 * 1024
HASH = "0123456789abcdef0123456789abcdef"

FORMS: dict[str, Callable[[int, bytes], tuple[str, bytes]]] = {
    "telethon-string": lambda dc, key: ("t.txt", telethon_string(dc, key).encode()),
    "telethon-string-ipv6": lambda dc, key: ("t6.txt", telethon_string(dc, key, address=dcs.IPV6[dc]).encode()),
    "pyrogram-string-351": lambda dc, key: ("p1.txt", pyrogram_string(dc, key, length=351).encode()),
    "pyrogram-string-356": lambda dc, key: ("p2.txt", pyrogram_string(dc, key, length=356).encode()),
    "pyrogram-string-362": lambda dc, key: ("p3.txt", pyrogram_string(dc, key, api_id=2040).encode()),
    "gramjs-string": lambda dc, key: ("g.txt", gramjs_string(dc, key).encode()),
    "pyrogram-v1": lambda dc, key: ("v1.session", pyrogram_file(dc, key, version=1)),
    "pyrogram-v3": lambda dc, key: ("v3.session", pyrogram_file(dc, key, version=3, api_id=2040)),
    "kurigram-v7": lambda dc, key: ("v7.session", pyrogram_file(dc, key, version=7, api_id=2040)),
    "kurigram-v7-migrated": lambda dc, key: ("m7.session", pyrogram_file(dc, key, version=7, migrated=True)),
    "strings-named-session": lambda dc, key: ("odd.session", telethon_string(dc, key).encode()),
    "pyrogram-named-txt": lambda dc, key: ("odd.txt", pyrogram_file(dc, key, version=2)),
}


async def _stored(db: Database, sdir: Path, session_id: int) -> tuple[session_rows.SessionRow, Path]:
    async with db.read() as conn:
        row = await session_rows.get(conn, session_id)
    assert row is not None
    return row, sdir / row.folder / row.file_name


async def _connect(db: Database, sdir: Path, session_id: int, *, ipv6: bool = False) -> tuple[SessionCredentials, Any]:
    """Open the stored session as the engine does (its credentials from the pool, Telethon's client with
    the contract fake for a sender); returns its credentials and what went out."""
    creds = await lifecycle.credentials(db, sdir, session_id)
    fakes: list[FakeSender] = []

    def build(credentials: SessionCredentials, settings: ClientSettings) -> object:
        client = build_client(credentials, settings)
        fakes.append(FakeSender.install(client))
        return client

    account = TelethonFactory(client_builder=build, settings=ClientSettings(ipv6=ipv6)).open(creds)
    await account.connect()
    await account.close()
    return creds, fakes[0]


# --- every form in, a Telethon file out, and it connects -------------------------------------------------


@pytest.mark.parametrize("form", list(FORMS))
async def test_each_form_is_stored_fresh_and_connects(db: Database, sdir: Path, tmp_path: Path, form: str) -> None:
    await add_pair(db, 1001)
    key = new_auth_key()
    name, data = FORMS[form](4, key)
    [result] = await import_files(db, sdir, [(name, data)], max_bytes=MAX, now=NOW)
    assert result.accepted, result.reason
    row, path = await _stored(db, sdir, result.session_id or 0)
    # written by adbot: no trigger, no Pyrogram table
    assert file_objects(path) == telethon_objects(tmp_path / "ours.session")
    assert file_row(path) == (4, dcs.address_for(4), 443, key)
    assert row.dc_id == 4 and not row.test_mode and path.stat().st_mode & 0o777 == 0o600
    creds, fake = await _connect(db, sdir, row.id)
    assert fake.dialed[0] == (dcs.address_for(4), 443, 4)
    assert fake.auth_key.key == key
    app = 2040 if form in ("pyrogram-string-362", "pyrogram-v3", "kurigram-v7") else 1001
    assert fake.sent[0].query.query.api_id == creds.api_id == app


async def test_a_text_file_of_strings_answers_each_line(db: Database, sdir: Path) -> None:
    keys = [new_auth_key() for _ in range(3)]
    text = "\n".join([
        "# three accounts", telethon_string(1, keys[0]), "", pyrogram_string(2, keys[1], length=356),
        "not a session", gramjs_string(3, keys[2]), pyrogram_string(2, bytes(256)),
    ])
    results = await import_files(db, sdir, [("keys.txt", text.encode())], max_bytes=MAX, now=NOW)
    assert [(r.filename, r.accepted) for r in results] == [
        ("keys.txt line 2", True), ("keys.txt line 4", True), ("keys.txt line 5", False),
        ("keys.txt line 6", True), ("keys.txt line 7", False),
    ]
    assert results[2].reason is not None and "not a session string" in results[2].reason
    assert results[4].reason is not None and "all zeros" in results[4].reason
    for result, dc_id, key in zip([results[0], results[1], results[3]], (1, 2, 3), keys, strict=True):
        row, path = await _stored(db, sdir, result.session_id or 0)
        assert file_row(path) == (dc_id, dcs.address_for(dc_id), 443, key) and row.source_name == "keys"


async def test_duplicates_across_forms_are_reported_once_each(db: Database, sdir: Path) -> None:
    key = new_auth_key()
    batch = [
        ("a.session", pyrogram_file(2, key, version=3)),
        ("b.txt", telethon_string(2, key).encode()),
        ("c.txt", f"{pyrogram_string(2, key)}\n{gramjs_string(2, key)}".encode()),
    ]
    results = await import_files(db, sdir, batch, max_bytes=MAX, now=NOW)
    assert [r.accepted for r in results] == [True, False, False, False]
    first = results[0].session_id
    assert [r.reason for r in results[1:]] == [f"duplicate: this session is already in the pool as #{first}"] * 3
    [again] = await import_files(db, sdir, [("tdesk.txt", telethon_string(2, key).encode())], max_bytes=MAX, now=NOW)
    assert again.reason == f"duplicate: this session is already in the pool as #{first}"
    async with db.read() as conn:
        assert len(await session_rows.list_all(conn)) == 1


# --- identity: the app a file names ---------------------------------------------------------------------


async def test_an_official_app_id_keeps_its_app_and_language_pack(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001)
    [result] = await import_files(db, sdir, [("a.session", pyrogram_file(2, version=3, api_id=6))], max_bytes=MAX,
                                  now=NOW)
    assert result.accepted and result.note == "connects as Telegram for Android (app id 6), the app its file names"
    row, _path = await _stored(db, sdir, result.session_id or 0)
    assert (row.own_api_id, row.own_api_hash, row.pair_id) == (6, OFFICIAL_APPS[6].api_hash, None)
    _creds, fake = await _connect(db, sdir, row.id)
    init = fake.sent[0].query.query
    assert (init.api_id, init.lang_pack) == (6, "android")


async def test_an_unknown_app_id_without_its_hash_takes_a_pool_pair(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001)
    [result] = await import_files(db, sdir, [("x.txt", pyrogram_string(2, api_id=123456).encode())], max_bytes=MAX,
                                  now=NOW)
    assert result.accepted and result.note is not None
    assert "its file's app id 123456 was not usable without its app hash" in result.note
    row, _path = await _stored(db, sdir, result.session_id or 0)
    assert row.own_api_id is None and row.pair_id is not None


async def test_a_sidecar_wins_and_pairs_with_a_one_string_text(db: Database, sdir: Path) -> None:
    sidecar = make_sidecar(api_id=777, api_hash=HASH, lang_pack="android")
    results = await import_files(db, sdir, [
        ("+1555.txt", pyrogram_string(2, api_id=2040).encode()),
        ("+1555.json", json.dumps(sidecar).encode()),
    ], max_bytes=MAX, now=NOW)
    assert [r.accepted for r in results] == [True, True] and results[0].note is None
    row, _path = await _stored(db, sdir, results[0].session_id or 0)
    assert (row.own_api_id, row.own_api_hash, row.device.get("lang_pack")) == (777, HASH, "android")


async def test_a_sidecar_beside_several_strings_is_ambiguous(db: Database, sdir: Path) -> None:
    text = f"{telethon_string(2)}\n{telethon_string(3)}".encode()
    sidecar = json.dumps(make_sidecar()).encode()
    results = await import_files(db, sdir, [("lot.txt", text), ("lot.json", sidecar)], max_bytes=MAX, now=NOW)
    assert [r.accepted for r in results] == [False, False, False]
    assert all(r.reason is not None and "holds 2 session strings" in r.reason for r in results)
    async with db.read() as conn:
        assert await session_rows.list_all(conn) == []


# --- test servers -----------------------------------------------------------------------------------------

TEST_FORMS: dict[str, Callable[[bytes], tuple[str, bytes]]] = {
    "telethon-string": lambda key: ("t.txt", telethon_string(2, key, address=dcs.TEST_IPV4[2]).encode()),
    "gramjs-string": lambda key: ("g.txt", gramjs_string(2, key, address=dcs.TEST_IPV4[2], port=80).encode()),
    "pyrogram-string": lambda key: ("p.txt", pyrogram_string(2, key, test_mode=True).encode()),
    "pyrogram-file": lambda key: ("p.session", pyrogram_file(2, key, test_mode=True)),
    "telethon-file": lambda key: ("t.session", session_image(2, dcs.TEST_IPV4[2], 443, key)),
}


@pytest.mark.parametrize("form", list(TEST_FORMS))
async def test_test_server_sessions_are_refused_by_default(db: Database, sdir: Path, form: str) -> None:
    [result] = await import_files(db, sdir, [TEST_FORMS[form](new_auth_key())], max_bytes=MAX, now=NOW)
    assert not result.accepted and result.reason is not None and "a test-server session" in result.reason
    assert "allow_test_servers" in result.reason
    async with db.read() as conn:
        assert await session_rows.list_all(conn) == []
    assert files_on_disk(sdir) == [] if sdir.exists() else True


@pytest.mark.parametrize("ipv6", [False, True])
@pytest.mark.parametrize("form", list(TEST_FORMS))
async def test_allowed_test_server_sessions_connect_to_the_test_dcs_only(
    db: Database, sdir: Path, form: str, ipv6: bool
) -> None:
    await add_pair(db, 1001)
    key = new_auth_key()
    [result] = await import_files(
        db, sdir, [TEST_FORMS[form](key)], max_bytes=MAX, now=NOW, ipv6=ipv6, allow_test_servers=True
    )
    assert result.accepted, result.reason
    assert "not Telegram's" not in (result.note or "")  # a test address is no foreign one
    row, path = await _stored(db, sdir, result.session_id or 0)
    want = dcs.address_for(2, ipv6=ipv6, test=True)
    assert row.test_mode and file_row(path) == (2, want, 443, key)
    creds, fake = await _connect(db, sdir, row.id, ipv6=ipv6)
    assert creds.test_mode and fake.dialed[0] == (want, 443, 2)
    assert fake.auth_key.key == key


async def test_a_test_row_stays_on_the_test_table_even_if_its_file_says_otherwise(tmp_path: Path) -> None:
    """``engine.session_address`` pins by the row's flag: a test session's file pointed at production
    (or anywhere) is corrected to the test table, never the other way round."""
    key = new_auth_key()
    path = tmp_path / "t.session"
    path.write_bytes(session_image(3, dcs.address_for(3), 443, key))
    creds = SessionCredentials(session_id=1, path=path, api_id=1, api_hash=HASH, test_mode=True)
    client = build_client(creds, ClientSettings())
    fake = FakeSender.install(client)
    await client.connect()
    try:
        assert fake.dialed == [(dcs.TEST_IPV4[3], 443, 3)]
    finally:
        await client.disconnect()
    assert file_row(path)[:3] == (3, dcs.TEST_IPV4[3], 443)


# --- hostile inputs change nothing ------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


ENDLESS = (
    "CREATE VIEW sessions AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS dc_id,"
    " 1 AS api_id, 0 AS test_mode, randomblob(256) AS auth_key, 0 AS date, 1 AS user_id, 0 AS is_bot FROM c"
)
HOSTILE: list[tuple[str, Callable[[], bytes], str]] = [
    ("huge-line.txt", lambda: b"A" * 10_000, "longer than 600 characters"),
    ("bad64.txt", lambda: b"1" + b"!" * 400 + b"\n" + b"A" * 400, "not a session string"),
    ("bot.txt", lambda: pyrogram_string(2, is_bot=True).encode(), "a bot's session"),
    ("zero.txt", lambda: telethon_string(2, bytes(256)).encode(), "all zeros"),
    ("test.txt", lambda: pyrogram_string(2, test_mode=True).encode(), "a test-server session"),
    ("big.txt", lambda: (telethon_string() + "\n") .encode() * 800, "too large for session strings"),
    ("trigger.session", lambda: pyrogram_file(extra_sql=[
        "CREATE TRIGGER t AFTER INSERT ON peers BEGIN DELETE FROM sessions; END"]), "carrying a trigger"),
    ("view.session", lambda: pyrogram_file(extra_sql=["CREATE VIEW v AS SELECT 1"]), "carrying a view"),
    ("endless.session", lambda: pyrogram_file(extra_sql=["DROP TABLE sessions", ENDLESS]), "is a view"),
    ("table.session", lambda: pyrogram_file(extra_sql=["CREATE TABLE loot (a)"]), "carrying a table"),
    ("two.session", lambda: pyrogram_file(rows=2), "has 2 rows"),
    ("v8.session", lambda: pyrogram_file(version=8), "schema version 8"),
    ("pyrobot.session", lambda: pyrogram_file(is_bot=True), "a bot's session"),
    ("key_datas", lambda: b"TDF$" + bytes(40), "send the whole tdata folder zipped"),
    ("forms.zip", lambda: _zip({"a/bot.txt": pyrogram_string(2, is_bot=True).encode()}), "a bot's session"),
    ("notes.txt", lambda: b"just notes, nothing else\n", "unsupported file type"),
]


@pytest.mark.parametrize(("name", "build", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_forms_are_refused_and_change_nothing(
    db: Database, sdir: Path, private_tmp: Path, name: str, build: Callable[[], bytes], reason: str
) -> None:
    results = await import_files(db, sdir, [(name, build())], max_bytes=MAX, now=NOW)
    assert results and not any(r.accepted for r in results)
    assert all(r.reason is not None and reason in r.reason for r in results), [r.reason for r in results]
    async with db.read() as conn:
        assert await session_rows.list_all(conn) == []
    assert (files_on_disk(sdir) == []) if sdir.exists() else True
    assert list(private_tmp.iterdir()) == []


# --- the CLI and the bot -----------------------------------------------------------------------------------


def _cli_config(config: str, *, allow_test: bool) -> str:
    if allow_test:
        path = Path(config)
        path.write_text(path.read_text(encoding="utf-8") + "allow_test_servers = true\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("allow_test", [False, True])
def test_cli_imports_every_form(config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                allow_test: bool) -> None:
    keys = [new_auth_key() for _ in range(4)]
    (tmp_path / "keys.txt").write_text(f"{telethon_string(1, keys[0])}\n{gramjs_string(5, keys[1])}\n"
                                       f"{pyrogram_string(2, keys[2], test_mode=True)}\n", encoding="utf-8")
    (tmp_path / "pyro.session").write_bytes(pyrogram_file(3, keys[3], version=7))
    (tmp_path / "again.txt").write_text(pyrogram_string(3, keys[3], length=351), encoding="utf-8")
    args = ["pool", "import", str(tmp_path / "keys.txt"), str(tmp_path / "pyro.session"), str(tmp_path / "again.txt")]
    assert main([*args, "--config", _cli_config(config, allow_test=allow_test)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("accepted  keys.txt line 1 -> session #1")
    assert out[1].startswith("accepted  keys.txt line 2 -> session #2")
    if allow_test:
        assert out[2].startswith("accepted  keys.txt line 3 -> session #3")
    else:
        assert out[2].startswith("rejected  keys.txt line 3: a test-server session")
    pyro = 4 if allow_test else 3
    assert out[3].startswith(f"accepted  pyro.session -> session #{pyro}")
    assert out[4] == f"rejected  again.txt line 1: duplicate: this session is already in the pool as #{pyro}"
    assert out[-1] == f"{4 if allow_test else 3} accepted, {1 if allow_test else 2} rejected"
    stored = sorted(file_row(p) for p in (tmp_path / "sessions" / "unused").iterdir())
    want = [(1, dcs.address_for(1), 443, keys[0]), (5, dcs.address_for(5), 443, keys[1]),
            (3, dcs.address_for(3), 443, keys[3])]
    if allow_test:
        want.append((2, dcs.address_for(2, test=True), 443, keys[2]))
    assert stored == sorted(want)


async def test_the_bot_takes_every_form_and_refuses_a_test_server_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)
    keys = [new_auth_key() for _ in range(3)]
    async with bot_harness(tmp_path) as h:
        admin = h.user(ADMIN_ID, "Admin")
        await admin.user.send_document("keys.txt", "\n".join([
            "# from the shop", telethon_string(2, keys[0]), pyrogram_string(2, test_mode=True),
        ]).encode())
        await admin.user.send_document("pyro.session", pyrogram_file(4, keys[1], version=3, api_id=2040))
        await admin.user.send_document("more.zip", _zip({"x/g.txt": gramjs_string(1, keys[2]).encode(),
                                                         "x/dup.txt": telethon_string(4, keys[1]).encode()}))
        summary = await admin.user.wait_reply()
        text = summary.text
        assert "accepted 3, rejected 2" in text, text
        assert "keys.txt line 2 → session #" in text
        assert "keys.txt line 3: a test-server session" in text
        assert "pyro.session → session #" in text and "connects as Telegram Desktop (app id 2040)" in text
        assert "more.zip/x/g.txt line 1 → session #" in text
        assert "more.zip/x/dup.txt line 1: duplicate: this session is already in the pool as #" in text
        stored = sorted(file_row(p) for p in (h.settings.paths.sessions_dir / "unused").iterdir())
        assert stored == sorted([(2, dcs.address_for(2), 443, keys[0]), (4, dcs.address_for(4), 443, keys[1]),
                                 (1, dcs.address_for(1), 443, keys[2])])
        for path in (h.settings.paths.sessions_dir / "unused").iterdir():
            assert file_objects(path) == telethon_objects(tmp_path / "ours.session")


def test_results_name_each_line() -> None:
    result = IntakeResult("keys.txt line 3", True, 7)
    assert result.filename.endswith("line 3")


async def test_an_admins_txt_is_a_pool_upload_except_while_answering_addgroups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)
    async with bot_harness(tmp_path) as h:
        await h.grant(ADMIN_ID)  # the admin is also a customer
        admin = h.user(ADMIN_ID, "Admin")
        summary = await admin.send_file("keys.txt", telethon_string(2).encode())
        assert "accepted 1, rejected 0" in summary.text and "keys.txt line 1 → session #" in summary.text
        await admin.ask("/addgroups")
        reply = await admin.send_file("groups.txt", b"@file_group_one\nt.me/file_group_two\n")
        assert "Added 2 groups" in reply.text
        async with h.db.read() as conn:
            assert len(await session_rows.list_all(conn)) == 1
