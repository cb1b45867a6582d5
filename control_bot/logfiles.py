"""Logging: one ``setup_logging()``, per-customer daily files, and redaction of secrets.

A record that carries ``extra={"customer_id": <user id>}`` is also written to
``<logs_dir>/<user_id>/YYYY-MM-DD.log`` (the seed's layout), which is what ``/logs`` shows the customer.
A record of ``engine.customer_log`` (a key and values) is stored there structured, ``DAY TIME LEVEL
{json}`` (``core.customer_log``), and rendered in the reader's language when shown; any other record
(and every line written before that format) is stored and shown as its plain message.
Every handler carries the ``RedactingFilter``: bot tokens, API hashes, auth keys and session strings
never reach a file or the console, whoever logged them.

The handlers run in one writer thread (``control_bot.logwriter``): the event loop only queues records.
``adbot.log`` rotates by size (``[paths] log_max_mb``, ``log_backups``). A customer line below the
operator's level (a delivery is DEBUG for the operator) still reaches the customer's file: the engine
hands it to the ``adbot.customer_files`` logger, which feeds the same writer.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import resource
import sys
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from control_bot.logwriter import CUSTOMER_ONLY_ATTR, LogQueueHandler, LogWriter
from core.customer_log import encode
from core.private_files import DIR_MODE

CUSTOMER_ATTR = "customer_id"
CUSTOMER_LINE_ATTR = "customer_line"  # engine.customer_log's (key, values) of the record
CUSTOMER_FILES_LOGGER = "adbot.customer_files"  # engine.customer_log's customer-only records
REDACTED = "[redacted]"
MIB = 1024 * 1024

_PATTERNS = (
    r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}",  # bot token (also inside ".../bot<token>/...")
    r"\b1[A-Za-z0-9+/_=-]{300,}",  # Telethon StringSession
    r"\b[0-9a-fA-F]{64,}\b",  # hex dump of a key (auth keys are 512 hex chars)
    r"\b[0-9a-f]{32}\b",  # api_hash
)
# One pass over each message: every log line goes through it (one per post at 1,000s of posts a minute).
_SECRET_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
# Every pattern needs a run of 30 such characters: a line without one (nearly all) skips the big pass,
# which costs several times as much.
_MAYBE_SECRET = re.compile(r"[A-Za-z0-9_+/=-]{30}")
_CLEAN = "_adbot_redacted_by"  # the filter that redacted a record: its pass on the next handler is free


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's final message; known secrets are added at run time."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # A tuple replaced whole: the writer thread reads it while the loop adds secrets learnt later.
        self._secrets: tuple[str, ...] = ()
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 6 and secret not in self._secrets:
            self._secrets = (*self._secrets, secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if _MAYBE_SECRET.search(text) is None:
            return text
        return _SECRET_RE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _CLEAN, None) is self:
            return True
        if getattr(record, CUSTOMER_ONLY_ATTR, False) and getattr(record, CUSTOMER_LINE_ATTR, None) is not None:
            # Written only as its structured line, which CustomerFileHandler redacts with this filter.
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        setattr(record, _CLEAN, self)
        return True


def customer_log_dir(logs_dir: Path, customer_id: int) -> Path:
    return logs_dir / str(int(customer_id))


def customer_log_path(logs_dir: Path, customer_id: int, day: str | None = None) -> Path:
    day = day or time.strftime("%Y-%m-%d", time.gmtime())
    return customer_log_dir(logs_dir, customer_id) / f"{day}.log"


def customer_log_files(logs_dir: Path, customer_id: int) -> list[Path]:
    """The customer's daily log files, oldest first (the names are their days)."""
    try:
        return sorted(p for p in customer_log_dir(logs_dir, customer_id).iterdir() if p.suffix == ".log")
    except FileNotFoundError:
        return []


def open_file_budget() -> int:
    """How many customer log files may stay open: a share of the process's descriptor limit, which the
    Telegram clients (a socket and a session database each) need most of."""
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return 64
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(16, min(1024, soft // 8))


class CustomerFileHandler(logging.Handler):
    """Appends records tagged with ``customer_id`` to that customer's file of the day.

    Files stay open in an LRU sized from the descriptor limit: with 1,000 campaigns posting at once,
    a small LRU reopened a file for nearly every line (an open, a mkdir and a close per post)."""

    def __init__(self, logs_dir: Path, max_open: int | None = None) -> None:
        super().__init__()
        self.logs_dir = logs_dir
        self._files: OrderedDict[tuple[int, int], IO[str]] = OrderedDict()  # (customer, day number)
        self._max_open = max_open if max_open is not None else open_file_budget()
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
        )
        self.formatter.converter = time.gmtime  # type: ignore[union-attr]
        self._stamp: tuple[int, str] = (-1, "")  # (second, its text): many lines share a second
        # Files written since the last flush: the writer flushes after every batch, and flushing each of
        # 2,000 open files every batch cost 40 µs per post (bench_scale).
        self._dirty: set[IO[str]] = set()

    @property
    def open_files(self) -> int:
        """How many customer files are open now (at most ``max_open``)."""
        return len(self._files)

    def _file(self, customer: int, day: int) -> IO[str]:
        key = (customer, day)
        handle = self._files.get(key)
        if handle is not None:
            self._files.move_to_end(key)
            return handle
        path = customer_log_path(self.logs_dir, customer, time.strftime("%Y-%m-%d", time.gmtime(day * 86_400)))
        path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open in an LRU, closed in close()
        self._files[key] = handle
        if len(self._files) > self._max_open:
            _, oldest = self._files.popitem(last=False)
            oldest.close()
        return handle

    def emit(self, record: logging.LogRecord) -> None:
        customer = getattr(record, CUSTOMER_ATTR, None)
        if customer is None:
            return
        try:
            handle = self._file(int(customer), int(record.created // 86_400))
            handle.write(self._line(record) + "\n")  # flushed when the writer's queue runs dry
            self._dirty.add(handle)
        except Exception:
            self.handleError(record)

    def _line(self, record: logging.LogRecord) -> str:
        line = getattr(record, CUSTOMER_LINE_ATTR, None)
        if line is None:
            return self.format(record)
        key, values = line
        second = int(record.created)
        if self._stamp[0] != second:
            self._stamp = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second)))
        stamp = self._stamp[1]
        body = encode(key, values)
        for redactor in self.filters:
            if isinstance(redactor, RedactingFilter):
                body = redactor.redact(body)
        # The operator's DEBUG (a delivery: one per post) is an ordinary line of the customer's own log.
        level = record.levelname if record.levelno >= logging.INFO else "INFO"
        return f"{stamp} {level} {body}"

    def flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for handle in dirty:
            if not handle.closed:  # closed meanwhile by the LRU, which flushed it
                handle.flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        self._dirty.clear()
        super().close()


