"""Pyrogram / Kurigram ``.session`` files of every schema version (1..7), written from given values.

adbot never stores one (the pool holds Telethon files it writes itself): these are the uploads a seller
ships, for the tests, the benchmarks and ``sandbox.sessionforms``. The DDL is written from the column
lists of Pyrogram's ``storage/sqlite_storage.py`` (versions 1..3; 4 on its master) and Kurigram's
(``update()`` 1 -> 7): a fresh file has ``api_id`` (v3+) second and ``server_address, port`` (v7) after
``dc_id``; a migrated one has them appended (``ALTER TABLE ... ADD``), so readers must select by name.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from core import dcs

_PEERS = (
    "CREATE TABLE peers (id INTEGER PRIMARY KEY, access_hash INTEGER, type INTEGER NOT NULL, {username}"
    "phone_number TEXT, last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER)))"
)
_TRIGGER = (
    "CREATE TRIGGER trg_peers_last_update_on AFTER UPDATE ON peers BEGIN UPDATE peers SET last_update_on ="
    " CAST(STRFTIME('%s', 'now') AS INTEGER) WHERE id = NEW.id; END"
)


def _sessions_columns(version: int, migrated: bool) -> list[str]:
    base = ["dc_id INTEGER PRIMARY KEY", "test_mode INTEGER", "auth_key BLOB", "date INTEGER NOT NULL",
            "user_id INTEGER", "is_bot INTEGER"]
    later = []
    if version >= 3:
        later.append("api_id INTEGER")
    if version >= 7:
        later += ["server_address TEXT", "port INTEGER"]
    if migrated:
        return base + later
    if version >= 7:  # Kurigram's fresh schema: dc_id, server_address, port, api_id, ...
        return [base[0], "server_address TEXT", "port INTEGER", "api_id INTEGER", *base[1:]]
    return [base[0], *later, *base[1:]]


def _kurigram_server(dc_id: int, test_mode: bool) -> tuple[str, int]:
    """Kurigram's own v7 values (``sqlite_storage.py``: its DC table, port 80 on the test servers)."""
    table = dcs.TEST_IPV4 if test_mode else dcs.IPV4
    return table.get(dc_id, table[2]), 80 if test_mode else 443


def pyrogram_image(
    dc_id: int,
    auth_key: bytes | None,
    *,
    version: int = 3,
    user_id: int | None = 777000001,
    api_id: int | None = None,
    test_mode: bool = False,
    is_bot: bool = False,
    migrated: bool = False,
    rows: int = 1,
    extra_sql: Sequence[str] = (),
    server: tuple[str | None, int | None] | None = None,
) -> bytes:
    """The bytes of a logged-in Pyrogram (v1..v3) or Kurigram (v4..v7) session file; ``migrated``: the
    column order of a file upgraded from an older version; ``extra_sql``: run last (hostile variants);
    ``server``: the v7 (server_address, port) written (None in either: NULL), by default what Kurigram
    writes (its DC's address, port 443; 80 for a test session)."""
    if not 1 <= version <= 8:
        raise ValueError("Pyrogram session schema versions are 1..7 (8: a hostile variant)")
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE TABLE sessions ({', '.join(_sessions_columns(version, migrated))})")
        fresh_v7 = version >= 7 and not migrated
        conn.execute(_PEERS.format(username="" if fresh_v7 else "username TEXT, "))
        conn.execute("CREATE TABLE version (number INTEGER PRIMARY KEY)")
        conn.execute("CREATE INDEX idx_peers_id ON peers (id)")
        if not fresh_v7:
            conn.execute("CREATE INDEX idx_peers_username ON peers (username)")
        conn.execute("CREATE INDEX idx_peers_phone_number ON peers (phone_number)")
        conn.execute(_TRIGGER)
        if version >= 4:
            conn.execute("CREATE TABLE usernames (id INTEGER, username TEXT, FOREIGN KEY (id) REFERENCES peers(id))")
            conn.execute("CREATE INDEX idx_usernames_username ON usernames (username)")
        if version >= 5:
            conn.execute(
                "CREATE TABLE update_state (id INTEGER PRIMARY KEY, pts INTEGER, qts INTEGER, date INTEGER,"
                " seq INTEGER)"
            )
        if version >= 6:
            conn.execute("CREATE INDEX idx_usernames_id ON usernames (id)")
        conn.execute("INSERT INTO version VALUES (?)", (version,))
        for n in range(rows):
            values: dict[str, object] = {
                "dc_id": dc_id + n, "test_mode": int(test_mode), "auth_key": auth_key, "date": int(time.time()),
                "user_id": user_id, "is_bot": int(is_bot),
            }
            if version >= 3:
                values["api_id"] = api_id
            if version >= 7:
                values["server_address"], values["port"] = server or _kurigram_server(dc_id + n, test_mode)
            names = ", ".join(values)
            marks = ", ".join("?" * len(values))
            conn.execute(f"INSERT INTO sessions ({names}) VALUES ({marks})", tuple(values.values()))
        for statement in extra_sql:
            conn.execute(statement)
        conn.commit()
        return conn.serialize()
    finally:
        conn.close()
