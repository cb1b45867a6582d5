"""Issue 21: our readers and writers of Pyrogram / Kurigram files and session strings checked against an
independent codebase, tgconvertor (MIT; the ``test`` extra only, never imported by adbot: see
docs/SESSION_FORMS.md for why it is no runtime dependency). Both directions: what tgconvertor writes we
read with the same values, and what ``sandbox.sessionforms`` writes tgconvertor reads the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.session_forms import Form
from pool.forms.strings import parse_session_string
from sandbox.sessionfiles import new_auth_key
from sandbox.sessionforms import gramjs_string, pyrogram_file, pyrogram_string, telethon_string
from storage.pyrogram_file import read_session_file

tgc: Any = pytest.importorskip("TGConvertor")


@pytest.mark.parametrize("test_mode", [False, True])
def test_their_pyrogram_string_reads_the_same(test_mode: bool) -> None:
    key = new_auth_key()
    theirs = tgc.PyroSession(dc_id=3, auth_key=key, user_id=5_000_000_001, api_id=2040, test_mode=test_mode)
    found = parse_session_string(theirs.to_string())
    assert (found.form, found.dc_id, found.auth_key, found.user_id, found.api_id, found.test_mode) == (
        Form.PYROGRAM_STRING, 3, key, 5_000_000_001, 2040, test_mode
    )


@pytest.mark.parametrize("address", ["149.154.167.51", "2001:67c:4e8:f002::a", "149.154.175.10"])
def test_their_gramjs_and_telethon_strings_read_the_same(address: str) -> None:
    key = new_auth_key()
    test = address == "149.154.175.10"
    gram = parse_session_string(tgc.GramSession(dc_id=1, auth_key=key, server_address=address, port=443).to_string())
    assert (gram.form, gram.dc_id, gram.auth_key, gram.address, gram.test_mode) == (
        Form.GRAMJS_STRING, 1, key, address, test
    )
    tele = parse_session_string(tgc.TeleSession(dc_id=1, auth_key=key, server_address=address, port=443).to_string())
    assert (tele.form, tele.dc_id, tele.auth_key, tele.address, tele.test_mode) == (
        Form.TELETHON_STRING, 1, key, address, test
    )


@pytest.mark.parametrize(("backend", "version"), [("pyrogram", 3), ("kurigram", 7)])
async def test_their_pyrogram_and_kurigram_files_read_the_same(tmp_path: Path, backend: str, version: int) -> None:
    key = new_auth_key()
    path = tmp_path / f"{backend}.session"
    await tgc.PyroSession(dc_id=5, auth_key=key, user_id=123456, api_id=21724).to_file(path, backend=backend)
    found = read_session_file(path.read_bytes())
    assert (found.form, found.dc_id, found.auth_key, found.user_id, found.api_id) == (
        Form.PYROGRAM_FILE, 5, key, 123456, 21724
    )


@pytest.mark.parametrize("length", [351, 356, 362])
def test_they_read_our_pyrogram_strings(length: int) -> None:
    key = new_auth_key()
    theirs = tgc.PyroSession.from_string(pyrogram_string(4, key, length=length, user_id=777, api_id=6))
    assert (theirs.dc_id, theirs.auth_key, theirs.user_id, theirs.api_id) == (4, key, 777, 6 if length == 362 else None)


def test_they_read_our_gramjs_and_telethon_strings() -> None:
    key = new_auth_key()
    gram = tgc.GramSession.from_string(gramjs_string(2, key, address="149.154.167.51"))
    assert (gram.dc_id, gram.auth_key, gram.server_address, gram.port) == (2, key, "149.154.167.51", 443)
    tele = tgc.TeleSession.from_string(telethon_string(2, key))
    assert (tele.dc_id, tele.auth_key) == (2, key)


@pytest.mark.parametrize("version", range(1, 8))
@pytest.mark.parametrize("migrated", [False, True], ids=["fresh", "migrated"])
async def test_they_read_our_pyrogram_files(tmp_path: Path, version: int, migrated: bool) -> None:
    key = new_auth_key()
    path = tmp_path / "ours.session"
    path.write_bytes(pyrogram_file(2, key, version=version, migrated=migrated, api_id=2040, user_id=99))
    theirs = await tgc.PyroSession.from_file(path)
    assert (theirs.dc_id, theirs.auth_key, theirs.user_id) == (2, key, 99)
    assert theirs.api_id == (2040 if version >= 3 else None)
