"""Issue 21b: Telegram Desktop tdata folders (``pool.forms.tdata``, ``pool.forms.tdata_zip``), with
fixtures from our own encoder (``sandbox.tdata``), never real accounts."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InvalidUpload
from core.session_forms import Extracted, Form
from core.texts import tdata as texts
from pool.forms import Kind, kind_of_content
from pool.forms.tdata import PasscodeRequired, WrongPasscode, needed_paths, read_tdata
from pool.forms.tdata_crypto import KDF_ARGON2ID, KDF_SCRYPT, data_name, file_part
from pool.forms.tdata_zip import MEMBER_CAP, find_roots, needs_passcode, tdata_accounts
from sandbox.tdata import FAST_ARGON2, FAST_SCRYPT, TAccount, make_tdata, tdf, zip_tdata


def key(seed: int) -> bytes:
    return hashlib.sha512(b"k%d" % seed).digest() * 4


ONE = [TAccount(0, 111111111, 2, key(0))]
THREE = [
    TAccount(0, 5000000001, 4, key(1)),  # a 64-bit user id (wide ids)
    TAccount(2, 222222, 1, key(2), wide_ids=False),  # an old i32 user id
    TAccount(5, 333333, 5, key(3)),
]


def extracted(results: list[tuple[int, Extracted | InvalidUpload]]) -> list[tuple[int, int, int | None, bytes]]:
    out = []
    for index, result in results:
        assert isinstance(result, Extracted), getattr(result, "reason", result)
        assert result.form is Form.TDATA and result.api_id == 2040 and not result.test_mode
        out.append((index, result.dc_id, result.user_id, result.auth_key))
    return out


def expected(accounts: list[TAccount]) -> list[tuple[int, int, int | None, bytes]]:
    return [(a.index, a.dc_id, a.user_id, a.auth_key) for a in accounts]


def test_file_names_are_tdesktops() -> None:
    # Known answers: tdesktop's ToFilePart(ComputeDataNameKey("data"...)) for accounts 0..5.
    parts = [file_part(data_name(i)) for i in range(6)]
    assert parts == ["D877F783D5D3EF8C", "A7FDF864FBC10B77", "F8806DD0C461824F",
                     "C2B05980D9127787", "0CA814316818D8F6", "45D0FC5B5101406D"]
    assert len(needed_paths()) == 39


VARIANTS = [
    pytest.param({}, None, id="7.3-no-passcode"),
    pytest.param({"legacy": True}, None, id="legacy-no-passcode"),
    pytest.param({"legacy": True, "passcode": "pässcode 1"}, "pässcode 1", id="legacy-pbkdf2"),
    pytest.param({"passcode": "pässcode 1", "kdf": FAST_ARGON2}, "pässcode 1", id="7.3-argon2id"),
    pytest.param({"passcode": "s3cret", "kdf": FAST_SCRYPT}, "s3cret", id="7.3-scrypt"),
]


@pytest.mark.parametrize(("options", "passcode"), VARIANTS)
@pytest.mark.parametrize("accounts", [ONE, THREE], ids=["1-account", "3-accounts"])
def test_every_key_file_form_opens(options: dict[str, object], passcode: str | None, accounts: list[TAccount]) -> None:
    files = make_tdata(accounts, **options)  # type: ignore[arg-type]
    assert extracted(read_tdata(files, passcode)) == expected(accounts)


@pytest.mark.parametrize(("options", "passcode"), VARIANTS[2:])
def test_a_locked_tdata_asks_for_its_passcode_and_refuses_a_wrong_one(
    options: dict[str, object], passcode: str
) -> None:
    files = make_tdata(ONE, **options)  # type: ignore[arg-type]
    for none in (None, ""):
        with pytest.raises(PasscodeRequired) as asked:
            read_tdata(files, none)
        assert "passcode" in asked.value.reason
    with pytest.raises(WrongPasscode) as wrong:
        read_tdata(files, passcode + "x")
    assert passcode not in wrong.value.reason
    assert extracted(read_tdata(files, passcode)) == expected(ONE)


def test_a_passcode_given_for_an_unlocked_tdata_is_not_needed() -> None:
    for options in ({}, {"legacy": True}):
        files = make_tdata(ONE, **options)  # type: ignore[arg-type]
        assert extracted(read_tdata(files, "whatever")) == expected(ONE)


def test_the_second_copy_is_read_when_the_first_is_damaged() -> None:
    files = make_tdata(ONE)
    good = files.pop("key_datas")
    files["key_data0"] = good[:-1] + bytes([good[-1] ^ 1])
    files["key_data1"] = good
    assert extracted(read_tdata(files)) == expected(ONE)


def test_test_mode_is_read_from_the_config_and_handed_on() -> None:
    """The flag reaches the intake, which refuses a test account by default (``[pool] allow_test_servers``,
    as for every form: ``tests/test_tdata_intake.py``)."""
    accounts = [TAccount(0, 1, 2, key(0), test_mode=True), TAccount(1, 2, 2, key(1))]
    files = make_tdata(accounts)
    results = read_tdata(files)
    assert [r.test_mode for _, r in results if isinstance(r, Extracted)] == [True, False]
    items = tdata_accounts(zip_tdata({"tdata": files}))
    assert items is not None
    assert [shown for shown, _ in items] == ["tdata account 1", "tdata account 2"]
    assert [r.test_mode for _, r in items if isinstance(r, Extracted)] == [True, False]
    # no config at all: production, as tdesktop falls back to its built-in config
    assert extracted(read_tdata(make_tdata(ONE, with_config=False))) == expected(ONE)


# --- hostile folders -----------------------------------------------------------------------------------


def refusal(files: dict[str, bytes], passcode: str | None = None) -> str:
    try:
        results = read_tdata(files, passcode)
    except InvalidUpload as exc:
        return exc.reason
    reasons = [r.reason for _, r in results if isinstance(r, InvalidUpload)]
    assert reasons, "nothing was refused"
    return reasons[0]


def test_wrong_md5_refuses() -> None:
    files = make_tdata(ONE)
    raw = files["key_datas"]
    files["key_datas"] = raw[:20] + bytes([raw[20] ^ 0xFF]) + raw[21:]
    assert refusal(files) == texts.DAMAGED_FILE()


def test_a_list_encrypted_with_another_key_refuses() -> None:
    assert refusal(make_tdata(ONE, info_key=key(9)[:256])) == texts.WRONG_KEY()


def test_account_data_of_another_folder_refuses() -> None:
    files = make_tdata(ONE)
    other = make_tdata(ONE)
    files["D877F783D5D3EF8Cs"] = other["D877F783D5D3EF8Cs"]
    assert refusal(files) == texts.WRONG_KEY()


@pytest.mark.parametrize(
    ("kdf", "kind"),
    [
        ((KDF_ARGON2ID, 512 * 1024, 1, 1), "memory"),  # 512 MiB
        ((KDF_ARGON2ID, 256 * 1024, 64, 1), "memory"),  # within each ceiling, too much work together
        ((KDF_ARGON2ID, 64, 65, 1), "time"),
        ((KDF_ARGON2ID, 1024, 1, 17), "time"),
        ((KDF_SCRYPT, 1 << 21, 1, 1), "memory"),
        ((KDF_SCRYPT, 1 << 20, 8, 1), "memory"),  # 1 GiB
        ((KDF_SCRYPT, 1024, 8, 17), "time"),
    ],
)
def test_a_wrap_cost_above_the_caps_is_refused_before_deriving(kdf: tuple[int, int, int, int], kind: str) -> None:
    files = make_tdata(ONE, passcode="p", kdf=kdf)
    started = time.monotonic()
    assert refusal(files, "p") == texts.cost_too_high(kind)
    assert time.monotonic() - started < 1


def test_an_unknown_kdf_and_invalid_parameters_refuse() -> None:
    assert refusal(make_tdata(ONE, passcode="p", kdf=(3, 64, 1, 1)), "p") == texts.UNKNOWN_KDF()
    assert refusal(make_tdata(ONE, passcode="p", kdf=(KDF_ARGON2ID, 4, 1, 1)), "p") == texts.TRUNCATED()
    assert refusal(make_tdata(ONE, passcode="p", kdf=(KDF_SCRYPT, 1000, 1, 1)), "p") == texts.TRUNCATED()


def test_a_huge_key_count_is_refused_without_looping() -> None:
    started = time.monotonic()
    assert refusal(make_tdata(ONE, key_count=2**31 - 1)) == texts.BAD_KEY_COUNT()
    assert refusal(make_tdata(ONE, key_count=-1)) == texts.BAD_KEY_COUNT()
    assert time.monotonic() - started < 1


def test_seven_accounts_and_odd_indexes_refuse() -> None:
    assert refusal(make_tdata(ONE, account_count=7)) == texts.BAD_ACCOUNT_COUNT()
    assert refusal(make_tdata(ONE, account_count=0)) == texts.BAD_ACCOUNT_COUNT()
    assert refusal(make_tdata([TAccount(6, 1, 2, key(0))])) == texts.BAD_ACCOUNT_COUNT()
    # the list names more accounts than it holds: the stream ends early
    assert refusal(make_tdata(ONE, account_count=3)) == texts.TRUNCATED()


def test_unknown_block_and_bad_accounts_refuse_that_account_only() -> None:
    assert refusal(make_tdata(ONE, block_id=0x0A)) == texts.UNKNOWN_BLOCK()
    assert refusal(make_tdata([TAccount(0, 0, 2, key(0))])) == texts.NOT_LOGGED_IN()
    assert refusal(make_tdata([TAccount(0, 1, 6, key(0))])) == texts.BAD_DC()
    assert refusal(make_tdata([TAccount(0, 1, 4, key(0), test_mode=True)])) == texts.BAD_DC()
    assert refusal(make_tdata([TAccount(0, 1, 2, bytes(256))])) == texts.ALL_ZERO_KEY()
    twice = make_tdata([TAccount(0, 7, 2, key(0)), TAccount(1, 7, 2, key(1))])
    results = read_tdata(twice)
    assert isinstance(results[0][1], Extracted)
    assert isinstance(results[1][1], InvalidUpload) and results[1][1].reason == texts.SAME_ACCOUNT()
    files = make_tdata(THREE)
    del files[file_part(data_name(2)) + "s"]
    results = read_tdata(files)
    assert [type(r).__name__ for _, r in results] == ["Extracted", "InvalidUpload", "Extracted"]


def test_newer_key_format_and_no_key_file_refuse() -> None:
    files = make_tdata(ONE)
    assert refusal({k: v for k, v in files.items() if not k.startswith("key_data")}) == texts.NO_KEY_FILE()
    salt = b"s" * 32
    trailer = struct.pack(">IIII", 0x4B443200, 3, 0, 0)
    assert refusal({"key_datas": tdf(salt, b"", b"", trailer)}) == texts.NEWER_KEY_FORMAT()
    assert refusal({"key_datas": tdf(raw=b"\x00\x00\x00\x20" + salt + b"\xff\xff")}) == texts.TRUNCATED()


# --- the zip layer ----------------------------------------------------------------------------------------


def test_roots_are_found_from_names() -> None:
    names = ["a/tdata/key_datas", "a/tdata/D877F783D5D3EF8Cs", "b/tdata/key_data0", "key_datas",
             "__MACOSX/a/tdata/key_datas", "c/key_datas.bak", "x.session"]
    assert find_roots(names) == ["a/tdata", "b/tdata", ""]


def test_a_zip_without_tdata_is_left_to_the_ordinary_path() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("x.session", b"SQLite format 3\0")
    assert tdata_accounts(buffer.getvalue()) is None
    assert tdata_accounts(b"not a zip") is None
    assert not needs_passcode(buffer.getvalue())


def test_several_roots_in_one_zip() -> None:
    data = zip_tdata({"seller/a/tdata": make_tdata(ONE), "seller/b/tdata": make_tdata(THREE, legacy=True)})
    items = tdata_accounts(data)
    assert items is not None
    assert [shown for shown, _ in items] == [
        "seller/a/tdata account 1", "seller/b/tdata account 1", "seller/b/tdata account 3", "seller/b/tdata account 6",
    ]
    keys = [r.auth_key for _, r in items if isinstance(r, Extracted)]
    assert keys == [a.auth_key for a in ONE + THREE]


def test_a_locked_root_is_one_refusal_and_needs_passcode_says_so() -> None:
    locked = zip_tdata({"tdata": make_tdata(ONE, passcode="p", kdf=FAST_ARGON2)})
    assert needs_passcode(locked)
    assert not needs_passcode(zip_tdata({"tdata": make_tdata(ONE)}))
    assert needs_passcode(zip_tdata({"tdata": make_tdata(ONE, passcode="p", legacy=True)}))
    items = tdata_accounts(locked)
    assert items is not None and len(items) == 1
    assert items[0][0] == "tdata" and isinstance(items[0][1], PasscodeRequired)
    items = tdata_accounts(locked, "p")
    assert items is not None and isinstance(items[0][1], Extracted)


def test_a_full_tdata_with_thousands_of_cache_files_passes_quickly() -> None:
    junk = {f"user_data/cache/{i:05d}": b"x" * 64 for i in range(5000)}
    junk.update({f"emoji/{i}.webp": b"y" for i in range(100)})
    data = zip_tdata({"tdata": make_tdata(THREE, extra=junk)})
    started = time.monotonic()
    items = tdata_accounts(data)
    assert time.monotonic() - started < 2
    assert items is not None and len(items) == 3 and all(isinstance(r, Extracted) for _, r in items)


def test_a_zip_bomb_member_elsewhere_is_never_read() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in make_tdata(ONE).items():
            zf.writestr(f"tdata/{path}", data)
        with zf.open("tdata/user_data/bomb", "w") as fh:  # 200 MiB of zeros, ~200 KiB compressed
            chunk = bytes(1024 * 1024)
            for _ in range(200):
                fh.write(chunk)
    started = time.monotonic()
    items = tdata_accounts(buffer.getvalue())
    assert time.monotonic() - started < 1
    assert items is not None and isinstance(items[0][1], Extracted)


def _lying_zip(member: str, real: bytes, declared: int) -> bytes:
    """A zip whose ``member`` says it unpacks to ``declared`` bytes but inflates to ``real``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, real)
    data = bytearray(buffer.getvalue())
    real_size = struct.pack("<I", len(real))
    for offset in range(len(data) - 4):  # the local header's and the central directory's size fields
        if data[offset : offset + 4] == real_size:
            data[offset : offset + 4] = struct.pack("<I", declared)
    return bytes(data)


