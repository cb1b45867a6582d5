"""Telethon ``.session`` files: validating an upload (treating it as hostile), writing one, and
checking a stored one for objects Telethon's schema lacks.

The bytes are checked before SQLite sees them (size, magic, header), then opened in memory
(``deserialize``: no copy on disk) with ``trusted_schema=OFF``, ``query_only=ON``, ``cell_size_check``
and checked with ``quick_check``; opening the real upload with Telethon would migrate it in place, and a
hostile schema could stand a view (or a trigger-laden table) in for the ``sessions`` table. Every
failure is an ``InvalidUpload`` whose reason is fit to show the admin (it never echoes text from the
file; the wording is ``core.texts.intake``).

The upload itself is never stored: only its DC id and auth key go into a file we write
(``fresh_image``), with the DC table's address (``core.dcs``) and nothing else, so its triggers, views,
extra tables and server address go nowhere. Files stored by older versions (which kept the upload's
bytes) are found by ``foreign_objects`` and rewritten the same way at start-up (``pool.sanitize``).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core import dcs
from core.errors import InvalidUpload
from core.session_forms import AUTH_KEY_BYTES, Extracted, Form
from core.texts import intake as texts

SQLITE_MAGIC = b"SQLite format 3\x00"
SUPPORTED_VERSIONS = (7, 8)  # Telethon's session schema: 7 (before 1.40) and 8 (tmp_auth_key added)
_BASE_COLUMNS = ["dc_id", "server_address", "port", "auth_key", "takeout_id"]
_EXPECTED_COLUMNS = {7: _BASE_COLUMNS, 8: [*_BASE_COLUMNS, "tmp_auth_key"]}
_OTHER_TABLES = ("version", "entities", "sent_files", "update_state")
_PYROGRAM_COLUMNS = {"api_id", "user_id", "is_bot", "test_mode"}


@dataclass(frozen=True)
class SessionInfo:
    """What a valid session file says. Only ``dc_id`` and ``auth_key`` go into the file intake writes;
    the address and port are kept to tell the admin that a foreign one was ignored."""

    dc_id: int
    auth_key: bytes = field(repr=False)  # the account's secret: written into the fresh file, never logged
    auth_key_sha: str  # sha256 hex of the auth key: duplicate detection without storing the key
    version: int
    address: str | None  # the file's server address, normalised (a valid IP; never the file's raw text)
    port: int | None  # None: not a port number 1..65535

    @property
    def odd_address(self) -> bool:
        """The file named a server that is no IP address (a host name, nothing, a blob) or an unusable
        port. Telethon would dial it; we never do, so the file is taken with its DC id and the admin told."""
        return self.address is None or self.port is None

    @property
    def foreign_address(self) -> bool:
        """The file named an address outside Telegram's networks, or an odd port (``core.dcs``)."""
        if self.address is None or self.port is None:
            return True
        return dcs.is_foreign(self.address, self.port)

    def extracted(self) -> Extracted:
        """The values intake reads from any form (a Telethon file has no user id, app id or test flag:
        Telethon keeps none; a test-server address says test, as for Telethon's strings)."""
        test = self.address is not None and dcs.is_test_address(self.address)
        if test and self.dc_id not in dcs.TEST_DC_IDS:
            raise InvalidUpload(texts.BAD_TEST_DC_ID())
        return Extracted(
            form=Form.TELETHON_FILE, dc_id=self.dc_id, auth_key=self.auth_key,
            test_mode=test, address=self.address, port=self.port, odd_address=self.odd_address,
        )


def check_header(data: bytes) -> bytes:
    """Check the SQLite header; returns the bytes to open (a WAL-mode image is read as a plain one)."""
    if not data.startswith(SQLITE_MAGIC):
        raise InvalidUpload(texts.NOT_SQLITE())
    if len(data) < 100:
        raise InvalidUpload(texts.HEADER_TRUNCATED())
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise InvalidUpload(texts.BAD_PAGE_SIZE())
    if len(data) % page_size:
        raise InvalidUpload(texts.size_not_page_multiple(page_size))
    page_count = int.from_bytes(data[28:32], "big")
    if data[24:28] == data[92:96] and page_count and len(data) < page_count * page_size:
        raise InvalidUpload(texts.shorter_than_header(page_count * page_size, len(data)))
    if data[18] == 2 or data[19] == 2:
        # WAL mode is a header flag; without its -wal file the main file is complete. Reading it as a
        # rollback-journal database needs no -shm beside a read-only file.
        data = data[:18] + b"\x01\x01" + data[20:]
    return data


