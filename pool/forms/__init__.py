"""One intake for every form sellers ship sessions in: the form is told from the content, never the name.

- ``SQLite format 3\\0``: a ``.session`` file, Telethon's or Pyrogram / Kurigram's by its schema
  (``storage.pyrogram_file.read_session_file``); read in ``pool.intake`` (in a thread), one session;
- ``PK``: a zip archive: its Telegram Desktop tdata folders first (``tdata_archive``: found by the
  central directory's names, only the few needed files read; ``pool.forms.tdata_zip``,
  ``pool.forms.tdata``), else unpacked by ``pool.intake`` (``pool.archive``); a tdata locked by a local
  passcode not given (or wrong) is a ``PasscodeNeeded`` refusal, and ``needs_passcode`` tells the bot
  which archive to ask the passcode for;
- ``TDF$``: one file of a Telegram Desktop tdata folder sent alone: refused (the folder is needed, zipped);
- UTF-8 text with session strings (Telethon, Pyrogram, GramJS), one per line, blank and ``#`` lines
  ignored: one result per line (``pool.forms.strings``);
- anything else: refused, with the reason.

Every reader returns ``core.session_forms.Extracted`` or raises ``InvalidUpload`` whose reason never
quotes the input. ``docs/SESSION_FORMS.md`` lists what is read from each form and every refusal.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import InvalidUpload
from core.session_forms import Extracted
from core.texts import intake as texts
from pool.forms import strings
from pool.forms.tdata import PasscodeNeeded
from pool.forms.tdata_crypto import TDF_MAGIC
from pool.forms.tdata_zip import TDataAccount, TDataArchive, needs_passcode, tdata_archive

__all__ = [
    "SQLITE_MAGIC",
    "TDF_MAGIC",
    "ZIP_MAGICS",
    "Kind",
    "PasscodeNeeded",
    "TDataAccount",
    "TDataArchive",
    "kind_of_content",
    "needs_passcode",
    "read_strings",
    "refusal",
    "tdata_archive",
]

SQLITE_MAGIC = b"SQLite format 3\x00"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


class Kind(StrEnum):
    SQLITE = "sqlite"  # a Telethon or Pyrogram session file
    ZIP = "zip"
    TDATA_FILE = "tdata_file"  # a lone file of a tdata folder
    STRINGS = "strings"  # text holding session strings
    OTHER = "other"


def kind_of_content(data: bytes) -> Kind:
    """What an upload is, from its first bytes (and, for text, its lines)."""
    if data.startswith(SQLITE_MAGIC):
        return Kind.SQLITE
    if data.startswith(ZIP_MAGICS):
        return Kind.ZIP
    if data.startswith(TDF_MAGIC):
        return Kind.TDATA_FILE
    if strings.holds_session_strings(data):
        return Kind.STRINGS
    return Kind.OTHER


def read_strings(shown: str, data: bytes) -> list[tuple[str, Extracted | InvalidUpload]]:
    """Each session string of a text file, shown as ``'<file> line <n>'``; raises InvalidUpload for the
    whole file (too large, not UTF-8, too many lines). Blocking (cheap: at most 256 KiB)."""
    return [(texts.string_line(shown, number), found) for number, found in strings.parse_strings_file(data)]


def refusal(kind: Kind) -> str | None:
    """Why an upload of this kind is refused outright; None for the kinds intake reads."""
    if kind is Kind.TDATA_FILE:
        return texts.LONE_TDATA_FILE()
    if kind is Kind.OTHER:
        return texts.UNSUPPORTED_TYPE()
    return None
