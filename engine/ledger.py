"""Group commit for the send ledger.

Every send writes twice: its intent ('pending', committed before the request leaves) and its outcome
with the statistics (one transaction). One transaction per write would cap the
engine at a few hundred sends per CPU-second, so one writer task takes everything queued while the
previous commit ran and writes it in one transaction with one ``executemany`` per statement. Each
caller still awaits its own write: ``intent()`` returns only once its row is committed, so the order
"intent committed, then request" holds for every send.

The batch itself is written by ``storage.ledger.commit_batch`` (one transaction, and a batch without
async operations is a single round trip to SQLite's thread); this module is the engine's side: the
queue, the one writer task, and every caller's future.

If a batch fails, each of its writes is retried in a transaction of its own, so one bad write (a
constraint, a bug in a custom operation) cannot take the others down with it.

A database that cannot be written (another process holds the lock past ``busy_timeout``, a full disk:
``storage.db.unavailable``) is not a failure of the writes. A *patient* write (every write of a cycle:
intents, outcomes, the cycle's own rows; the default of ``run``) stays queued, in memory, in its order,
and its batch is tried again with backoff (real time: the lock is another process's) while the engine
runs; writes queued meanwhile join it, so what was kept is settled by the next write that goes through at
the latest. Its caller simply waits: a send's intent is committed before its request, as always, and an
answer that arrived is written as soon as the database can be. One warning per busy spell, not per
write. An impatient write (``patient=False``: what a person asked for through the bot) fails with the
error as before, so the bot can answer "try again": during a busy spell it joins the next attempt at
once, whatever is kept (the batch may grow past ``max_batch`` for it), never waiting behind the kept
writes. ``give_up()`` (shutdown) and ``close()`` end the
retries: what is still kept then fails with the error, the cycle stays open, and the next start settles
it by the resume rules ('pending' -> 'in_doubt').
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from storage import ledger as rows
from storage.db import Connection, Database, SyncConnection, unavailable, unavailable_reason
from storage.ledger import Op, SyncOp

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["Ledger"]


@dataclass(slots=True)
class _Write:
    future: asyncio.Future[Any]
    intent: rows.Intent | None = None
    result: rows.Result | None = None
    op: Op | None = None  # runs after the batch's rows, in the same transaction
    sync_op: SyncOp | None = None  # the same, on the plain connection in the writer's thread
    patient: bool = True  # kept and retried while the database cannot be written (else it fails at once)


class Ledger:
    """The engine's writer: intents, outcomes and any other engine write, committed in groups."""

    def __init__(
        self, db: Database, *, max_batch: int = 2000, first_backoff: float = 0.05, max_backoff: float = 2.0
    ) -> None:
        self.db = db
        self.max_batch = max_batch
        self.first_backoff = first_backoff  # seconds before the first retry of a batch the database refused
        self.max_backoff = max_backoff
        self._queue: list[_Write] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._retrying = True  # patient writes are kept while the database cannot be written
        self._stop_retrying: asyncio.Event | None = None
        self._impatient: asyncio.Event | None = None  # set when a person's write arrives during a pause
        self._busy_since: float | None = None  # when the current busy spell began (loop time)
        self.batches = 0
        self.writes = 0
        self.busy_spells = 0  # times the database could not be written and writes were kept

    # --- API -----------------------------------------------------------------------------------------

    async def intent(self, intent: rows.Intent) -> bool:
        """Commit the intent; False if the row already had a final outcome (do not send)."""
        accepted: bool = await self._enqueue(_Write(self._future(), intent=intent))
        return accepted

    async def result(self, result: rows.Result, then: Op | None = None) -> Any:
        """Commit an outcome with its statistics; ``then`` runs in the same transaction (its value is
        returned)."""
        return await self._enqueue(_Write(self._future(), result=result, op=then))

    async def results(self, results: Sequence[rows.Result]) -> None:
        """Commit several outcomes together (e.g. the groups a dead session leaves behind)."""
        if not results:
            return
        futures = [self._enqueue(_Write(self._future(), result=r)) for r in results]
        await asyncio.gather(*futures)

    async def run(self, op: Callable[[Connection], Awaitable[T]], *, patient: bool = True) -> T:
        """Run any write in the next group commit; returns what ``op`` returned. ``patient=False``: fail
        with the error (``StorageBusy``) when the database cannot be written, instead of waiting for it."""
        value: T = await self._enqueue(_Write(self._future(), op=op, patient=patient))
        return value

    async def run_sync(self, op: Callable[[SyncConnection], T], *, patient: bool = True) -> T:
        """Like ``run``, for an operation on the plain ``sqlite3`` connection: it runs in the writer's
        thread together with the batch's rows (it must not block, and must not touch the event loop)."""
        value: T = await self._enqueue(_Write(self._future(), sync_op=op, patient=patient))
        return value

    def give_up(self) -> None:
        """Stop keeping writes the database refuses (shutdown): those kept now, and any refused later,
        fail with the database's error."""
        self._retrying = False
        if self._stop_retrying is not None:
            self._stop_retrying.set()

    @property
    def busy(self) -> bool:
        """Writes are kept because the database cannot be written."""
        return self._busy_since is not None

    async def close(self) -> None:
        """Write what is queued (what the database refuses now fails), then stop the writer."""
        self._closing = True
        self.give_up()
        if self._wakeup is not None:
            self._wakeup.set()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    @property
    def queued(self) -> int:
        return len(self._queue)

    # --- machinery -----------------------------------------------------------------------------------

    @staticmethod
    def _future() -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    def _enqueue(self, write: _Write) -> asyncio.Future[Any]:
        if self._closing and self._task is None:
            raise RuntimeError("the ledger is closed")
        self._queue.append(write)
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._writer(), name="ledger-writer")
            self._task.add_done_callback(self._writer_done)
        assert self._wakeup is not None
        self._wakeup.set()
        if not write.patient and self._impatient is not None:
            self._impatient.set()
        return write.future

    @staticmethod
    def _writer_done(task: asyncio.Task[None]) -> None:
        # Its waiters already received the error; this only keeps it from being reported twice.
        if not task.cancelled() and task.exception() is not None:
            logger.warning("the ledger writer stopped: %r (a new one starts with the next write)", task.exception())

    async def _writer(self) -> None:
        assert self._wakeup is not None
        wakeup = self._wakeup
        try:
            while True:
                if not self._queue:
                    if self._closing:
                        return
                    wakeup.clear()
                    await wakeup.wait()
                    continue
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._commit(batch)
        except BaseException as exc:
            # The writer is going away (cancelled, or the process is dying): nobody waits forever.
            queued, self._queue = self._queue, []
            self._fail(queued, exc)
            raise

    async def _commit(self, batch: list[_Write]) -> None:
        delay = self.first_backoff
        while True:
            try:
                values = await rows.commit_batch(self.db, batch)
            except Exception as exc:
                if unavailable(exc):
                    batch = self._keep(batch, exc)
                    if not batch:
                        return
                    await self._pause(delay)
                    delay = min(delay * 2, self.max_backoff)
                    batch += self._next_joiners(self.max_batch - len(batch))
                    continue
                if len(batch) == 1:
                    self._fail(batch, exc)
                    return
                logger.warning("a group commit of %d writes failed (%s); writing them one by one", len(batch), exc)
                for write in batch:
                    await self._commit([write])
                return
            except BaseException as exc:
                # Cancelled or a process-level failure: nothing of this batch was committed.
                self._fail(batch, exc)
                raise
            break
        if self._busy_since is not None:
            spell = asyncio.get_running_loop().time() - self._busy_since
            self._busy_since = None
            logger.info("the database can be written again after %.1f s: the writes kept meanwhile are committed",
                        spell)
        self.batches += 1
        self.writes += len(batch)
        for write, value in zip(batch, values, strict=True):
            if not write.future.done():
                write.future.set_result(value)

    def _keep(self, batch: list[_Write], exc: Exception) -> list[_Write]:
        """The database refused ``batch`` (nothing of it was committed): the writes to try again, kept in
        order; the impatient ones fail, and every one once the ledger gave up (with what is queued)."""
        if not self._retrying:
            dropped = batch + self._queue
            self._queue = []
            self._fail(dropped, exc)
            if self._busy_since is not None or any(w.patient for w in dropped):
                logger.warning("the database still cannot be written (%s): %d write(s) given up; the cycles"
                               " they belong to stay open and are settled by the next start", unavailable_reason(exc),
                               len(dropped))
                self._busy_since = None
            return []
        self._fail([w for w in batch if not w.patient], exc)
        kept = [w for w in batch if w.patient]
        if kept and self._busy_since is None:
            self._busy_since = asyncio.get_running_loop().time()
            self.busy_spells += 1
            logger.warning("the database cannot be written (%s): %d write(s) kept in memory and retried until it"
                           " can; cycles wait meanwhile", unavailable_reason(exc), len(kept) + len(self._queue))
        return kept

    def _next_joiners(self, room: int) -> list[_Write]:
        """The queued writes that join a retry of kept ones: every impatient one, whatever is kept (a
        person's write is tried at the next attempt and fails fast with the error, never waits behind
        a full batch of kept writes), then patient ones in their order as far as ``room`` goes (what
        was kept is settled by the next write that goes through at the latest)."""
        impatient = [w for w in self._queue if not w.patient]
        if impatient:
            self._queue = [w for w in self._queue if w.patient]
        patient = self._queue[: max(room - len(impatient), 0)]
        del self._queue[: len(patient)]
        return impatient + patient

    async def _pause(self, seconds: float) -> None:
        """Wait before the next try: ``give_up`` ends the wait at once, a person's write (impatient) too,
        so that it is tried, and fails if it must, without waiting out the backoff."""
        if self._stop_retrying is None:
            self._stop_retrying = asyncio.Event()
            if not self._retrying:
                self._stop_retrying.set()
        if any(not w.patient for w in self._queue):
            return
        self._impatient = asyncio.Event()
        try:
            waits = {asyncio.ensure_future(self._stop_retrying.wait()), asyncio.ensure_future(self._impatient.wait())}
            try:
                await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waits:
                    waiter.cancel()
        finally:
            self._impatient = None

    @staticmethod
    def _fail(batch: list[_Write], exc: BaseException) -> None:
        for write in batch:
            if write.future.done():
                continue
            if isinstance(exc, asyncio.CancelledError):
                write.future.cancel()
            else:
                write.future.set_exception(exc)
                write.future.exception()  # a caller that went away must not leave "never retrieved" noise