def _check_schema(conn: sqlite3.Connection) -> int:
    kinds: dict[str, str] = {}
    for name, kind, sql in conn.execute("SELECT name, type, sql FROM sqlite_master"):
        # A virtual table is listed as a 'table' too, but reading it runs a module's code.
        virtual = kind == "table" and str(sql or "").lstrip().upper().startswith("CREATE VIRTUAL")
        kinds[str(name)] = "virtual table" if virtual else str(kind)
    if "sessions" not in kinds:
        raise InvalidUpload(texts.NO_SESSIONS_TABLE())
    if kinds["sessions"] != "table":
        raise InvalidUpload(texts.sessions_not_a_table(kinds["sessions"]))
    columns = [str(r[1]) for r in conn.execute("SELECT * FROM pragma_table_info('sessions')")]
    if _PYROGRAM_COLUMNS & set(columns):
        raise InvalidUpload(texts.PYROGRAM_SESSION())
    for table in _OTHER_TABLES:
        if kinds.get(table) != "table":
            raise InvalidUpload(texts.table_missing(table))
    versions = conn.execute("SELECT version FROM version").fetchall()
    if len(versions) != 1 or not isinstance(versions[0][0], int):
        raise InvalidUpload(texts.NO_SCHEMA_VERSION())
    version = int(versions[0][0])
    if version not in SUPPORTED_VERSIONS:
        raise InvalidUpload(texts.unsupported_version(version, SUPPORTED_VERSIONS))
    if columns != _EXPECTED_COLUMNS[version]:
        raise InvalidUpload(texts.wrong_columns(version))
    return version


def server_of(address: object, port: object) -> tuple[str | None, int | None]:
    """A stored server address and port as values we may show: the address rebuilt from its number (an
    IPv6 scope ('%eth0') is text from the file and is never shown), None for anything that is no IP
    address (a host name, NULL, a blob) or no port 1..65535. Neither is ever dialled (``core.dcs``)."""
    ip_text = None
    if isinstance(address, str) and len(address) <= 64:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            pass
        else:
            ip_text = str(type(ip)(int(ip)))
    usable_port = port if isinstance(port, int) and 1 <= port <= 65535 else None
    return ip_text, usable_port


def _check_row(conn: sqlite3.Connection) -> tuple[int, bytes, str | None, int | None]:
    count = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    if count != 1:
        raise InvalidUpload(texts.wrong_row_count(count))
    dc_id, address, port, key = conn.execute("SELECT dc_id, server_address, port, auth_key FROM sessions").fetchone()
    if not isinstance(dc_id, int) or not 1 <= dc_id <= 5:
        raise InvalidUpload(texts.BAD_DC_ID())
    if key is None or key in (b"", ""):
        raise InvalidUpload(texts.NO_AUTH_KEY())
    if not isinstance(key, bytes):
        raise InvalidUpload(texts.AUTH_KEY_NOT_BINARY())
    if len(key) != AUTH_KEY_BYTES:
        raise InvalidUpload(texts.wrong_auth_key_size(len(key), AUTH_KEY_BYTES))
    return (dc_id, key, *server_of(address, port))


def open_image(image: bytes) -> sqlite3.Connection:
    """The image as an in-memory database, read-only and distrusting its schema; nothing on disk."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.deserialize(image)
        conn.execute("PRAGMA trusted_schema = OFF")  # no function of the file's schema is ever run
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA cell_size_check = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _inspect(image: bytes) -> SessionInfo:
    conn = open_image(image)
    try:
        check = conn.execute("PRAGMA quick_check").fetchall()
        if check != [("ok",)]:
            raise InvalidUpload(texts.INTEGRITY_CHECK_FAILED())
        version = _check_schema(conn)
        dc_id, key, address, port = _check_row(conn)
    finally:
        conn.close()
    return SessionInfo(
        dc_id=dc_id, auth_key=key, auth_key_sha=hashlib.sha256(key).hexdigest(), version=version,
        address=address, port=port,
    )


def validate_session(data: bytes) -> SessionInfo:
    """Check an uploaded session file's bytes (blocking: run it in a thread); raises InvalidUpload.

    Writes nothing anywhere: the header-checked image is opened in memory (``deserialize``), so no copy
    of the upload (with its auth key) ever lands in the system temp folder, where a SIGKILL would leave
    it. Its triggers, views and extra tables are never run and never kept: intake writes a fresh file
    from the returned values (``fresh_image``)."""
    image = check_header(data)
    try:
        return _inspect(image)
    except InvalidUpload:
        raise
    except (sqlite3.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        # Damaged files fail in many ways, including UnicodeDecodeError from sqlite's own messages.
        raise InvalidUpload(texts.unreadable_database(type(exc).__name__)) from None


# --- writing ------------------------------------------------------------------------------------------

_TABLES = (
    "version (version integer primary key)",
    "entities (id integer primary key, hash integer not null, username text, phone integer, name text, date integer)",
    "sent_files (md5_digest blob, file_size integer, type integer, id integer, hash integer,"
    " primary key(md5_digest, file_size, type))",
    "update_state (id integer primary key, pts integer, qts integer, date integer, seq integer)",
)


def session_image(dc_id: int, address: str, port: int, key: bytes, version: int = 8) -> bytes:
    """The bytes of a logged-in ``.session`` file in Telethon's schema ``version`` (7 or 8), holding
    nothing but what is given: no trigger, no view, no extra table (``telethon/sessions/sqlite.py``)."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError("only Telethon session schema versions 7 and 8 are written")
    conn = sqlite3.connect(":memory:")
    try:
        for table in _TABLES:
            conn.execute(f"create table {table}")
        columns = "dc_id integer primary key, server_address text, port integer, auth_key blob, takeout_id integer"
        if version >= 8:
            columns += ", tmp_auth_key blob"
        conn.execute(f"create table sessions ({columns})")
        conn.execute("insert into version values (?)", (version,))
        values: tuple[Any, ...] = (dc_id, address, port, key, None)
        if version >= 8:
            values += (b"",)
        conn.execute(f"insert into sessions values ({', '.join('?' * len(values))})", values)
        conn.commit()
        return conn.serialize()
    finally:
        conn.close()


