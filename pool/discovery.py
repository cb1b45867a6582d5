"""Membership discovery for idle pool sessions: which chats each free session is in, read from its dialogs.

A free (``unused``) session is connected through the engine's port (the caller passes the factory and the
engine's one classification of errors, as for ``pool.health``), its dialogs are read once
(``AccountPort.dialogs``: every page, main list and archive) and stored (``storage.memberships``), and
the port is closed again. Assignment then prefers the free sessions that are members of a customer's
groups (``pool.cover``).

When: a session whose dialogs were never read is due at once (one that just joined the pool), then
again after ``[engine] dialogs_refresh_hours`` times a random factor in ``1 ± dialogs_refresh_jitter``,
so the pool's scans spread over time instead of all falling due together. ``PoolDiscovery.start`` runs
the due scans every few minutes, ``dialogs_scan_concurrency`` at a time.

What a scan may meet: a FloodWait on getDialogs is the session's 'dialogs' wait, one while connecting its
'connect' wait, one on the app-config read after connecting its 'read' wait (``storage.waits``); each
moves only that session's next scan (never its cooldown: flood waits are per method, and nothing else of
the session waits), and no scan makes a request of a class inside its wait (a session inside one is not
opened at all); a dead, limited or frozen account is retired through ``pool.lifecycle`` as a health check
would; anything else (network, timeout, a missing file) is tried again later.

One live client per session: only ``unused`` sessions are scanned (the engine holds owned ones open),
and a session being scanned is in ``scanning``, which every claim skips (``PoolSupply(held=...)``). The
hold is taken inside a write transaction after seeing the session still unused, so a claim's
transaction (which reads ``scanning``) is either before it (the scan sees the session taken and skips
it) or after it (the claim leaves the session alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.clock import Clock, wait_with_timeout
from core.config import EngineSettings
from core.connect_rate import ConnectRate
from core.errors import NotFound, PoolError
from core.outcomes import RETIREMENTS, Outcome, OutcomeKind
from core.ports import AccountFactory, AccountStatus, Classifier, Dialog
from core.waits import MethodClass
from pool import lifecycle, self_user
from pool.quarantine import Quarantine
from storage import memberships
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database

logger = logging.getLogger(__name__)

TICK_SECONDS = 300.0
"""How often the periodic task looks for sessions due."""
RETRY_SECONDS = 3600.0
UNUSABLE = "SESSION_UNUSABLE"
"""Not scanned: the session could not be opened, for a reason with no key of its own (``AdbotError.key``)."""
"""A scan that failed for a passing reason (network, timeout, no API pair) is tried again after this."""
HOUR = 3600.0

ScanOutcome = Literal["scanned", "flood", "dead", "limited", "frozen", "skipped", "error"]


@dataclass(frozen=True)
class ScanResult:
    session_id: int
    outcome: ScanOutcome
    chats: int = 0  # chats stored (scanned)
    detail: str | None = None  # classified error name, or why not scanned (a key); never words nor a secret


class PoolDiscovery:
    """Scans of idle sessions' dialogs, on demand (``scan``, ``run_due``) or every few minutes (``start``)."""

    def __init__(
        self,
        db: Database,
        sessions_dir: Path,
        factory: AccountFactory,
        classify: Classifier,
        clock: Clock,
        config: EngineSettings,
        *,
        low_threshold: int = 0,
        every: float = TICK_SECONDS,
        dialogs_timeout: float = 120.0,
        rng: random.Random | None = None,
        proxy_required: bool = False,
        quarantine: Quarantine | None = None,
        connect_rate: ConnectRate | None = None,
    ) -> None:
        self.db = db
        self.connect_rate = connect_rate  # new connections spread out, shared with the engine (issue 22)
        self.proxy_required = proxy_required
        self.quarantine = quarantine  # the rule for a session a scan finds limited
        self.sessions_dir = sessions_dir
        self.factory = factory
        self.classify = classify
        self.clock = clock
        self.refresh = config.dialogs_refresh_hours * HOUR
        self.jitter = config.dialogs_refresh_jitter
        self.concurrency = config.dialogs_scan_concurrency
        self.connect_timeout = config.connect_timeout
        self.dialogs_timeout = dialogs_timeout
        self.low_threshold = low_threshold
        self.every = every
        self.rng = rng or random.Random()
        self.scanning: set[int] = set()
        self._frozen: dict[int, AccountStatus] = {}  # what the app config said of one found frozen
        """Sessions open for a scan right now: no claim may take one (``PoolSupply(held=...)``)."""
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()

    # --- one session -------------------------------------------------------------------------------

    def spread(self, now: float, seconds: float) -> float:
        """``now + seconds`` stretched by a random factor in [1 - jitter, 1 + jitter]."""
        return now + seconds * self.rng.uniform(1 - self.jitter, 1 + self.jitter)

    async def _hold(self, session_id: int) -> bool:
        """Take the session for a scan when it is still unused and nobody scans it (see the module doc)."""
        added = False
        try:
            async with self.db.tx() as conn:
                row = await session_rows.get(conn, session_id)
                if row is None or row.state != "unused" or session_id in self.scanning:
                    return False
                self.scanning.add(session_id)
                added = True
        except BaseException:
            if added:
                self.scanning.discard(session_id)
            raise
        return True

    async def scan(self, session_id: int) -> ScanResult:
        """Read one idle session's dialogs and store them; 'skipped' when it is no longer unused."""
        if not await self._hold(session_id):
            return ScanResult(session_id, "skipped")
        try:
            return await self._scan_held(session_id)
        finally:
            self.scanning.discard(session_id)

    async def _push(self, session_id: int, due_at: float) -> None:
        async with self.db.tx() as conn:
            await memberships.set_scan_due(conn, session_id, due_at)

    async def _read(
        self, session_id: int
    ) -> tuple[Sequence[Dialog] | None, Outcome | None, str | None, MethodClass]:
        """(dialogs, None, None, _) or (None, what the port raised, classified, the request's class) or
        (None, None, why not opened, _)."""
        try:
            creds = await lifecycle.credentials(
                self.db, self.sessions_dir, session_id, proxy_required=self.proxy_required
            )
        except (NotFound, PoolError) as exc:  # file missing, no API pair to connect with
            logger.info("session %d not scanned: %s", session_id, exc.user_message)
            return None, None, exc.key or UNUSABLE, "connect"
        if self.connect_rate is not None:
            await self.connect_rate.turn()  # before the timeout: it bounds the network, not the queue
        # Each connect asks whether Telegram froze the account (below): that is the connection's one request
        # besides the init, so who the account is, when not stored yet, is not asked here but by a later
        # connection of the session (the engine's, a join's: ``pool.self_user``).
        port = self.factory.open(self_user.not_asking(creds))
        method: MethodClass = "connect"
        try:
            await wait_with_timeout(self.clock, port.connect(), self.connect_timeout)
            # A frozen account reads nothing more.
            method = "read"
            status = await wait_with_timeout(self.clock, port.account_status(), self.connect_timeout)
            if status.frozen:
                self._frozen[session_id] = status
                return None, Outcome(OutcomeKind.ACCOUNT_FROZEN, "ACCOUNT_FROZEN"), None, method
            method = "dialogs"
            return await wait_with_timeout(self.clock, port.dialogs(), self.dialogs_timeout), None, None, method
        except Exception as exc:
            return None, self.classify(exc), None, method
        finally:
            try:
                await port.close()
            except Exception:
                logger.exception("closing session %d after reading its dialogs failed", session_id)

    async def _scan_held(self, session_id: int) -> ScanResult:
        now = self.clock.now()
        async with self.db.read() as conn:
            hold = await wait_rows.hold(conn, session_id, ("connect", "read", "dialogs"))
        if hold > now:  # no request inside a wait: the scan is due when it ends
            await self._push(session_id, hold)
            return ScanResult(session_id, "flood", detail="FloodWaitError")
        found, outcome, why_not, method = await self._read(session_id)
        now = self.clock.now()
        if found is not None:
            async with self.db.tx() as conn:
                chats = await memberships.replace_for_session(conn, session_id, found, now)
                await memberships.set_scan_due(conn, session_id, self.spread(now, self.refresh))
                await session_rows.set_checked(conn, session_id, now)
                # Its app config was read too (not frozen): the engine's first connect within the check
                # interval need not read it again (engine.accounts), so it costs Telegram's init alone.
                await session_rows.set_status_checked(conn, session_id, now)
            logger.info("session %d: %d chat(s) in its dialogs", session_id, chats)
            return ScanResult(session_id, "scanned", chats)
        if outcome is None:
            await self._push(session_id, self.spread(now, min(self.refresh, RETRY_SECONDS)))
            return ScanResult(session_id, "error", detail=why_not)
        state = RETIREMENTS.get(outcome.kind)
        if state is not None:
            await lifecycle.retire(
                self.db, self.sessions_dir, session_id, state, outcome.error, now, low_threshold=self.low_threshold,
                quarantine=self.quarantine, status=self._frozen.pop(session_id, None),
            )
            return ScanResult(session_id, state, detail=outcome.error)
        if outcome.kind is OutcomeKind.FLOOD_WAIT and outcome.seconds is not None:
            # Only this class and the next scan wait: the session's cooldown (its sends) is not this
            # request's business.
            until = now + outcome.seconds
            async with self.db.tx() as conn:
                await wait_rows.record(conn, session_id, method, until, now)
                await memberships.set_scan_due(conn, session_id, until)
            return ScanResult(session_id, "flood", detail=outcome.error)
        logger.info("reading the dialogs of session %d failed: %s", session_id, outcome.error)
        await self._push(session_id, self.spread(now, min(self.refresh, RETRY_SECONDS)))
        return ScanResult(session_id, "error", detail=outcome.error)

    # --- the pool ----------------------------------------------------------------------------------

    async def run_due(self) -> list[ScanResult]:
        """Scan every idle session due now, ``dialogs_scan_concurrency`` at a time; each at most once."""
        gate = asyncio.Semaphore(self.concurrency)
        seen: set[int] = set()
        results: list[ScanResult] = []

        async def one(session_id: int) -> ScanResult:
            async with gate:
                try:
                    return await self.scan(session_id)
                except Exception as exc:  # the database, say: this session waits for the next round
                    logger.exception("scanning session %d failed", session_id)
                    return ScanResult(session_id, "error", detail=type(exc).__name__)

        while not self._stopping:
            async with self.db.read() as conn:
                due = await memberships.due_for_scan(conn, self.clock.now(), ["unused"], self.concurrency * 8)
            fresh = [sid for sid in due if sid not in seen and sid not in self.scanning]
            if not fresh:
                break
            seen.update(fresh)
            results += await asyncio.gather(*(one(sid) for sid in fresh))
        if results:
            counts = {k: sum(r.outcome == k for r in results) for k in sorted({r.outcome for r in results})}
            logger.info("read the dialogs of %d idle session(s): %s", len(results),
                        ", ".join(f"{k}={n}" for k, n in counts.items()))
        return results

    # --- the periodic task -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Run the due scans now and then every ``every`` seconds until ``stop`` (inside the loop)."""
        if self.running:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="pool-discovery")

    def wake(self) -> None:
        """Look for due sessions now (e.g. sessions just joined the pool) rather than at the next tick."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.run_due()
            except Exception:
                logger.exception("membership discovery round failed; trying again next round")
            if self._stopping:
                break
            sleeper = asyncio.ensure_future(self.clock.sleep(self.every))
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                woken.cancel()
            self._wake.clear()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the periodic task: scans under way get ``grace`` seconds to finish, then are cancelled
        (their ports are closed on the way out). Safe to call twice."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        _, pending = await asyncio.wait({task}, timeout=grace)
        if pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
