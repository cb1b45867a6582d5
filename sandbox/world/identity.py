"""What each account claims to be when it connects: the API id and the device profile of its
``InitConnection``. Telegram sees both; a session whose API id or device changes between connections is
a drift it can notice, so the world records each account's first identity and flags every later connect
that differs (``Violation("identity_change")``), as strictly as the other rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.ports import SessionCredentials
from sandbox.world.model import Violation


@dataclass(frozen=True)
class SeenIdentity:
    """The identity one connect presented (the api_hash is not part of it: Telegram checks it, we do not)."""

    api_id: int
    device: tuple[tuple[str, str], ...]  # the device profile's fields, sorted

    @classmethod
    def of(cls, credentials: SessionCredentials) -> SeenIdentity:
        return cls(credentials.api_id, tuple(sorted((str(k), str(v)) for k, v in credentials.device.items())))

    def differences(self, other: SeenIdentity) -> list[str]:
        """What changed from ``self`` to ``other`` (field names, never values: logs stay small)."""
        changed = ["api_id"] if self.api_id != other.api_id else []
        mine, theirs = dict(self.device), dict(other.device)
        return changed + sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))


class Identities:
    """Each account's first identity; a later connect with another one is recorded as a violation."""

    def __init__(self) -> None:
        self.first: dict[str, SeenIdentity] = {}
        self.changes = 0

    def connect(self, account: str, seen: SeenIdentity, at: float, violations: list[Violation]) -> None:
        first = self.first.setdefault(account, seen)
        changed = first.differences(seen)
        if changed:
            self.changes += 1
            violations.append(Violation("identity_change", account, at, ", ".join(changed)))

    def of(self, account: str) -> Mapping[str, str] | None:
        """The first device profile the account connected with (tests), None before its first connect."""
        first = self.first.get(account)
        return None if first is None else {"api_id": str(first.api_id), **dict(first.device)}
