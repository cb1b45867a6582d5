"""One identity per session, for life: the API id it connects with and the device it claims to be.

Chosen once, when the session enters the pool (``pool.intake``):
- the API id/hash: the sidecar's own app when it has one (the app the account was made with), else a
  pool pair (the least used with room). When no pair has room the session is stored without one: it
  waits (never assigned, never checked) until an admin adds a pair, and then gets one, its first and only
  choice (``settle``: at ``pool.pairs.add_pair`` and at start-up);
- the device profile: the sidecar's, completed from a generated one (``pool.devices``).

Nothing changes it afterwards: not an owner change, not quarantine, not a restart. The first connect
(``pool.lifecycle.credentials``) stamps ``identity_used_at``; from then on a sidecar sent later cannot
change the app either. The only change is an admin's explicit choice to move the sessions of a pair
being deleted to other pairs (``pool.pairs.remove_pair(move=True)``), logged and shown.

The per-pair cap counts every session connecting with the pair's api_id, sidecar sessions included
(``storage.pairs.USERS``); a trigger is the backstop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import InvalidUpload
from core.states import EventKind
from core.texts import intake as texts
from pool import devices
from storage import events
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Connection

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """What a new session is stored with: a pool pair or its own app (or neither: it waits), its device."""

    device: dict[str, str]
    pair_id: int | None = None
    own_api_id: int | None = None
    own_api_hash: str | None = field(default=None, repr=False)


async def check_app_room(conn: Connection, api_id: int, *, session_id: int | None = None) -> None:
    """InvalidUpload when the pool pair with this api_id has no room for one more session connecting
    with it (``session_id``: one already counted toward it, e.g. a session attaching its sidecar)."""
    pair = await pair_rows.get_by_api_id(conn, api_id)
    if pair is None:
        return
    counted = session_id is not None and session_id in await pair_rows.holders(conn, pair.id)
    if pair.used - counted >= pair.capacity:
        raise InvalidUpload(texts.app_id_full(api_id, pair.used, pair.capacity))


async def for_new_session(
    conn: Connection, *, auth_key_sha: str, own_app: tuple[int, str] | None, device: Mapping[str, str]
) -> Identity:
    """The identity of a session entering the pool (inside the intake's transaction)."""
    profile = devices.complete(device, auth_key_sha)
    if own_app is not None:
        await check_app_room(conn, own_app[0])
        return Identity(profile, own_api_id=own_app[0], own_api_hash=own_app[1])
    pair = await pair_rows.least_used_with_room(conn)
    return Identity(profile, pair_id=pair.id if pair else None)


async def note_if_full(conn: Connection, now: float, *, pair_id: int | None = None, api_id: int | None = None) -> None:
    """PAIR_FULL for the admins when the pair (by id or api_id) just became full."""
    pair = await (pair_rows.get(conn, pair_id) if pair_id is not None else pair_rows.get_by_api_id(conn, api_id or 0))
    if pair is not None and pair.used == pair.capacity:
        await events.add(conn, None, EventKind.PAIR_FULL, now, api_id=pair.api_id, capacity=pair.capacity)


async def settle(conn: Connection, now: float) -> list[int]:
    """Give each live session waiting for an API pair one (least used with room first), oldest session
    first, until no pair has room; returns the ids given one. Its first and only choice."""
    given: list[int] = []
    touched: set[int] = set()
    for session_id in await session_rows.list_without_identity(conn):
        pair = await pair_rows.least_used_with_room(conn)
        if pair is None:
            break
        await session_rows.set_pair(conn, session_id, pair.id)
        given.append(session_id)
        touched.add(pair.id)
    for pair_id in sorted(touched):
        await note_if_full(conn, now, pair_id=pair_id)
    if given:
        logger.info("%d session(s) waiting for an API pair got one: %s", len(given), given)
    return given


def first_use_device(stored: Mapping[str, str], auth_key_sha: str) -> dict[str, str] | None:
    """At a session's first connect: its profile completed (rows stored before profiles existed, or
    written without one), or None when the stored one is already complete."""
    full = devices.complete(stored, auth_key_sha)
    return None if full == dict(stored) else full
