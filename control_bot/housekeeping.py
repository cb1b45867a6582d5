"""The service's daily jobs (issue 20 part B): pruning past the retention period and, when enabled, a
backup, each at its configured UTC hour (``[retention] hour_utc``, ``[backup] hour_utc``). Export files
left behind go at start and with the daily pruning (a job of their own when retention is off).

Started with the dispatcher and stopped before the engine (``control_bot.app``); the jobs' work runs
in threads or in short transactions, so the bot and the engine keep running meanwhile. A job that
fails is logged and tried again the next day (a failed backup is also recorded for ``adbot health`` and
told to the admins: ``control_bot.backup.status``); a job still running at shutdown is cancelled between
two of its transactions (a backup's thread finishes its archive, or leaves only a ``.partial``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from control_bot import retention
from control_bot.backup.daily import daily_backup
from control_bot.backup.status import record_daily
from core.clock import Clock
from core.config import Settings
from storage.db import Database

logger = logging.getLogger(__name__)

DAY = 86_400.0


def next_run(now: float, hour_utc: int) -> float:
    """The next time (unix seconds, after ``now``) the UTC clock shows ``hour_utc``:00."""
    today = now - now % DAY
    at = today + hour_utc * 3_600
    return at if at > now else at + DAY


class Housekeeping:
    """The daily jobs' loops."""

    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self._tasks: list[asyncio.Task[None]] = []

    def jobs(self) -> list[tuple[str, int, Callable[[], Awaitable[object]]]]:
        """(name, UTC hour, work) of each job the settings turn on."""
        found: list[tuple[str, int, Callable[[], Awaitable[object]]]] = []
        if self.settings.retention.days > 0:
            found.append(("retention", self.settings.retention.hour_utc, self.prune))
        else:
            found.append(("exports", self.settings.retention.hour_utc, self.clear_exports))
        if self.settings.backup.enabled:
            found.append(("backup", self.settings.backup.hour_utc, self.backup))
        return found

    async def prune(self) -> retention.PruneReport | None:
        await self.clear_exports()
        return await retention.prune(self.db, self.settings, self.clock.now())

    async def clear_exports(self) -> int:
        return await retention.clear_exports(self.settings)

    async def backup(self) -> object:
        """Today's backup; its outcome recorded for ``adbot health``, a failure told to the admins."""
        now = self.clock.now()
        try:
            result = await daily_backup(self.settings, now)
        except Exception as exc:
            await record_daily(self.db, self.settings.paths.data_dir, now, exc)
            raise
        await record_daily(self.db, self.settings.paths.data_dir, now, None)
        return result

    async def start(self) -> None:
        try:  # no export runs before the bot polls: whatever is in the folder was left behind
            await retention.clear_exports(self.settings, max_age=None)
        except OSError:
            logger.exception("export files left behind could not be deleted; the daily job tries again")
        for name, hour, work in self.jobs():
            self._tasks.append(asyncio.create_task(self._loop(name, hour, work), name=f"daily-{name}"))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_for(self, hour: int) -> None:
        """Until the next ``hour``:00 UTC. Real time, as the join queue's loop: a test's virtual clock
        never jumps a day for it."""
        now = self.clock.now()
        await asyncio.sleep(max(1.0, next_run(now, hour) - now))

    async def _loop(self, name: str, hour: int, work: Callable[[], Awaitable[object]]) -> None:
        while True:
            await self.wait_for(hour)
            try:
                await work()
            except Exception:
                logger.exception("daily %s failed; it runs again tomorrow", name)
