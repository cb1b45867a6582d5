"""API pairs as the admins manage them (bot and CLI): add, list, remove, with input checked.

A pair is the lifelong identity of the sessions holding it (``pool.identity``): adding one gives it to the
sessions waiting for a pair; removing one they hold is refused, or, on the admin's explicit choice,
moves them to other pairs (the one time a session's API id changes, logged and shown)."""

from __future__ import annotations

import logging
import re

from core.errors import InputError, NoPairCapacity, NotFound, PairInUse
from core.texts import pairs as pair_texts
from pool import identity
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Database
from storage.pairs import ApiPair

logger = logging.getLogger(__name__)

_HASH_RE = re.compile(r"[0-9a-fA-F]{32}")


def parse_api_id(value: str | int) -> int:
    """A positive integer as my.telegram.org shows it."""
    text = str(value).strip()
    # isascii: str.isdigit() also passes "²" and other digits int() refuses; 10 digits bound int()'s work.
    if not (text.isascii() and text.isdigit() and len(text) <= 10) or not 0 < int(text) < 2**31:
        raise InputError(pair_texts.API_ID_INVALID())
    return int(text)


def parse_api_hash(value: str) -> str:
    text = value.strip()
    if not _HASH_RE.fullmatch(text):
        raise InputError(pair_texts.API_HASH_INVALID())
    return text.lower()


async def add_pair(db: Database, api_id: str | int, api_hash: str, *, capacity: int, now: float) -> ApiPair:
    """Add a pair; sessions waiting for one get theirs (the returned pair's ``used`` counts them).

    An api_id that sidecar sessions already use is allowed: they count toward its cap from now on."""
    checked_id, checked_hash = parse_api_id(api_id), parse_api_hash(api_hash)
    async with db.tx() as conn:  # BEGIN IMMEDIATE: nobody adds the same id between the look and the insert
        if await pair_rows.get_by_api_id(conn, checked_id) is not None:
            raise InputError(pair_texts.api_id_exists(checked_id))
        pair = await pair_rows.add(conn, checked_id, checked_hash, capacity, now)
        given = await identity.settle(conn, now)
        pair = await pair_rows.get(conn, pair.id) or pair
    logger.info("API pair %d added (capacity %d, %d waiting session(s) got a pair)", checked_id, capacity, len(given))
    return pair


async def list_pairs(db: Database) -> list[ApiPair]:
    async with db.read() as conn:
        return await pair_rows.list_all(conn)


async def remove_pair(db: Database, api_id: str | int, *, move: bool = False) -> list[tuple[int, int]]:
    """Remove a pair. One that live sessions hold is refused (PairInUse, with their count), unless
    ``move``: then each of them goes to another pair with room (least used first), all or none
    (NoPairCapacity when the others lack room). Returns (session id, its new api_id) per moved session.

    Sidecar sessions whose own app id equals the pair's do not hold it: removing it changes nothing for them."""
    checked_id = parse_api_id(api_id)
    moved: list[tuple[int, int]] = []
    async with db.tx() as conn:
        pair = await pair_rows.get_by_api_id(conn, checked_id)
        if pair is None:
            raise NotFound(pair_texts.no_pair(checked_id))
        holders = await pair_rows.holders(conn, pair.id)
        if holders and not move:
            raise PairInUse(pair_texts.pair_in_use(checked_id, len(holders)))
        for session_id in holders:
            target = await pair_rows.least_used_with_room(conn, exclude=pair.id)
            if target is None:
                room = len(moved)
                raise NoPairCapacity(pair_texts.no_room_to_move(checked_id, len(holders), room))  # rolls back
            await session_rows.set_pair(conn, session_id, target.id)
            moved.append((session_id, target.api_id))
        await pair_rows.remove(conn, pair.id)
    for session_id, new_api_id in moved:
        logger.warning("session %d moved from API id %d to %d (its pair was removed by an admin)", session_id,
                       checked_id, new_api_id)
    logger.info("API pair %d removed", checked_id)
    return moved


async def sync_capacity(db: Database, capacity: int) -> int:
    """Apply the configured ``max_sessions_per_pair`` to every pair (at start-up)."""
    async with db.tx() as conn:
        return await pair_rows.sync_capacity(conn, capacity)
