"""Adding a third language is a catalog, not code (issue 18): `scripts/i18n.py init uk`, translate the files,
and the bot offers it, negotiates it from Telegram's language code and speaks it, with its plural rules."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from control_bot import keyboards as kb
from control_bot.i18n import AdbotI18n
from core.catalogs import LOCALES_DIR
from core.i18n import reading
from core.texts import settings as st
from core.texts.fmt import fmt_duration

ROOT = Path(__file__).resolve().parent.parent


def _script() -> object:
    spec = importlib.util.spec_from_file_location("adbot_i18n_script_uk", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _translate_all(folder: Path) -> int:
    """What a translator does: every msgstr filled (here: the English marked "[uk]"), every plural form."""
    filled = 0
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fp:
            catalog = read_po(fp, locale="uk")
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, tuple | list):
                singular, plural = message.id
                message.string = tuple(f"[uk] {singular if i == 0 else plural}" for i in range(catalog.num_plurals))
            else:
                message.string = f"[uk] {message.id}"
            filled += 1
        with po.open("wb") as fp:
            write_po(fp, catalog, width=0, no_location=True, sort_output=True)
    return filled


def test_a_third_language_is_a_catalog_not_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    script = _script()
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "LOCALES_DIR", locales)

    script.init("uk")  # type: ignore[attr-defined]
    assert script.check_domain("uk", "settings")  # type: ignore[attr-defined]  # created empty: reported
    assert _translate_all(locales / "uk" / "LC_MESSAGES") > 500
    assert [p for d in script.domains() for p in script.check_domain("uk", d)] == []  # type: ignore[attr-defined]

    i18n = AdbotI18n(path=locales)
    assert set(i18n.available_locales) == {"en", "ru", "uk"}
    assert i18n.negotiate("uk-UA") == "uk" and i18n.negotiate("ru") == "ru"
    with reading("uk", "Europe/Kyiv", translator=i18n):
        assert st.PICK_LANGUAGE().startswith("[uk] ")
        # units are plurals (n_): Ukrainian's three forms come from Babel's rules for uk, not from code
        assert fmt_duration(150).count("[uk]") == 2
        buttons = [b.text for row in kb.settings_languages(i18n.available_locales, "uk").inline_keyboard for b in row]
    assert any(label.startswith("✅ ") and "україн" in label.lower() for label in buttons), buttons
    assert any("English" in label for label in buttons) and any("русский" in label.lower() for label in buttons)
