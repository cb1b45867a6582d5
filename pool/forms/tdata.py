"""Telegram Desktop ``tdata``: the accounts of one tdata folder, read from the few files that hold them.

Input: the folder's needed files as ``{path relative to the tdata root: bytes}`` (``needed_paths``; the
zip layer, ``pool.forms.tdata_zip``, reads only those, each size-capped). Output: one ``Extracted`` per
account (DC id, auth key, user id, the test flag, and Telegram Desktop's app id: a tdata stores none,
it is always the official app, ``core.official_apps.TELEGRAM_DESKTOP``), or a refusal per account; a
problem of the whole folder (no key file, passcode) raises ``InvalidUpload``. Whether a test-server
account is accepted is the intake's decision (``[pool] allow_test_servers``), as for every form.

The format (tdesktop ``storage_domain.cpp``, ``storage_account.cpp``, ``main_account.cpp``,
``mtproto_config.cpp``):
- ``key_data{s,0,1}``: salt, the local key wrapped with an empty passcode (empty when the app lock is
  on), the encrypted account list, and since 7.3 a trailer of passcode wraps (Argon2id or scrypt).
  Before 7.3 the passcode, if any, went through ``CreateLocalKey`` (PBKDF2-SHA512) instead.
- ``<part>{s,0,1}`` per account (``part`` = ``file_part(data_name(index))``): block
  ``dbiMtpAuthorization`` holding the user id, the main DC and the auth key of each DC.
- ``<part>/config{s,0,1}``: the MTProto config, whose environment says production or test.
Everything else (``maps``, settings, caches, media) is never read.

The passcode is used for the one call and never logged or kept (a caller may log only that one was given).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from core.errors import InvalidUpload
from core.official_apps import TELEGRAM_DESKTOP
from core.session_forms import Extracted, Form
from core.texts import tdata as texts
from pool.forms.tdata_crypto import (
    LOCAL_KEY_BYTES,
    Damaged,
    QReader,
    create_local_key,
    data_name,
    decrypt_local,
    file_part,
    open_tdf,
    passcode_key,
)

logger = logging.getLogger(__name__)

MAX_ACCOUNTS = 6  # tdesktop's kPremiumMaxAccounts
MAX_KEYS = 16  # auth keys per account: one per DC, and tdesktop keeps at most a handful
KEY_FILE = "key_data"
SUFFIXES = ("s", "0", "1")  # tdesktop uses the 's' copy when there is one, else the newer of 0 and 1
_KEY_DATA_MAGIC = 0x4B443200
_MAX_KEY_FORMAT = 2
_MAX_WRAPS = 2
_DBI_MTP_AUTHORIZATION = 0x4B
_WIDE_IDS_TAG = 0xFFFFFFFFFFFFFFFF
_PRODUCTION_DCS = range(1, 6)
_TEST_DCS = range(1, 4)


class PasscodeNeeded(InvalidUpload):
    """The tdata is locked by a local passcode that was not given or does not open it: the bot asks for
    it (``pool.intake.IntakeResult.needs_passcode``)."""


class PasscodeRequired(PasscodeNeeded):
    """The tdata is locked by a local passcode and none (or an empty one) was given."""

    def __init__(self) -> None:
        super().__init__(texts.PASSCODE_REQUIRED())


class WrongPasscode(PasscodeNeeded):
    """A passcode was given and it does not open the tdata."""

    def __init__(self) -> None:
        super().__init__(texts.WRONG_PASSCODE())


def needed_paths() -> list[str]:
    """Every path (relative to the tdata root) the reader may read: 3 key files, and per account its data
    and config files (3 copies each): 39 names. Nothing else of a tdata folder is ever opened."""
    names = [KEY_FILE + s for s in SUFFIXES]
    for index in range(MAX_ACCOUNTS):
        part = file_part(data_name(index))
        names += [part + s for s in SUFFIXES]
        names += [f"{part}/config{s}" for s in SUFFIXES]
    return names


def _read_file(files: Mapping[str, bytes], base: str) -> bytes | None:
    """tdesktop's ``ReadFile``: the first copy whose checksum holds; None when there is no copy at all;
    InvalidUpload when copies exist and none is intact."""
    present = [files[base + s] for s in SUFFIXES if base + s in files]
    if not present:
        return None
    for raw in present:
        payload = open_tdf(raw)
        if payload is not None:
            return payload
    raise InvalidUpload(texts.DAMAGED_FILE())


def _unwrap(wrapped: bytes, key: bytes) -> bytes:
    inner = decrypt_local(wrapped, key)
    local_key = inner.take(LOCAL_KEY_BYTES)
    if not inner.at_end():
        raise InvalidUpload(texts.TRUNCATED())
    return local_key


def _try_unwrap(wrapped: bytes, key: bytes) -> bytes | None:
    try:
        return _unwrap(wrapped, key)
    except Damaged:
        return None


def _passcode_wraps(trailer: bytes) -> list[tuple[int, int, int, int, bytes, bytes]]:
    """The live wraps of a 7.3 trailer: (kind, memory, time, lanes, salt, wrapped key)."""
    reader = QReader(trailer)
    magic, key_format, committed, count = reader.u32(), reader.u32(), reader.u32(), reader.u32()
    if magic != _KEY_DATA_MAGIC:
        raise InvalidUpload(texts.TRUNCATED())
    if key_format > _MAX_KEY_FORMAT:
        raise InvalidUpload(texts.NEWER_KEY_FORMAT())
    if count > _MAX_WRAPS:
        raise InvalidUpload(texts.TRUNCATED())
    live: list[tuple[int, int, int, int, bytes, bytes]] = []
    generations: set[int] = set()
    for _ in range(count):
        kind, generation, memory, time, lanes = (reader.u32() for _ in range(5))
        salt, wrapped = reader.blob(), reader.blob()
        if len(salt) < 8 or generation in generations:
            raise InvalidUpload(texts.TRUNCATED())
        generations.add(generation)
        if generation == committed:
            live.append((kind, memory, time, lanes, salt, wrapped))
    return live


def open_local_key(key_payload: bytes, passcode: str | None) -> tuple[bytes, bytes]:
    """The local key and the encrypted account list, from the key file's payload. Without a passcode
    where one is needed: PasscodeRequired; with one that does not open it: WrongPasscode. A passcode
    given for a tdata that has none is not needed and not used."""
    reader = QReader(key_payload)
    salt, open_wrap, info = reader.blob(), reader.blob(), reader.blob()
    if len(salt) != 32:
        raise InvalidUpload(texts.TRUNCATED())
    secret = (passcode or "").encode("utf-8")
    if reader.at_end():  # the three-part key file of Telegram Desktop before 7.3
        local_key = _try_unwrap(open_wrap, create_local_key(b"", salt))
        if local_key is None and secret:
            local_key = _try_unwrap(open_wrap, create_local_key(secret, salt))
            if local_key is None:
                raise WrongPasscode()
        if local_key is None:
            raise PasscodeRequired()
        return local_key, info
    live = _passcode_wraps(reader.blob())
    if open_wrap:  # the app lock is off: the empty-passcode wrap opens it
        local_key = _try_unwrap(open_wrap, create_local_key(b"", salt))
        if local_key is None:
            raise InvalidUpload(texts.WRONG_KEY())
        return local_key, info
    if not secret:
        raise PasscodeRequired()
    if len(live) != 1:
        raise InvalidUpload(texts.TRUNCATED())
    kind, memory, time, lanes, wrap_salt, wrapped = live[0]
    local_key = _try_unwrap(wrapped, passcode_key(secret, wrap_salt, kind, memory, time, lanes))
    if local_key is None:
        raise WrongPasscode()
    return local_key, info


def _account_indexes(info_encrypted: bytes, local_key: bytes) -> list[int]:
    try:
        info = decrypt_local(info_encrypted, local_key)
    except Damaged:
        raise InvalidUpload(texts.WRONG_KEY()) from None
    count = info.i32()
    if not 0 < count <= MAX_ACCOUNTS:
        raise InvalidUpload(texts.BAD_ACCOUNT_COUNT())
    indexes = [info.i32() for _ in range(count)]
    if any(not 0 <= index < MAX_ACCOUNTS for index in indexes):
        raise InvalidUpload(texts.BAD_ACCOUNT_COUNT())
    return list(dict.fromkeys(indexes))  # the first occurrence of each, in order (as tdesktop)


def _mtp_authorization(serialized: bytes) -> tuple[int, int, dict[int, bytes]]:
    """(user id, main DC, {dc: auth key}) from ``Account::setMtpAuthorization``'s bytes."""
    reader = QReader(serialized)
    legacy_user, legacy_dc = reader.i32(), reader.i32()
    if ((legacy_user & 0xFFFFFFFF) << 32 | (legacy_dc & 0xFFFFFFFF)) == _WIDE_IDS_TAG:
        user_id, main_dc = reader.u64(), reader.i32()
    else:
        user_id, main_dc = legacy_user, legacy_dc
    count = reader.i32()
    if not 0 <= count <= MAX_KEYS:  # checked before the loop: a hostile count never spins it
        raise InvalidUpload(texts.BAD_KEY_COUNT())
    keys: dict[int, bytes] = {}
    for _ in range(count):
        dc = reader.i32()
        keys.setdefault(dc, reader.take(LOCAL_KEY_BYTES))
    return user_id, main_dc, keys  # the keys to destroy that follow are not needed


