"""What the pool needs once at start-up, before the engine opens any session."""

from __future__ import annotations

import time
from pathlib import Path

from pool.identity import settle
from pool.pairs import sync_capacity
from pool.reconcile import ReconcileReport, reconcile
from storage.db import Database


async def prepare_pool(
    db: Database, sessions_dir: Path, *, max_sessions_per_pair: int, ipv6: bool = False
) -> ReconcileReport:
    """Folders (0700), pair capacity from the config, sessions waiting for an API pair given one where
    a pair has room (``pool.identity``), folders brought in line with the rows, and session files an
    older version stored as uploaded rewritten fresh (``pool.sanitize``; ``ipv6``: ``[pool] ipv6``)."""
    await sync_capacity(db, max_sessions_per_pair)
    async with db.tx() as conn:
        await settle(conn, time.time())
    return await reconcile(db, sessions_dir, ipv6=ipv6)
