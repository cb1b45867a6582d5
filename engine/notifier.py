"""Waking the control bot's outbox sender after the engine wrote events.

Events are rows (``storage.events``) committed with the change that caused them; the bot delivers
them. ``notify()`` only shortens the sender's wait: a lost or failing wake-up delays a message, it
never loses one, so the engine never lets the callback break a cycle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

__all__ = ["Notifier", "OutboxSignal"]


class Notifier:
    """A safe wrapper around the bot's wake-up callback (None: nobody listens)."""

    def __init__(self, callback: Callable[[], None] | None = None) -> None:
        self._callback = callback
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self._callback is None:
            return
        try:
            self._callback()
        except Exception:
            logger.exception("the outbox wake-up callback failed")


class OutboxSignal:
    """A ready-made callback for the outbox sender: ``signal`` goes to the engine, the sender awaits
    ``wait()``, which returns early when events were written (and otherwise after ``seconds``)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def __call__(self) -> None:
        self._event.set()

    async def wait(self, seconds: float | None = None) -> bool:
        """True if woken by the engine, False after ``seconds`` without a wake-up."""
        try:
            if seconds is None:
                await self._event.wait()
            else:
                async with asyncio.timeout(seconds):
                    await self._event.wait()
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True
