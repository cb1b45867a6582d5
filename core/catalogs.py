"""The translation catalogs, read from the committed ``.po`` files and compiled in memory at start.

Layout: ``core/locales/<lang>/LC_MESSAGES/<domain>.po``, one domain per ``core.texts`` module so parts
of the code own their catalogs; at runtime a locale's domains are merged into one ``Translations``.
No ``.mo`` is committed or built: compiling ~1,000 messages takes tens of milliseconds. English is the
source language and has no folder. A new language is a new folder (``scripts/i18n.py init LANG``).
This module imports no bot framework: the bot's i18n wrapper calls it, and so do the catalog tests.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def available_locales(path: Path = LOCALES_DIR) -> list[str]:
    """The locales that have catalogs: every folder of ``path`` holding ``LC_MESSAGES/*.po``, sorted."""
    if not path.is_dir():
        return []
    return sorted(
        entry.name for entry in path.iterdir() if entry.is_dir() and any((entry / "LC_MESSAGES").glob("*.po"))
    )


def load_locale(path: Path, locale: str) -> Translations:
    """Every domain of ``locale`` under ``path``, compiled in memory and merged into one catalog.

    Fuzzy entries are left out (as ``msgfmt`` does): an unreviewed translation reads as the English
    source text rather than as a guess.
    """
    merged: Translations | None = None
    for po_path in sorted((path / locale / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=po_path.stem)
        buffer = BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        translations = Translations(buffer, domain=po_path.stem)
        if merged is None:
            merged = translations
        else:
            merged.merge(translations)
    return merged if merged is not None else Translations()


def load_catalogs(path: Path = LOCALES_DIR) -> dict[str, Translations]:
    """One merged ``Translations`` per available locale under ``path``, keyed by locale code."""
    return {code: load_locale(path, code) for code in available_locales(path)}
