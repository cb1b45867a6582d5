"""The tests that fail on a missing or broken translation (plan §2.6), pure Python and fast.

1. every ``_``/``n_``/``N_`` call in ``core/texts`` has string literals as its message arguments;
2. per language and domain: the catalog's msgids are exactly the source's, every msgstr is filled and
   not fuzzy, plurals have the language's number of forms;
3. placeholders of every msgstr (every plural form) are the msgid's;
4. HTML tags equal the msgid's, and every msgstr parses with the Bot API emulator's HTML parser;
5. a msgid in two domains reads the same in both;
6. every public text renders (English for every module; each translated language for its finished
   domains) without a format error, without a ``<function ...>`` and without untranslated words.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import traceback
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from babel.support import Translations

from core.catalogs import LOCALES_DIR, available_locales, load_catalogs
from core.i18n import reading
from sandbox.botapi.html import parse_html

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("adbot_i18n_script", ROOT / "scripts" / "i18n.py")
assert _spec is not None and _spec.loader is not None
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)

DOMAINS: list[str] = script.domains()
LANGUAGES: list[str] = script.languages()
PAIRS = [(lang, domain) for lang in LANGUAGES for domain in DOMAINS]
# The one function that translates a value rather than a literal: a table entry marked with N_().
NON_LITERAL_ALLOWED = {("fmt", "tr")}


def test_catalogs_live_in_the_core_package_and_every_domain_has_one() -> None:
    assert Path(LOCALES_DIR) == ROOT / "core" / "locales" and available_locales() == LANGUAGES
    assert "ru" in LANGUAGES and "fmt" in DOMAINS and {"cli", "config"}.isdisjoint(DOMAINS)
    for lang, domain in PAIRS:
        assert script.po_path(lang, domain).is_file(), f"no {lang} catalog for {domain}: scripts/i18n.py update"


# --- 1. literals only --------------------------------------------------------------------------------


def _calls(path: Path) -> Iterator[tuple[str, ast.Call]]:
    """Every _()/n_()/N_() call of a texts module, with the name of the function it is in."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def walk(node: ast.AST, where: str) -> Iterator[tuple[str, ast.Call]]:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and not where else where
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in {"_", "n_", "N_"}:
                yield inner, child
            yield from walk(child, inner)

    yield from walk(tree, "")


@pytest.mark.parametrize("domain", DOMAINS)
def test_only_string_literals_are_marked_for_translation(domain: str) -> None:
    path = script.TEXTS_DIR / f"{domain}.py"
    bad = []
    for where, call in _calls(path):
        if (domain, where) in NON_LITERAL_ALLOWED:
            continue
        count = 2 if call.func.id == "n_" else 1  # type: ignore[attr-defined]
        messages = call.args[:count]
        if len(messages) < count or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in messages):
            bad.append(f"{path.name}:{call.lineno} {ast.unparse(call)[:100]}")
        elif any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            bad.append(f"{path.name}:{call.lineno} values spread into {call.func.id}()")  # type: ignore[attr-defined]
    assert not bad, "only string literals inside _()/n_()/N_(); values as named placeholders:\n" + "\n".join(bad)


def test_no_text_module_shadows_the_translation_function() -> None:
    bad = []
    for domain in DOMAINS:
        path = script.TEXTS_DIR / f"{domain}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                bad.append(f"{path.name}:{node.lineno}")
    assert not bad, f"`_` assigned (it is the translation function): {bad}"


# --- 2-5. the catalogs ---------------------------------------------------------------------------------

_COMPLETENESS = ("missing msgid", "obsolete msgid", "is fuzzy", "has no translation", "plural forms", "no catalog")


@pytest.mark.parametrize(("lang", "domain"), PAIRS)
def test_every_msgid_is_translated_and_nothing_is_left_over(lang: str, domain: str) -> None:
    problems = [p for p in script.check_domain(lang, domain) if any(k in p for k in _COMPLETENESS)]
    assert not problems, "python scripts/i18n.py update, then translate:\n" + "\n".join(problems)


@pytest.mark.parametrize(("lang", "domain"), PAIRS)
def test_translations_keep_the_placeholders(lang: str, domain: str) -> None:
    problems = [p for p in script.check_domain(lang, domain) if "placeholders" in p]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("lang", "domain"), PAIRS)
