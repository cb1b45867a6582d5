"""Translation catalogs of adbot's texts: extract, update, init, check (stdlib + Babel; not a package module).

English is the source language: each msgid is the English text of a ``_()`` / ``n_()`` / ``N_()`` call in
``core/texts``. One domain per texts module (``core/texts/post.py`` -> ``post``), one catalog per
language and domain at ``core/locales/<lang>/LC_MESSAGES/<domain>.po``; the bot reads them at start
(``core.catalogs``), no ``.mo`` is built. Catalogs are written without locations, sorted and unwrapped,
so a diff shows only what changed.

    python scripts/i18n.py extract              # print every domain's msgids (a dry run of update)
    python scripts/i18n.py update [--domain D]  # add new msgids (empty) to every language, drop obsolete ones
    python scripts/i18n.py init LANG            # a new language: every domain's catalog, msgstr empty
    python scripts/i18n.py check                # what tests/test_i18n_catalogs.py checks; exit 1 on a problem
"""

from __future__ import annotations

import argparse
import re
import string
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TEXTS_DIR = ROOT / "core" / "texts"
LOCALES_DIR = ROOT / "core" / "locales"
# The operator's terminal stays English: its modules are not marked. ``__init__`` holds no text.
NOT_TRANSLATED = frozenset({"__init__", "cli", "config"})
KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "N_": None, "n_": (1, 2)}
# A fixed date in every header: re-writing a catalog changes nothing but its messages.
STABLE_DATE = datetime(2026, 12, 7, tzinfo=UTC)
TAG_RE = re.compile(r"</?(b|i|u|s|code|pre|a|blockquote|tg-spoiler)\b[^>]*>")

MessageId = str | tuple[str, str]


def domains() -> list[str]:
    """Every texts module that is a translation domain, sorted."""
    return sorted(p.stem for p in TEXTS_DIR.glob("*.py") if p.stem not in NOT_TRANSLATED)


def languages() -> list[str]:
    if not LOCALES_DIR.is_dir():
        return []
    return sorted(p.name for p in LOCALES_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())


def po_path(lang: str, domain: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def extract(domain: str) -> list[MessageId]:
    """The msgids of one domain in source order, each once (a plural is a (singular, plural) pair)."""
    seen: dict[MessageId, None] = {}
    for _lineno, message, _comments, _context in extract_from_file(
        "python", TEXTS_DIR / f"{domain}.py", keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True
    ):
        if isinstance(message, tuple):
            key: MessageId = (message[0], message[1])
        else:
            key = message
        seen.setdefault(key, None)
    return list(seen)


def _new_catalog(lang: str | None, domain: str) -> Catalog:
    return Catalog(
        locale=lang,
        domain=domain,
        project="adbot",
        version="",
        copyright_holder="adbot",
        creation_date=STABLE_DATE,
        revision_date=STABLE_DATE,
        fuzzy=False,
    )


def template(domain: str) -> Catalog:
    catalog = _new_catalog(None, domain)
    for msgid in extract(domain):
        catalog.add(msgid)
    return catalog


def read(lang: str, domain: str) -> Catalog:
    with po_path(lang, domain).open("rb") as handle:
        return read_po(handle, locale=lang, domain=domain)


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.creation_date = STABLE_DATE
    catalog.revision_date = STABLE_DATE
    catalog.fuzzy = False
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, no_location=True, omit_header=False, sort_output=True, ignore_obsolete=True)


def update(lang: str, domain: str) -> tuple[int, int]:
    """Merge the source's msgids into ``lang``'s catalog: new ones empty, obsolete ones dropped, nothing
    guessed (no fuzzy matching). Returns (added, dropped)."""
    path = po_path(lang, domain)
    catalog = read(lang, domain) if path.exists() else _new_catalog(lang, domain)
    before = {m.id for m in catalog if m.id}
    source = template(domain)
    catalog.update(source, no_fuzzy_matching=True, update_header_comment=False)
    after = {m.id for m in catalog if m.id}
    write(catalog, path)
    return len(after - before), len(before - after)


def init(lang: str) -> None:
    for domain in domains():
        path = po_path(lang, domain)
        if path.exists():
            print(f"{path.relative_to(ROOT)} exists: left alone (use update)")
            continue
        catalog = _new_catalog(lang, domain)
        for msgid in extract(domain):
            catalog.add(msgid)
        write(catalog, path)
        print(f"created {path.relative_to(ROOT)}")


