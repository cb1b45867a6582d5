"""Log lines about one customer's campaign: they also go to that customer's own log file (/logs), which
``control_bot.logfiles`` picks by the record's ``customer_id``.

A line is a key and values (``core.customer_log.LogKey``), never English: the customer reads it in their
language (``core.texts.customer_log``), and an error's short name (a Telethon class name) is a value the
texts turn into words. The operator's log gets the same record as ``key name=value ...``.

The customer's file takes every line whatever the operator's level: a line below it (a delivery, DEBUG,
one per post) goes to the ``adbot.customer_files`` logger alone, which ``control_bot.logfiles`` feeds to
the customer files only (when it set logging up; otherwise the line costs nothing). The text after the
key is built where the record is written (the writer thread), not here.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from core.customer_log import LogKey

__all__ = ["CUSTOMER_FILES_LOGGER", "CUSTOMER_LINE_ATTR", "CUSTOMER_ONLY_ATTR", "CustomerLine", "CustomerLog",
           "customer_log", "line_extra"]

CUSTOMER_LINE_ATTR = "customer_line"  # the record's (key, values): what the customer's file stores
CUSTOMER_FILES_LOGGER = "adbot.customer_files"  # as control_bot.logfiles names it
CUSTOMER_ONLY_ATTR = "customer_only"  # as control_bot.logwriter names it: for the customer's file alone


class CustomerLog(Protocol):
    def __call__(self, customer_id: int, level: int, key: LogKey, /, **values: object) -> None: ...


def line_extra(customer_id: int, key: LogKey, values: dict[str, object]) -> dict[str, object]:
    """The ``extra`` of a record that is also a line of the customer's log."""
    return {"customer_id": customer_id, CUSTOMER_LINE_ATTR: (key, values)}


class _Shown:
    """``name=value ...`` of a line's values, made only when the record is formatted."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, object]) -> None:
        self.values = values

    def __str__(self) -> str:
        return " ".join(f"{name}={value}" for name, value in self.values.items())


def customer_log(logger: logging.Logger) -> CustomerLog:
    """``log(customer_id, level, key, **values)`` on ``logger``, the record tagged with the customer."""
    sink = logging.getLogger(CUSTOMER_FILES_LOGGER)

    def log(customer_id: int, level: int, key: LogKey, /, **values: object) -> None:
        if logger.isEnabledFor(level):
            logger.log(level, "%s %s", key, _Shown(values), extra=line_extra(customer_id, key, values))
        elif sink.handlers:
            record = CustomerLine(logger.name, level, customer_id, key, values)
            for handler in sink.handlers:
                handler.handle(record)

    return log


class CustomerLine(logging.LogRecord):
    """A line for the customer's file alone (below the operator's level): built without
    ``LogRecord.__init__`` (the caller's frame, thread and process names, which no one reads here), as
    this is the one record made per post. Every attribute a formatter may read is still there: the
    constant ones on the class, the rest set here."""

    relativeCreated = 0.0
    pathname = filename = module = funcName = ""
    lineno = 0
    exc_info = exc_text = stack_info = None
    thread = threadName = processName = process = taskName = None
    customer_only = True  # CUSTOMER_ONLY_ATTR

    def __init__(self, name: str, level: int, customer_id: int, key: LogKey, values: dict[str, object]) -> None:
        # deliberately not calling LogRecord.__init__ (see the docstring)
        self.name, self.levelno, self.levelname = name, level, logging.getLevelName(level)
        self.msg, self.args = "%s %s", (key, _Shown(values))
        self.created = created = time.time()
        self.msecs = (created - int(created)) * 1000
        self.customer_id = customer_id
        self.customer_line = (key, values)
