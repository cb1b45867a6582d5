"""Logging: redaction of secrets and per-customer daily files."""

from __future__ import annotations

import logging
import resource
from pathlib import Path

import pytest

from control_bot.logfiles import (
    REDACTED,
    CustomerFileHandler,
    RedactingFilter,
    customer_log_path,
    flush_logging,
    open_file_budget,
    setup_logging,
    tail_customer_log,
)

TOKEN = "123456789:AAHfG7xk-secretSECRETsecret_0123456789ab"
API_HASH = "0123456789abcdef0123456789abcdef"
AUTH_KEY_HEX = "ab" * 256


@pytest.fixture
def logs(tmp_path: Path, restore_logging: None) -> Path:
    setup_logging(tmp_path / "logs", console=False, secrets=["custom-secret-value"])
    return tmp_path / "logs"


def test_filter_removes_token_hash_and_key_from_a_line() -> None:
    f = RedactingFilter()
    args = (TOKEN, API_HASH, AUTH_KEY_HEX)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "bot %s failed with %s key=%s", args, None)
    assert f.filter(record)
    text = record.getMessage()
    assert TOKEN not in text and API_HASH not in text and AUTH_KEY_HEX not in text
    assert text.count(REDACTED) == 3


def test_secrets_never_reach_the_files(logs: Path) -> None:
    log = logging.getLogger("adbot.test")
    log.warning("POST https://api.telegram.org/bot%s/getUpdates failed", TOKEN)
    log.info("pair %s in use, custom-secret-value", API_HASH, extra={"customer_id": 77})
    try:
        raise RuntimeError(f"boom {TOKEN}")
    except RuntimeError:
        log.exception("request failed")
    flush_logging()
    service = (logs / "adbot.log").read_text()
    customer = customer_log_path(logs, 77).read_text()
    for text in (service, customer):
        assert TOKEN not in text and API_HASH not in text and "custom-secret-value" not in text
    assert "getUpdates failed" in service and "RuntimeError" in service


def test_customer_lines_go_to_their_own_daily_file(logs: Path) -> None:
    log = logging.getLogger("engine.test")
    for i in range(150):
        log.info("sent %d", i, extra={"customer_id": 1})
    log.info("other customer", extra={"customer_id": 2})
    log.info("service only")
    lines = tail_customer_log(logs, 1, 100)
    assert len(lines) == 100 and lines[-1].endswith("sent 149") and lines[0].endswith("sent 50")
    assert all("other customer" not in line for line in lines)
    assert tail_customer_log(logs, 2) and tail_customer_log(logs, 3) == []
    assert customer_log_path(logs, 1).parent == logs / "1"
    assert "service only" not in "".join(tail_customer_log(logs, 1, 1000))


def test_customer_files_survive_a_small_lru_and_a_change_of_day(tmp_path: Path) -> None:
    """More customers than open files, and records of two days: every line lands in its own day's file."""
    handler = CustomerFileHandler(tmp_path, max_open=2)
    day1, day2 = 1_700_000_000.0, 1_700_000_000.0 + 86_400
    try:
        for i in range(12):
            customer, created = 10 + i % 4, day1 if i < 8 else day2
            record = logging.LogRecord("engine.test", logging.INFO, __file__, 1, "line %d", (i,), None)
            record.created, record.customer_id = created, customer
            handler.handle(record)
        assert handler.open_files == 2  # the LRU held its size
    finally:
        handler.close()
    first = customer_log_path(tmp_path, 10, "2023-11-14").read_text().splitlines()
    second = customer_log_path(tmp_path, 10, "2023-11-15").read_text().splitlines()
    assert [line.rsplit(" ", 1)[1] for line in first] == ["0", "4"] and second[0].endswith("line 8")
    assert sorted(p.name for p in (tmp_path / "13").iterdir()) == ["2023-11-14.log", "2023-11-15.log"]


def test_a_record_is_redacted_once_whatever_the_number_of_handlers() -> None:
    f = RedactingFilter(["custom-secret-value"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", (API_HASH, "custom-secret-value"), None)
    assert f.filter(record) and record.getMessage() == f"{REDACTED} and {REDACTED}"
    # The next handler's pass does no work: not even a message changed in between is scanned again.
    record.msg = f"rescanned? {API_HASH}"
    assert f.filter(record) and record.msg == f"rescanned? {API_HASH}"


def test_the_open_file_budget_is_a_share_of_the_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(400, hard), hard))
        assert open_file_budget() == max(16, min(400, hard) // 8)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert 16 <= open_file_budget() <= 1024
