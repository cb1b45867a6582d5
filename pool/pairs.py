"""API pairs as the admins manage them (bot and CLI): add, list, remove, with input checked."""

from __future__ import annotations

import logging
import re

from core.errors import InputError, NotFound, PairInUse
from core.texts import admin as texts
from storage import pairs as pair_rows
from storage.db import Database
from storage.pairs import ApiPair

logger = logging.getLogger(__name__)

_HASH_RE = re.compile(r"[0-9a-fA-F]{32}")


def parse_api_id(value: str | int) -> int:
    """A positive integer as my.telegram.org shows it."""
    text = str(value).strip()
    # isascii: str.isdigit() also passes "²" and other digits int() refuses; 10 digits bound int()'s work.
    if not (text.isascii() and text.isdigit() and len(text) <= 10) or not 0 < int(text) < 2**31:
        raise InputError(texts.API_ID_INVALID)
    return int(text)


def parse_api_hash(value: str) -> str:
    text = value.strip()
    if not _HASH_RE.fullmatch(text):
        raise InputError(texts.API_HASH_INVALID)
    return text.lower()


async def add_pair(db: Database, api_id: str | int, api_hash: str, *, capacity: int, now: float) -> ApiPair:
    checked_id, checked_hash = parse_api_id(api_id), parse_api_hash(api_hash)
    async with db.tx() as conn:  # BEGIN IMMEDIATE: nobody adds the same id between the look and the insert
        if await pair_rows.get_by_api_id(conn, checked_id) is not None:
            raise InputError(texts.api_id_exists(checked_id))
        pair = await pair_rows.add(conn, checked_id, checked_hash, capacity, now)
    logger.info("API pair %d added (capacity %d)", checked_id, capacity)
    return pair


async def list_pairs(db: Database) -> list[ApiPair]:
    async with db.read() as conn:
        return await pair_rows.list_all(conn)


async def remove_pair(db: Database, api_id: str | int) -> None:
    checked_id = parse_api_id(api_id)
    async with db.tx() as conn:
        pair = await pair_rows.get_by_api_id(conn, checked_id)
        if pair is None:
            raise NotFound(texts.no_pair(checked_id))
        if pair.used:
            raise PairInUse(texts.pair_in_use(checked_id, pair.used))
        await pair_rows.remove(conn, pair.id)
    logger.info("API pair %d removed", checked_id)


async def sync_capacity(db: Database, capacity: int) -> int:
    """Apply the configured ``max_sessions_per_pair`` to every pair (at start-up)."""
    async with db.tx() as conn:
        return await pair_rows.sync_capacity(conn, capacity)
