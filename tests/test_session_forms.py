"""Issue 21: the readers of every session form, from bytes (``pool.forms.strings``,
``storage.pyrogram_file``), on inputs written by each library's own writer or its exact layout
(``sandbox.sessionforms``), and on hostile ones: each refused with its reason.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import time

import pytest

from core import dcs
from core.errors import InvalidUpload
from core.session_forms import Extracted, Form
from pool import forms
from pool.forms.strings import MAX_LINES, MAX_TEXT_BYTES, parse_session_string, parse_strings_file
from sandbox.sessionfiles import make_session_bytes, new_auth_key
from sandbox.sessionforms import gramjs_string, pyrogram_file, pyrogram_string, telethon_string
from storage.pyrogram_file import read_session_file

KEY = hashlib.sha512(b"issue 21").digest() * 4


def _refused(call: object, *args: object) -> str:
    with pytest.raises(InvalidUpload) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.reason


# --- session strings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "length", "test"), [
    ("149.154.167.51", 353, False), ("2001:67c:4e8:f002::a", 369, False), ("149.154.167.40", 353, True),
    ("2001:b28:f23d:f001::e", 369, True), ("127.0.0.1", 353, False),
])
def test_telethon_strings_as_telethon_writes_them(address: str, length: int, test: bool) -> None:
    text = telethon_string(2, KEY, address=address, port=443)
    assert len(text) == length
    found = parse_session_string(text)
    assert found == Extracted(Form.TELETHON_STRING, 2, KEY, test_mode=test, address=address, port=443)
    assert found.auth_key == KEY and found.user_id is None and found.api_id is None
    assert found.foreign_address == (address == "127.0.0.1")
    assert KEY.hex() not in repr(found)


@pytest.mark.parametrize(("length", "api_id"), [(351, None), (356, None), (362, 2040)])
def test_pyrogram_strings_of_every_layout(length: int, api_id: int | None) -> None:
    text = pyrogram_string(4, KEY, length=length, user_id=123456789, api_id=2040)
    assert len(text) == length and not text.startswith("1")
    found = parse_session_string(text)
    assert (found.form, found.dc_id, found.auth_key, found.user_id, found.api_id, found.test_mode) == (
        Form.PYROGRAM_STRING, 4, KEY, 123456789, api_id, False
    )
    wide = parse_session_string(pyrogram_string(4, KEY, length=356, user_id=5_000_000_001))
    assert wide.user_id == 5_000_000_001


@pytest.mark.parametrize(("address", "length", "test"), [
    ("149.154.167.51", 369, False), ("2001:67c:4e8:f002::a", 377, False), ("149.154.175.10", 369, True),
])
def test_gramjs_strings_even_at_telethons_ipv6_length(address: str, length: int, test: bool) -> None:
    text = gramjs_string(1, KEY, address=address)
    assert len(text) == length
    found = parse_session_string(text)
    assert (found.form, found.dc_id, found.auth_key, found.test_mode, found.address, found.port) == (
        Form.GRAMJS_STRING, 1, KEY, test, address, 443
    )


def _raw_pyrogram(*fields: object, layout: str = ">BI?256sQ?") -> str:
    return base64.urlsafe_b64encode(struct.pack(layout, *fields)).decode().rstrip("=")


def _flag_two(at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(pyrogram_string(2, KEY) + "=="))
    raw[at] = 2
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


HOSTILE_STRINGS: list[tuple[str, str, str]] = [
    ("empty-ish", "   ", "not a session string"),
    ("not base64", "1" + "!" * 352, "not valid base64"),
    ("non-ascii", "1" + "é" * 352, "characters base64 never uses"),
    ("oversized", "A" * 10_000, "longer than 600 characters"),
    ("wrong length", "A" * 400, "decodes to 300 bytes"),
    ("telethon wrong length", "1" + "A" * 340, "decodes to 255 bytes"),
    ("test flag 2", _flag_two(5), "neither 0 nor 1"),
    ("bot flag 2", _flag_two(270), "neither 0 nor 1"),
    ("bot session", pyrogram_string(2, KEY, is_bot=True), "a bot's session"),
    ("dc 0", _raw_pyrogram(0, 1, False, KEY, 1, False), "data centre id is not 1..5"),
    ("dc 6", _raw_pyrogram(6, 1, False, KEY, 1, False), "data centre id is not 1..5"),
    ("test dc 4", _raw_pyrogram(4, 1, True, KEY, 1, False), "not 1..3"),
    ("zero key", pyrogram_string(2, bytes(256)), "all zeros"),
    ("telethon zero key", telethon_string(2, b"\0" * 256), "all zeros"),
    ("api id 2^32-1", _raw_pyrogram(2, 2**32 - 1, False, KEY, 1, False), "app id is out of range"),
    ("user id 2^64-1", _raw_pyrogram(2, 1, False, KEY, 2**64 - 1, False), "user id is out of range"),
    ("fork layout", "A" * 387, "decodes to 290 bytes"),
]


@pytest.mark.parametrize(("text", "reason"), [h[1:] for h in HOSTILE_STRINGS], ids=[h[0] for h in HOSTILE_STRINGS])
def test_hostile_strings_are_refused_with_their_reason(text: str, reason: str) -> None:
    why = _refused(parse_session_string, text)
    assert reason in why, why
    assert text.strip()[:20] not in why or not text.strip()  # never quotes the input


def test_a_text_file_answers_each_line_alone() -> None:
    good = telethon_string(2, KEY)
    lines = ["\ufeff# bought 2026-12-01", "", good, "  " + pyrogram_string(3) + "  ", "hello", "# end", "A" * 400]
    data = "\r\n".join(lines).encode()
    assert forms.kind_of_content(data) is forms.Kind.STRINGS
    results = parse_strings_file(data)
    assert [n for n, _r in results] == [3, 4, 5, 7]
    assert isinstance(results[0][1], Extracted) and results[0][1].auth_key == KEY
    assert isinstance(results[1][1], Extracted) and results[1][1].dc_id == 3
    assert isinstance(results[2][1], InvalidUpload) and isinstance(results[3][1], InvalidUpload)
    assert [shown for shown, _r in forms.read_strings("keys.txt", data)][:2] == ["keys.txt line 3", "keys.txt line 4"]


def test_text_files_are_capped_before_decoding() -> None:
    line = telethon_string(2, KEY).encode()
    big = b"\n".join([line] * (MAX_TEXT_BYTES // len(line) + 1))
    assert "too large for session strings" in _refused(parse_strings_file, big)
    many = b"\n".join([b"A" * 300] * (MAX_LINES + 1))
    assert f"{MAX_LINES + 1} session string lines; at most {MAX_LINES}" in _refused(parse_strings_file, many)
    latin = line + b"\n\xff\xfe caf\xe9"
    assert "not UTF-8" in _refused(parse_strings_file, latin)


@pytest.mark.parametrize(("data", "kind"), [
    (make_session_bytes(), forms.Kind.SQLITE), (pyrogram_file(), forms.Kind.SQLITE),
    (b"PK\x03\x04rest", forms.Kind.ZIP), (b"PK\x05\x06" + bytes(18), forms.Kind.ZIP),
    (b"TDF$\x01\x02\x03\x04payload", forms.Kind.TDATA_FILE), (b"hello", forms.Kind.OTHER),
    (b'{"app_id": 1}', forms.Kind.OTHER), (b"\x00\x01binary", forms.Kind.OTHER),
    (("# strings\n" + gramjs_string()).encode(), forms.Kind.STRINGS),
])
def test_the_form_is_told_from_the_content(data: bytes, kind: forms.Kind) -> None:
    assert forms.kind_of_content(data) is kind


# --- Pyrogram / Kurigram files ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", range(1, 8))
@pytest.mark.parametrize("migrated", [False, True], ids=["fresh", "migrated"])
def test_pyrogram_and_kurigram_files_of_every_schema_version(version: int, migrated: bool) -> None:
    data = pyrogram_file(5, KEY, version=version, migrated=migrated, api_id=21724, user_id=5_000_000_001)
    found = read_session_file(data)
    assert (found.form, found.dc_id, found.auth_key, found.user_id, found.test_mode) == (
        Form.PYROGRAM_FILE, 5, KEY, 5_000_000_001, False
    )
    assert found.api_id == (21724 if version >= 3 else None)
    # Kurigram v7 names its DC's address (read to be judged); older versions name none.
    assert (found.address, found.port) == ((dcs.address_for(5), 443) if version >= 7 else (None, None))
    assert not found.foreign_address


KURIGRAM_SERVERS: list[tuple[str, dict[str, object], tuple[str | None, int | None], bool]] = [
    ("redis", {}, ("127.0.0.1", 6379), True),
    ("metadata, migrated", {"migrated": True}, ("169.254.169.254", 80), True),
    ("telegram on ssh", {}, ("149.154.167.51", 22), True),
    ("no port", {}, ("10.1.2.3", None), True),
    ("telegram, no port", {}, ("149.154.167.51", None), False),
    ("no address", {}, (None, 6379), False),
    ("test session", {"test_mode": True}, ("127.0.0.1", 80), True),
    ("test session, its own", {"test_mode": True}, (dcs.TEST_IPV4[2], 80), False),
]


@pytest.mark.parametrize(
    ("kwargs", "server", "foreign"), [k[1:] for k in KURIGRAM_SERVERS], ids=[k[0] for k in KURIGRAM_SERVERS]
)
def test_a_kurigram_v7_address_is_read_to_be_judged(
    kwargs: dict[str, object], server: tuple[str | None, int | None], foreign: bool
) -> None:
    found = read_session_file(pyrogram_file(2, KEY, version=7, server=server, **kwargs))
    address, port = server
    assert (found.dc_id, found.auth_key, found.address, found.port) == (2, KEY, address, port if address else None)
    assert found.foreign_address is foreign


def test_a_kurigram_v7_scoped_ipv6_address_is_rebuilt_without_the_files_text() -> None:
    found = read_session_file(pyrogram_file(2, KEY, version=7, server=("fe80::1%evil<b>", 443)))
    assert (found.address, found.port, found.foreign_address) == ("fe80::1", 443, True)


def _gramjs_raw(address: str, port_bytes: bytes, dc_id: int = 2) -> str:
    """A GramJS string with any two port bytes (GramJS's writer refuses ports above 32767)."""
    text = address.encode()
    return "1" + base64.b64encode(struct.pack(">Bh", dc_id, len(text)) + text + port_bytes + KEY).decode()


@pytest.mark.parametrize(("address", "port_bytes", "port"), [
    ("127.0.0.1", b"\xff\xff", 65535), ("10.1.2.3", b"\x80\x00", 32768), ("149.154.167.51", b"\xff\xff", 65535),
    ("169.254.169.254", b"\x00\x00", 0),
])
def test_a_gramjs_port_is_read_unsigned_and_always_judged(address: str, port_bytes: bytes, port: int) -> None:
    found = parse_session_string(_gramjs_raw(address, port_bytes))
    assert (found.form, found.address, found.port) == (Form.GRAMJS_STRING, address, port)
    assert found.foreign_address


def test_a_telethon_file_is_read_as_telethons() -> None:
    found = read_session_file(make_session_bytes(4, KEY, server_address="149.154.167.91"))
    assert (found.form, found.dc_id, found.auth_key, found.address, found.port) == (
        Form.TELETHON_FILE, 4, KEY, "149.154.167.91", 443
    )
    test = read_session_file(make_session_bytes(2, KEY, server_address=dcs.TEST_IPV4[2]))
    assert test.test_mode


ENDLESS_VIEW = (
    "CREATE VIEW sessions AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
    " SELECT x AS dc_id, 1 AS api_id, 0 AS test_mode, randomblob(256) AS auth_key, 0 AS date, 1 AS user_id,"
    " 0 AS is_bot FROM c"
)
HOSTILE_FILES: list[tuple[str, dict[str, object], str]] = [
    ("trigger on sessions", {"extra_sql": [
        "CREATE TRIGGER t_spy AFTER UPDATE ON sessions BEGIN DELETE FROM peers; END"]}, "a trigger"),
    ("pyrogram's trigger name on sessions", {"extra_sql": [
        "DROP TRIGGER trg_peers_last_update_on",
        "CREATE TRIGGER trg_peers_last_update_on AFTER UPDATE ON sessions BEGIN DELETE FROM peers; END"]},
     "a trigger"),
    ("extra view", {"extra_sql": ["CREATE VIEW v_spy AS SELECT auth_key FROM sessions"]}, "a view"),
    ("extra table", {"extra_sql": ["CREATE TABLE loot (a, b)"]}, "a table"),
    ("extra index", {"extra_sql": ["CREATE INDEX i_loot ON peers (type)"]}, "an index"),
    ("two rows", {"rows": 2}, "has 2 rows, expected exactly 1"),
    ("version 8", {"version": 8}, "schema version 8"),
    ("no version", {"extra_sql": ["DELETE FROM version"]}, "no schema version"),
    ("bot", {"is_bot": True}, "a bot's session"),
    ("test dc 4", {"test_mode": True}, "not 1..3"),
    ("flag 2", {"extra_sql": ["UPDATE sessions SET test_mode = 2"]}, "neither 0 nor 1"),
    ("dc 6", {"extra_sql": ["UPDATE sessions SET dc_id = 6"]}, "data centre id is not 1..5"),
    ("zero key", {"extra_sql": ["UPDATE sessions SET auth_key = zeroblob(256)"]}, "all zeros"),
    ("null key", {"extra_sql": ["UPDATE sessions SET auth_key = NULL"]}, "no auth key"),
    ("text key", {"extra_sql": ["UPDATE sessions SET auth_key = printf('%256s', 'k')"]}, "not binary"),
    ("short key", {"extra_sql": ["UPDATE sessions SET auth_key = randomblob(255)"]}, "255 bytes, expected 256"),
    ("api id", {"extra_sql": ["UPDATE sessions SET api_id = -5"]}, "app id is out of range"),
    ("sessions as a view", {"extra_sql": ["DROP TABLE sessions", ENDLESS_VIEW]}, "is a view, not a real table"),
]


@pytest.mark.parametrize(("kwargs", "reason"), [h[1:] for h in HOSTILE_FILES], ids=[h[0] for h in HOSTILE_FILES])
def test_hostile_pyrogram_files_are_refused_with_their_reason(kwargs: dict[str, object], reason: str) -> None:
    data = pyrogram_file(4, KEY, **kwargs)
    box: list[str] = []
    worker = threading.Thread(target=lambda: box.append(_refused(read_session_file, data)), daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(10)
    assert box, "the reader did not return: it ran the file's query"
    assert time.monotonic() - started < 10
    assert reason in box[0], box[0]


def test_a_wal_mode_pyrogram_file_reads_and_a_truncated_one_is_refused() -> None:
    data = bytearray(pyrogram_file(2, KEY, version=3))
    data[18] = data[19] = 2  # WAL mode, shipped without its -wal file (which is never read anyway)
    assert read_session_file(bytes(data)).auth_key == KEY
    assert "truncated" in _refused(read_session_file, bytes(data[:5000]))
    assert "test servers have three" in _refused(
        read_session_file, make_session_bytes(4, KEY, server_address=dcs.TEST_IPV4[1])
    )


def test_a_virtual_table_is_never_read() -> None:
    try:
        data = pyrogram_file(4, KEY, extra_sql=["CREATE VIRTUAL TABLE loot USING fts5(a)"])
    except Exception:  # an SQLite built without FTS5: nothing to test here
        pytest.skip("no FTS5 in this SQLite")
    assert "a virtual table" in _refused(read_session_file, data)


def test_new_keys_are_random() -> None:
    assert new_auth_key() != new_auth_key()
