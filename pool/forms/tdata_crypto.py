"""The byte-level layer of Telegram Desktop's local storage: Qt's big-endian data stream, the ``TDF$``
file container, the local encryption (``DecryptLocal``) and the key derivations that open the local key.

Checked against tdesktop (``storage/details/storage_file_utilities.cpp``, ``storage/storage_domain.cpp``)
and cross-validated both ways against an independent implementation (opentele2 1.5.0) during the issue 21
research. Every length read from a stream is bounds-checked before use; every key derivation's cost is
capped before it runs (an uploader chooses them), and derivations run one at a time.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from typing import Any

from core.errors import InvalidUpload
from core.texts import tdata as texts

TDF_MAGIC = b"TDF$"
LOCAL_KEY_BYTES = 256
_NULL_BLOB = 0xFFFFFFFF

# Key derivation kinds of the 7.3 key file's passcode wraps (tdesktop ``storage_domain.cpp``).
KDF_ARGON2ID = 1
KDF_SCRYPT = 2

# Cost ceilings. Argon2id: tdesktop's own read limits (256 MiB, 64 passes, 16 lanes; it writes 64 MiB,
# 8 passes, 1 lane), plus a bound on memory x passes at 4x what it writes, so one hostile upload costs
# at most a few seconds of one core. scrypt: opentele2's caps (N <= 2^20, r <= 32, p <= 16) inside
# hashlib's memory limit (tdesktop writes N = 2^17, r = 8, p = 1: 128 MiB).
ARGON2_MAX_MEMORY_KIB = 256 * 1024
ARGON2_MAX_TIME = 64
ARGON2_MAX_LANES = 16
ARGON2_MAX_WORK = 4 * 64 * 1024 * 8  # KiB x passes
SCRYPT_MAX_N = 1 << 20
SCRYPT_MAX_R = 32
SCRYPT_MAX_P = 16
SCRYPT_MAX_MEMORY = 192 * 1024 * 1024

_KDF_LOCK = threading.Lock()
"""One passcode derivation at a time in this process: each may take up to 256 MiB and seconds of CPU."""


class Damaged(InvalidUpload):
    """A SHA-1 check of the local encryption failed: the wrong key (or passcode) for these bytes."""


class QReader:
    """The subset of Qt's ``QDataStream`` (big-endian, Qt 5) tdesktop writes: integers and byte arrays."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, count: int) -> bytes:
        if count < 0 or self._pos + count > len(self._data):
            raise InvalidUpload(texts.TRUNCATED())
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def i32(self) -> int:
        value: int = struct.unpack(">i", self.take(4))[0]
        return value

    def u32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def u64(self) -> int:
        value: int = struct.unpack(">Q", self.take(8))[0]
        return value

    def blob(self) -> bytes:
        """A ``QByteArray``: u32 length, then the bytes (0xFFFFFFFF: a null array, read as empty)."""
        size = self.u32()
        return b"" if size == _NULL_BLOB else self.take(size)

    def at_end(self) -> bool:
        return self._pos >= len(self._data)


def file_part(name: str) -> str:
    """tdesktop's ``ToFilePart(ComputeDataNameKey(name))``: the first 8 bytes of md5(name) as a
    little-endian u64, printed as 16 upper-case hex digits low nibble first (each byte's digits swapped)."""
    digest = hashlib.md5(name.encode()).digest()[:8]  # noqa: S324 - tdesktop's file naming, not security
    return "".join(f"{byte:02X}"[::-1] for byte in digest)


def data_name(index: int) -> str:
    """The data name of account ``index`` (``ComposeDataString``): "data", "data#2", ... "data#6"."""
    return "data" if index == 0 else f"data#{index + 1}"


def tdf_checksum(body: bytes, version: bytes) -> bytes:
    return hashlib.md5(body + struct.pack("<i", len(body)) + version + TDF_MAGIC).digest()  # noqa: S324


def open_tdf(raw: bytes) -> bytes | None:
    """The payload of a ``TDF$`` file (magic, i32 LE app version, payload, md5), or None when it is not
    one or its checksum fails (tdesktop then tries the file's other copy)."""
    if len(raw) < 24 or not raw.startswith(TDF_MAGIC):
        return None
    version, body = raw[4:8], raw[8:]
    payload, checksum = body[:-16], body[-16:]
    return payload if tdf_checksum(payload, version) == checksum else None


def _old_mtp_aes(key: bytes, msg_key: bytes) -> tuple[bytes, bytes]:
    """``prepareAES_oldmtp`` with x = 8 (local storage always uses the 'received' direction)."""
    a = hashlib.sha1(msg_key + key[8:40]).digest()  # noqa: S324 - the format's KDF
    b = hashlib.sha1(key[40:56] + msg_key + key[56:72]).digest()  # noqa: S324
    c = hashlib.sha1(key[72:104] + msg_key).digest()  # noqa: S324
    d = hashlib.sha1(msg_key + key[104:136]).digest()  # noqa: S324
    return a[:8] + b[8:20] + c[4:16], a[8:20] + b[:8] + c[16:20] + d[:8]


