"""Why an uploaded session file, sidecar or zip archive is refused (``core.errors.InvalidUpload.reason``).

Plain text, shown to the admin after the file's name in the upload summary (which escapes it). A reason
never quotes text from inside the file: only sizes, counts, version numbers and an entry's sanitised name.
Each reason is a clause after the file's name and a colon ("a.session: the file is too large (...)").

``adbot pool import`` prints the same reasons: their English is what it always printed (a reason with
two counts keeps its "(s)"; the Russian says each count after a colon). The findings of the start-up
check of stored files (``folder_*``) are the operator's: marked like every text, the terminal prints them
in English.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.i18n import N_, _
from core.texts.fmt import tr


def UNNAMED() -> str:
    """The name shown for a document sent without a file name."""
    return _("(unnamed)")


def DOWNLOAD_FAILED() -> str:
    return _("Telegram did not let me download it; send it again")


def file_too_large(size: int, limit: int) -> str:
    """Bigger than ``[pool] max_upload_bytes`` (``limit``): refused before it is read."""
    return _("the file is too large ({size} bytes; the limit is {limit})", size=size, limit=limit)


def too_large_for_bot(size: int, limit_mb: int) -> str:
    """Bigger than a bot may download from Telegram (``limit_mb``), whatever the configured limit."""
    return _(
        "the file is too large for a bot to download ({size} bytes; Telegram's limit is {limit} MB): split it or"
        " use 'adbot pool import'",
        size=size,
        limit=limit_mb,
    )


# --- a batch of files (pool.intake) --------------------------------------------------------------------
# ``shown``: a file's name, sanitised for display; ``stem``: its name without the extension.


def HIDDEN_SKIPPED() -> str:
    return _("hidden file (its name starts with a dot): skipped, not read")


def UNSUPPORTED_TYPE() -> str:
    """Told from the content, whatever the name: the file is none of the accepted forms."""
    return _(
        "not a Telethon session: the file is not an SQLite database, a zip archive or session strings"
        " (unsupported file type: send .session files of Telethon or Pyrogram, session strings in a .txt, one"
        " per line, .json sidecars or a .zip of them)"
    )


def LONE_TDATA_FILE() -> str:
    return _("a single file of a Telegram Desktop tdata folder: send the whole tdata folder zipped")


def ARCHIVE_EMPTY() -> str:
    return _("the archive holds no files")


def SIDECAR_NO_STEM() -> str:
    return _("the sidecar's name has no stem to match a session file with")


def duplicate(session_id: int) -> str:
    return _("duplicate: this session is already in the pool as #{session}", session=session_id)


def sidecar_rejected(shown: str, reason: str) -> str:
    """A session file refused because its sidecar was; ``reason``: why the sidecar was."""
    return _("its sidecar {sidecar} was rejected: {reason}", sidecar=shown, reason=reason)


def session_rejected(shown: str) -> str:
    """A sidecar refused because its session file was."""
    return _("its session {session} was rejected", session=shown)


def session_duplicate(shown: str) -> str:
    """A sidecar refused because its session file is already in the pool."""
    return _("its session {session} is a duplicate", session=shown)


def files_ambiguous(sessions: int, sidecars: int, stem: str) -> str:
    return _("ambiguous: {sessions} session file(s) and {sidecars} sidecar(s) are named {stem}", sessions=sessions,
             sidecars=sidecars, stem=stem)


def sidecars_ambiguous(sidecars: int, stem: str) -> str:
    return _("ambiguous: {sidecars} sidecars are named {stem}", sidecars=sidecars, stem=stem)


def no_session_named(stem: str) -> str:
    """A sidecar sent alone, and no session (in the batch or the pool) came from a file of its name."""
    return _("no session named {stem}.session in this upload or in the pool", stem=stem)


def several_sessions_named(count: int, stem: str) -> str:
    return _("{count} pool sessions came from files named {stem}.session; cannot tell which", count=count, stem=stem)


def app_id_full(api_id: int, used: int, capacity: int) -> str:
    """The sidecar's app id is a pool pair's, and that pair already has its cap of sessions."""
    return _(
        "its app id {api_id} is the API pair {api_id}, which already has {used} of {capacity} sessions: another"
        " would exceed the per-pair cap",
        api_id=api_id,
        used=used,
        capacity=capacity,
    )


def identity_fixed(session_id: int) -> str:
    """A sidecar sent after its session already connected: its app and device never change."""
    return _(
        "session #{session} already connects with its own API id and device; a sidecar sent later cannot change"
        " them",
        session=session_id,
    )


def DISK_FULL() -> str:
    """Writing it failed with ENOSPC, EDQUOT or EFBIG (the disk, a quota or the file size limit)."""
    return _("the server's disk is full: the file was not added (free some space, then send it again)")


def DATABASE_BUSY() -> str:
    return _("the database was busy: the file was not added; send it again")


def DATABASE_FAILED() -> str:
    return _("the database could not store it: the file was not added (see the server log)")


def not_saved(strerror: str | None) -> str:
    """Writing the file failed for another reason; ``strerror``: the OS's text (never a path or content)."""
    if strerror:
        return _("the file could not be saved on the server ({error}): it was not added", error=strerror)
    return _("the file could not be saved on the server: it was not added")