def test_a_needed_member_that_is_a_bomb_refuses_its_folder_without_inflating() -> None:
    big = zip_tdata({"tdata": {"key_datas": bytes(50 * 1024 * 1024)}})
    items = tdata_accounts(big)
    assert items is not None and items[0][1].reason == texts.member_too_big(MEMBER_CAP)  # type: ignore[union-attr]
    lying = _lying_zip("tdata/key_datas", bytes(50 * 1024 * 1024), 1024)
    started = time.monotonic()
    items = tdata_accounts(lying)
    assert time.monotonic() - started < 1
    assert items is not None and isinstance(items[0][1], InvalidUpload)


def test_too_many_names_refuse_the_archive() -> None:
    junk = {f"c/{i}": b"" for i in range(20_001)}
    with pytest.raises(InvalidUpload) as refused:
        tdata_accounts(zip_tdata({"tdata": make_tdata(ONE, extra=junk)}))
    assert refused.value.reason == texts.too_many_names(20_001 + 4, 20_000)


def test_a_lone_tdf_file_is_recognised() -> None:
    assert kind_of_content(make_tdata(ONE)["key_datas"]) is Kind.TDATA_FILE
    assert kind_of_content(b"SQLite format 3\0") is not Kind.TDATA_FILE



# --- properties: any damage is a refusal with a reason, never another exception -------------------------

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = {
    "7.3": make_tdata(THREE),
    "legacy": make_tdata(THREE, legacy=True),
    "scrypt": make_tdata(ONE, passcode="p", kdf=FAST_SCRYPT),
}


