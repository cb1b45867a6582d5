"""Log records leave the event loop at once: a ``QueueHandler`` puts them on a queue, one writer thread
(a ``QueueListener``) formats and writes them (``adbot.log``, the console, the per-customer files).

Measured before (``benchmarks/bench_overhead.py``): formatting, redacting and writing on the event-loop
thread cost about a third of a forward's CPU. Now the loop only builds the record and puts it on a
``SimpleQueue``; the message is formatted in the writer (the %-args travel with the record), after the
``RedactingFilter`` of each handler has run there.

The writer lingers a moment after the first record of a burst so it wakes once per batch rather than
once per record, and flushes the files at most a second after the first line it wrote since the last
flush (a file also flushes itself when its buffer fills); a batch that holds a WARNING or worse is
flushed as soon as it is written, so what went wrong is on disk even if the process is killed (SIGKILL,
the OOM killer) a moment later: a hard kill can lose at most the last second of INFO/DEBUG lines.
``flush()`` (``logging.shutdown`` calls it at exit, the log readers before reading) waits until every
record queued before it is written, so no record is lost at shutdown and ``/logs`` shows what was logged
before it was asked.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import threading
import time
from collections import deque
from typing import Any

__all__ = ["CUSTOMER_ONLY_ATTR", "WRITER_THREAD", "LogQueueHandler", "LogWriter"]

WRITER_THREAD = "adbot-log-writer"
# A record below the operator's level that only the customer's file takes (``engine.customer_log``).
CUSTOMER_ONLY_ATTR = "customer_only"
LINGER_S = 0.02  # how long the writer lets a burst gather before writing it (one wake-up per batch)
# Written lines reach the files at most this long after they were written (and at once on flush()):
# with 2,000 customers a batch touches ~a file per line, and a flush per batch was a write() per line.
FLUSH_EVERY_S = 1.0
FLUSH_TIMEOUT_S = 10.0
_END = None  # QueueListener's sentinel (``enqueue_sentinel`` puts it): the thread ends there


class _Barrier:
    """Put on the queue by ``flush()``: set once every record queued before it is written and flushed."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class LogWriter(logging.handlers.QueueListener):
    """The one thread that writes log records; ``customer`` takes the customer-only records alone."""

    def __init__(
        self,
        handlers: list[logging.Handler],
        customer: logging.Handler | None,
        linger: float = LINGER_S,
        flush_every: float = FLUSH_EVERY_S,
    ) -> None:
        self.records: queue.SimpleQueue[Any] = queue.SimpleQueue()
        super().__init__(self.records, *handlers, respect_handler_level=True)
        self.customer = customer
        self.linger = linger
        self.flush_every = flush_every
        self._flush_due: float | None = None  # when what was written since the last flush is flushed
        self._urgent = False  # the batch being written holds a WARNING or worse: flushed once it is written
        self._batch: deque[Any] = deque()
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None

    @property
    def all_handlers(self) -> tuple[logging.Handler, ...]:
        return tuple(self.handlers)

    def start(self) -> None:
        with self._lock:
            if self.thread is not None:
                return
            self.thread = threading.Thread(target=self._run, name=WRITER_THREAD, daemon=True)
            self._thread = self.thread
            self.thread.start()

    def _run(self) -> None:
        self._monitor()  # type: ignore[attr-defined]  # QueueListener's loop: dequeue, handle, until the end

    def dequeue(self, block: bool) -> Any:
        while not self._batch:
            if self._urgent:  # the batch just written said something went wrong: on disk now
                self._flush_handlers()
            timeout = None
            if self._flush_due is not None:
                timeout = self._flush_due - time.monotonic()
                if timeout <= 0:
                    self._flush_handlers()
                    timeout = None
            try:
                first = self.records.get(timeout=timeout)
            except queue.Empty:  # quiet since the last write: it reaches the files now
                self._flush_handlers()
                continue
            if first is not _END and not isinstance(first, _Barrier) and self.linger > 0:
                time.sleep(self.linger)
            self._batch.append(first)
            try:
                while True:
                    self._batch.append(self.records.get_nowait())
            except queue.Empty:
                pass
        return self._batch.popleft()

    def handle(self, record: Any) -> None:
        if isinstance(record, _Barrier):
            self._flush_handlers()
            record.done.set()
            return
        if self._flush_due is None:
            self._flush_due = time.monotonic() + self.flush_every
        if getattr(record, "levelno", 0) >= logging.WARNING:
            self._urgent = True
        if getattr(record, CUSTOMER_ONLY_ATTR, False):
            # Only this thread writes through the handler: its lock is not needed, and its filters
            # (the RedactingFilter) leave such a record to the handler, which redacts the line it writes.
            if self.customer is not None:
                self.customer.emit(record)
            return
        super().handle(record)

    def _flush_handlers(self) -> None:
        self._flush_due = None
        self._urgent = False
        for handler in self.handlers:
            try:
                handler.flush()
            except Exception:  # a full disk must not stop the writer; logging reports it on stderr
                handler.handleError(logging.makeLogRecord({"msg": "flush failed"}))

    def flush(self, timeout: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until every record queued so far is written and flushed; False if the writer is not
        running (then nothing is waited for) or did not finish in time."""
        thread = self.thread
        if thread is None or not thread.is_alive() or threading.current_thread() is thread:
            return False
        barrier = _Barrier()
        self.records.put_nowait(barrier)
        return barrier.done.wait(timeout)

    def stop(self) -> None:
        """Write everything queued, then end the thread (idempotent)."""
        with self._lock:
            thread, self.thread = self.thread, None
            if thread is None:
                return
            self._thread = thread
            self.enqueue_sentinel()
            thread.join()
            self._thread = None
            while self._batch:  # nothing follows the sentinel; kept for safety
                item = self._batch.popleft()
                if item is not _END:
                    self.handle(item)
            self._flush_handlers()


class LogQueueHandler(logging.handlers.QueueHandler):
    """Puts the record on the writer's queue as it is: no formatting on the caller's thread (the %-args
    are formatted by the writer), no lock (the queue is thread-safe)."""

    def __init__(self, writer: LogWriter) -> None:
        super().__init__(writer.records)
        self.writer = writer

    def handle(self, record: logging.LogRecord) -> bool:
        if self.filters and not self.filter(record):
            return False
        self.queue.put_nowait(record)
        return True

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.stop()
        for handler in self.writer.all_handlers:
            handler.close()
        super().close()