def WAITS_FOR_PAIR() -> str:
    """An accepted session no pool pair had room for (admins: upload summary, CLI import)."""
    return _("waits for an API pair (none has room): add one to use it")


def lacks_note(lacks: Sequence[str]) -> str:
    """Beside an uploaded session stored without a usable API pair: what it lacks (``pool.intake``'s
    ``NO_*`` keys: ``IntakeResult.lacks``) and what would let it connect. Plain text (the upload summary
    escapes it); without keys, the general note (``WAITS_FOR_PAIR``)."""
    if "sidecar_app" in lacks:
        return _(
            "waits for an API pair: none has room, and its .json sidecar has no app_id and app_hash; "
            "add a pair with /addpair or send a sidecar with them"
        )
    if "sidecar" in lacks:
        return _(
            "waits for an API pair: none has room, and no .json sidecar came with it; "
            "add a pair with /addpair or send its sidecar"
        )
    return WAITS_FOR_PAIR()


# --- session files (storage.sessionfile) ---------------------------------------------------------------


def NOT_SQLITE() -> str:
    return _("not a Telethon session: the file is not an SQLite database")


def HEADER_TRUNCATED() -> str:
    return _("truncated: the file ends inside the SQLite header")


def BAD_PAGE_SIZE() -> str:
    return _("corrupt SQLite header (invalid page size)")


def NO_SESSIONS_TABLE() -> str:
    return _("not a Telethon session: there is no sessions table")


def PYROGRAM_SESSION() -> str:
    return _("a Pyrogram session, not a Telethon one")


def NO_SCHEMA_VERSION() -> str:
    return _("not a complete Telethon session: no schema version")


def BAD_DC_ID() -> str:
    return _("the data centre id is not 1..5")


def NO_AUTH_KEY() -> str:
    return _("no auth key: the session is not logged in")


def AUTH_KEY_NOT_BINARY() -> str:
    return _("the auth key is not binary data")


def INTEGRITY_CHECK_FAILED() -> str:
    return _("corrupt SQLite database (the integrity check failed)")


def size_not_page_multiple(page_size: int) -> str:
    return _("truncated: the file size is not a multiple of its {page_size}-byte page size", page_size=page_size)


def shorter_than_header(expected: int, actual: int) -> str:
    return _("truncated: the header says {expected} bytes, the file has {actual}", expected=expected, actual=actual)


# SQLite's kinds of schema objects (``sqlite_master.type``), as a reason names them.
_OBJECT_KINDS = {
    "table": N_("table"),
    "view": N_("view"),
    "index": N_("index"),
    "trigger": N_("trigger"),
    "virtual table": N_("virtual table"),
}


def _kind(kind: str) -> str:
    words = _OBJECT_KINDS.get(kind)
    return tr(words) if words is not None else kind


