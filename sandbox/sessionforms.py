"""Generated session strings and Pyrogram / Kurigram files, the forms sellers ship besides Telethon files.

For the tests (issue 21), the benchmarks and the tdata helpers: each is written as its library writes
it (Telethon's own ``StringSession`` writer; ``struct`` layouts of Pyrogram's ``export_session_string``
and GramJS's ``StringSession.save``; Pyrogram DDL in ``storage.pyrogram_writer``). The auth keys are
random: they open no real account.
"""

from __future__ import annotations

import base64
import struct

from sandbox.sessionfiles import DC_ADDRESSES, new_auth_key
from storage.pyrogram_writer import pyrogram_image

PYROGRAM_LAYOUTS = {351: ">B?256sI?", 356: ">B?256sQ?", 362: ">BI?256sQ?"}
"""Pyrogram string length (characters) -> its struct layout (Pyrogram 1.x 32-bit / 64-bit user ids, 2.x)."""


def telethon_string(
    dc_id: int = 2, auth_key: bytes | None = None, *, address: str | None = None, port: int = 443
) -> str:
    """Telethon's ``StringSession.save()`` of a logged-in session (IPv4 or IPv6 ``address``)."""
    from telethon.crypto import AuthKey
    from telethon.sessions import StringSession

    session = StringSession()
    session.set_dc(dc_id, address or DC_ADDRESSES.get(dc_id, DC_ADDRESSES[2]), port)
    session.auth_key = AuthKey(new_auth_key() if auth_key is None else auth_key)
    return str(session.save())


def pyrogram_string(
    dc_id: int = 2,
    auth_key: bytes | None = None,
    *,
    length: int = 362,
    user_id: int = 777_000_001,
    api_id: int = 2040,
    test_mode: bool = False,
    is_bot: bool = False,
) -> str:
    """Pyrogram's ``export_session_string``: urlsafe base64 without padding; ``length`` picks the layout."""
    key = new_auth_key() if auth_key is None else auth_key
    layout = PYROGRAM_LAYOUTS[length]
    if length == 362:
        raw = struct.pack(layout, dc_id, api_id, test_mode, key, user_id, is_bot)
    else:
        raw = struct.pack(layout, dc_id, test_mode, key, user_id, is_bot)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def gramjs_string(dc_id: int = 2, auth_key: bytes | None = None, *, address: str | None = None, port: int = 443) -> str:
    """GramJS's ``StringSession.save()``: ``"1"`` + standard base64 of dc, address length, address, port, key."""
    key = new_auth_key() if auth_key is None else auth_key
    text = (address or DC_ADDRESSES.get(dc_id, DC_ADDRESSES[2])).encode()
    raw = struct.pack(">Bh", dc_id, len(text)) + text + struct.pack(">h", port) + key
    return "1" + base64.b64encode(raw).decode()


def pyrogram_file(dc_id: int = 2, auth_key: bytes | None = None, **kwargs: object) -> bytes:
    """A Pyrogram / Kurigram ``.session`` file (``storage.pyrogram_writer.pyrogram_image`` arguments)."""
    return pyrogram_image(dc_id, new_auth_key() if auth_key is None else auth_key, **kwargs)  # type: ignore[arg-type]
