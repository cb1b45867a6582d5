"""Membership discovery: reading the engine's own sessions' dialogs, to learn which chats each is in.

A session's dialogs (``AccountPort.dialogs``: every page of the main list and the archive) are read
through its open account (``engine.accounts``) and stored as its rows (``storage.memberships``), with
the next read due ``dialogs_refresh_hours`` later, spread by ``dialogs_refresh_jitter`` so the pool is
never read at once. A session is read

* when a campaign first uses it and its dialogs were never read,
* when its next read is due (the schedule),
* when its customer added a group that none of their sessions can reach since it was last read,
* on demand (``Engine.refresh_memberships``: the bot, when a customer adds groups),

from the preparation of its campaign's cycle (``engine.cycle``), so no scheduler of its own is needed.
``dialogs_scan_concurrency`` bounds the reads in flight across the whole engine.

A FloodWait on this read is the session's 'dialogs' wait (``engine.waits``, persisted): it pushes the
session's next read, never its cooldown or its sends (Telegram's waits are per method). Other failures
are classified as for any request: a dead or limited account is retired through the pool
(``SessionSupply.retire``) as a send would; network trouble is retried, then the read is tried again
later. A session inside its 'dialogs' wait is not read, nor one inside its 'connect' or 'read' wait (the
app config is read at connect) whose port is not open; a send wait does not hold the read.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from core.clock import Clock, wait_with_timeout
from core.config import EngineSettings
from core.errors import NotFound, PoolError
from core.outcomes import RETIREMENTS, Outcome, OutcomeKind
from core.ports import Dialog, SessionSupply
from core.waits import MethodClass
from engine.accounts import Accounts
from engine.gate import Gate
from engine.ledger import Ledger
from engine.outcomes import classify
from storage import memberships
from storage.db import Connection, unavailable, unavailable_reason
from storage.memberships import ScanTimes
from storage.sessions import SessionRow

logger = logging.getLogger(__name__)

__all__ = ["Discovery", "ScanResult", "Scanned"]

RETRY_AFTER = 900.0  # a read that failed (network, unknown error) is tried again this much later, at most
PAGES_TIMEOUT = 10  # a read may take this many send timeouts (it is several getDialogs pages)
STORAGE_PAUSE_MAX = 60.0  # seconds: the longest pause before opening a session again when the database refused


class ScanResult(StrEnum):
    READ = "read"  # the dialogs were read and stored
    HELD = "held"  # a flood wait on getDialogs: tried again after it
    RESTING = "resting"  # the session rests after a flood wait: no request before it ends
    FAILED = "failed"  # network or unknown trouble: tried again later
    RETIRED = "retired"  # the account is dead or limited: the pool retired it
    UNAVAILABLE = "unavailable"  # the session cannot be opened (file gone, no API pair capacity)


@dataclass
class Scanned:
    """What reading some sessions came to, by session."""

    results: dict[int, ScanResult] = field(default_factory=dict)

    def with_result(self, result: ScanResult) -> set[int]:
        return {sid for sid, r in self.results.items() if r is result}

    @property
    def read(self) -> set[int]:
        return self.with_result(ScanResult.READ)

    @property
    def retired(self) -> set[int]:
        return self.with_result(ScanResult.RETIRED)


class Discovery:
    """Reads sessions' dialogs, paced, one read per session at a time."""

    def __init__(
        self,
        accounts: Accounts,
        ledger: Ledger,
        supply: SessionSupply,
        clock: Clock,
        config: EngineSettings,
        rng: random.Random,
        notify: Callable[[], None],
    ) -> None:
        self.accounts = accounts
        self.ledger = ledger
        self.supply = supply
        self.clock = clock
        self.config = config
        self.rng = rng
        self.notify = notify
        self.gate = Gate(config.dialogs_scan_concurrency)
        self._locks: dict[int, asyncio.Lock] = {}
        self._tried: dict[int, float] = {}  # session -> when its dialogs were last asked for
        self._fresh: set[int] = set()  # sessions whose last ask was answered and stored
        self._started: dict[int, int] = {}  # session -> reads started (a caller that waited sees a newer one)
        self.reads = 0  # dialogs read in full since the engine started

    def next_due(self, now: float) -> float:
        """When a session read now is next due: the refresh period, spread by the jitter."""
        spread = self.config.dialogs_refresh_jitter
        return now + self.config.dialogs_refresh_hours * 3600.0 * self.rng.uniform(1 - spread, 1 + spread)

    def due(
        self,
        sessions: Sequence[SessionRow],
        times: Mapping[int, ScanTimes],
        now: float,
        *,
        unreached_since: float | None = None,
    ) -> list[SessionRow]:
        """The sessions to read before placing a campaign's groups: never read or due on the schedule,
        or read before ``unreached_since`` (a group none of them can reach was added since). Not those
        resting after a flood wait, nor those whose getDialogs must wait."""
        found = []
        for session in sessions:
            if self._wait(session.id) > now:
                continue
            t = times.get(session.id, ScanTimes(None, None))
            if t.due_at is None or t.due_at <= now:
                found.append(session)
            elif unreached_since is not None:
                # Once after the group was added (a read that failed is not retried every cycle).
                last = max(self._tried.get(session.id, float("-inf")), t.checked_at or float("-inf"))
                if last < unreached_since:
                    found.append(session)
        return found

    async def scan_all(self, sessions: Iterable[SessionRow]) -> Scanned:
        """Read each session's dialogs (at most ``dialogs_scan_concurrency`` across the engine at once)."""
        todo = list(sessions)
        results = await asyncio.gather(*(self.scan(s) for s in todo))
        return Scanned({s.id: r for s, r in zip(todo, results, strict=True)})

    def _classes(self, session_id: int) -> tuple[MethodClass, ...]:
        """The request classes a read of the session makes: getDialogs, and connecting when it is not open
        (the app-config read after connecting keeps to a read wait by itself, ``engine.accounts``)."""
        return ("dialogs",) if session_id in self.accounts else ("dialogs", "connect")

    def _wait(self, session_id: int) -> float:
        """Until when a read of the session must wait (0.0: it need not)."""
        return self.accounts.waits.hold(session_id, self._classes(session_id))

    def _lock(self, session_id: int) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        return lock

    async def scan(self, session: SessionRow) -> ScanResult:
        """Read one session's dialogs and store them; what it came to."""
        sid = session.id
        requested = self.clock.now()
        started = self._started.get(sid, 0)
        async with self._lock(sid):
            if self.accounts.waits.until(sid, "dialogs") > requested:
                return ScanResult.HELD
            if self._wait(sid) > requested:
                return ScanResult.RESTING  # connecting must wait
            if self._started.get(sid, 0) != started and sid in self._fresh:
                return ScanResult.READ  # read for another caller while this one waited for it
            async with self.gate:
                self._started[sid] = self._started.get(sid, 0) + 1
                self._tried[sid] = self.clock.now()
                self._fresh.discard(sid)
                try:
                    dialogs = await self._read(sid)
                except (NotFound, PoolError) as exc:
                    logger.warning("session %d cannot be opened to read its dialogs: %s", sid, exc.user_message)
                    return ScanResult.UNAVAILABLE
                except Exception as exc:
                    return await self._failed(session, classify(exc))
            now = self.clock.now()
            due = self.next_due(now)

            async def store(conn: Connection) -> int:
                count = await memberships.replace_for_session(conn, sid, dialogs, now)
                await memberships.set_scan_due(conn, sid, due)
                return count

            count = await self.ledger.run(store)
            self._fresh.add(sid)
            self.reads += 1
            logger.info("session %d: %d chat(s) in its dialogs; next read in %.1f h", sid, count, (due - now) / 3600)
            return ScanResult.READ

    async def _read(self, session_id: int) -> Sequence[Dialog]:
        """The session's dialogs, with bounded retries (and backoff) of network trouble. A database that
        cannot be written while the session is opened (the pool seals its identity at first use) is not
        the session's failure: the read waits for it, then goes on (one warning per spell)."""
        attempts = pauses = 0
        while True:
            attempts += 1
            try:
                return await self._dialogs_of(session_id)
            except (NotFound, PoolError):
                raise
            except Exception as exc:
                if unavailable(exc):
                    if not pauses:
                        logger.warning("session %d: reading its dialogs waits for the database (%s)", session_id,
                                       unavailable_reason(exc))
                    attempts -= 1
                    pauses += 1
                    await self.clock.sleep(min(self.config.transient_backoff * 2 ** min(pauses, 10), STORAGE_PAUSE_MAX))
                    continue
                if attempts > self.config.transient_retries or classify(exc).kind is not OutcomeKind.TRANSIENT:
                    raise
            await self.clock.sleep(self.config.transient_backoff * 2 ** (attempts - 1))

    async def _dialogs_of(self, session_id: int) -> Sequence[Dialog]:
        """One read through the session's open account: a flood wait connecting is recorded as the
        'connect' class's, one on getDialogs as the 'dialogs' class's (``Accounts.guarded``)."""
        timeout = self.config.send_timeout * PAGES_TIMEOUT
        async with self.accounts.lease(session_id) as account:  # an idle close waits for the read
            return await self.accounts.guarded(
                session_id, "dialogs", lambda: wait_with_timeout(self.clock, account.port.dialogs(), timeout)
            )

    async def _failed(self, session: SessionRow, outcome: Outcome) -> ScanResult:
        sid, now = session.id, self.clock.now()
        if outcome.kind is OutcomeKind.FLOOD_WAIT:
            # Only this read waits (its class's wait is recorded): the session's sends go on.
            until = max(now + (outcome.seconds or 0), self.accounts.waits.hold(sid, ("dialogs", "connect")))
            await self.ledger.run(lambda conn: memberships.set_scan_due(conn, sid, until))
            logger.warning("session %d: reading its dialogs must wait %s s (%s)", sid, outcome.seconds, outcome.error)
            return ScanResult.HELD
        if outcome.kind in RETIREMENTS:
            await self._retire(session, outcome)
            return ScanResult.RETIRED
        retry = now + min(RETRY_AFTER, self.config.dialogs_refresh_hours * 3600.0)
        await self.ledger.run(lambda conn: memberships.set_scan_due(conn, sid, retry))
        logger.warning("session %d: reading its dialogs failed (%s); tried again later", sid, outcome.error)
        return ScanResult.FAILED

    async def _retire(self, session: SessionRow, outcome: Outcome) -> None:
        """Dead, limited or frozen, as a send would have found: the pool retires the session (closed first)."""
        sid = session.id
        replacement = await self.accounts.retire(sid, outcome)
        self.notify()
        logger.warning("session %d is %s (%s, reading its dialogs); replacement: %s", sid, RETIREMENTS[outcome.kind],
                       outcome.error, replacement if replacement is not None else "none")
