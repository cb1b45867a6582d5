"""How long a limited session rests: ``[pool] quarantine_hours``, doubled at each repeat up to
``quarantine_max_days``.

Telegram says nothing about when a spam limit (PEER_FLOOD, USER_BANNED_IN_CHANNEL) ends, and no request
but a send shows it (we never post to test). So the time floor is what protects the account: no command
shortens it (``storage.sessions.release_quarantined`` refuses to), and after it one probe must succeed
before the session returns to the pool (``pool.health``): a connect (``users.getUsers`` of itself: the key
works, the account is not deactivated) and its app config (``help.getAppConfig``: not frozen), the one
cheap read that says anything about the account's standing.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import PoolSettings

HOUR = 3600.0


@dataclass(frozen=True)
class Quarantine:
    """The quarantine rule (seconds)."""

    first: float = 24 * HOUR
    longest: float = 7 * 24 * HOUR

    @classmethod
    def from_settings(cls, pool: PoolSettings) -> Quarantine:
        return cls(first=pool.quarantine_hours * HOUR, longest=pool.quarantine_max_days * 24 * HOUR)

    def length(self, count: int) -> float:
        """The ``count``-th quarantine of a session (1: the first): ``first`` x 2^(count-1), at most ``longest``."""
        doubled = self.first * 2 ** min(max(count, 1) - 1, 32)
        return max(self.first, min(doubled, self.longest)) if self.longest >= self.first else self.first
