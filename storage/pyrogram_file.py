"""Pyrogram / Kurigram ``.session`` files: reading an upload (hostile until proven otherwise), and
telling a Telethon file from a Pyrogram one by its schema, never its name.

Opened exactly as a Telethon upload is (``storage.sessionfile``: header checks, in memory with
``deserialize``, ``trusted_schema=OFF``, ``query_only``, ``cell_size_check``, ``quick_check``). Then every
object of the schema must be one Pyrogram or Kurigram makes (schema versions 1..7): the tables
``sessions, peers, version, usernames, update_state``, their indexes, and Pyrogram's own trigger
``trg_peers_last_update_on`` on ``peers`` (a trigger runs only on writes; nothing is ever written). Any
other trigger, any view, any other or virtual table refuses the file, so nothing of the uploader's runs
and a view standing in for ``sessions`` is refused before anything is read from it. Column order differs
with a file's migration history, so values are read by column name.

Only the DC id, auth key, test flag, user id and app id are read; the pool stores a fresh Telethon file
written from them (``sessionfile.fresh_image``). Kurigram's v7 ``server_address`` and ``port`` are read
only to be judged, as a Telethon file's are: a foreign one is named in the result (rebuilt from the
parsed IP, never the file's text), then ignored. Either may be NULL (no address: nothing to judge; no
port: the address alone is judged).
"""

from __future__ import annotations

import sqlite3

from core.errors import InvalidUpload
from core.session_forms import Extracted, Form, checked
from core.texts import intake as texts
from storage.sessionfile import check_header, open_image, server_of, validate_session

NEWEST_VERSION = 7  # Kurigram's SQLiteStorage.VERSION; Pyrogram's releases wrote 1..3 (4 unreleased)
_TABLES = frozenset({"sessions", "peers", "version", "usernames", "update_state"})
_INDEXES = frozenset({
    "idx_peers_id", "idx_peers_username", "idx_peers_phone_number", "idx_usernames_id", "idx_usernames_username",
})
_TRIGGER = "trg_peers_last_update_on"
_PYROGRAM_COLUMNS = frozenset({"test_mode", "user_id", "is_bot", "api_id"})
"""Columns of Pyrogram's ``sessions`` table that Telethon's never has: their presence says Pyrogram."""
_REQUIRED = frozenset({"dc_id", "test_mode", "auth_key", "user_id", "is_bot"})


def _shown(name: object) -> str:
    """An object's name from the file, safe to show: printable ASCII, bounded."""
    text = "".join(c if c.isascii() and c.isprintable() else "?" for c in str(name))
    return text[:40] + ("…" if len(text) > 40 else "")


def _kinds(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(kind, name, table) of every schema object; a virtual table is its own kind (reading one runs a
    module's code)."""
    found = []
    for kind, name, table, sql in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"):
        virtual = kind == "table" and str(sql or "").lstrip().upper().startswith("CREATE VIRTUAL")
        found.append(("virtual table" if virtual else str(kind), str(name), str(table)))
    return found


def _is_pyrogram(conn: sqlite3.Connection, kinds: list[tuple[str, str, str]]) -> bool:
    if ("table", "sessions") not in {(kind, name) for kind, name, _t in kinds}:
        return False
    columns = {str(r[0]) for r in conn.execute("SELECT name FROM pragma_table_info('sessions')")}
    return bool(columns & _PYROGRAM_COLUMNS)


def _check_objects(kinds: list[tuple[str, str, str]]) -> None:
    for kind, name, table in kinds:
        allowed = (
            (kind == "table" and name in _TABLES)
            or (kind == "index" and (name in _INDEXES or name.startswith("sqlite_autoindex_")))
            or (kind == "trigger" and name == _TRIGGER and table == "peers")
        )
        if not allowed:
            raise InvalidUpload(texts.pyrogram_foreign_object(kind, _shown(name)))


def _server(conn: sqlite3.Connection, columns: set[str]) -> tuple[str | None, int | None, bool]:
    """Kurigram v7's server address and port (None where the file has no such column or NULL), judged as a
    Telethon file's are (``storage.sessionfile.server_of``); the third value says the file named a server
    that is no IP address or an unusable port: ignored like any address, and the admin told."""
    address_column = "server_address" if "server_address" in columns else "NULL"  # our names, never the file's
    port_column = "port" if "port" in columns else "NULL"
    address, port = conn.execute(f"SELECT {address_column}, {port_column} FROM sessions").fetchone()
    ip_text, usable_port = server_of(address, port)
    odd = (address is not None and ip_text is None) or (port is not None and usable_port is None)
    return ip_text, usable_port, odd


def _read(conn: sqlite3.Connection) -> Extracted:
    columns = {str(r[0]) for r in conn.execute("SELECT name FROM pragma_table_info('sessions')")}
    version_columns = [str(r[0]) for r in conn.execute("SELECT name FROM pragma_table_info('version')")]
    if not columns >= _REQUIRED or version_columns != ["number"]:
        raise InvalidUpload(texts.PYROGRAM_DAMAGED())
    versions = conn.execute("SELECT number FROM version").fetchall()
    if len(versions) != 1 or not isinstance(versions[0][0], int):
        raise InvalidUpload(texts.PYROGRAM_NO_VERSION())
    version = int(versions[0][0])
    if not 1 <= version <= NEWEST_VERSION:
        raise InvalidUpload(texts.pyrogram_unsupported_version(version, NEWEST_VERSION))
    count = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    if count != 1:
        raise InvalidUpload(texts.pyrogram_wrong_row_count(count))
    api_column = "api_id" if "api_id" in columns else "NULL"  # a name from our own set, never the file's
    dc_id, api_id, test, key, user_id, bot = conn.execute(
        f"SELECT dc_id, {api_column}, test_mode, auth_key, user_id, is_bot FROM sessions"
    ).fetchone()
    if test not in (0, 1, None) or bot not in (0, 1, None):
        raise InvalidUpload(texts.BAD_FLAG())
    if bot:
        raise InvalidUpload(texts.BOT_SESSION())
    if not isinstance(dc_id, int):
        raise InvalidUpload(texts.BAD_TEST_DC_ID() if test else texts.BAD_DC_ID())
    if key is None or key in (b"", ""):
        raise InvalidUpload(texts.NO_AUTH_KEY())
    if not isinstance(key, bytes):
        raise InvalidUpload(texts.AUTH_KEY_NOT_BINARY())
    if user_id is not None and not isinstance(user_id, int):
        raise InvalidUpload(texts.BAD_USER_ID())
    if api_id is not None and not isinstance(api_id, int):
        raise InvalidUpload(texts.BAD_API_ID())
    address, port, odd = _server(conn, columns)
    return checked(
        Form.PYROGRAM_FILE, dc_id, key, test=bool(test), user_id=user_id, api_id=api_id,
        address=address, port=port if address is not None else None, odd=odd,
    )


def read_session_file(data: bytes) -> Extracted:
    """An uploaded SQLite session file, Telethon's or Pyrogram's (told by its schema); raises InvalidUpload.
    Blocking: run it in a thread. Writes nothing anywhere."""
    image = check_header(data)
    try:
        conn = open_image(image)
        try:
            if conn.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                raise InvalidUpload(texts.INTEGRITY_CHECK_FAILED())
            kinds = _kinds(conn)
            if _is_pyrogram(conn, kinds):
                _check_objects(kinds)  # before anything is read from a table
                return _read(conn)
        finally:
            conn.close()
    except InvalidUpload:
        raise
    except (sqlite3.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise InvalidUpload(texts.unreadable_database(type(exc).__name__)) from None
    return validate_session(data).extracted()
