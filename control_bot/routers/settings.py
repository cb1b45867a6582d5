"""/settings: language, time zone, notification level (issue 18 part A1)."""

from __future__ import annotations

from aiogram import Router


def setup() -> Router:
    return Router(name="settings")
