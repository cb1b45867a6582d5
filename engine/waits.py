"""The engine's view of its sessions' flood waits, per method class (``core.waits``).

Loaded from ``storage.waits`` when the engine starts (a restart honours every wait) and again for a
campaign's sessions when its cycle is prepared (a session that came from the pool brings the waits a
health check or a scan recorded). Every wait the engine meets is noted here at once, so no second
request of that class leaves before it ends, and persisted by the caller (``record``, as an op for the
ledger: a send's wait commits with its row). A wait is never shortened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.waits import MethodClass
from storage import waits as wait_rows
from storage.db import Connection
from storage.ledger import Op

__all__ = ["WaitBook"]


class WaitBook:
    """Until when each session's requests of each class wait (in memory, mirrored in the database)."""

    def __init__(self) -> None:
        self._until: dict[int, dict[MethodClass, float]] = {}

    def until(self, session_id: int, method: MethodClass) -> float:
        """The end of the session's wait for the class (0.0: none known)."""
        return self._until.get(session_id, {}).get(method, 0.0)

    def hold(self, session_id: int, methods: Iterable[MethodClass]) -> float:
        """The latest end of the session's waits for any of the classes (0.0: none)."""
        waits = self._until.get(session_id)
        if not waits:
            return 0.0
        return max((waits.get(m, 0.0) for m in methods), default=0.0)

    def note(self, session_id: int, method: MethodClass, until: float) -> None:
        """A wait seen now (never shortens one known)."""
        waits = self._until.setdefault(session_id, {})
        if until > waits.get(method, 0.0):
            waits[method] = until

    def merge(self, loaded: Mapping[int, Mapping[MethodClass, float]]) -> None:
        """Waits read from the database (``storage.waits.active`` / ``for_sessions``)."""
        for session_id, waits in loaded.items():
            for method, until in waits.items():
                self.note(session_id, method, until)

    def record(self, session_id: int, method: MethodClass, until: float, now: float) -> Op:
        """Note the wait and return the op that persists it (the caller runs it in its transaction)."""
        self.note(session_id, method, until)

        async def op(conn: Connection) -> None:
            await wait_rows.record(conn, session_id, method, until, now)

        return op
