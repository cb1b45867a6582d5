"""Issue 20, clear start-up: a refused bot token is one line and exit code 2; a Bot API that cannot be
reached is retried with backoff, one log line per attempt, never a traceback (``control_bot.startup``).

The refused token is judged by the Bot API emulator over HTTP (it answers 401 to any other token, as
Telegram does); "no network" is a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from control_bot.startup import MAX_DELAY, BotApiUnreachable, check_token, wait_for_bot_api
from core.errors import ConfigError
from sandbox.botapi import BotApiEmulator
from tests.fake_proxy import closed_port

ROOT = Path(__file__).resolve().parent.parent
WRONG_TOKEN = "987654321:AAE-not-the-token-the-emulator-knows"


def bot_for(base: str, token: str) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))


def write_config(tmp_path: Path, token: str, api_base: str, attempts: int = 0) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[bot]\ntoken = "{token}"\napi_base = "{api_base}"\nadmins = [1]\nstartup_attempts = {attempts}\n'
        '[paths]\ndata_dir = "data"\nsessions_dir = "sessions"\nlogs_dir = "logs"\n'
        '[engine]\nbackend = "simulated"\n',
        encoding="utf-8",
    )
    return path


async def run_adbot(config: Path) -> tuple[int, str]:
    """``python -m control_bot --config FILE`` (what an operator runs): its exit code and stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "control_bot", "--config", str(config), cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


# --- the check itself ---------------------------------------------------------------------------------


async def test_check_token_names_the_bot_or_refuses_the_token_in_one_line(emu: BotApiEmulator) -> None:
    good = bot_for(emu.base_url, emu.token)
    bad = bot_for(emu.base_url, WRONG_TOKEN)
    try:
        me = await check_token(good, emu.base_url)
        assert (me.id, me.username) == (int(emu.token.split(":")[0]), "adbot_test_bot")
        with pytest.raises(ConfigError) as refused:
            await check_token(bad, emu.base_url)
    finally:
        await good.session.close()
        await bad.session.close()
    message = refused.value.user_message
    assert message.startswith("config error: bot.token: refused by the Bot API at http://127.0.0.1:")
    assert "Unauthorized" in message and "\n" not in message
    assert WRONG_TOKEN not in message and WRONG_TOKEN.split(":")[1] not in message


async def test_unreachable_is_retried_with_backoff_one_line_each_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    bot = bot_for(base, WRONG_TOKEN)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # the backoff's schedule, without waiting for it
        slept.append(seconds)

    caplog.set_level(logging.INFO, logger="control_bot.startup")
    try:
        with pytest.raises(BotApiUnreachable) as gave_up:
            await wait_for_bot_api(bot, base, attempts=9, sleep=sleep)
    finally:
        await bot.session.close()
    assert slept == [1, 2, 4, 8, 16, 32, MAX_DELAY, MAX_DELAY]
    records = [r for r in caplog.records if r.name == "control_bot.startup"]
    assert [r.levelname for r in records] == ["WARNING"] * 8 + ["ERROR"]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)
    assert records[0].getMessage().startswith(f"cannot reach the Bot API at {base}: ")
    assert records[0].getMessage().endswith("(attempt 1/9); retrying in 1 s")
    assert records[-1].getMessage().endswith("(attempt 9/9); giving up")
    assert gave_up.value.user_message.startswith(f"cannot reach the Bot API at {base}")


async def test_unlimited_attempts_keep_trying_until_it_answers(emu: BotApiEmulator) -> None:
    """0 attempts: no limit; the first answer ends the wait (here the emulator answers at once)."""
    bot = bot_for(emu.base_url, emu.token)
    try:
        me = await wait_for_bot_api(bot, emu.base_url, attempts=0)
    finally:
        await bot.session.close()
    assert me.username == "adbot_test_bot"


# --- adbot run, as an operator starts it ------------------------------------------------------------


@pytest.mark.process
async def test_adbot_run_with_a_refused_token_says_so_in_one_line_and_exits_2(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    code, err = await run_adbot(write_config(tmp_path, WRONG_TOKEN, emu.base_url))
    assert code == 2, err
    assert "Traceback" not in err
    refused = [line for line in err.splitlines() if "bot.token" in line]
    assert len(refused) == 1 and refused[0] == err.splitlines()[-1]
    assert refused[0].startswith("config error: bot.token: refused by the Bot API at http://127.0.0.1:")
    assert WRONG_TOKEN.split(":")[1] not in err
    assert not any(call.method.lower() == "getupdates" for call in emu.calls)  # never polled


@pytest.mark.process
async def test_adbot_run_without_network_retries_one_line_per_attempt_then_exits_1(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    code, err = await run_adbot(write_config(tmp_path, WRONG_TOKEN, base, attempts=3))
    assert code == 1, err
    assert "Traceback" not in err
    attempts = [line for line in err.splitlines() if "cannot reach the Bot API" in line]
    assert len(attempts) == 4, err  # three log lines, then the command's one-line error
    assert attempts[0].endswith("(attempt 1/3); retrying in 1 s")
    assert attempts[1].endswith("(attempt 2/3); retrying in 2 s")
    assert attempts[2].endswith("(attempt 3/3); giving up")
    assert attempts[3].startswith(f"error: cannot reach the Bot API at {base}: ")
    log = (tmp_path / "logs" / "adbot.log").read_text(encoding="utf-8")
    assert log.count("cannot reach the Bot API") == 3  # the attempts are in adbot.log too
