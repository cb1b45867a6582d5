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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from core.errors import StorageBusy
from storage import ledger as rows
from storage.db import Connection, Database, SyncConnection
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


class Ledger:
    """The engine's writer: intents, outcomes and any other engine write, committed in groups."""

    def __init__(self, db: Database, *, max_batch: int = 2000) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: list[_Write] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.writes = 0

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

    async def run(self, op: Callable[[Connection], Awaitable[T]]) -> T:
        """Run any write in the next group commit; returns what ``op`` returned."""
        value: T = await self._enqueue(_Write(self._future(), op=op))
        return value

    async def run_sync(self, op: Callable[[SyncConnection], T]) -> T:
        """Like ``run``, for an operation on the plain ``sqlite3`` connection: it runs in the writer's
        thread together with the batch's rows (it must not block, and must not touch the event loop)."""
        value: T = await self._enqueue(_Write(self._future(), sync_op=op))
        return value

    async def close(self) -> None:
        """Write what is queued, then stop the writer."""
        self._closing = True
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
        try:
            values = await rows.commit_batch(self.db, batch)
        except StorageBusy as exc:
            self._fail(batch, exc)
            return
        except Exception as exc:
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
        self.batches += 1
        self.writes += len(batch)
        for write, value in zip(batch, values, strict=True):
            if not write.future.done():
                write.future.set_result(value)

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
