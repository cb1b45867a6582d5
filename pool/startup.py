"""What the pool needs once at start-up, before the engine opens any session."""

from __future__ import annotations

from pathlib import Path

from pool.pairs import sync_capacity
from pool.reconcile import ReconcileReport, reconcile
from storage.db import Database


async def prepare_pool(db: Database, sessions_dir: Path, *, max_sessions_per_pair: int) -> ReconcileReport:
    """Folders (0700), pair capacity from the config, and folders brought in line with the rows."""
    await sync_capacity(db, max_sessions_per_pair)
    return await reconcile(db, sessions_dir)
