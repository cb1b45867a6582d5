"""The buttons under notifications: cycle summary Details / Stop / Fix (issue 18 part G).

A stub registered by ``control_bot.routers`` (after the customer routers, before the fallback) so
part G fills it in without editing the router list.
"""

from __future__ import annotations

from aiogram import Router


def setup() -> Router:
    return Router(name="customer_notify")
