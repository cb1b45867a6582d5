"""What the customer is told of a change made through the integration API (issue 20 part C,
``control_bot.api``): the outbox renders these through ``core.texts.events``. HTML; payload values escaped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.i18n import _
from core.texts.fmt import esc


def campaign_started(p: Mapping[str, Any], admin: bool) -> str:
    """EventKind.CAMPAIGN_STARTED: the campaign was started from outside the chat (the customer's dashboard)."""
    if admin:
        owner = p.get("customer_id")
        text = _("▶ Campaign started through the integration API.")
        return text if owner is None else _("Customer <code>{customer}</code>:", customer=esc(owner)) + " " + text
    return _("▶ Your campaign was started. /status shows how it goes; /stop stops it.")
