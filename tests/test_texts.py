"""core.texts holds every user-facing text: each of its modules imports on its own and is listed in the
package's docstring, and no module of the lower layers words a domain error itself."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import core.errors
import core.texts

ROOT = Path(__file__).resolve().parent.parent
TEXT_MODULES = sorted(m.name for m in pkgutil.iter_modules(core.texts.__path__))

# Where a raised domain error must take its message from core.texts.
CHECKED = ("core", "pool", "engine", "storage", "control_bot/services")
NOT_CHECKED = {
    "core/texts",  # the texts themselves
}
# Exceptions no person reads (internal errors, or reasons the engine classifies by name).
ALLOWED = {"AccountNotAuthorizedError", "LookupError", "FileExistsError", "ValueError", "RuntimeError",
           "TimeoutError", "TypeError"}
# The domain errors: AdbotError and its subclasses, and InvalidUpload (its reason is shown to the admin).
DOMAIN = {
    name
    for name, obj in vars(core.errors).items()
    if inspect.isclass(obj) and issubclass(obj, core.errors.AdbotError | core.errors.InvalidUpload)
} - ALLOWED


def test_there_are_text_modules() -> None:
    assert {"admin", "customer", "errors", "intake", "config"} <= set(TEXT_MODULES)


@pytest.mark.parametrize("name", TEXT_MODULES)
def test_every_text_module_imports_and_is_listed(name: str) -> None:
    importlib.import_module(f"core.texts.{name}")
    assert f"``{name}``" in (core.texts.__doc__ or ""), f"core.texts.{name} is missing from the package docstring"


def _is_literal(node: ast.expr) -> bool:
    """A string written in place: a literal, an f-string, or one glued to either."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_literal(node.left) or _is_literal(node.right)
    if isinstance(node, ast.IfExp):
        return _is_literal(node.body) or _is_literal(node.orelse)
    return False


def _error_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):  # errors.NotFound(...)
        return func.attr
    return None


def _worded_raises(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
            continue
        name = _error_name(node.exc.func)
        if name not in DOMAIN:
            continue
        messages = [*node.exc.args, *(k.value for k in node.exc.keywords)]
        if any(_is_literal(m) for m in messages):
            found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}: raise {name}(<text written in place>)")
    return found


def _checked_files() -> list[Path]:
    files = []
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not any(rel == skip or rel.startswith(skip + "/") for skip in NOT_CHECKED):
                files.append(path)
    return files


def test_the_check_sees_the_domain_errors_and_the_files() -> None:
    assert {"InputError", "NotFound", "ConfigError", "NoPairCapacity", "InvalidUpload"} <= DOMAIN
    names = {p.relative_to(ROOT).as_posix() for p in _checked_files()}
    assert {"pool/pairs.py", "core/config.py", "control_bot/services/admin.py", "storage/db.py"} <= names
    assert not any(n.startswith("core/texts/") for n in names)


def test_the_check_finds_a_worded_raise(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from core import errors\nfrom core.errors import NotFound\n"
        'raise NotFound(f"no {1}")\nraise errors.InputError("x" + y) from None\n'
        "raise NotFound(texts.no(1))\n"
        'raise ValueError("internal")\nraise InvalidUpload(reason="why")\n',
        encoding="utf-8",
    )
    assert [hit.split(": ", 1)[0] for hit in _worded_raises(sample, tmp_path)] == [
        "sample.py:3",
        "sample.py:4",
        "sample.py:7",
    ]


def test_no_lower_layer_words_a_domain_error_itself() -> None:
    found = [hit for path in _checked_files() for hit in _worded_raises(path)]
    assert not found, "word these in core.texts:\n" + "\n".join(found)