def auth_key_sha_of_file(path: Path) -> str | None:
    """sha256 (hex) of the auth key in a session file we wrote, read read-only; None if unreadable."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT auth_key FROM sessions").fetchone()
        finally:
            conn.close()
    except (sqlite3.Error, OSError, UnicodeDecodeError, ValueError):
        return None
    if row is None or not isinstance(row[0], bytes) or not row[0]:
        return None
    return hashlib.sha256(row[0]).hexdigest()


def fresh_image(info: SessionInfo | Extracted, *, ipv6: bool = False) -> bytes:
    """The file intake stores for a validated upload (any form): its DC id and auth key, the DC table's
    address (IPv6 when ``[pool] ipv6``; the test table for a test-server session) on port 443, Telethon's
    current schema, nothing else."""
    test = isinstance(info, Extracted) and info.test_mode
    return session_image(info.dc_id, dcs.address_for(info.dc_id, ipv6=ipv6, test=test), dcs.PORT, info.auth_key)


def _schema_of(conn: sqlite3.Connection) -> set[tuple[str, str, str]]:
    """(type, name, definition) of every object; definitions compared without case or spacing, so a
    file Telethon itself made or migrated matches ours."""
    return {
        (str(kind), str(name), "".join(str(sql or "").lower().split()))
        for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master")
    }


@functools.cache
def _telethon_schemas() -> tuple[frozenset[tuple[str, str, str]], ...]:
    """The objects of a file ``session_image`` writes, one set per Telethon schema version (7 and 8): a
    version-7 file (Telethon before 1.40; an upload stored as is by an older adbot) is Telethon's own and
    clean, and Telethon migrates it itself when the engine first opens it."""
    schemas = []
    for version in SUPPORTED_VERSIONS:
        conn = open_image(session_image(2, dcs.address_for(2), dcs.PORT, bytes(AUTH_KEY_BYTES), version))
        try:
            schemas.append(frozenset(_schema_of(conn)))
        finally:
            conn.close()
    return tuple(schemas)


def foreign_objects(path: Path) -> list[str] | None:
    """The kinds of the objects in a stored session file that a file we write lacks ('trigger',
    'view', 'table', 'index'; a table of Telethon's defined otherwise counts as 'table'), one entry
    each, sorted, judged against the Telethon schema version it is closest to (7 or 8: the whole file
    must match one of them); [] for a clean file, None when it cannot be read. Blocking.

    Cheap enough for every file at every start (open, one read of ``sqlite_master``, close) and runs
    nothing of the file's: read-only and ``immutable`` (no lock, no journal or ``-shm`` created; one
    instance per data dir means no client has it open), ``trusted_schema=OFF``, ``query_only``."""
    try:
        # abspath, not resolve(): no syscall per path component (once per session file at every start)
        uri = f"file:{quote(os.path.abspath(path))}?mode=ro&immutable=1"  # noqa: PTH100
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            conn.execute("PRAGMA query_only = ON")
            found = _schema_of(conn)
        finally:
            conn.close()
    except (sqlite3.Error, OSError, UnicodeDecodeError, ValueError):
        return None
    return min((sorted(kind for kind, _name, _sql in found - schema) for schema in _telethon_schemas()), key=len)
