"""Issue 20: ``adbot health`` against a real ``adbot run`` process (the Bot API emulator, the simulated
world): ok (exit 0) while it runs and posts, down (exit 2) once it stopped."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.botapi import BotApiEmulator
from tests.process_harness import BOT_USERNAME, TOKEN, BotRunner, CampaignSpec, install, read_deliveries, seed

pytestmark = pytest.mark.process
ROOT = Path(__file__).resolve().parent.parent
ALICE = 1001
GROUPS = [f"@hl_g{i}" for i in range(3)]


@pytest.fixture
def emu_bot() -> tuple[str, str]:
    return TOKEN, BOT_USERNAME


async def health(config: Path) -> tuple[int, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADBOT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from control_bot.cli import main; sys.exit(main(sys.argv[1:]))",
        "health", "--json", "--config", str(config), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None, err
    return proc.returncode, json.loads(out)


async def test_health_is_ok_while_adbot_runs_and_down_once_it_stopped(tmp_path: Path, emu: BotApiEmulator) -> None:
    inst = install(tmp_path, emu.base_url, engine={"send_spacing": 0.05, "on_restart": "resume"})
    await seed(inst, [CampaignSpec(ALICE, GROUPS, sessions=1, interval=3600)], pool=1)
    async with BotRunner(inst, emu, mode="exec") as runner:
        bot = await runner.start()
        for _ in range(600):  # the first cycle's deliveries (the world's log), polled
            if len(read_deliveries(inst)) >= len(GROUPS):
                break
            await asyncio.sleep(0.1)
        assert len(read_deliveries(inst)) == len(GROUPS), bot.tail()
        code, report = await health(inst.config)
        assert (code, report["status"], report["problems"]) == (0, "ok", []), report
        assert report["service_running"] is True and report["cycles"]["running_campaigns"] == 1
        assert report["last_hour"]["sent"] == len(GROUPS)
        assert await bot.terminate() == 0, bot.tail()
    code, report = await health(inst.config)
    assert (code, report["status"], report["service_running"]) == (2, "down", False)
