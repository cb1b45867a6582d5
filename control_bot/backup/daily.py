"""The service's daily backup (``[backup] enabled``) and the pruning of the old ones (``keep``).

Daily archives are named ``adbot-daily-<UTC time>.tar.gz`` in ``[backup] dir``; only those are pruned, so
a backup an operator made with ``adbot backup`` (``adbot-backup-...``) before an upgrade stays until they
delete it. A ``.partial`` file a crash left behind is removed with them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from control_bot.backup.archive import PARTIAL, SUFFIX, BackupResult, archive_name, create_backup
from core.config import Settings

logger = logging.getLogger(__name__)

DAILY_PREFIX = "adbot-daily"
_DAILY = re.compile(re.escape(DAILY_PREFIX) + r"-\d{8}T\d{6}Z" + re.escape(SUFFIX))


def daily_backups(folder: Path) -> list[Path]:
    """The daily backups in ``folder``, oldest first (their names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _DAILY.fullmatch(p.name) and p.is_file())


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete the daily backups beyond the newest ``keep`` and any daily ``.partial`` left by a crash;
    returns what was deleted. Called after a new backup is complete (so a partial one is stale)."""
    doomed = daily_backups(folder)[:-keep] if keep > 0 else daily_backups(folder)
    if folder.is_dir():
        doomed += sorted(
            p for p in folder.iterdir() if p.name.endswith(PARTIAL) and _DAILY.fullmatch(p.name[: -len(PARTIAL)])
        )
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _backup_and_prune(settings: Settings, now: float) -> tuple[BackupResult, list[Path]]:
    folder = settings.backup.dir
    result = create_backup(
        settings.paths.data_dir, settings.paths.sessions_dir, folder / archive_name(now, DAILY_PREFIX), now=now
    )
    return result, prune_backups(folder, settings.backup.keep)


async def daily_backup(settings: Settings, now: float) -> BackupResult:
    """Make today's backup and prune the old ones, in a thread (the event loop keeps serving)."""
    result, pruned = await asyncio.to_thread(_backup_and_prune, settings, now)
    logger.info(
        "daily backup written: %s (%.1f MB, %d session files, schema %d, %.1f s); %d old backup(s) deleted",
        result.path.name, result.size / 1e6, result.manifest.sessions, result.manifest.schema_version,
        result.seconds, len(pruned),
    )
    return result
