"""docs/OUTCOMES.md names every Telegram error the engine classifies (``engine.outcomes``' table, the
bare messages, the errors the adapters raise themselves) and every outcome kind: the doc is written by
hand, and this keeps it from falling behind the table."""

from __future__ import annotations

from pathlib import Path

from core.outcomes import OutcomeKind
from engine import outcomes

DOC = Path(__file__).resolve().parent.parent / "docs" / "OUTCOMES.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_class_of_the_table_is_named_in_the_doc() -> None:
    text = _text()
    classes = {cls.__name__ for row, _ in outcomes._TABLE for cls in row}
    classes |= {"AccountNotAuthorizedError", "PeerNotCachedError"}  # raised by the adapters themselves
    assert len(classes) > 60
    missing = sorted(name for name in classes if f"`{name}`" not in text)
    assert missing == []


def test_every_bare_message_and_refusal_is_named_in_the_doc() -> None:
    text = _text()
    assert outcomes._BARE_MESSAGES and all(f"`{message}`" in text for message in outcomes._BARE_MESSAGES)
    for classes, _reason in outcomes._REFUSALS:
        assert all(f"`{cls.__name__}`" in text for cls in classes)


def test_every_outcome_kind_has_a_row() -> None:
    text = _text()
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")}
    assert {kind.name for kind in OutcomeKind} <= rows
    assert "*in doubt*" in rows


def test_each_class_sits_in_the_row_of_its_outcome() -> None:
    # A class named in the wrong row would mislead as much as a missing one.
    rows = {}
    for line in _text().splitlines():
        if line.startswith("| ") and not line.startswith("| outcome"):
            cells = line.split("|")
            rows[cells[1].strip()] = cells[2]
    for classes, kind in outcomes._TABLE:
        for cls in classes:
            assert f"`{cls.__name__}`" in rows[kind.name], (cls.__name__, kind.name)
