"""Why an uploaded session file, sidecar or zip archive is refused (``core.errors.InvalidUpload.reason``).

Plain text, shown to the admin after the file's name in the upload summary (which escapes it). A reason
never quotes text from inside the file: only sizes, counts, version numbers and an entry's sanitised name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

UNNAMED = "(unnamed)"
"""The name shown for a document sent without a file name."""
DOWNLOAD_FAILED = "Telegram did not let me download it; send it again"


def file_too_large(size: int, limit: int) -> str:
    """Bigger than ``[pool] max_upload_bytes`` (``limit``): refused before it is read."""
    return f"the file is too large ({size} bytes; the limit is {limit})"


def too_large_for_bot(size: int, limit_mb: int) -> str:
    """Bigger than a bot may download from Telegram (``limit_mb``), whatever the configured limit."""
    return (
        f"the file is too large for a bot to download ({size} bytes; Telegram's limit is"
        f" {limit_mb} MB): split it or use 'adbot pool import'"
    )


# --- a batch of files (pool.intake) --------------------------------------------------------------------
# ``shown``: a file's name, sanitised for display; ``stem``: its name without the extension.

HIDDEN_SKIPPED = "hidden file (its name starts with a dot): skipped, not read"
UNSUPPORTED_TYPE = (
    "not a Telethon session: the file is not an SQLite database, a zip archive or session strings"
    " (unsupported file type: send .session files of Telethon or Pyrogram, session strings in a .txt, one"
    " per line, .json sidecars or a .zip of them)"
)
"""Told from the content, whatever the name: the file is none of the accepted forms."""
LONE_TDATA_FILE = (
    "a single file of a Telegram Desktop tdata folder: send the whole tdata folder zipped"
)
ARCHIVE_EMPTY = "the archive holds no files"
SIDECAR_NO_STEM = "the sidecar's name has no stem to match a session file with"


def duplicate(session_id: int) -> str:
    return f"duplicate: this session is already in the pool as #{session_id}"


def sidecar_rejected(shown: str, reason: str) -> str:
    """A session file refused because its sidecar was; ``reason``: why the sidecar was."""
    return f"its sidecar {shown} was rejected: {reason}"


def session_rejected(shown: str) -> str:
    """A sidecar refused because its session file was."""
    return f"its session {shown} was rejected"


def session_duplicate(shown: str) -> str:
    """A sidecar refused because its session file is already in the pool."""
    return f"its session {shown} is a duplicate"


def files_ambiguous(sessions: int, sidecars: int, stem: str) -> str:
    return f"ambiguous: {sessions} session file(s) and {sidecars} sidecar(s) are named {stem}"


def sidecars_ambiguous(sidecars: int, stem: str) -> str:
    return f"ambiguous: {sidecars} sidecars are named {stem}"


def no_session_named(stem: str) -> str:
    """A sidecar sent alone, and no session (in the batch or the pool) came from a file of its name."""
    return f"no session named {stem}.session in this upload or in the pool"


def several_sessions_named(count: int, stem: str) -> str:
    return f"{count} pool sessions came from files named {stem}.session; cannot tell which"


def app_id_full(api_id: int, used: int, capacity: int) -> str:
    """The sidecar's app id is a pool pair's, and that pair already has its cap of sessions."""
    return (
        f"its app id {api_id} is the API pair {api_id}, which already has {used} of {capacity} sessions:"
        " another would exceed the per-pair cap"
    )


def identity_fixed(session_id: int) -> str:
    """A sidecar sent after its session already connected: its app and device never change."""
    return (
        f"session #{session_id} already connects with its own API id and device; a sidecar sent later"
        " cannot change them"
    )


DISK_FULL = "the server's disk is full: the file was not added (free some space, then send it again)"
"""Writing it failed with ENOSPC, EDQUOT or EFBIG (the disk, a quota or the file size limit)."""
DATABASE_BUSY = "the database was busy: the file was not added; send it again"
DATABASE_FAILED = "the database could not store it: the file was not added (see the server log)"


def not_saved(strerror: str | None) -> str:
    """Writing the file failed for another reason; ``strerror``: the OS's text (never a path or content)."""
    why = f" ({strerror})" if strerror else ""
    return f"the file could not be saved on the server{why}: it was not added"


WAITS_FOR_PAIR = "waits for an API pair (none has room): add one to use it"
"""An accepted session no pool pair had room for (admins: upload summary, CLI import)."""

# --- session files (storage.sessionfile) ---------------------------------------------------------------

