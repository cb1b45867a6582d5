"""Logging off the event loop: one writer thread formats and writes every record (issue 22), adbot.log rotates
by size, redaction still holds, a delivery is DEBUG for the operator but always in the customer's file, and
nothing queued is lost at shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest

from control_bot.logfiles import (
    CUSTOMER_FILES_LOGGER,
    REDACTED,
    customer_log_path,
    flush_logging,
    preserved_logging,
    setup_logging,
)
from control_bot.logwriter import WRITER_THREAD, LogQueueHandler
from core.customer_log import LogKey, parse
from engine import customer_log as engine_customer_log
from engine.customer_log import customer_log

TOKEN = "123456789:AAHfG7xk-secretSECRETsecret_0123456789ab"
API_HASH = "0123456789abcdef0123456789abcdef"


def writer_handlers() -> list[logging.Handler]:
    queued = [h for h in logging.getLogger().handlers if isinstance(h, LogQueueHandler)]
    assert len(queued) == 1
    return list(queued[0].writer.all_handlers)


class ThreadOfStr:
    """An argument that notes the thread that turns it into text (where the message is formatted)."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def __str__(self) -> str:
        self.seen.append(threading.current_thread().name)
        return "formatted"


def test_the_names_the_engine_uses_are_the_ones_the_writer_reads() -> None:
    from control_bot import logwriter

    assert engine_customer_log.CUSTOMER_FILES_LOGGER == CUSTOMER_FILES_LOGGER
    assert engine_customer_log.CUSTOMER_ONLY_ATTR == logwriter.CUSTOMER_ONLY_ATTR


def test_records_are_formatted_and_written_by_the_writer_thread_never_on_the_loop(
    tmp_path: Path, restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "logs"
    setup_logging(logs, console=True, secrets=["custom-secret-value"])
    emitted: list[str] = []
    for handler in writer_handlers():
        emit = handler.emit

        def noting(record: logging.LogRecord, emit=emit) -> None:  # type: ignore[no-untyped-def]
            emitted.append(threading.current_thread().name)
            emit(record)

        monkeypatch.setattr(handler, "emit", noting)
    formatted: list[str] = []
    clog = customer_log(logging.getLogger("engine.send"))
    loop_thread: list[str] = []

    async def work() -> None:
        loop_thread.append(threading.current_thread().name)
        log = logging.getLogger("engine.test")
        for i in range(200):
            log.info("cycle %d of %s", i, ThreadOfStr(formatted), extra={"customer_id": 5})
            clog(5, logging.DEBUG, LogKey.SENT, group="@cats", message=i, session=1)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("failed")
        await asyncio.sleep(0)

    asyncio.run(work())
    flush_logging()
    assert loop_thread == [threading.main_thread().name]
    # each record offered to console, adbot.log and the customer files; each delivery to the customer files alone
    assert len(emitted) == 201 * 3 + 200
    assert set(emitted) == {WRITER_THREAD}
    assert set(formatted) == {WRITER_THREAD} and len(formatted) >= 200


def test_a_delivery_is_debug_for_the_operator_but_always_in_the_customers_file(
    tmp_path: Path, restore_logging: None
) -> None:
    logs = tmp_path / "logs"
    setup_logging(logs, console=False)
    clog = customer_log(logging.getLogger("engine.send"))
    clog(9, logging.DEBUG, LogKey.SENT, group="@cats", message=11, session=3)
    clog(9, logging.INFO, LogKey.CYCLE_DONE, cycle=1, sent=1, failed=0, waiting=0, skipped=0, in_doubt=0)
    flush_logging()
    lines = [parse(line) for line in customer_log_path(logs, 9).read_text(encoding="utf-8").splitlines()]
    assert [(line.key, line.level) for line in lines] == [(LogKey.SENT, "INFO"), (LogKey.CYCLE_DONE, "INFO")]
    assert lines[0].values == {"group": "@cats", "message": 11, "session": 3}
    service = (logs / "adbot.log").read_text(encoding="utf-8")
    assert "cycle_done cycle=1 sent=1" in service and "sent group=" not in service
    # The operator who asks for DEBUG gets the deliveries too (and the customer still one line each).
    logging.getLogger().setLevel(logging.DEBUG)
    clog(9, logging.DEBUG, LogKey.SENT, group="@dogs", message=12, session=3)
    flush_logging()
    assert "sent group=@dogs message=12 session=3" in (logs / "adbot.log").read_text(encoding="utf-8")
    assert len(customer_log_path(logs, 9).read_text(encoding="utf-8").splitlines()) == 3


def test_customer_lines_cost_nothing_without_logging_set_up(restore_logging: None) -> None:
    with preserved_logging():
        sink = logging.getLogger(CUSTOMER_FILES_LOGGER)
        for handler in list(sink.handlers):
            sink.removeHandler(handler)
        clog = customer_log(logging.getLogger("engine.send"))
        clog(9, logging.DEBUG, LogKey.SENT, group="@cats", message=11, session=3)  # no handler: dropped
        assert sink.handlers == []


def test_secrets_are_redacted_in_every_file_also_in_customer_only_lines(tmp_path: Path, restore_logging: None) -> None:
    logs = tmp_path / "logs"
    redactor = setup_logging(logs, console=False)
    redactor.add_secret("learnt-later-secret")  # added from the loop while the writer runs
    clog = customer_log(logging.getLogger("engine.send"))
    clog(4, logging.DEBUG, LogKey.SENT, group=TOKEN, message=1, session=API_HASH)
    clog(4, logging.WARNING, LogKey.POST_FAILED, group="@x", kind="group_failed", error="learnt-later-secret")
    logging.getLogger("engine.test").warning("token %s hash %s", TOKEN, API_HASH)
    flush_logging()
    for path in (customer_log_path(logs, 4), logs / "adbot.log"):
        text = path.read_text(encoding="utf-8")
        assert TOKEN not in text and API_HASH not in text and "learnt-later-secret" not in text
        assert REDACTED in text


def test_adbot_log_rotates_by_size_and_keeps_the_configured_backups(tmp_path: Path, restore_logging: None) -> None:
    logs = tmp_path / "logs"
    setup_logging(logs, console=False, max_bytes=4_000, backups=2)
    log = logging.getLogger("engine.test")
    for i in range(400):
        log.info("line %04d %s", i, "x" * 60)
    flush_logging()
    names = sorted(p.name for p in logs.iterdir() if p.is_file())
    assert names == ["adbot.log", "adbot.log.1", "adbot.log.2"]
    assert all((logs / name).stat().st_size <= 4_000 for name in names)
    assert "line 0399" in (logs / "adbot.log").read_text(encoding="utf-8")


def test_nothing_queued_is_lost_when_logging_is_shut_down(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    with preserved_logging():
        setup_logging(logs, console=False)
        log = logging.getLogger("engine.test")
        for i in range(5_000):
            log.info("record %d", i, extra={"customer_id": 3})
    # preserved_logging closed the handlers it did not find: the writer wrote everything first
    lines = customer_log_path(logs, 3).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5_000 and lines[-1].endswith("record 4999")
    assert (logs / "adbot.log").read_text(encoding="utf-8").count("record ") == 5_000
    assert not [t for t in threading.enumerate() if t.name == WRITER_THREAD]
