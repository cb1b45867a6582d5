"""Who is reading a text: the locale, time zone and translator every text and formatter of ``core.texts`` uses.

English is the source language: each message id is the English text itself, so with no translator (the
operator's command line, operator logs, tests that read no locale) every text reads exactly as written.
The bot enters ``reading(...)`` for each update (its i18n middleware) and for each message it sends
outside a handler (the outbox, reminders, access-request cards), so a text never needs to be told who
reads it. The scope is a ``ContextVar``: it follows awaits, ``asyncio.to_thread`` and tasks created inside it.

Rules for texts (``tests/test_i18n_catalogs.py`` holds them): only string literals inside ``_()`` /
``n_()`` / ``N_()``, named brace placeholders (``{group}``, never ``{0}``), one whole sentence per msgid,
never fragments glued into sentences; values are escaped by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_decimal

SOURCE_LOCALE = "en"
UTC = ZoneInfo("UTC")


class Translator(Protocol):
    """What a catalog offers (aiogram's ``I18n`` fits it structurally)."""

    def gettext(self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None) -> str: ...


@dataclass(frozen=True)
class Audience:
    """The reader of a text: their language, their time zone, and the catalog that speaks it."""

    locale: str = SOURCE_LOCALE
    tz: ZoneInfo = field(default=UTC)
    translator: Translator | None = None
    # False outside any reading scope: the operator's terminal keeps its exact UTC formats.
    scoped: bool = False


# Audience is frozen: sharing the default instance is safe.
_current: ContextVar[Audience] = ContextVar("adbot_audience", default=Audience())  # noqa: B039


def zone(name: str | ZoneInfo | None) -> ZoneInfo:
    """An IANA zone by name; an unknown or empty name is UTC (a stored name may predate a tzdata update)."""
    if isinstance(name, ZoneInfo):
        return name
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@contextmanager
def reading(
    locale: str = SOURCE_LOCALE, tz: ZoneInfo | str | None = None, translator: Translator | None = None
) -> Iterator[Audience]:
    """Texts built inside this block are for a reader of ``locale`` in zone ``tz``."""
    if translator is None:
        translator = _current.get().translator
    audience = Audience(locale=locale, tz=zone(tz), translator=translator, scoped=True)
    token = _current.set(audience)
    try:
        yield audience
    finally:
        _current.reset(token)


def audience() -> Audience:
    return _current.get()


def locale() -> str:
    return _current.get().locale


def tz() -> ZoneInfo:
    return _current.get().tz


def num(n: float) -> str:
    """A number as the reader writes it: 1,234 in English, 1 234 in Russian."""
    return format_decimal(n, locale=_current.get().locale)


def _translate(singular: str, plural: str | None, n: int) -> str:
    reader = _current.get()
    if reader.translator is None or reader.locale == SOURCE_LOCALE:
        return singular if plural is None or n == 1 else plural
    return reader.translator.gettext(singular, plural, n, locale=reader.locale)


def _(msgid: str, /, **values: object) -> str:
    """``msgid`` in the reader's language, with ``{name}`` placeholders filled from ``values``."""
    text = _translate(msgid, None, 1)
    return text.format_map(values) if values else text


def n_(singular: str, plural: str, n: int, /, **values: object) -> str:
    """The plural form for ``n`` in the reader's language; ``{n}`` is ``n`` formatted for the locale."""
    text = _translate(singular, plural, n)
    return text.format_map({"n": num(n), **values})


def N_(msgid: str) -> str:
    """Marks a table value for extraction; translated where it is used, with ``_()``."""
    return msgid