NOT_SQLITE = "not a Telethon session: the file is not an SQLite database"
HEADER_TRUNCATED = "truncated: the file ends inside the SQLite header"
BAD_PAGE_SIZE = "corrupt SQLite header (invalid page size)"
NO_SESSIONS_TABLE = "not a Telethon session: there is no sessions table"
PYROGRAM_SESSION = "a Pyrogram session, not a Telethon one"
NO_SCHEMA_VERSION = "not a complete Telethon session: no schema version"
BAD_DC_ID = "the data centre id is not 1..5"
NO_AUTH_KEY = "no auth key: the session is not logged in"
AUTH_KEY_NOT_BINARY = "the auth key is not binary data"
INTEGRITY_CHECK_FAILED = "corrupt SQLite database (the integrity check failed)"


def size_not_page_multiple(page_size: int) -> str:
    return f"truncated: the file size is not a multiple of its {page_size}-byte page size"


def shorter_than_header(expected: int, actual: int) -> str:
    return f"truncated: the header says {expected} bytes, the file has {actual}"


def sessions_not_a_table(kind: str) -> str:
    """``kind``: what ``sessions`` is instead ('view', 'virtual table', ...)."""
    return f"the sessions table is a {kind}, not a real table"


def table_missing(table: str) -> str:
    return f"not a complete Telethon session: the {table} table is missing"


def unsupported_version(version: int, supported: Iterable[int]) -> str:
    return f"unsupported Telethon session version {version} (supported: {', '.join(map(str, supported))})"


def wrong_columns(version: int) -> str:
    return f"the sessions table does not have Telethon's version {version} columns"


def wrong_row_count(count: int) -> str:
    return f"the sessions table has {count} rows, expected exactly 1"


def wrong_auth_key_size(size: int, expected: int) -> str:
    return f"the auth key is {size} bytes, expected {expected}"


def unreadable_database(error: str) -> str:
    """``error``: the exception's class name, never its message (it may quote the file)."""
    return f"corrupt or unreadable SQLite database ({error})"


# --- Pyrogram / Kurigram session files (storage.pyrogram_file) -----------------------------------------
# Each names the form first, so the admin knows the file was recognised and why it is still refused.

PYROGRAM_NO_VERSION = "a Pyrogram session with no schema version (an incomplete file)"
PYROGRAM_DAMAGED = "a Pyrogram session whose sessions table is damaged or not Pyrogram's"


def pyrogram_unsupported_version(version: int, newest: int) -> str:
    return f"a Pyrogram session of schema version {version}, which no known Pyrogram or Kurigram writes (1..{newest})"


def pyrogram_foreign_object(kind: str, name: str) -> str:
    """``kind``: 'trigger', 'view', 'table', 'index', 'virtual table'; ``name`` already sanitised."""
    article = "an" if kind[0] in "aeiou" else "a"
    return (
        f"a Pyrogram session carrying {article} {kind} Pyrogram never makes ({name!r}): refused, nothing of"
        " it was run"
    )


def pyrogram_wrong_row_count(count: int) -> str:
    return f"a Pyrogram session whose sessions table has {count} rows, expected exactly 1"


# --- values any form carries (pool.forms, storage.pyrogram_file) ---------------------------------------

BAD_TEST_DC_ID = "the data centre id is not 1..3 (Telegram's test servers have three)"
ZERO_AUTH_KEY = "the auth key is all zeros: the session is not logged in"
BOT_SESSION = "a bot's session, not a user account's: bots cannot be used"
BAD_FLAG = "a flag byte (test server, bot) is neither 0 nor 1: not a session"
BAD_USER_ID = "the user id is out of range"
BAD_API_ID = "the app id is out of range"
TEST_SERVER = (
    "a test-server session (Telegram's test data centres): refused; set [pool] allow_test_servers = true"
    " to accept them"
)


def app_id_without_hash(api_id: int) -> str:
    """A Pyrogram file or string named its app id; no sidecar gave the hash and it is no official app's."""
    return (
        f"its file's app id {api_id} was not usable without its app hash (send a .json sidecar with"
        " app_id and app_hash): it connects with a pool API pair instead"
    )


def official_app(name: str, api_id: int) -> str:
    """The session keeps the official app its file named (``core.official_apps``)."""
    return f"connects as {name} (app id {api_id}), the app its file names"


# --- session strings (pool.forms.strings) --------------------------------------------------------------


def string_line(shown: str, number: int) -> str:
    """How one session string of a text file is named in the results: ``keys.txt line 3``."""
    return f"{shown} line {number}"


NOT_A_SESSION_STRING = "not a session string (Telethon, Pyrogram or GramJS)"
STRING_NOT_BASE64 = "not a session string: it is not valid base64"
STRING_NOT_ASCII = "not a session string: it holds characters base64 never uses"
GRAMJS_BAD_ADDRESS = "a GramJS session string whose server address is not text"
TEXT_NOT_UTF8 = "a text file that is not UTF-8: send session strings as UTF-8 text, one per line"


def string_too_long(limit: int) -> str:
    return f"the line is longer than {limit} characters: no session string is"