@PROPERTY
@given(
    base=st.sampled_from(sorted(BASE)),
    target=st.integers(0, 100),
    cuts=st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255)), max_size=6),
    truncate=st.one_of(st.none(), st.integers(0, 2**16)),
    passcode=st.sampled_from([None, "p", "x"]),
)
def test_a_damaged_file_is_refused_with_a_reason(
    base: str, target: int, cuts: list[tuple[int, int]], truncate: int | None, passcode: str | None
) -> None:
    files = dict(BASE[base])
    name = sorted(files)[target % len(files)]
    data = bytearray(files[name])
    for offset, value in cuts:
        data[offset % len(data)] = value
    files[name] = bytes(data[:truncate] if truncate is not None else data)
    try:
        results = read_tdata(files, passcode)
    except InvalidUpload as exc:
        assert exc.reason
        return
    for _, result in results:
        assert isinstance(result, Extracted) or result.reason


@PROPERTY
@given(data=st.binary(max_size=4096), cut=st.integers(0, 5000), flip=st.integers(0, 255))
def test_any_bytes_as_a_tdata_zip_are_refused_or_ignored(data: bytes, cut: int, flip: int) -> None:
    archive = bytearray(zip_tdata({"tdata": make_tdata(ONE)}) if flip % 2 else data)
    if archive:
        archive[cut % len(archive)] = flip
    try:
        found = tdata_accounts(bytes(archive))
    except InvalidUpload as exc:
        assert exc.reason
        return
    for _, result in found or []:
        assert isinstance(result, Extracted) or result.reason


def test_an_unsupported_zip_version_is_left_to_the_archive_path_not_raised() -> None:
    # Found by fuzzing: zipfile raises NotImplementedError("zip file version ...") while listing names.
    data = bytearray(zip_tdata({"tdata": make_tdata(ONE)}))
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = struct.pack("<H", 100)  # "version needed to extract": 10.0
    assert tdata_accounts(bytes(data)) is None
    assert not needs_passcode(bytes(data))
