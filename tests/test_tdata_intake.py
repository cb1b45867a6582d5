"""Issue 21b through the intake and the command line: the accounts of a zipped tdata folder become pool
sessions (fresh Telethon files with the same keys and DCs, Telegram Desktop's identity) that connect in
the contract fake; locked, hostile and test-server folders are refused and change nothing."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import pytest
from pool_support import NOW, assert_connects_as, file_objects, file_row, files_on_disk, telethon_objects

from control_bot.cli import main
from core import dcs
from core.official_apps import TELEGRAM_DESKTOP
from core.texts import intake as intake_texts
from core.texts import tdata as texts
from pool import lifecycle
from pool.intake import IntakeResult, import_files
from sandbox.sessionfiles import make_session_bytes, make_sidecar
from sandbox.tdata import FAST_ARGON2, TAccount, make_tdata, zip_tdata
from storage import sessions as session_rows
from storage.db import Database

MAX = 20 * 1024 * 1024


def key(seed: int) -> bytes:
    return hashlib.sha512(b"intake%d" % seed).digest() * 4


THREE = [TAccount(0, 5000000001, 4, key(0)), TAccount(2, 222222, 1, key(1), wide_ids=False), TAccount(3, 9, 5, key(2))]


async def run(
    db: Database, sdir: Path, files: list[tuple[str, bytes]], passcode: str | None = None
) -> list[IntakeResult]:
    return await import_files(db, sdir, files, max_bytes=MAX, now=NOW, passcode=passcode)


async def test_every_account_of_a_tdata_zip_is_stored_fresh_as_telegram_desktop(db: Database, sdir: Path) -> None:
    junk = {f"user_data/cache/{i}": b"j" for i in range(3000)}
    data = zip_tdata({"+1555/tdata": make_tdata(THREE, extra=junk)})
    results = await run(db, sdir, [("seller.zip", data)])
    assert [(r.filename, r.accepted) for r in results] == [
        ("seller.zip/+1555/tdata account 1", True),
        ("seller.zip/+1555/tdata account 3", True),
        ("seller.zip/+1555/tdata account 4", True),
    ]
    async with db.read() as conn:
        rows = await session_rows.list_all(conn)
    assert len(rows) == 3
    for row, account in zip(sorted(rows, key=lambda r: r.id), THREE, strict=True):
        assert (row.dc_id, row.own_api_id, row.own_api_hash) == (account.dc_id, 2040, TELEGRAM_DESKTOP.api_hash)
        assert row.pair_id is None and row.source_name is None
        assert row.device["lang_pack"] == "tdesktop" and row.device["app_version"].endswith("x64")
        path = sdir / row.folder / row.file_name
        assert file_row(path) == (account.dc_id, dcs.address_for(account.dc_id), 443, account.auth_key)
        assert file_objects(path) == telethon_objects(sdir.parent / "reference.session")

        creds = await lifecycle.credentials(db, sdir, row.id)
        assert (creds.api_id, creds.device.get("lang_pack")) == (2040, "tdesktop")
        await assert_connects_as(
            db, sdir, row.id, dc_id=account.dc_id, auth_key=account.auth_key, api_id=2040, lang_pack="tdesktop"
        )


async def test_duplicates_across_forms_are_reported_once(db: Database, sdir: Path) -> None:
    first = await run(db, sdir, [("a.zip", zip_tdata({"tdata": make_tdata(THREE[:1])}))])
    assert first[0].accepted
    sid = first[0].session_id
    again = await run(db, sdir, [
        ("b.zip", zip_tdata({"tdata": make_tdata(THREE[:1], legacy=True)})),
        ("same.session", make_session_bytes(4, key(0))),
    ])
    assert [(r.accepted, r.reason) for r in again] == [
        (False, f"duplicate: this session is already in the pool as #{sid}"),
        (False, f"duplicate: this session is already in the pool as #{sid}"),
    ]


async def test_a_locked_tdata_needs_its_passcode(db: Database, sdir: Path) -> None:
    data = zip_tdata({"tdata": make_tdata(THREE[:2], passcode="pässcode", kdf=FAST_ARGON2)})
    refused = await run(db, sdir, [("locked.zip", data)])
    assert [(r.filename, r.reason) for r in refused] == [("locked.zip/tdata", texts.PASSCODE_REQUIRED())]
    wrong = await run(db, sdir, [("locked.zip", data)], passcode="nope")
    assert [(r.filename, r.reason) for r in wrong] == [("locked.zip/tdata", texts.WRONG_PASSCODE())]
    assert refused[0].needs_passcode and wrong[0].needs_passcode  # the bot and the CLI ask by this flag
    assert files_on_disk(sdir) == []
    opened = await run(db, sdir, [("locked.zip", data)], passcode="pässcode")
    assert [(r.accepted, r.needs_passcode) for r in opened] == [(True, False), (True, False)]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"tdata": make_tdata([TAccount(0, 1, 2, key(7), test_mode=True)])}, intake_texts.TEST_SERVER()),
        ({"tdata": make_tdata(THREE[:1], key_count=2**31 - 1)}, texts.BAD_KEY_COUNT()),
        ({"tdata": make_tdata(THREE[:1], account_count=7)}, texts.BAD_ACCOUNT_COUNT()),
        ({"tdata": make_tdata(THREE[:1], block_id=3)}, texts.UNKNOWN_BLOCK()),
        ({"tdata": make_tdata(THREE[:1], info_key=key(9))}, texts.WRONG_KEY()),
    ],
    ids=["test-server", "key-count", "account-count", "unknown-block", "wrong-key"],
)
async def test_hostile_tdata_is_refused_and_changes_nothing(
    db: Database, sdir: Path, files: dict[str, dict[str, bytes]], reason: str
) -> None:
    results = await run(db, sdir, [("x.zip", zip_tdata(files))])
    assert [(r.accepted, r.reason) for r in results] == [(False, reason)]
    async with db.read() as conn:
        assert await session_rows.list_all(conn) == []
    assert files_on_disk(sdir) == []


async def test_a_test_server_account_is_stored_pinned_to_the_test_dcs_when_allowed(db: Database, sdir: Path) -> None:
    """The intake decides for tdata as for every form (``[pool] allow_test_servers``): stored with the
    flag, the test table's address, and connecting only there."""
    account = TAccount(0, 1, 2, key(7), test_mode=True)
    data = zip_tdata({"tdata": make_tdata([account, THREE[1]])})
    results = await import_files(db, sdir, [("t.zip", data)], max_bytes=MAX, now=NOW, allow_test_servers=True)
    assert [(r.filename, r.accepted) for r in results] == [
        ("t.zip/tdata account 1", True), ("t.zip/tdata account 3", True)
    ]
    async with db.read() as conn:
        rows = sorted(await session_rows.list_all(conn), key=lambda r: r.id)
    assert [row.test_mode for row in rows] == [True, False]
    want = dcs.address_for(2, test=True)
    assert file_row(sdir / rows[0].folder / rows[0].file_name) == (2, want, 443, account.auth_key)
    assert (await lifecycle.credentials(db, sdir, rows[0].id)).test_mode
    await assert_connects_as(
        db, sdir, rows[0].id, dc_id=2, auth_key=account.auth_key, api_id=2040, lang_pack="tdesktop", address=want
    )


