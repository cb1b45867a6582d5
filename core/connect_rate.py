"""At most N new Telegram connections per second, across the whole process (``[engine] connects_per_second``).

Why: a restart of a server with thousands of sessions would otherwise open every one of them at once (each
campaign's first cycle is due at start-up): a storm of ``initConnection`` requests from one address that
Telegram sees, and that the machine pays for in sockets and CPU, all in the same second.
Connects are spread instead: callers take turns, first come first served, and each starts at least
``1 / per_second`` after the previous one *really* started (on the engine's clock, so a test's virtual clock
drives it): a sleep that wakes late only delays the ones after it, it never bunches them, so no window of
one second ever holds more than ``per_second`` connects. After a quiet spell the first connect goes at once.

The wait is taken *before* a connect's own timeout starts (``engine.accounts``, ``pool.discovery``):
the timeout bounds the network, not the queue. A caller cancelled while waiting gives its turn to the next.
"""

from __future__ import annotations

import asyncio

from core.clock import Clock

__all__ = ["ConnectRate"]


class ConnectRate:
    """``await rate.turn()`` returns at this caller's turn: at most ``per_second`` per second."""

    def __init__(self, clock: Clock, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("connects_per_second must be above 0")
        self.clock = clock
        self.per_second = per_second
        self.spacing = 1.0 / per_second
        self._last = float("-inf")  # when the last turn began
        self._turns = asyncio.Lock()  # FIFO: one caller at a time waits for the spacing to pass
        self.granted = 0  # turns given (connects started through this rate)
        self.waited = 0.0  # seconds callers spent waiting for their turn, summed

    async def turn(self) -> None:
        """Wait for this caller's turn."""
        asked = self.clock.now()
        async with self._turns:
            delay = self._last + self.spacing - self.clock.now()
            if delay > 0:
                await self.clock.sleep(delay)
            self._last = self.clock.now()
            self.granted += 1
            self.waited += self._last - asked
