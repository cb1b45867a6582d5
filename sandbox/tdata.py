"""Generated Telegram Desktop ``tdata`` folders, for the tests (never real accounts): our own encoder
of the format ``pool.forms.tdata`` reads (issue 21 research, section 6; cross-checked there against
opentele2's writer and reader).

``make_tdata`` returns ``{path relative to the tdata root: bytes}``; ``zip_tdata`` puts one or more such
folders into a zip in memory, as a seller ships them. Knobs produce the hostile variants the reader must
refuse (a wrong key, impossible counts, unknown blocks, excessive passcode costs).
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pool.forms.tdata_crypto import (
    KDF_ARGON2ID,
    KDF_SCRYPT,
    TDF_MAGIC,
    create_local_key,
    data_name,
    encrypt_local,
    file_part,
    passcode_key,
    tdf_checksum,
)

APP_VERSION = 5_006_003  # any version: tdesktop refuses only versions newer than itself
KEY_DATA_MAGIC = 0x4B443200
DBI_MTP_AUTHORIZATION = 0x4B

# Small passcode costs keep tests fast; tdesktop itself writes Argon2id 64 MiB x 8 and scrypt 2^17 x 8.
FAST_ARGON2 = (KDF_ARGON2ID, 64, 1, 1)  # kind, memory (KiB), time, lanes
FAST_SCRYPT = (KDF_SCRYPT, 1024, 8, 1)  # kind, N, r, p
PBKDF2 = None  # the legacy (before 7.3) way: the passcode goes through CreateLocalKey


@dataclass(frozen=True)
class TAccount:
    """One account to write: its slot index (0..5), user id, main DC, auth key and environment."""

    index: int
    user_id: int
    dc_id: int
    auth_key: bytes
    test_mode: bool = False
    wide_ids: bool = True  # tdesktop >= 2.7 writes the 64-bit user id after a tag; older ones an i32


def qba(data: bytes) -> bytes:
    """A ``QByteArray`` in a big-endian Qt data stream."""
    return struct.pack(">I", len(data)) + data


def tdf(*blobs: bytes, raw: bytes | None = None) -> bytes:
    """A ``TDF$`` file holding the given byte arrays (or ``raw`` stream bytes)."""
    body = raw if raw is not None else b"".join(qba(b) for b in blobs)
    version = struct.pack("<i", APP_VERSION)
    return TDF_MAGIC + version + body + tdf_checksum(body, version)


def encrypt(payload: bytes, key: bytes) -> bytes:
    return encrypt_local(payload, key, os.urandom(16))


def mtp_authorization(
    user_id: int, dc_id: int, keys: Mapping[int, bytes], *, wide_ids: bool = True, key_count: int | None = None
) -> bytes:
    """``Account::serializeMtpAuthorization``: ids, the keys by DC, then the (empty) keys to destroy."""
    head = struct.pack(">iiQi", -1, -1, user_id, dc_id) if wide_ids else struct.pack(">ii", user_id, dc_id)
    count = len(keys) if key_count is None else key_count
    body = struct.pack(">i", count) + b"".join(struct.pack(">i", dc) + key for dc, key in keys.items())
    return head + body + struct.pack(">i", 0)


def mtp_config(test_mode: bool) -> bytes:
    """The start of ``MTP::Config::serialize``: version 1 and the environment (the reader needs no more)."""
    return struct.pack(">ii", 1, 1 if test_mode else 0)


def _key_file(local_key: bytes, info_encrypted: bytes, passcode: bytes,
              kdf: tuple[int, int, int, int] | None, legacy: bool) -> bytes:
    salt = os.urandom(32)
    if legacy:
        return tdf(salt, encrypt(local_key, create_local_key(passcode, salt)), info_encrypted)
    if not passcode:
        trailer = struct.pack(">IIII", KEY_DATA_MAGIC, 2, 0, 0)
        return tdf(salt, encrypt(local_key, create_local_key(b"", salt)), info_encrypted, trailer)
    kind, memory, time, lanes = kdf or FAST_ARGON2
    wrap_salt = os.urandom(32)
    try:
        wrap_key = passcode_key(passcode, wrap_salt, kind, memory, time, lanes)
    except Exception:  # a cost the reader refuses: any key, the reader never gets that far
        wrap_key = os.urandom(256)
    wrapped = encrypt(local_key, wrap_key)
    trailer = (
        struct.pack(">IIII", KEY_DATA_MAGIC, 2, 1, 1)
        + struct.pack(">IIIII", kind, 1, memory, time, lanes)
        + qba(wrap_salt)
        + qba(wrapped)
    )
    return tdf(salt, b"", info_encrypted, trailer)


def make_tdata(
    accounts: Sequence[TAccount],
    *,
    passcode: str = "",
    legacy: bool = False,
    kdf: tuple[int, int, int, int] | None = None,
    account_count: int | None = None,
    info_key: bytes | None = None,
    block_id: int = DBI_MTP_AUTHORIZATION,
    key_count: int | None = None,
    with_config: bool = True,
    extra: Mapping[str, bytes] | None = None,
) -> dict[str, bytes]:
    """A tdata folder's files. ``kdf``: the 7.3 passcode wrap (``FAST_ARGON2``, ``FAST_SCRYPT`` or any
    (kind, memory, time, lanes)); ``legacy``: the key file before 7.3 (a passcode goes through PBKDF2).
    Hostile knobs: ``account_count`` (the count written in the list), ``info_key`` (the list encrypted
    with another key), ``block_id``, ``key_count`` (the count written before the keys)."""
    local_key = os.urandom(256)
    count = len(accounts) if account_count is None else account_count
    info = struct.pack(">i", count) + b"".join(struct.pack(">i", a.index) for a in accounts)
    info += struct.pack(">i", accounts[0].index if accounts else 0)
    info_encrypted = encrypt(info, info_key or local_key)
    files = {"key_datas": _key_file(local_key, info_encrypted, passcode.encode("utf-8"), kdf, legacy)}
    for account in accounts:
        part = file_part(data_name(account.index))
        serialized = mtp_authorization(
            account.user_id, account.dc_id, {account.dc_id: account.auth_key},
            wide_ids=account.wide_ids, key_count=key_count,
        )
        files[part + "s"] = tdf(encrypt(struct.pack(">I", block_id) + qba(serialized), local_key))
        files[part + "/maps"] = tdf(b"", b"", encrypt(b"", local_key))
        if with_config:
            files[part + "/configs"] = tdf(encrypt(qba(mtp_config(account.test_mode)), local_key))
    files.update(extra or {})
    return files


def zip_tdata(folders: Mapping[str, Mapping[str, bytes]], extra: Mapping[str, bytes] | None = None) -> bytes:
    """A zip holding each folder under its prefix (``{"tdata": files}`` -> ``tdata/key_datas`` ...)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for prefix, files in folders.items():
            for path, data in files.items():
                zf.writestr(f"{prefix}/{path}" if prefix else path, data)
        for path, data in (extra or {}).items():
            zf.writestr(path, data)
    return buffer.getvalue()