async def test_a_lone_tdf_file_and_sessions_beside_a_tdata(db: Database, sdir: Path) -> None:
    files = make_tdata(THREE[:1])
    lone = [("key_datas", files["key_datas"]), ("D877F783D5D3EF8Cs.session", files["D877F783D5D3EF8Cs"])]
    results = await run(db, sdir, lone)
    assert [r.reason for r in results] == [intake_texts.LONE_TDATA_FILE(), intake_texts.LONE_TDATA_FILE()]
    beside = {"b.session": make_session_bytes(2), "Telegram.exe": b"MZ" * 1000, "readme.md": b"hi"}
    results = await run(db, sdir, [("mixed.zip", zip_tdata({"a/tdata": files}, extra=beside))])
    assert [(r.filename, r.accepted) for r in results] == [("mixed.zip/a/tdata account 1", True),
                                                            ("mixed.zip/b.session", True)]


@pytest.mark.parametrize(
    ("folder", "sidecar_path", "archive"),
    [("+1555/tdata", "+1555/+1555.json", "seller.zip"), ("+1555/tdata", "+1555.json", "seller.zip"),
     ("tdata", "+1555.json", "+1555.zip"), ("+1555", "+1555.json", "x.zip")],
)
async def test_a_sidecar_beside_a_one_account_tdata_wins(
    db: Database, sdir: Path, folder: str, sidecar_path: str, archive: str
) -> None:
    sidecar = make_sidecar(api_id=6, device="Samsung SM-G991B", sdk="SDK 33", app_version="10.14.5 (4775)",
                           lang_pack="android")
    data = zip_tdata({folder: make_tdata(THREE[:1])}, extra={sidecar_path: json.dumps(sidecar).encode()})
    results = await run(db, sdir, [(archive, data)])
    assert [r.accepted for r in results] == [True, True]
    async with db.read() as conn:
        [row] = await session_rows.list_all(conn)
    assert (row.own_api_id, row.device["lang_pack"], row.device["device_model"]) == (6, "android", "Samsung SM-G991B")
    assert row.source_name == "+1555"


async def test_a_dangerous_name_anywhere_refuses_a_tdata_archive(db: Database, sdir: Path) -> None:
    data = zip_tdata({"tdata": make_tdata(THREE[:1])}, extra={"tdata/user_data/../../../x": b"x"})
    results = await run(db, sdir, [("evil.zip", data)])
    assert len(results) == 1 and not results[0].accepted and "outside" in (results[0].reason or "")
    assert files_on_disk(sdir) == []


def test_cli_imports_a_locked_tdata_with_a_passcode_from_stdin(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "seller.zip"
    archive.write_bytes(zip_tdata({"tdata": make_tdata(THREE, passcode="p4ss", kdf=FAST_ARGON2)}))
    assert main(["pool", "import", str(archive), "--config", config]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"rejected  seller.zip/tdata: {texts.PASSCODE_REQUIRED()}", "0 accepted, 1 rejected",
                   texts.CLI_PASSCODE_HINT]

    monkeypatch.setattr(sys, "stdin", io.StringIO("wrong\n"))
    assert main(["pool", "import", str(archive), "--passcode-stdin", "--config", config]) == 1
    assert capsys.readouterr().out.splitlines()[0] == f"rejected  seller.zip/tdata: {texts.WRONG_PASSCODE()}"

    monkeypatch.setattr(sys, "stdin", io.StringIO("p4ss\n"))
    assert main(["pool", "import", str(archive), "--passcode-stdin", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "p4ss" not in out
    note = intake_texts.official_app("Telegram Desktop", 2040)
    assert out.splitlines()[0] == f"accepted  seller.zip/tdata account 1 -> session #1 ({note})"
    assert out.splitlines()[-1] == "3 accepted, 0 rejected"

    monkeypatch.setattr("getpass.getpass", lambda prompt: "p4ss")
    assert main(["pool", "import", str(archive), "--passcode", "--config", config]) == 1
    assert "duplicate" in capsys.readouterr().out

