"""The pool as the engine's ``SessionSupply``: credentials, filling a plan, retiring an account.

The control bot's composition root builds one and hands it to the engine, so the engine never imports
the pool: each call is one of ``pool.lifecycle`` / ``pool.assign`` with the pool's folder, the admins'
low-pool threshold and the sessions the pool has open for a scan (``held``: ``PoolDiscovery.scanning``,
never handed to the engine meanwhile) bound in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from pathlib import Path

from core.errors import NoPairCapacity, NotEnoughSessions
from core.ports import AccountStatus, PlanFill, Retirement, SessionCredentials
from pool import assign, lifecycle
from pool.quarantine import Quarantine
from storage import sessions as session_rows
from storage.db import Database


class PoolSupply:
    def __init__(
        self,
        db: Database,
        sessions_dir: Path,
        *,
        low_threshold: int = 0,
        held: Collection[int] = (),
        proxy_required: bool = False,
        quarantine: Quarantine | None = None,
    ) -> None:
        self.db = db
        self.sessions_dir = sessions_dir
        self.low_threshold = low_threshold
        self.held = held  # a live collection: read at each claim
        self.proxy_required = proxy_required  # [pool] proxy_required: no session opened without a proxy
        self.quarantine = quarantine or Quarantine()

    async def credentials(self, session_id: int) -> SessionCredentials:
        return await lifecycle.credentials(
            self.db, self.sessions_dir, session_id, proxy_required=self.proxy_required
        )

    async def ensure_plan(self, customer_id: int, now: float) -> list[int]:
        return await assign.ensure_plan(
            self.db, self.sessions_dir, customer_id, now, low_threshold=self.low_threshold, held=self.held
        )

    async def fill_plan(self, customer_id: int, now: float) -> PlanFill:
        try:
            return PlanFill(await self.ensure_plan(customer_id, now))
        except (NotEnoughSessions, NoPairCapacity) as exc:
            if isinstance(exc, NotEnoughSessions) and exc.free > 0:
                # All or none would give none: take the free ones (they may be gone already).
                with contextlib.suppress(NotEnoughSessions, NoPairCapacity):
                    await assign.assign(
                        self.db,
                        self.sessions_dir,
                        customer_id,
                        exc.free,
                        now,
                        low_threshold=self.low_threshold,
                        held=self.held,
                    )
            async with self.db.read() as conn:
                held = [s.id for s in await session_rows.list_for_owner(conn, customer_id)]
            return PlanFill(held, exc)

    async def retire(
        self, session_id: int, state: Retirement, reason: str, now: float, *, status: AccountStatus | None = None
    ) -> int | None:
        return await lifecycle.retire(
            self.db, self.sessions_dir, session_id, state, reason, now, low_threshold=self.low_threshold,
            held=self.held, quarantine=self.quarantine, status=status,
        )
