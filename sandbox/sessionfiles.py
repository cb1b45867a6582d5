"""Generated Telethon session files: real SQLite databases with Telethon's own schema.

Used by the tests, ``adbot demo`` and the benchmarks, so the pool's intake sees exactly what a seller's
upload looks like. The schema copies ``telethon/sessions/sqlite.py`` (Telethon 1.45, version 8); version 7
(no ``tmp_auth_key`` column) is what most files made by older Telethon releases look like, and Telethon
migrates those in place when it opens them. The auth keys are random: they open no real account.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from core.session_forms import AUTH_KEY_BYTES
from storage.sessionfile import session_image

TELETHON_SESSION_VERSION = 8
"""``telethon.sessions.sqlite.CURRENT_VERSION`` of the pinned Telethon (a test keeps them equal)."""


# Telegram's production data centres (the addresses Telethon itself starts from).
DC_ADDRESSES: dict[int, str] = {
    1: "149.154.175.53",
    2: "149.154.167.51",
    3: "149.154.175.100",
    4: "149.154.167.91",
    5: "91.108.56.130",
}

def new_auth_key() -> bytes:
    return secrets.token_bytes(AUTH_KEY_BYTES)


def make_session_bytes(
    dc_id: int = 2,
    auth_key: bytes | None = None,
    *,
    server_address: str | None = None,
    port: int = 443,
    version: int = TELETHON_SESSION_VERSION,
) -> bytes:
    """The bytes of a logged-in ``.session`` file (``version`` 7 or 8 of Telethon's schema)."""
    key = new_auth_key() if auth_key is None else auth_key
    address = server_address if server_address is not None else DC_ADDRESSES.get(dc_id, DC_ADDRESSES[2])
    return session_image(dc_id, address, port, key, version)


def make_session_file(path: Path, dc_id: int = 2, auth_key: bytes | None = None, **kwargs: Any) -> bytes:
    """Write a generated session to ``path`` (mode 0600); returns its auth key."""
    key = new_auth_key() if auth_key is None else auth_key
    data = make_session_bytes(dc_id, key, **kwargs)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    path.chmod(0o600)
    return key


def make_sidecar(
    *,
    api_id: int = 2040,
    api_hash: str | None = None,
    phone: str | None = None,
    device: str = "DESKTOP-4F2K9QX",
    sdk: str = "Windows 10",
    app_version: str = "4.16.8 x64",
    lang_code: str = "en",
    lang_pack: str = "tdesktop",
    system_lang_pack: str = "en-US",
    **extra: Any,
) -> dict[str, Any]:
    """A sidecar in the sellers' common JSON shape (keys as the shops write them)."""
    data: dict[str, Any] = {
        "session_file": phone or "session",
        "phone": phone if phone is not None else "1" + "".join(secrets.choice("0123456789") for _ in range(10)),
        "app_id": api_id,
        "app_hash": api_hash if api_hash is not None else secrets.token_hex(16),
        "sdk": sdk,
        "app_version": app_version,
        "device": device,
        "lang_code": lang_code,
        "lang_pack": lang_pack,
        "system_lang_pack": system_lang_pack,
        "twoFA": None,
        "ipv6": False,
    }
    data.update(extra)
    return data
