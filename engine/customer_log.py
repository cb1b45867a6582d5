"""Log lines about one customer's campaign: they also go to that customer's own log file (/logs), which
``control_bot.logfiles`` picks by the record's ``customer_id``."""

from __future__ import annotations

import logging
from typing import Protocol


class CustomerLog(Protocol):
    def __call__(self, customer_id: int, level: int, msg: str, *args: object) -> None: ...


def customer_log(logger: logging.Logger) -> CustomerLog:
    """``log(customer_id, level, msg, *args)`` on ``logger``, the record tagged with the customer."""

    def log(customer_id: int, level: int, msg: str, *args: object) -> None:
        logger.log(level, msg, *args, extra={"customer_id": customer_id})

    return log
