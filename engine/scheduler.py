"""APScheduler wiring: one interval job per running campaign.

The scheduler only decides *when*; what a cycle does is ``Engine.run_cycle``, which tests call directly
with a virtual clock. Jobs live in memory (the SQLAlchemy job store is synchronous and would block the
loop) and are rebuilt from the database at start. ``max_instances=1`` plus the engine's own "already
running" check keep one cycle per campaign; ``coalesce`` folds missed runs into one.

Order at shutdown matters: ``AsyncIOExecutor.shutdown`` cancels coroutine jobs in flight, so the engine
stops its cycles gracefully first and only then is the scheduler shut down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

logger = logging.getLogger(__name__)

__all__ = ["CampaignScheduler", "job_id"]


def job_id(customer_id: int) -> str:
    return f"campaign:{customer_id}"


class CampaignScheduler:
    """Interval jobs calling ``run(customer_id)``; times are unix seconds of the real clock."""

    def __init__(self, run: Callable[[int], Awaitable[Any]], *, min_grace: int = 60) -> None:
        self._run = run
        self._min_grace = min_grace
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    def start(self) -> None:
        """Create and start the scheduler; must be called inside the running event loop."""
        if self.running:
            return
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop firing jobs. Call after the engine has stopped its cycles (running jobs get cancelled)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    def pause(self) -> None:
        """Stop firing jobs while the engine drains; ``shutdown`` afterwards."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()

    def schedule(self, customer_id: int, interval_s: int, first_run_at: float) -> None:
        """(Re)schedule the campaign: first run at ``first_run_at``, then every ``interval_s`` seconds."""
        if self._scheduler is None:
            raise RuntimeError("the scheduler is not started")
        first = datetime.fromtimestamp(first_run_at, UTC)
        self._scheduler.add_job(
            self._run,
            trigger=IntervalTrigger(seconds=interval_s, start_date=first, timezone=UTC),
            args=(customer_id,),
            id=job_id(customer_id),
            name=f"campaign {customer_id}",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            # A cycle can be late by more than a second when the loop is busy; running late beats
            # skipping a cycle, up to one interval (coalesce folds the rest).
            misfire_grace_time=max(self._min_grace, interval_s),
            next_run_time=first,
        )
        logger.debug("campaign %d scheduled every %d s from %s", customer_id, interval_s, first.isoformat())

    def defer(self, customer_id: int, first_run_at: float) -> None:
        """Move the campaign's next run to ``first_run_at`` (quiet hours), keeping its interval; its later
        runs count from there."""
        if self._scheduler is None:
            return
        job = self._scheduler.get_job(job_id(customer_id))
        if job is not None:
            self.schedule(customer_id, int(job.trigger.interval.total_seconds()), first_run_at)

    def unschedule(self, customer_id: int) -> None:
        if self._scheduler is None:
            return
        try:
            self._scheduler.remove_job(job_id(customer_id))
        except JobLookupError:
            pass

    def next_run_at(self, customer_id: int) -> float | None:
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job(job_id(customer_id))
        if job is None or job.next_run_time is None:
            return None
        return float(job.next_run_time.timestamp())

    def scheduled(self) -> list[int]:
        if self._scheduler is None:
            return []
        return sorted(int(job.id.split(":", 1)[1]) for job in self._scheduler.get_jobs())