def sessions_not_a_table(kind: str) -> str:
    """``kind``: what ``sessions`` is instead ('view', 'virtual table', ...)."""
    return _("the sessions table is a {kind}, not a real table", kind=_kind(kind))


def table_missing(table: str) -> str:
    return _("not a complete Telethon session: the {table} table is missing", table=table)


def unsupported_version(version: int, supported: Iterable[int]) -> str:
    return _("unsupported Telethon session version {version} (supported: {supported})", version=version,
             supported=", ".join(map(str, supported)))


def wrong_columns(version: int) -> str:
    return _("the sessions table does not have Telethon's version {version} columns", version=version)


def wrong_row_count(count: int) -> str:
    return _("the sessions table has {count} rows, expected exactly 1", count=count)


def wrong_auth_key_size(size: int, expected: int) -> str:
    return _("the auth key is {size} bytes, expected {expected}", size=size, expected=expected)


def unreadable_database(error: str) -> str:
    """``error``: the exception's class name, never its message (it may quote the file)."""
    return _("corrupt or unreadable SQLite database ({error})", error=error)


# --- Pyrogram / Kurigram session files (storage.pyrogram_file) -----------------------------------------
# Each names the form first, so the admin knows the file was recognised and why it is still refused.


def PYROGRAM_NO_VERSION() -> str:
    return _("a Pyrogram session with no schema version (an incomplete file)")


def PYROGRAM_DAMAGED() -> str:
    return _("a Pyrogram session whose sessions table is damaged or not Pyrogram's")


def pyrogram_unsupported_version(version: int, newest: int) -> str:
    return _("a Pyrogram session of schema version {version}, which no known Pyrogram or Kurigram writes"
             " (1..{newest})", version=version, newest=newest)


def pyrogram_foreign_object(kind: str, name: str) -> str:
    """``kind``: 'trigger', 'view', 'table', 'index', 'virtual table'; ``name`` already sanitised. One
    whole sentence per kind (the article and, in other languages, the kind's gender differ)."""
    shown = repr(name)
    if kind == "trigger":
        return _("a Pyrogram session carrying a trigger Pyrogram never makes ({name}): refused, nothing of it was"
                 " run", name=shown)
    if kind == "view":
        return _("a Pyrogram session carrying a view Pyrogram never makes ({name}): refused, nothing of it was run",
                 name=shown)
    if kind == "table":
        return _("a Pyrogram session carrying a table Pyrogram never makes ({name}): refused, nothing of it was"
                 " run", name=shown)
    if kind == "virtual table":
        return _("a Pyrogram session carrying a virtual table Pyrogram never makes ({name}): refused, nothing of it"
                 " was run", name=shown)
    if kind == "index":
        return _("a Pyrogram session carrying an index Pyrogram never makes ({name}): refused, nothing of it was"
                 " run", name=shown)
    return _("a Pyrogram session carrying an object Pyrogram never makes ({name}, {kind}): refused, nothing of it"
             " was run", name=shown, kind=_kind(kind))


def pyrogram_wrong_row_count(count: int) -> str:
    return _("a Pyrogram session whose sessions table has {count} rows, expected exactly 1", count=count)


# --- values any form carries (pool.forms, storage.pyrogram_file) ---------------------------------------


def BAD_TEST_DC_ID() -> str:
    return _("the data centre id is not 1..3 (Telegram's test servers have three)")


def ZERO_AUTH_KEY() -> str:
    return _("the auth key is all zeros: the session is not logged in")


def BOT_SESSION() -> str:
    return _("a bot's session, not a user account's: bots cannot be used")


def BAD_FLAG() -> str:
    return _("a flag byte (test server, bot) is neither 0 nor 1: not a session")


def BAD_USER_ID() -> str:
    return _("the user id is out of range")


def BAD_API_ID() -> str:
    return _("the app id is out of range")


def TEST_SERVER() -> str:
    return _(
        "a test-server session (Telegram's test data centres): refused; set [pool] allow_test_servers = true"
        " to accept them"
    )


