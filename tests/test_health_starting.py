"""Review 20 F10: while ``adbot run`` cannot reach the Bot API at start-up (it answers nobody, no
campaign runs) ``adbot health`` says so: degraded, exit 1, "starting: Bot API unreachable since ...".
``control_bot.startup`` records the wait in the data dir (``control_bot.startup_phase``) after each
failed ``getMe`` and removes it once the bot answers, start-up gives up or is stopped."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from control_bot.cli.health import DEGRADED, DOWN, verdict
from control_bot.startup import BotApiUnreachable, wait_for_bot_api
from control_bot.startup_phase import StartupPhase, phase_path, read_phase
from sandbox.botapi import BotApiEmulator
from storage.instance_lock import LOCK_FILE
from tests.fake_proxy import closed_port
from tests.test_startup_errors import WRONG_TOKEN, bot_for, write_config

ROOT = Path(__file__).resolve().parent.parent
STALE = json.dumps({"since": 1, "attempt": 40, "reason": "a previous run", "pid": os.getpid()})


async def test_the_wait_is_recorded_after_each_failed_attempt_and_removed_when_it_ends(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    path = phase_path(tmp_path)
    (tmp_path / LOCK_FILE).write_text(f"{os.getpid()}\n")  # this process plays adbot run
    path.write_text(STALE)  # replaced at once
    seen: list[StartupPhase | None] = []

    async def sleep(_seconds: float) -> None:
        seen.append(read_phase(path))

    base = f"http://127.0.0.1:{closed_port()}"
    bot = bot_for(base, WRONG_TOKEN)
    clock = iter([1000.0, 9999.0])  # only the first failure's time is the "since"
    try:
        with pytest.raises(BotApiUnreachable):
            await wait_for_bot_api(bot, base, attempts=3, sleep=sleep, phase_file=path, clock=lambda: next(clock))
    finally:
        await bot.session.close()
    assert [(p.since, p.attempt) for p in seen if p is not None] == [(1000.0, 1), (1000.0, 2)]
    assert all(p is not None and p.reason.startswith(f"cannot reach the Bot API at {base}: ") for p in seen)
    assert not path.exists()  # gave up: the process ends, health says down

    path.write_text(STALE)
    bot = bot_for(emu.base_url, emu.token)
    try:
        await wait_for_bot_api(bot, emu.base_url, phase_file=path)
    finally:
        await bot.session.close()
    assert not path.exists()  # answered


def test_a_wait_recorded_by_another_process_than_the_lock_holder_is_not_read(tmp_path: Path) -> None:
    path = phase_path(tmp_path)
    path.write_text(STALE)
    (tmp_path / LOCK_FILE).write_text(f"{os.getpid()}\n")
    assert read_phase(path) == StartupPhase(1.0, 40, "a previous run")
    (tmp_path / LOCK_FILE).write_text(f"{os.getpid() + 1}\n")  # a later start, killed one's file left
    assert read_phase(path) is None
    path.write_text("{not json")
    assert read_phase(path) is None


def test_the_verdict_is_degraded_while_starting() -> None:
    phase = StartupPhase(0.0, 7, "cannot reach the Bot API at http://127.0.0.1:9: ClientConnectorError")
    code, problems = verdict(True, None, 0, starting=phase)
    assert code == DEGRADED
    assert problems == [
        "starting: Bot API unreachable since 1970-01-01 00:00:00 UTC (attempt 7):"
        " cannot reach the Bot API at http://127.0.0.1:9: ClientConnectorError",
        "no database yet: the service is starting",
    ]
    assert verdict(False, None, 0, starting=phase)[0] == DOWN


async def _health(config: Path) -> tuple[int, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADBOT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from control_bot.cli import main; sys.exit(main(sys.argv[1:]))",
        "health", "--json", "--config", str(config), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None, err
    return proc.returncode, json.loads(out)


@pytest.mark.process
async def test_health_is_degraded_while_adbot_run_cannot_reach_the_bot_api(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    config = write_config(tmp_path, WRONG_TOKEN, base, attempts=0)  # 0: retries until stopped
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADBOT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "control_bot", "--config", str(config), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(600):  # until its first getMe failed (the file is written then)
            if phase_path(tmp_path / "data").exists() or proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        code, report = await _health(config)
        assert (code, report["status"], report["service_running"]) == (DEGRADED, "degraded", True), report
        assert report["problems"][0].startswith("starting: Bot API unreachable since ")
        assert f"cannot reach the Bot API at {base}: " in report["problems"][0]
        assert report["starting"]["attempt"] >= 1
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)  # before its handlers: killed, the file stays (not counted)
        await asyncio.wait_for(proc.communicate(), timeout=120)
    code, report = await _health(config)
    assert (code, report["status"]) == (DOWN, "down")