def string_unknown_length(size: int) -> str:
    """``size``: the decoded bytes; Telethon, Pyrogram and GramJS strings each have known lengths."""
    return f"not a session string: it decodes to {size} bytes, which no Telethon, Pyrogram or GramJS layout has"


def text_too_large(size: int, limit: int) -> str:
    return f"the text file is too large for session strings ({size} bytes; at most {limit})"


def too_many_lines(count: int, limit: int) -> str:
    return f"the text file has {count} session string lines; at most {limit} per file"


def strings_ambiguous(count: int, stem: str) -> str:
    """A sidecar pairs with a file holding one session; the text file of its stem holds ``count``."""
    return (
        f"ambiguous: the text file {stem} holds {count} session strings and a sidecar pairs with a file"
        " holding one: send one string per file with its sidecar, or the strings without one"
    )


# --- sidecars (pool.sidecar) ---------------------------------------------------------------------------

BAD_APP_ID = "app_id must be a positive integer"
BAD_APP_HASH = "app_hash must be 32 hexadecimal characters"
SIDECAR_NOT_JSON = "the sidecar is not valid JSON"
SIDECAR_NOT_OBJECT = "the sidecar is not a JSON object"
SIDECAR_HALF_APP = "the sidecar has only one of app_id and app_hash"


def sidecar_too_big(limit_kb: int) -> str:
    return f"the sidecar is larger than {limit_kb} KB"


# --- zip archives (pool.archive) -----------------------------------------------------------------------
# ``shown``: the entry's base name, sanitised for display; it is quoted with repr().

NESTED_ARCHIVE = "the archive holds another archive (nested archives are not accepted)"


def entry_absolute(shown: str) -> str:
    return f"the archive entry {shown!r} has an absolute path"


def entry_outside(shown: str) -> str:
    return f"the archive entry {shown!r} points outside the archive ('..')"


def entry_encrypted(shown: str) -> str:
    return f"the archive entry {shown!r} is encrypted"


def entry_symlink(shown: str) -> str:
    return f"the archive entry {shown!r} is a symbolic link"


def entry_nested(shown: str) -> str:
    return f"the archive entry {shown!r} is itself an archive (nested archives are not accepted)"


def entry_too_big(shown: str, max_bytes: int) -> str:
    return f"the archive entry {shown!r} is larger than the upload limit ({max_bytes} bytes)"


def entry_unpacks_too_big(max_bytes: int) -> str:
    return f"an archive entry unpacks beyond the upload limit ({max_bytes} bytes)"


def archive_too_big(limit_mb: int) -> str:
    return f"the archive unpacks to more than {limit_mb} MB"


def too_many_entries(count: int, limit: int) -> str:
    return f"the archive has {count} entries; at most {limit} are accepted"


def not_a_zip(error: str) -> str:
    """``error``: the exception's class name."""
    return f"not a valid zip archive ({error})"


# --- beside an accepted session (``IntakeResult.note``) ------------------------------------------------


def address_ignored(address: str | None, port: int | None, dc_id: int) -> str:
    """The file named a server outside Telegram's networks, or an odd port (``core.dcs.is_foreign``).
    ``address`` is the file's address rebuilt from its number (a valid IP, never the file's raw text);
    None: the file named something that is no IP address (a host name, a blob), never shown. ``port``
    None: the file named no usable port."""
    if address is None:
        shown = "a server that is not an IP address"
    elif port is None:
        shown = f"server {address}"
    else:
        shown = f"server [{address}]:{port}" if ":" in address else f"server {address}:{port}"
    return (
        f"its file named {shown}, which is not Telegram's: ignored, it connects to data centre {dc_id}'s"
        " published address"
    )


def join_notes(*notes: str | None) -> str | None:
    """Several notes beside one accepted session, in one line."""
    present = [note for note in notes if note]
    return "; ".join(present) if present else None


# --- stored files an older version kept as uploaded (``pool.sanitize``, in the reconcile report) --------


def folder_rewritten(session_id: int, kinds: Sequence[str]) -> str:
    """A stored file (an older version kept the upload) carried objects Telethon's schema lacks
    (``kinds``: 'trigger', 'view', 'table', 'index', one per object): rewritten fresh from its key."""
    counts = ", ".join(f"{kinds.count(kind)} {kind}(s)" for kind in sorted(set(kinds)))
    return f"session #{session_id}: its file carried {counts} besides Telethon's schema; rewritten fresh"


def folder_unreadable(session_id: int) -> str:
    return f"session #{session_id}: its file could not be read to check it for triggers; left as is"


def folder_leftover_removed(path: str) -> str:
    """``path``: '<folder>/<name>.tmp', an interrupted rewrite (the session's file itself is intact)."""
    return f"removed the leftover of an interrupted rewrite: {path}"