def app_id_without_hash(api_id: int) -> str:
    """A Pyrogram file or string named its app id; no sidecar gave the hash and it is no official app's."""
    return _(
        "its file's app id {api_id} was not usable without its app hash (send a .json sidecar with app_id and"
        " app_hash): it connects with a pool API pair instead",
        api_id=api_id,
    )


def official_app(name: str, api_id: int) -> str:
    """The session keeps the official app its file named (``core.official_apps``)."""
    return _("connects as {app} (app id {api_id}), the app its file names", app=name, api_id=api_id)


# --- session strings (pool.forms.strings) --------------------------------------------------------------


def string_line(shown: str, number: int) -> str:
    """How one session string of a text file is named in the results: ``keys.txt line 3``."""
    return _("{file} line {number}", file=shown, number=number)


def NOT_A_SESSION_STRING() -> str:
    return _("not a session string (Telethon, Pyrogram or GramJS)")


def STRING_NOT_BASE64() -> str:
    return _("not a session string: it is not valid base64")


def STRING_NOT_ASCII() -> str:
    return _("not a session string: it holds characters base64 never uses")


def GRAMJS_BAD_ADDRESS() -> str:
    return _("a GramJS session string whose server address is not text")


def TEXT_NOT_UTF8() -> str:
    return _("a text file that is not UTF-8: send session strings as UTF-8 text, one per line")


def string_too_long(limit: int) -> str:
    return _("the line is longer than {limit} characters: no session string is", limit=limit)


def string_unknown_length(size: int) -> str:
    """``size``: the decoded bytes; Telethon, Pyrogram and GramJS strings each have known lengths."""
    return _("not a session string: it decodes to {size} bytes, which no Telethon, Pyrogram or GramJS layout has",
             size=size)


def text_too_large(size: int, limit: int) -> str:
    return _("the text file is too large for session strings ({size} bytes; at most {limit})", size=size,
             limit=limit)


def too_many_lines(count: int, limit: int) -> str:
    return _("the text file has {count} session string lines; at most {limit} per file", count=count, limit=limit)


def strings_ambiguous(count: int, stem: str) -> str:
    """A sidecar pairs with a file holding one session; the text file of its stem holds ``count``."""
    return _(
        "ambiguous: the text file {stem} holds {count} session strings and a sidecar pairs with a file holding"
        " one: send one string per file with its sidecar, or the strings without one",
        stem=stem,
        count=count,
    )


# --- sidecars (pool.sidecar) ---------------------------------------------------------------------------


def BAD_APP_ID() -> str:
    return _("app_id must be a positive integer")


def BAD_APP_HASH() -> str:
    return _("app_hash must be 32 hexadecimal characters")


def SIDECAR_NOT_JSON() -> str:
    return _("the sidecar is not valid JSON")


def SIDECAR_NOT_OBJECT() -> str:
    return _("the sidecar is not a JSON object")


def SIDECAR_HALF_APP() -> str:
    return _("the sidecar has only one of app_id and app_hash")


def sidecar_too_big(limit_kb: int) -> str:
    return _("the sidecar is larger than {limit} KB", limit=limit_kb)


# --- zip archives (pool.archive) -----------------------------------------------------------------------
# ``shown``: the entry's base name, sanitised for display; it is quoted with repr().


def NESTED_ARCHIVE() -> str:
    return _("the archive holds another archive (nested archives are not accepted)")


def entry_absolute(shown: str) -> str:
    return _("the archive entry {entry} has an absolute path", entry=repr(shown))


def entry_outside(shown: str) -> str:
    return _("the archive entry {entry} points outside the archive ('..')", entry=repr(shown))


def entry_encrypted(shown: str) -> str:
    return _("the archive entry {entry} is encrypted", entry=repr(shown))


def entry_symlink(shown: str) -> str:
    return _("the archive entry {entry} is a symbolic link", entry=repr(shown))


def entry_nested(shown: str) -> str:
    return _("the archive entry {entry} is itself an archive (nested archives are not accepted)", entry=repr(shown))


