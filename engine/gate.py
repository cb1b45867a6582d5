"""A FIFO bound on concurrent work whose cost does not grow with the number of waiters.

The engine bounds sends in flight across every campaign (``max_in_flight``) while thousands of session
workers queue for a slot. ``asyncio.Semaphore`` of Python 3.11 scans its waiters on every acquire
(``locked()``) and wake-up, and removes each woken waiter from the middle of a deque: quadratic in the
queue length, which at 3,000 queued sends cost more CPU than the sends themselves. Here a release hands
its slot straight to the oldest live waiter: O(1) per acquire and release.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

__all__ = ["Gate"]


class Gate:
    """``async with gate:`` holds one of ``size`` slots; waiters are served first come, first served."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a gate needs at least one slot")
        self.size = size
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # a cancelled waiter is skipped (its task is gone)
                waiter.set_result(None)  # the slot goes to it directly: _free is unchanged
                return
        self._free += 1

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
