"""Time for the engine: the wall clock in production, a virtual clock in tests.

Everything in the engine that waits (send spacing, flood waits, retry backoff, send timeouts) goes
through a ``Clock``, so a test can run an hour-long flood wait in milliseconds with ``FakeClock``.

``FakeClock`` keeps sleepers in a heap. In auto mode a driver task moves virtual time to the earliest
sleeper once the event loop has nothing else to do: no ready callbacks for a few turns and nothing
that changed during a short real-time grace (which lets aiosqlite's worker threads hand back their
results), then no new sleeper during that grace. Time does not move while a task can still make
progress, so the order of events in virtual time is the order they would have in real time, only without
the waiting. (A database round trip longer than the grace can see time move under it: that shifts when
things happen in virtual time, never their order within one task.)
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)

__all__ = ["Clock", "DeadlineExceeded", "FakeClock", "SystemClock", "wait_with_timeout"]


class Clock(Protocol):
    """Unix time in seconds, and sleeping in that time."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: ``time.time()`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """Virtual time. ``auto=True`` advances by itself whenever every task waits on the clock."""

    def __init__(
        self, start: float = 1_700_000_000.0, *, auto: bool = True, grace: float = 0.0005, max_jump: float | None = None
    ) -> None:
        self._now = float(start)
        # Auto mode jumps to the next sleeper once the loop looks idle, and work waiting on a thread
        # (SQLite) can look idle; with sleepers hours away (a long simulation) one such glitch would skip
        # hours. ``max_jump`` bounds each step, so time moves at most that far past a busy moment.
        self.max_jump = max_jump
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._activity = 0
        self.auto = auto
        self.grace = grace
        self._driver: asyncio.Task[None] | None = None

    def now(self) -> float:
        return self._now

    @property
    def pending(self) -> int:
        """How many sleepers are waiting (cancelled ones not counted)."""
        return sum(1 for _, _, fut in self._heap if not fut.done())

    async def sleep(self, seconds: float) -> None:
        self._activity += 1
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._heap, (self._now + seconds, next(self._seq), fut))
        if self.auto:
            self._ensure_driver(loop)
        await fut

    def _ensure_driver(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive(), name="fake-clock-driver")

    def _prune(self) -> None:
        while self._heap and self._heap[0][2].done():
            heapq.heappop(self._heap)

    def _wake_due(self) -> None:
        while self._heap and self._heap[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._heap)
            if not fut.done():
                fut.set_result(None)

    def _step_to_next(self) -> bool:
        """Move time to the earliest live sleeper and wake every sleeper due then."""
        self._prune()
        if not self._heap:
            return False
        due = self._heap[0][0]
        if self.max_jump is not None:
            due = min(due, self._now + self.max_jump)
        self._now = max(self._now, due)
        self._wake_due()
        return True

    async def _settle(self, loop: asyncio.AbstractEventLoop) -> None:
        """Return once the loop looks idle: no ready callbacks and no new sleeper for a while."""
        while True:
            before = self._activity
            for _ in range(8):
                await asyncio.sleep(0)
            ready = getattr(loop, "_ready", None)
            if ready is not None and len(ready) > 0:
                continue
            # Worker threads (aiosqlite) deliver results through the loop's self-pipe: give them a moment.
            await asyncio.sleep(self.grace)
            for _ in range(4):
                await asyncio.sleep(0)
            if self._activity == before and (ready is None or len(ready) == 0):
                return

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while self.auto:
            await self._settle(loop)
            if not self._step_to_next():
                return

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking sleepers in deadline order and letting each run."""
        target = self._now + max(0.0, seconds)
        while True:
            self._prune()
            if not self._heap or self._heap[0][0] > target:
                break
            self._now = self._heap[0][0]
            self._wake_due()
            for _ in range(16):
                await asyncio.sleep(0)
        self._now = target
        for _ in range(16):
            await asyncio.sleep(0)

    def set(self, when: float) -> None:
        """Jump to ``when`` (never backwards) without running anybody; due sleepers are woken."""
        self._now = max(self._now, when)
        self._wake_due()

    async def aclose(self) -> None:
        """Stop the driver (sleepers stay asleep)."""
        self.auto = False
        if self._driver is not None and not self._driver.done():
            self._driver.cancel()
            try:
                await self._driver
            except asyncio.CancelledError:
                pass
        self._driver = None


class DeadlineExceeded(TimeoutError):
    """``wait_with_timeout`` gave up (as opposed to a TimeoutError the awaited code raised itself)."""


async def wait_with_timeout(clock: Clock, aw: Awaitable[T], seconds: float) -> T:
    """Await ``aw`` for at most ``seconds`` of ``clock`` time; then cancel it and raise DeadlineExceeded."""
    if isinstance(clock, SystemClock):
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                return await aw
        except TimeoutError:
            if scope.expired():
                raise DeadlineExceeded from None
            raise
    task = asyncio.ensure_future(aw)
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait((task, timer), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        timer.cancel()
        raise
    if task.done():
        timer.cancel()
        return task.result()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        logger.debug("a timed-out awaitable raised while being cancelled", exc_info=True)
    raise DeadlineExceeded