# --- checks (tests/test_i18n_catalogs.py runs these) -----------------------------------------------


def placeholders(text: str) -> Counter[str]:
    """The ``{name}`` fields of a text (format specs and conversions aside)."""
    names: Counter[str] = Counter()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is not None:
            names[field] += 1
    return names


def tags(text: str) -> Counter[str]:
    return Counter(m.group(0) if m.group(0).startswith("</") else f"<{m.group(1)}>" for m in TAG_RE.finditer(text))


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string or ""]


def check_domain(lang: str, domain: str) -> list[str]:
    """Every problem of one catalog, worded for a person: missing/obsolete msgids, empty or fuzzy
    msgstr, wrong plural count, placeholders or HTML tags that differ from the msgid."""
    path = po_path(lang, domain)
    if not path.exists():
        return [f"{lang}/{domain}: no catalog {path.relative_to(ROOT)} (python scripts/i18n.py update)"]
    catalog = read(lang, domain)
    problems: list[str] = []
    source = set(extract(domain))
    present = {m.id if isinstance(m.id, str) else (m.id[0], m.id[1]) for m in catalog if m.id}
    problems += [f"{lang}/{domain}: missing msgid {m!r}" for m in sorted(source - present, key=str)]
    problems += [f"{lang}/{domain}: obsolete msgid {m!r}" for m in sorted(present - source, key=str)]
    for message in catalog:
        if not message.id:
            continue
        msgids = list(message.id) if isinstance(message.id, (tuple, list)) else [message.id]
        forms = _forms(message)
        where = f"{lang}/{domain}: {msgids[0]!r}"
        if message.fuzzy:
            problems.append(f"{where} is fuzzy")
        if any(not form for form in forms):
            problems.append(f"{where} has no translation")
            continue
        if message.pluralizable and len(forms) != catalog.num_plurals:
            problems.append(f"{where} has {len(forms)} plural forms, {lang} needs {catalog.num_plurals}")
        wanted_names = set().union(*(placeholders(m) for m in msgids))
        for form in forms:
            names = set(placeholders(form))
            # A plural form may leave out {n} (ru "одна группа"); any other field must match.
            if names - wanted_names or (wanted_names - {"n"}) - names:
                problems.append(f"{where}: placeholders {sorted(names)} differ from {sorted(wanted_names)}: {form!r}")
            if tags(form) != tags(msgids[0]):
                problems.append(f"{where}: HTML tags differ: {form!r}")
    return problems


def check_shared(lang: str, names: Iterable[str]) -> list[str]:
    """A msgid in two domains has one translation."""
    seen: dict[object, tuple[str, object]] = {}
    problems: list[str] = []
    for domain in names:
        if not po_path(lang, domain).exists():
            continue
        for message in read(lang, domain):
            if not message.id or not any(_forms(message)):
                continue
            key = message.id if isinstance(message.id, str) else tuple(message.id)
            value = tuple(_forms(message))
            if key in seen and seen[key][1] != value:
                problems.append(f"{lang}: {key!r} reads differently in {seen[key][0]} and {domain}")
            seen.setdefault(key, (domain, value))
    return problems


def check() -> list[str]:
    problems: list[str] = []
    for lang in languages():
        for domain in domains():
            problems += check_domain(lang, domain)
        problems += check_shared(lang, domains())
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("extract", help="print every domain's msgids")
    up = sub.add_parser("update", help="merge new msgids into every language's catalogs")
    up.add_argument("--domain", choices=domains())
    it = sub.add_parser("init", help="create every domain's catalog for a new language")
    it.add_argument("lang")
    sub.add_parser("check", help="what the catalog tests check")
    args = parser.parse_args(argv)
    if args.command == "extract":
        for domain in domains():
            ids = extract(domain)
            print(f"# {domain}: {len(ids)} msgids")
            for msgid in ids:
                print(f"  {msgid!r}")
    elif args.command == "update":
        for lang in languages():
            for domain in [args.domain] if args.domain else domains():
                added, dropped = update(lang, domain)
                if added or dropped:
                    print(f"{lang}/{domain}: {added} new, {dropped} dropped")
    elif args.command == "init":
        init(args.lang)
    else:
        problems = check()
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s)" if problems else "catalogs complete")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
