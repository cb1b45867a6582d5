"""The customer's own log: lines stored as a key and values, rendered in the reader's language; lines of the
old plain format shown as they were written."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from control_bot.logfiles import customer_log_path, setup_logging, tail_customer_log
from core.customer_log import LogKey, parse
from core.outcomes import OutcomeKind
from core.texts.customer_log import line_text, render_line
from engine.customer_log import customer_log


@pytest.fixture
def logs(tmp_path: Path, restore_logging: None) -> Path:
    setup_logging(tmp_path / "logs", console=False)
    return tmp_path / "logs"


def test_a_line_is_stored_as_key_and_values_and_rendered_in_words(logs: Path) -> None:
    log = customer_log(logging.getLogger("engine.test"))
    log(7, logging.WARNING, LogKey.POST_FAILED, group="@cats", kind=OutcomeKind.GROUP_FAILED,
        error="ChatWriteForbiddenError")
    log(7, logging.INFO, LogKey.CYCLE_DONE, cycle=3, sent=1, failed=1, waiting=0, skipped=0, in_doubt=0)
    stored = customer_log_path(logs, 7).read_text(encoding="utf-8").splitlines()
    assert stored[0].split(" ", 3)[3] == (
        '{"key":"post_failed","group":"@cats","kind":"group_failed","error":"ChatWriteForbiddenError"}'
    )
    first, second = (parse(line) for line in tail_customer_log(logs, 7))
    assert first.key is LogKey.POST_FAILED and first.values["group"] == "@cats" and first.level == "WARNING"
    shown = render_line(first)
    assert shown.endswith("⚠ The post to @cats failed: the account may not write there.")
    assert "Error" not in shown
    assert render_line(second).endswith("Cycle 3 done: sent 1, failed 1, waiting 0, skipped 0, unconfirmed 0.")
    # The operator's log keeps the names (it is theirs to debug with).
    assert "ChatWriteForbiddenError" in (logs / "adbot.log").read_text(encoding="utf-8")


def test_old_plain_lines_are_shown_as_written() -> None:
    old = "2026-12-01 10:00:00 INFO posted to @cats (message 5) via session 3"
    line = parse(old)
    assert line.key is None and render_line(line) == old
    assert render_line(parse("garbage without a time")) == "garbage without a time"
    assert render_line(parse('2026-12-01 10:00:00 INFO {"key":"no_such_key"}')).endswith('{"key":"no_such_key"}')


def test_unknown_error_names_and_broken_values_never_show_a_name() -> None:
    text = line_text(LogKey.SEND_FAILED, {"group": "@x", "attempts": 3, "kind": "transient",
                                          "error": "AuthKeyUnregisteredError"})
    assert text == "The post to @x failed after 3 attempts: Telegram no longer knows the session's key."
    text = line_text(LogKey.SEND_FAILED, {"group": "@x", "attempts": 3, "kind": "transient", "error": "OddNewError"})
    assert text == "The post to @x failed after 3 attempts: a temporary network or server error."
    assert line_text(LogKey.POST_FAILED, {"group": "@x", "error": "SomeNewError"}).endswith("an unexpected error.")
    shown = line_text(LogKey.SEND_FAILED, {"attempts": "x"})
    assert shown == "The post to ? failed after 0 attempts: an unexpected error."
    assert line_text(LogKey.INTERVAL_SET, {"seconds": 150}) == "Interval set to 2 min 30 s."