def entry_too_big(shown: str, max_bytes: int) -> str:
    return _("the archive entry {entry} is larger than the upload limit ({limit} bytes)", entry=repr(shown),
             limit=max_bytes)


def entry_unpacks_too_big(max_bytes: int) -> str:
    return _("an archive entry unpacks beyond the upload limit ({limit} bytes)", limit=max_bytes)


def archive_too_big(limit_mb: int) -> str:
    return _("the archive unpacks to more than {limit} MB", limit=limit_mb)


def too_many_entries(count: int, limit: int) -> str:
    return _("the archive has {count} entries; at most {limit} are accepted", count=count, limit=limit)


def not_a_zip(error: str) -> str:
    """``error``: the exception's class name."""
    return _("not a valid zip archive ({error})", error=error)


# --- beside an accepted session (``IntakeResult.note``) ------------------------------------------------


def address_ignored(address: str | None, port: int | None, dc_id: int) -> str:
    """The file named a server outside Telegram's networks, or an odd port (``core.dcs.is_foreign``).
    ``address`` is the file's address rebuilt from its number (a valid IP, never the file's raw text);
    None: the file named something that is no IP address (a host name, a blob), never shown. ``port``
    None: the file named no usable port."""
    if address is None:
        return _("its file named a server that is not an IP address, which is not Telegram's: ignored, it connects"
                 " to data centre {dc}'s published address", dc=dc_id)
    bracketed = f"[{address}]" if ":" in address else address  # an IPv6 address before its port
    server = address if port is None else f"{bracketed}:{port}"
    return _("its file named server {server}, which is not Telegram's: ignored, it connects to data centre {dc}'s"
             " published address", server=server, dc=dc_id)


def join_notes(*notes: str | None) -> str | None:
    """Several notes beside one accepted session, in one line."""
    present = [note for note in notes if note]
    return "; ".join(present) if present else None


# --- stored files an older version kept as uploaded (``pool.sanitize``, in the reconcile report) --------


def folder_rewritten(session_id: int, kinds: Sequence[str]) -> str:
    """A stored file (an older version kept the upload) carried objects Telethon's schema lacks
    (``kinds``: 'trigger', 'view', 'table', 'index', one per object): rewritten fresh from its key."""
    counts = ", ".join(f"{kinds.count(kind)} {kind}(s)" for kind in sorted(set(kinds)))
    return _(
        "session #{session_id}: its file carried {counts} besides Telethon's schema; rewritten fresh",
        session_id=session_id,
        counts=counts,
    )


def folder_unreadable(session_id: int) -> str:
    return _(
        "session #{session_id}: its file could not be read to check it for triggers; left as is",
        session_id=session_id,
    )


def folder_leftover_removed(path: str) -> str:
    """``path``: '<folder>/<name>.tmp', an interrupted rewrite (the session's file itself is intact)."""
    return _("removed the leftover of an interrupted rewrite: {path}", path=path)


# The findings of the start-up check of the session folders (``pool.reconcile``), one line each.


def side_files(file_name: str) -> str:
    """What moved when only a session's SQLite side files (journal, WAL) were out of place."""
    return _("{file_name} (side files)", file_name=file_name)


def folder_moved(name: str, src: str, dst: str) -> str:
    return _("moved {name}: {src}/ -> {dst}/", name=name, src=src, dst=dst)


def folder_unknown_file(path: str) -> str:
    return _("unknown file (left in place): {path}", path=path)


def folder_file_missing(session_id: int, folder: str) -> str:
    return _("session #{session_id}: file missing from {folder}", session_id=session_id, folder=folder)


def interrupted_uploads(completed: int, removed: int) -> str:
    """Start-up settled the leftovers of uploads a crash interrupted (``pool.staging``)."""
    return _(
        "interrupted uploads: {completed} completed (their rows had been saved), {removed} removed (never saved)",
        completed=completed,
        removed=removed,
    )


def folder_conflict(session_id: int, paths: Sequence[str]) -> str:
    return _(
        "session #{session_id}: file found in several places, left alone: {join}",
        session_id=session_id,
        join=", ".join(paths),
    )
