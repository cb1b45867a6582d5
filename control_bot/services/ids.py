"""Ids an admin types (a user id, a session number): whole positive numbers that fit a row id.

The upper bound is storage's (SQLite binds a signed 64-bit integer), not a rule a person could act on:
it is never shown. Anything that is not such a number is refused with the caller's words for "not a
user id / session number I know", which quote what was typed (shortened) and say what one looks like."""

from __future__ import annotations

from collections.abc import Callable

from core.errors import InputError

MAX_ID = 2**63 - 1
"""The largest row id or Telegram id there is (a signed 64-bit integer)."""
SHOWN_CHARS = 24


def shown(raw: str) -> str:
    """What was typed, as a refusal quotes it: stripped, at most ``SHOWN_CHARS`` characters."""
    text = raw.strip()
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def is_id(value: int) -> bool:
    """A number that can name a row or a Telegram user (a forged button may carry any other)."""
    return not isinstance(value, bool) and 0 < value <= MAX_ID


def parse_id(raw: str, refused: Callable[[str], str]) -> int:
    """``raw`` as an id, or InputError(``refused(what was typed)``)."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 19 and is_id(int(text)):
        return int(text)
    raise InputError(refused(shown(raw)))
