"""The forms sellers ship sessions in, and what intake reads from any of them.

Whatever the form (a Telethon or Pyrogram ``.session`` file, a Telethon / Pyrogram / GramJS session
string, a Telegram Desktop ``tdata`` folder), intake reads only these values and writes the stored
form itself: a fresh Telethon file with the DC table's address (``storage.sessionfile``, ``core.dcs``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from core import dcs


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
