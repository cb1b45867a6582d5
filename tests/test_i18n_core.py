"""core.i18n: the reader scope every text uses (locale, zone, translator), without aiogram."""

from __future__ import annotations

import asyncio
from io import BytesIO

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations

from core.i18n import N_, UTC, _, audience, locale, n_, num, reading, tz, zone


class _Catalogs:
    """A translator shaped like aiogram's I18n: one compiled Babel catalog per locale."""

    def __init__(self, **catalogs: Translations) -> None:
        self.catalogs = catalogs

    def gettext(self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None) -> str:
        cat = self.catalogs.get(locale or "")
        if cat is None:
            return singular if plural is None or n == 1 else plural
        return cat.gettext(singular) if plural is None else cat.ngettext(singular, plural, n)


def _ru() -> Translations:
    catalog = Catalog(locale="ru")
    catalog.add("Hello, {name}.", "Привет, {name}.")
    catalog.add(("{n} group", "{n} groups"), ("{n} группа", "{n} группы", "{n} групп"))
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def test_outside_any_scope_texts_are_the_english_source_with_values() -> None:
    assert audience().scoped is False
    assert locale() == "en" and tz() is UTC
    assert _("Hello, {name}.", name="Ann") == "Hello, Ann."
    assert n_("{n} group", "{n} groups", 1) == "1 group"
    assert n_("{n} group", "{n} groups", 1234) == "1,234 groups"
    assert N_("marker only") == "marker only"


def test_a_russian_reader_gets_russian_plural_forms_and_numbers() -> None:
    translator = _Catalogs(ru=_ru())
    with reading("ru", "Europe/Moscow", translator) as reader:
        assert reader.scoped and str(reader.tz) == "Europe/Moscow"
        assert _("Hello, {name}.", name="Аня") == "Привет, Аня."
        assert [n_("{n} group", "{n} groups", n) for n in (1, 3, 5, 21)] == [
            "1 группа", "3 группы", "5 групп", "21 группа"
        ]
        assert num(1234567.5) == "1\xa0234\xa0567,5"
        # a message not in the catalog falls back to the English source, never an empty text
        assert _("Not translated yet") == "Not translated yet"
    assert locale() == "en"


def test_nested_scopes_keep_the_translator_and_restore_the_outer_reader() -> None:
    translator = _Catalogs(ru=_ru())
    with reading("ru", None, translator):
        with reading("en"):
            assert _("Hello, {name}.", name="A") == "Hello, A."
        assert _("Hello, {name}.", name="A") == "Привет, A."


async def test_the_scope_follows_awaits_threads_and_tasks_created_inside_it() -> None:
    translator = _Catalogs(ru=_ru())
    with reading("ru", None, translator):
        in_thread = await asyncio.to_thread(lambda: _("Hello, {name}.", name="x"))
        in_task = await asyncio.create_task(asyncio.sleep(0, result=None)) or _("Hello, {name}.", name="x")
    assert in_thread == "Привет, x." and in_task == "Привет, x."


def test_unknown_or_empty_zone_names_are_utc() -> None:
    assert zone(None) is UTC and zone("") is UTC and zone("Mars/Olympus") is UTC
    assert str(zone("Etc/GMT-3")) == "Etc/GMT-3"
