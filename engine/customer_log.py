"""Log lines about one customer's campaign: they also go to that customer's own log file (/logs), which
``control_bot.logfiles`` picks by the record's ``customer_id``.

A line is a key and values (``core.customer_log.LogKey``), never English: the customer reads it in their
language (``core.texts.customer_log``), and an error's short name (a Telethon class name) is a value the
texts turn into words. The operator's log gets the same record as ``key name=value ...``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from core.customer_log import LogKey

__all__ = ["CUSTOMER_LINE_ATTR", "CustomerLog", "customer_log", "line_extra"]

CUSTOMER_LINE_ATTR = "customer_line"  # the record's (key, values): what the customer's file stores


class CustomerLog(Protocol):
    def __call__(self, customer_id: int, level: int, key: LogKey, /, **values: object) -> None: ...


def line_extra(customer_id: int, key: LogKey, values: dict[str, object]) -> dict[str, object]:
    """The ``extra`` of a record that is also a line of the customer's log."""
    return {"customer_id": customer_id, CUSTOMER_LINE_ATTR: (key, values)}


def customer_log(logger: logging.Logger) -> CustomerLog:
    """``log(customer_id, level, key, **values)`` on ``logger``, the record tagged with the customer."""

    def log(customer_id: int, level: int, key: LogKey, /, **values: object) -> None:
        if not logger.isEnabledFor(level):
            return
        shown = " ".join(f"{name}={value}" for name, value in values.items())
        logger.log(level, "%s %s", key, shown, extra=line_extra(customer_id, key, values))

    return log