class ServiceLogHandler(logging.handlers.RotatingFileHandler):
    """``adbot.log``, rotated by size, for the writer thread: the size is counted as lines are written
    (the stdlib's check formats each record twice and seeks the file for it) and the file is flushed by
    the writer after a batch, not after every line."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._size = path.stat().st_size if path.exists() else 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            size = len(line.encode("utf-8", errors="replace"))
            if self.maxBytes > 0 and self._size > 0 and self._size + size > self.maxBytes:
                self.doRollover()
                self._size = 0
            if self.stream is None:
                self.stream = self._open()
            self.stream.write(line)
            self._size += size
        except Exception:
            self.handleError(record)


def flush_logging() -> None:
    """Wait until every record logged so far is in its file (the readers below call it; tests too)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, LogQueueHandler):
            handler.flush()


def tail_customer_log(logs_dir: Path, customer_id: int, lines: int = 100) -> list[str]:
    """The last ``lines`` lines of the customer's newest daily log (the seed's "last 100 lines")."""
    flush_logging()
    out: list[str] = []
    for path in reversed(customer_log_files(logs_dir, customer_id)):
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 200 * (lines - len(out)) - 4096))
            chunk = fh.read().decode("utf-8", errors="replace").splitlines()
        out = chunk[-(lines - len(out)) :] + out
        if len(out) >= lines:
            break
    return out[-lines:]


def newest_customer_log(logs_dir: Path, customer_id: int, max_bytes: int) -> tuple[str, bytes] | None:
    """(day, contents) of the customer's newest daily log file, its last ``max_bytes`` if bigger; None
    when they have none."""
    flush_logging()
    files = customer_log_files(logs_dir, customer_id)
    if not files:
        return None
    newest = files[-1]
    with newest.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - max_bytes))
        return newest.stem, fh.read()


def setup_logging(
    logs_dir: Path | None,
    level: int = logging.INFO,
    secrets: Iterable[str] = (),
    console: bool = True,
    max_bytes: int = 50 * MIB,
    backups: int = 5,
) -> RedactingFilter:
    """Install the root handlers (console, ``adbot.log``, per-customer files) behind one writer thread;
    returns the filter so secrets learnt later (API hashes) can be added to it. ``adbot.log`` rotates
    when it would pass ``max_bytes`` (0: never), keeping ``backups`` old files."""
    root = logging.getLogger()
    sink = logging.getLogger(CUSTOMER_FILES_LOGGER)
    for logger in (root, sink):
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
    redactor = RedactingFilter(secrets)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    customer: CustomerFileHandler | None = None
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    if logs_dir is not None:
        logs_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        handlers.append(ServiceLogHandler(logs_dir / "adbot.log", max_bytes, backups))
        customer = CustomerFileHandler(logs_dir)
        handlers.append(customer)
    for handler in handlers:
        if not isinstance(handler, CustomerFileHandler):
            handler.setFormatter(fmt)
        handler.addFilter(redactor)
    writer = LogWriter(handlers, customer)
    queued = LogQueueHandler(writer)
    writer.start()
    root.addHandler(queued)
    root.setLevel(level)
    # Customer lines below the operator's level reach the customer's file only (never the root's handlers).
    sink.propagate = False
    sink.setLevel(logging.DEBUG)
    if customer is not None:
        sink.addHandler(queued)
    for noisy in ("aiogram.event", "telethon", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return redactor


@contextmanager
def preserved_logging() -> Iterator[None]:
    """Restore the root logger's handlers and level afterwards (closing the ones added meanwhile), for
    code that installs logging for a while: the demo, tests."""
    root, sink = logging.getLogger(), logging.getLogger(CUSTOMER_FILES_LOGGER)
    handlers, level = list(root.handlers), root.level
    sink_handlers, sink_state = list(sink.handlers), (sink.propagate, sink.level)
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            if handler not in handlers:
                handler.close()
        for handler in list(sink.handlers):
            sink.removeHandler(handler)
            if handler not in sink_handlers:
                handler.close()
        for handler in handlers:
            root.addHandler(handler)
        for handler in sink_handlers:
            sink.addHandler(handler)
        # As it was: pytest, for one, attaches its capture to every logger that does not propagate.
        sink.propagate = sink_state[0]
        sink.setLevel(sink_state[1])
        root.setLevel(level)
