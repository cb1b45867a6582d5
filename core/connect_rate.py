"""At most N new Telegram connections per second, across the whole process (``[engine] connects_per_second``).

Why: a restart of a server with thousands of sessions would otherwise open every one of them at once (each
campaign's first cycle is due at start-up), a storm of ``initConnection`` requests from one address that
Telegram sees, and that the machine pays for in TLS-less but CPU-heavy handshakes all in the same second.
Connects are spread instead: each caller takes the next free slot, ``1 / per_second`` after the previous
one, and sleeps until it (on the engine's clock, so a test's virtual clock drives it). Slots are handed out
first come, first served and never bunch up: after a quiet spell the first connect goes at once, the
next one a slot later, so no window of one second ever holds more than ``per_second`` connects (rounded
up when the rate is fractional).

The wait is taken *before* a connect's own timeout starts (``engine.accounts``, ``pool.discovery``,
``pool.health``): the timeout bounds the network, not the queue. A caller cancelled while waiting gives
up its slot unused (the rate only ever gets lower for it).
"""

from __future__ import annotations

from core.clock import Clock

__all__ = ["ConnectRate"]


class ConnectRate:
    """``await rate.turn()`` returns at this caller's slot: at most ``per_second`` per second."""

    def __init__(self, clock: Clock, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("connects_per_second must be above 0")
        self.clock = clock
        self.per_second = per_second
        self.spacing = 1.0 / per_second
        self._next = float("-inf")  # the earliest time the next slot may start
        self.granted = 0  # slots handed out (connects started through this rate)
        self.waited = 0.0  # seconds callers spent waiting for their slot, summed

    def reserve(self) -> float:
        """Take the next slot; returns when it starts (now when the rate is idle)."""
        now = self.clock.now()
        at = max(now, self._next)
        self._next = at + self.spacing
        self.granted += 1
        self.waited += at - now
        return at

    async def turn(self) -> None:
        """Wait for this caller's slot."""
        at = self.reserve()
        delay = at - self.clock.now()
        if delay > 0:
            await self.clock.sleep(delay)

    @property
    def backlog(self) -> float:
        """Seconds until a caller arriving now would get its slot (0: at once)."""
        return max(0.0, self._next - self.clock.now())