def _aes() -> Any:
    """Telethon's AES-IGE (cryptg when installed, else OpenSSL through ctypes, else pure Python), imported
    on first use: ``telethon`` loads its whole client, which offline commands (``adbot pool status``) and
    ``adbot --help`` must not pay for (``tests/test_cli_imports.py``)."""
    from telethon.crypto import AES

    return AES


def decrypt_local(encrypted: bytes, key: bytes) -> QReader:
    """``DecryptLocal``: the stream inside; Damaged when the SHA-1 check fails (another key)."""
    if len(encrypted) <= 16 or len(encrypted) % 16:
        raise Damaged(texts.WRONG_KEY())
    msg_key, body = encrypted[:16], encrypted[16:]
    aes_key, aes_iv = _old_mtp_aes(key, msg_key)
    plain: bytes = _aes().decrypt_ige(body, aes_key, aes_iv)
    if hashlib.sha1(plain).digest()[:16] != msg_key:  # noqa: S324
        raise Damaged(texts.WRONG_KEY())
    size = int.from_bytes(plain[:4], "little")
    if not (4 <= size <= len(plain) and size > len(plain) - 16):
        raise InvalidUpload(texts.TRUNCATED())
    reader = QReader(plain[:size])
    reader.take(4)
    return reader


def encrypt_local(payload: bytes, key: bytes, padding: bytes) -> bytes:
    """``EncryptLocal`` (for test fixtures): ``padding`` supplies the random fill to 16 bytes."""
    size = 4 + len(payload)
    full = (size + 15) // 16 * 16
    plain = struct.pack("<I", size) + payload + padding[: full - size]
    if len(plain) != full:
        raise ValueError("not enough padding bytes")
    msg_key = hashlib.sha1(plain).digest()[:16]  # noqa: S324
    aes_key, aes_iv = _old_mtp_aes(key, msg_key)
    encrypted: bytes = _aes().encrypt_ige(plain, aes_key, aes_iv)
    return msg_key + encrypted


def create_local_key(passcode: bytes, salt: bytes) -> bytes:
    """``CreateLocalKey``: PBKDF2-HMAC-SHA512 of SHA512(salt | passcode | salt); 1 iteration without a
    passcode, 100 000 with one."""
    secret = hashlib.sha512(salt + passcode + salt).digest()
    with _KDF_LOCK:
        key: bytes = hashlib.pbkdf2_hmac("sha512", secret, salt, 100_000 if passcode else 1, LOCAL_KEY_BYTES)
    return key


def check_wrap_cost(kind: int, memory: int, time: int, lanes: int) -> None:
    """InvalidUpload unless the wrap's parameters are valid (tdesktop's rules) and within our caps."""
    if kind == KDF_ARGON2ID:
        if not (time > 0 and lanes > 0 and memory >= 8 * lanes):
            raise InvalidUpload(texts.TRUNCATED())
        if memory > ARGON2_MAX_MEMORY_KIB or memory * time > ARGON2_MAX_WORK:
            raise InvalidUpload(texts.cost_too_high("memory"))
        if time > ARGON2_MAX_TIME or lanes > ARGON2_MAX_LANES:
            raise InvalidUpload(texts.cost_too_high("time"))
    elif kind == KDF_SCRYPT:
        if not (time > 0 and lanes > 0 and memory >= 2 and memory & (memory - 1) == 0):
            raise InvalidUpload(texts.TRUNCATED())
        if memory > SCRYPT_MAX_N or 128 * memory * time > SCRYPT_MAX_MEMORY:
            raise InvalidUpload(texts.cost_too_high("memory"))
        if time > SCRYPT_MAX_R or lanes > SCRYPT_MAX_P:
            raise InvalidUpload(texts.cost_too_high("time"))
    else:
        raise InvalidUpload(texts.UNKNOWN_KDF())


def passcode_key(passcode: bytes, salt: bytes, kind: int, memory: int, time: int, lanes: int) -> bytes:
    """The key a 7.3 passcode wrap is encrypted with (Argon2id v0x13 or scrypt; 256 bytes)."""
    check_wrap_cost(kind, memory, time, lanes)
    with _KDF_LOCK:
        if kind == KDF_ARGON2ID:
            # Imported here only: the one dependency needed only for Argon2id-locked tdata (7.3+).
            from argon2.low_level import Type, hash_secret_raw

            return hash_secret_raw(
                passcode, salt, time_cost=time, memory_cost=memory, parallelism=lanes,
                hash_len=LOCAL_KEY_BYTES, type=Type.ID, version=0x13,
            )
        return hashlib.scrypt(
            passcode, salt=salt, n=memory, r=time, p=lanes, maxmem=SCRYPT_MAX_MEMORY + 1024 * 1024,
            dklen=LOCAL_KEY_BYTES,
        )
