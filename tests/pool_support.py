"""Shared helpers for the session pool tests (tests/test_pool_*.py)."""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from collections import Counter
from pathlib import Path

from core import dcs
from core.private_files import write_private_file
from engine.telethon_adapter import ClientSettings, build_client
from pool import identity, lifecycle
from pool.layout import UNUSED, ensure_dir, folder_for
from sandbox.sessionfiles import make_session_bytes, new_auth_key
from storage import customers
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Database
from storage.sessionfile import session_image
from tests.fake_sender import FakeSender

NOW = 1_800_000_000.0


async def add_customer(db: Database, user_id: int, plan: int = 3, days: float = 30) -> None:
    async with db.tx() as conn:
        await customers.grant(conn, user_id, plan, days, NOW, default_interval=300)


async def add_pair(db: Database, api_id: int, capacity: int = 7) -> int:
    """A pool pair; sessions waiting for one get theirs, as ``pool.pairs.add_pair`` does."""
    async with db.tx() as conn:
        pair = await pair_rows.add(conn, api_id, secrets.token_hex(16), capacity, NOW)
        await identity.settle(conn, NOW)
    return pair.id


async def seed_sessions(db: Database, sessions_dir: Path, count: int, *, own_app: bool = False) -> list[int]:
    """Unused sessions written straight into the pool (no intake validation: fast). Each gets its identity
    as intake gives it: its own app, else a pool pair with room (none: it waits for one)."""
    ids = []
    ensure_dir(sessions_dir, UNUSED)
    for _ in range(count):
        key = secrets.token_bytes(256)
        name = f"s{secrets.token_hex(8)}.session"
        write_private_file(sessions_dir / UNUSED / name, make_session_bytes(2, key))
        async with db.tx() as conn:
            ids.append(
                await session_rows.insert(
                    conn,
                    file_name=name,
                    auth_key_sha=hashlib.sha256(key).hexdigest(),
                    dc_id=2,
                    folder=UNUSED,
                    now=NOW,
                    own_api_id=12345 if own_app else None,
                    own_api_hash=secrets.token_hex(16) if own_app else None,
                    device={"device_model": "PC"} if own_app else None,
                )
            )
            await identity.settle(conn, NOW)
    return ids


def files_on_disk(sessions_dir: Path) -> list[tuple[str, str]]:
    """(folder relative to sessions_dir, file name) of every file under sessions_dir."""
    found = []
    for dirpath, _dirs, names in os.walk(sessions_dir):
        rel = Path(dirpath).relative_to(sessions_dir).as_posix()
        found += [(rel, n) for n in names]
    return found


async def assert_pool_consistent(db: Database, sessions_dir: Path) -> None:
    """Every row's file exactly once, in the folder its state says; no stray file; pair caps; owners."""
    async with db.read() as conn:
        rows = await session_rows.list_all(conn)
        pairs = await pair_rows.list_all(conn)
    on_disk = files_on_disk(sessions_dir)
    counts = Counter(name for _folder, name in on_disk)
    where = {name: folder for folder, name in on_disk}
    for row in rows:
        assert counts[row.file_name] == 1, f"{row.file_name} found {counts[row.file_name]} times"
        assert row.folder == folder_for(row.state, row.owner_id), row
        assert where[row.file_name] == row.folder, (row, where[row.file_name])
        assert (row.owner_id is not None) == row.owned
        if row.pair_id is not None:
            assert row.own_api_id is None, row  # one identity: a pool pair or its own app, never both
        elif row.owned:
            assert row.own_api_id is not None, row  # an owned session always has an identity
    assert len(on_disk) == len(rows), sorted(set(counts) - {r.file_name for r in rows})
    for pair in pairs:
        assert pair.used <= pair.capacity, pair


def file_objects(path: Path) -> list[tuple[str, str]]:
    """(type, name) of every schema object of a stored session file (read-only)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return sorted((str(k), str(n)) for k, n in conn.execute("select type, name from sqlite_master"))
    finally:
        conn.close()


def file_row(path: Path) -> tuple[int, str, int, bytes]:
    """(DC id, server address, port, auth key) of a stored Telethon session file (read-only)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("select dc_id, server_address, port, auth_key from sessions").fetchone()
    finally:
        conn.close()
    dc_id, address, port, key = row
    return int(dc_id), str(address), int(port), bytes(key)


def telethon_objects(path: Path) -> list[tuple[str, str]]:
    """The schema objects of a file adbot writes (Telethon's own schema: no trigger, no view), written
    at ``path`` to be read back."""
    path.write_bytes(session_image(2, dcs.address_for(2), 443, new_auth_key()))
    return file_objects(path)


async def assert_connects_as(
    db: Database, sessions_dir: Path, session_id: int, *, dc_id: int, auth_key: bytes, api_id: int,
    lang_pack: str, address: str | None = None,
) -> None:
    """The stored session opened as the engine does (Telethon's client, the contract fake for a sender)
    dials its DC (``address``: the DC table's by default) with its key, as the app ``api_id``."""
    creds = await lifecycle.credentials(db, sessions_dir, session_id)
    client = build_client(creds, ClientSettings())
    fake = FakeSender.install(client)
    await client.connect()
    try:
        assert fake.dialed == [(address or dcs.address_for(dc_id), 443, dc_id)]
        assert client.session.auth_key.key == auth_key
        assert client.api_id == api_id and client._init_request.lang_pack == lang_pack
    finally:
        await client.disconnect()
