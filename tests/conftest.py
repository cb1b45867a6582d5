"""Fixtures shared by the test modules. Support code a test imports (builders, harnesses, fakes) lives in
botkit, engine_support, pool_support, fake_sender and process_harness; what pytest injects lives here."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from control_bot.logfiles import preserved_logging
from sandbox.botapi import BotApiEmulator
from storage.db import Database


def pytest_collection_finish(session: pytest.Session) -> None:
    """When a selected test forks the bot (marked ``process(fork_server=True)``), start the fork server
    now: it imports the bot in the background while the other tests run. ``-m "not process"`` starts none."""
    if any(mark.kwargs.get("fork_server") for item in session.items for mark in item.iter_markers("process")):
        from tests.process_harness import warm_up

        warm_up()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "data" / "adbot.sqlite3")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def sdir(tmp_path: Path) -> Path:
    """The pool's sessions folder (not created: the code under test lays it out)."""
    return tmp_path / "sessions"


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where ``tempfile`` puts temporary copies during the test, so a test can see that none is left behind."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture
def config(tmp_path: Path) -> str:
    """A config file for the console commands (``--config``), every path under the test's folder."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[bot]\ntoken = "123:abc"\nadmins = [1]\n\n'
        '[paths]\ndata_dir = "data"\nsessions_dir = "sessions"\nlogs_dir = "logs"\n\n'
        "[engine]\ncycle_interval = 600\n\n"
        "[pool]\nmax_sessions_per_pair = 3\n",
        encoding="utf-8",
    )
    return str(path)


@pytest.fixture
def telethon_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What Telethon's request loop asked to sleep (flood waits, the pause between retries of a 500):
    recorded, never slept. telethon/client/users.py uses asyncio for nothing else."""
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr("telethon.client.users.asyncio", SimpleNamespace(sleep=no_sleep))
    return sleeps


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The root logger's handlers and level as they were before the test, whatever it installed."""
    with preserved_logging():
        yield


@pytest.fixture
def emu_bot() -> tuple[str, str]:
    """The bot (token, username) that ``emu`` serves; a module that runs another bot overrides this."""
    return "123456:TEST-sandbox-token", "adbot_test_bot"


@pytest.fixture
def emu_users() -> Sequence[tuple[int, str]]:
    """The users (id, first name) ``emu`` knows before the test starts; a module overrides this to add some."""
    return ()


@pytest.fixture
async def emu(emu_bot: tuple[str, str], emu_users: Sequence[tuple[int, str]]) -> AsyncIterator[BotApiEmulator]:
    """A running Bot API emulator (the sandbox's api.telegram.org), stopped after the test."""
    token, username = emu_bot
    async with BotApiEmulator(token, username) as emulator:
        for user_id, name in emu_users:
            emulator.user(user_id, name)
        yield emulator