def test_translations_keep_the_html_tags_and_parse(lang: str, domain: str) -> None:
    problems = [p for p in script.check_domain(lang, domain) if "HTML tags" in p]
    if script.po_path(lang, domain).exists():
        for message in script.read(lang, domain):
            forms = message.string if isinstance(message.string, tuple | list) else [message.string]
            for form in forms:
                if message.id and form:
                    try:
                        parse_html(form)
                    except Exception as exc:  # the emulator refuses it as Telegram would
                        problems.append(f"{lang}/{domain}: {form!r} does not parse: {exc}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_msgid_shared_by_two_domains_reads_the_same(lang: str) -> None:
    problems = script.check_shared(lang, DOMAINS)
    assert not problems, "\n".join(problems)


def test_the_checks_see_a_broken_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above are not vacuous: a wrong placeholder, a lost tag and an empty msgstr are found."""
    locales = tmp_path / "locales"
    monkeypatch.setattr(script, "LOCALES_DIR", locales)
    catalog = script._new_catalog("ru", "fmt")
    catalog.add("in {duration}", "через {длительность}")
    catalog.add("{time} ({duration} ago)", "<b>{time}")
    catalog.add("never", "")
    script.write(catalog, script.po_path("ru", "fmt"))
    problems = "\n".join(script.check_domain("ru", "fmt"))
    assert "placeholders" in problems and "HTML tags differ" in problems and "has no translation" in problems
    assert "missing msgid" in problems  # the other fmt msgids


# --- 6. render every text -------------------------------------------------------------------------------

TIMESTAMP = 1_796_601_952.0  # a fixed moment: 2026-12-07


class _Translator:
    """The bot's translator, as aiogram's I18n answers: the locale's merged catalog."""

    def __init__(self, catalogs: Mapping[str, Translations]) -> None:
        self.catalogs = catalogs

    def gettext(self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None) -> str:
        catalog = self.catalogs[locale or "en"]
        return catalog.ngettext(singular, plural, n) if plural is not None else catalog.gettext(singular)


def _value(hint: Any) -> tuple[bool, Any]:
    """An argument for a parameter of this type: (False, None) when none can be made up."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _value(options[0]) if options else (True, None)
    if origin is typing.Literal:
        return True, typing.get_args(hint)[0]
    if hint is bool:
        return True, False
    if hint is int:
        return True, 2
    if hint is float:
        return True, TIMESTAMP
    if hint is str:
        return True, "x"
    if hint is object:
        return True, "x"
    if origin in (list, tuple, set, frozenset) or origin in (Sequence, typing.Sequence):
        return True, origin() if origin in (list, tuple, set, frozenset) else []
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return True, {}
    return False, None


def _renderable(module: types.ModuleType) -> Iterator[tuple[str, Callable[..., object], dict[str, Any]]]:
    for name, fn in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
            continue
        try:
            hints = typing.get_type_hints(fn)
        except Exception:
            continue
        if hints.get("return") is not str:
            continue
        args: dict[str, Any] = {}
        ok = True
        for param in inspect.signature(fn).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if param.default is not param.empty:
                continue
            made, value = _value(hints.get(param.name, Any))
            if not made:
                ok = False
                break
            args[param.name] = value
        if ok:
            yield name, fn, args


def _render(fn: Callable[..., object], args: dict[str, Any]) -> str | None:
    """The text, or None when the made-up arguments do not suit the function (not a wording error)."""
    try:
        return str(fn(**args))
    except (KeyError, IndexError, ValueError) as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        if frames and frames[-1].filename.endswith(str(Path("core") / "i18n.py")):
            raise AssertionError(f"{fn.__qualname__}: a placeholder without a value: {exc!r}") from exc
        return None
    except (TypeError, AttributeError, ZeroDivisionError):
        return None


_NOT_WORDS = re.compile(
    r"<code>.*?</code>|<pre>.*?</pre>|<a [^>]*>.*?</a>|<[^>]+>|https?://\S+|\bt\.me/\S+|/[a-z_]+\b|@\w+|\{\w+\}",
    re.S,
)
_TWO_ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}\b")


def _english_left(text: str) -> list[str]:
    return _TWO_ENGLISH_WORDS.findall(_NOT_WORDS.sub(" ", text))


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_text_renders_in_english(domain: str) -> None:
    module = importlib.import_module(f"core.texts.{domain}")
    with reading("en"):
        for name, fn, args in _renderable(module):
            text = _render(fn, args)
            assert text is None or "<function " not in text, f"{domain}.{name}: a text function shown as a value"


def test_every_event_renders_in_english_with_an_empty_payload() -> None:
    from core.states import EventKind
    from core.texts.events import event_text

    with reading("en"):
        for kind in EventKind:
            for for_admin in (False, True):
                text = _render(lambda k=kind, a=for_admin: event_text(k, {}, for_admin=a), {})
                assert text is None or "<function " not in text, f"{kind}: a text function shown as a value"


@pytest.mark.parametrize(("lang", "domain"), [(lang, d) for lang in LANGUAGES for d in DOMAINS])
def test_every_text_renders_translated(lang: str, domain: str) -> None:
    translator = _Translator(load_catalogs())
    module = importlib.import_module(f"core.texts.{domain}")
    rendered = 0
    with reading(lang, "Europe/Moscow", translator=translator):
        for name, fn, args in _renderable(module):
            text = _render(fn, args)
            if text is None:
                continue
            rendered += 1
            assert "<function " not in text, f"{domain}.{name}: a text function shown as a value"
            assert not _english_left(text), f"{lang}: {domain}.{name} reads {text!r}: untranslated words?"
    assert rendered or not script.extract(domain), f"no text of {domain} could be rendered"


def test_durations_and_times_read_in_the_readers_language() -> None:
    from core.texts import fmt

    translator = _Translator(load_catalogs())
    with reading("en", "Europe/Moscow", translator=translator):
        assert [fmt.fmt_duration(s) for s in (150, 3900, 273_600)] == ["2 min 30 s", "1 h 5 min", "3 d 4 h"]
        assert fmt.fmt_time(TIMESTAMP) == "7 Dec 2026, 03:05 UTC+3" and fmt.num(1234.5) == "1,234.5"
    with reading("ru", "UTC", translator=translator):
        assert [fmt.fmt_duration(s) for s in (150, 3900, 273_600)] == ["2 мин 30 с", "1 ч 5 мин", "3 д 4 ч"]
        assert fmt.fmt_time(TIMESTAMP) == "7 дек. 2026, 00:05 UTC" and fmt.num(1234.5) == "1\xa0234,5"
        assert fmt.ago(TIMESTAMP - 90, TIMESTAMP) == "7 дек. 2026, 00:04 UTC (1 мин 30 с назад)"
        assert fmt.in_or_now(TIMESTAMP, TIMESTAMP) == "сейчас" and fmt.NEVER() == "никогда"
    # Outside any reading scope (the operator's terminal): the exact format scripts rely on.
    assert fmt.fmt_time(TIMESTAMP) == "2026-12-07 00:05 UTC" and fmt.fmt_duration(0) == "0 s"
