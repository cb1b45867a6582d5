"""The forms sellers ship sessions in, and what intake reads from any of them.

Whatever the form (a Telethon or Pyrogram ``.session`` file, a Telethon / Pyrogram / GramJS session
string, a Telegram Desktop ``tdata`` folder), intake reads only these values and writes the stored
form itself: a fresh Telethon file with the DC table's address (``storage.sessionfile``, ``core.dcs``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from core import dcs
from core.errors import InvalidUpload
from core.texts import intake as texts

AUTH_KEY_BYTES: Final = 256
MAX_USER_ID: Final = 2**63 - 1
MAX_API_ID: Final = 2**31 - 1


class Form(StrEnum):
    TELETHON_FILE = "telethon_file"
    PYROGRAM_FILE = "pyrogram_file"
    TELETHON_STRING = "telethon_string"
    PYROGRAM_STRING = "pyrogram_string"
    GRAMJS_STRING = "gramjs_string"
    TDATA = "tdata"


@dataclass(frozen=True)
class Extracted:
    """One account's session as read from an upload: the values the pool needs, nothing else."""

    form: Form
    dc_id: int
    auth_key: bytes = field(repr=False)  # the account's secret: written into the fresh file, never logged
    user_id: int | None = None  # when the form carries it (Pyrogram, tdata)
    api_id: int | None = None  # the app the session was made with, when the form says (Pyrogram, tdata)
    test_mode: bool = False  # a session of Telegram's test servers
    address: str | None = None  # the server the input named (a parsed IP, never raw text); judged only
    port: int | None = None  # its port, when the input names one (a Kurigram v7 row may hold NULL)
    odd_address: bool = False  # it named a server that is no IP, or an unusable port: ignored, never shown

    @property
    def auth_key_sha(self) -> str:
        """sha256 hex of the auth key: duplicate detection across forms without storing the key."""
        return hashlib.sha256(self.auth_key).hexdigest()

    @property
    def foreign_address(self) -> bool:
        """The input named an address outside Telegram's networks, or an odd port (``core.dcs``). A
        test-server session is judged too (the test DCs lie in Telegram's networks), and an address
        without a port is judged by the address alone: either way it is ignored, and the admin is told."""
        if self.odd_address:
            return True
        if self.address is None:
            return False
        if self.port is None:
            return not dcs.is_telegram_address(self.address)
        return dcs.is_foreign(self.address, self.port)


def checked(
    form: Form,
    dc_id: int,
    key: bytes,
    *,
    test: bool,
    user_id: int | None = None,
    api_id: int | None = None,
    address: str | None = None,
    port: int | None = None,
    odd: bool = False,
) -> Extracted:
    """The checks every form's values get, whatever they were read from (a string, a Pyrogram file):
    a DC of the production or test table, a 256-byte key that is not all zeros, ids in range. Raises
    ``InvalidUpload``; a 0 user or app id reads as absent."""
    if not 1 <= dc_id <= (len(dcs.TEST_DC_IDS) if test else len(dcs.DC_IDS)):
        raise InvalidUpload(texts.BAD_TEST_DC_ID() if test else texts.BAD_DC_ID())
    if len(key) != AUTH_KEY_BYTES:
        raise InvalidUpload(texts.wrong_auth_key_size(len(key), AUTH_KEY_BYTES))
    if not any(key):
        raise InvalidUpload(texts.ZERO_AUTH_KEY())
    if user_id is not None and not 0 <= user_id <= MAX_USER_ID:
        raise InvalidUpload(texts.BAD_USER_ID())
    if api_id is not None and not 0 <= api_id <= MAX_API_ID:
        raise InvalidUpload(texts.BAD_API_ID())
    return Extracted(
        form=form, dc_id=dc_id, auth_key=key, user_id=user_id or None, api_id=api_id or None, test_mode=test,
        address=address, port=port, odd_address=odd,
    )