def _is_test(files: Mapping[str, bytes], part: str, local_key: bytes) -> bool:
    """The account's environment from its MTProto config; a missing or unreadable config is production
    (tdesktop falls back to the built-in production config the same way)."""
    try:
        payload = _read_file(files, f"{part}/config")
        if payload is None:
            return False
        serialized = decrypt_local(QReader(payload).blob(), local_key).blob()
        config = QReader(serialized)
        config.i32()  # the config's version
        return config.i32() == 1
    except InvalidUpload:
        return False


def _account(files: Mapping[str, bytes], index: int, local_key: bytes) -> Extracted:
    part = file_part(data_name(index))
    payload = _read_file(files, part)
    if payload is None:
        raise InvalidUpload(texts.ACCOUNT_MISSING())
    try:
        data = decrypt_local(QReader(payload).blob(), local_key)
    except Damaged:
        raise InvalidUpload(texts.WRONG_KEY()) from None
    if data.u32() != _DBI_MTP_AUTHORIZATION:
        raise InvalidUpload(texts.UNKNOWN_BLOCK())
    user_id, main_dc, keys = _mtp_authorization(data.blob())
    key = keys.get(main_dc)
    if user_id <= 0 or key is None:
        raise InvalidUpload(texts.NOT_LOGGED_IN())
    test = _is_test(files, part, local_key)
    if main_dc not in (_TEST_DCS if test else _PRODUCTION_DCS):
        raise InvalidUpload(texts.BAD_DC())
    if not any(key):
        raise InvalidUpload(texts.ALL_ZERO_KEY())
    return Extracted(Form.TDATA, main_dc, key, user_id=user_id, api_id=TELEGRAM_DESKTOP.api_id, test_mode=test)


def read_tdata(files: Mapping[str, bytes], passcode: str | None = None) -> list[tuple[int, Extracted | InvalidUpload]]:
    """The accounts of one tdata folder as (account index, its session or why it is refused), in the
    folder's order. Raises InvalidUpload (PasscodeRequired, WrongPasscode, ...) for the whole folder.
    Blocking (a passcode derivation may take a second or two): run it in a thread."""
    key_payload = _read_file(files, KEY_FILE)
    if key_payload is None:
        raise InvalidUpload(texts.NO_KEY_FILE())
    local_key, info = open_local_key(key_payload, passcode)
    results: list[tuple[int, Extracted | InvalidUpload]] = []
    seen: set[tuple[int, bool]] = set()
    for index in _account_indexes(info, local_key):
        try:
            account = _account(files, index, local_key)
            assert account.user_id is not None
            if (account.user_id, account.test_mode) in seen:
                raise InvalidUpload(texts.SAME_ACCOUNT())  # tdesktop skips such a second account too
            seen.add((account.user_id, account.test_mode))
            results.append((index, account))
        except InvalidUpload as exc:
            results.append((index, exc))
    logger.debug("tdata read: %d account(s), passcode given: %s", len(results), bool(passcode))
    return results
