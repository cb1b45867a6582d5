"""The translation catalogs: every ``.po`` of each locale folder, compiled in memory (no ``.mo`` anywhere).

Stand-in written by part A1 with the API part A2 provides (A2's module replaces this one at merge):
``LOCALES_DIR`` and ``load_catalogs(path)``.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def _compile(po: Path) -> Translations:
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=po.parent.parent.name, domain=po.stem)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=po.stem)


def load_catalogs(path: Path = LOCALES_DIR) -> dict[str, Translations]:
    """``{locale: Translations}``: a locale's domains merged into one catalog."""
    result: dict[str, Translations] = {}
    if not path.is_dir():
        return result
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        merged: Translations | None = None
        for po in sorted((folder / "LC_MESSAGES").glob("*.po")):
            translations = _compile(po)
            if merged is None:
                merged = translations
            else:
                merged.merge(translations)
        if merged is not None:
            result[folder.name] = merged
    return result
