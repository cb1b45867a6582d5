"""Flood waits in the simulated Telegram: per account and method class, as Telegram keeps them.

A FloodWait a request met (a scripted ``Fault``, a join past ``WorldJoins.flood_after``) holds that
request's class (``core.waits.method_class``: 'forward' and 'send_text' are 'send', 'check_invite' is
'join', ...) for the account, and only it. A request of a class inside its window is refused with
FloodWait again and recorded as a ``Violation("flood_wait", ...)`` whose detail names the class: the
engine must never ask.
"""

from __future__ import annotations

import logging

from telethon import errors

from core.waits import method_class
from sandbox.world.model import SimAccount, Violation

__all__ = ["check_flood", "start_flood"]

logger = logging.getLogger(__name__)


def start_flood(account: SimAccount, method: str, until: float) -> None:
    """The account's requests of ``method``'s class wait until ``until`` (never shortened)."""
    cls = method_class(method)
    account.flood_until[cls] = max(account.flood_until.get(cls, 0.0), until)


def check_flood(account: SimAccount, method: str, now: float, violations: list[Violation]) -> None:
    """Raise FloodWait (and record the breach) when ``method``'s class is inside its window."""
    cls = method_class(method)
    until = account.flood_until.get(cls, 0.0)
    if until > now:
        # Said in full (when, how early, the wait's end) so that a breach in a long run can be traced.
        detail = f"{cls}: {method} during a flood wait, {until - now:.1f} s before its end at {until:.1f}"
        logger.warning("flood wait broken by account %s at %.1f: %s", account.key[:12], now, detail)
        violations.append(Violation("flood_wait", account.key, now, detail))
        raise errors.FloodWaitError(request=None, capture=max(1, int(until - now + 0.999)))
