"""Strangers and first contact: what the service is, requesting access, the admins' cards (issue 18 part D).

A stub registered by ``control_bot.routers`` (before the customer routers) so part D fills it in
without editing the router list.
"""

from __future__ import annotations

from aiogram import Router


def setup() -> Router:
    return Router(name="onboarding")
