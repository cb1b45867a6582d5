"""The house rules that hold the layers apart (docs/ARCHITECTURE.md), checked on the source itself.

The import directions are import-linter's job (``lint-imports`` in .ci/run, contracts in
pyproject.toml); these tests hold what it cannot see: SQL written outside ``storage/`` and modules
grown past the size where they mix concerns.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "storage", "engine", "pool", "sandbox", "control_bot")
MAX_LINES = 600

# Shapes only SQL has. Upper-case keywords are matched as written (a text like "Select a group from the
# list" is not SQL); the rest are SQL in any case.
_SQL = re.compile(
    r"\b(?:SELECT\b[\s\S]*\bFROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b"
    r"|(?i:\b(?:create\s+(?:table|index|trigger|view)|pragma\s+\w+|savepoint\s+\w+|release\s+savepoint"
    r"|rollback\s+to|begin\s+immediate)\b)"
)


def _modules(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes: prose may describe a statement, code may not hold one."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string literal of the module but its docstrings (f-string parts joined), with its line."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
            found.append((node.lineno, "?".join(parts)))
    return found


def sql_in(path: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}" for line, text in _strings(path) if _SQL.search(text)]


def test_the_sql_detector_knows_sql_from_prose() -> None:
    assert _SQL.search("SELECT id FROM sessions WHERE owner_id = ?")
    assert _SQL.search("UPDATE sessions SET state = 'unused' WHERE id = ?")
    assert _SQL.search("INSERT OR IGNORE INTO stats (customer_id) VALUES (?)")
    assert _SQL.search("create table version (version integer primary key)")
    assert _SQL.search("PRAGMA busy_timeout = 5000") and _SQL.search("SAVEPOINT take_one")
    assert not _SQL.search("Select a group from the list, or update your post.")
    assert not _SQL.search("Delete from your groups with /delgroup")


def test_no_module_outside_storage_holds_sql() -> None:
    found = [hit for path in _modules(*(p for p in PACKAGES if p != "storage")) for hit in sql_in(path)]
    assert found == [], "SQL belongs in storage/:\n" + "\n".join(found)


def test_storage_holds_the_sql() -> None:
    # The detector is not blind: the repositories are full of it.
    assert sum(len(sql_in(path)) for path in _modules("storage")) > 50


@pytest.mark.parametrize("package", PACKAGES)
def test_no_source_module_over_the_size_limit(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules(package)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by concern (limit {MAX_LINES} lines): {long}"
