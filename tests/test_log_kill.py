"""Log lines survive the ways the process ends before it stops gracefully (review R22-3): a SIGTERM
before polling starts (``adbot run`` waiting for the Bot API) exits through the exit handlers, which write
every queued line; a WARNING is on disk as soon as the writer wrote it, without the writer's one-second
flush delay, so a hard kill (SIGKILL, the OOM killer) does not take it along."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

import pytest

from control_bot.logfiles import ServiceLogHandler
from control_bot.logwriter import LogQueueHandler, LogWriter
from tests.fake_proxy import closed_port
from tests.test_startup_errors import ROOT, WRONG_TOKEN, write_config


def test_a_warning_is_on_disk_as_soon_as_it_is_written_with_the_info_lines_before_it(tmp_path: Path) -> None:
    path = tmp_path / "adbot.log"
    file = ServiceLogHandler(path, max_bytes=1_000_000, backups=1)  # adbot.log's: no flush per line
    file.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    writer = LogWriter([file], None, flush_every=60.0)  # INFO lines alone reach the disk a minute later
    writer.start()
    queued = LogQueueHandler(writer)
    try:
        queued.handle(logging.makeLogRecord({"levelno": logging.INFO, "levelname": "INFO", "msg": "before"}))
        queued.handle(logging.makeLogRecord({"levelno": logging.WARNING, "levelname": "WARNING", "msg": "wrong"}))
        deadline = time.monotonic() + 10.0
        while "WARNING wrong" not in path.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.01)
        # Read from the disk while the writer runs (no flush() asked): both lines, in order.
        assert path.read_text(encoding="utf-8").splitlines() == ["INFO before", "WARNING wrong"]
    finally:
        writer.stop()
        file.close()


@pytest.mark.process
async def test_a_sigterm_while_adbot_run_waits_for_the_bot_api_keeps_every_log_line(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    config = write_config(tmp_path, WRONG_TOKEN, base, attempts=0)  # retries for ever: start-up never ends
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "control_bot", "--config", str(config), cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    console: list[str] = []
    try:
        while not any("cannot reach the Bot API" in line for line in console):
            line = await asyncio.wait_for(proc.stderr.readline(), timeout=120)
            assert line, console
            console.append(line.decode().rstrip("\n"))
        proc.send_signal(signal.SIGTERM)  # systemctl stop, a moment after the line was written
        rest, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    console += rest.decode().splitlines() if rest else []
    assert proc.returncode == 128 + signal.SIGTERM, console
    written = (tmp_path / "logs" / "adbot.log").read_text(encoding="utf-8").splitlines()
    logged = [line for line in console if " INFO " in line or " WARNING " in line]
    assert any(" INFO " in line for line in logged) and any("cannot reach the Bot API" in line for line in logged)
    assert [line for line in logged if line not in written] == []  # every line the console showed
