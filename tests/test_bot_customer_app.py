"""The app's wiring: ``run`` stops cleanly on SIGTERM, errors become replies and never kill polling,
a failing start-up releases what it took, commands are registered for customers and admins."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import stat
import threading
from pathlib import Path

import pytest
from botkit import ADMIN_ID, TOKEN, bot_harness, make_settings

from control_bot import app as app_module
from control_bot.services import campaign
from core.errors import StorageBusy
from core.texts import customer as t
from core.texts import errors as error_texts
from sandbox.botuser import BotApiEmulator

ALICE = 1001


def test_run_serves_until_sigterm_and_returns_0(tmp_path: Path, restore_logging: None) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emu = BotApiEmulator(TOKEN, "adbot_test_bot")
    asyncio.run_coroutine_threadsafe(emu.start(), loop).result(5)
    stopper_done = threading.Event()

    def stop_when_polling() -> None:
        try:
            for _ in range(400):
                # serving, and the menu set (the profile is set beside polling, not before it)
                if emu.polls_seen > 0 and emu.commands:
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                stopper_done.wait(0.05)
        finally:
            stopper_done.set()

    try:
        settings = make_settings(tmp_path, emu.base_url, admins=())
        stopper = threading.Thread(target=stop_when_polling, daemon=True)
        stopper.start()
        assert app_module.run(settings) == 0
        stopper.join(5)
        assert emu.polls_seen > 0
        assert ("run", "Start the campaign") in emu.commands
        for folder in (settings.paths.data_dir, settings.paths.sessions_dir, settings.paths.logs_dir):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        service_log = (settings.paths.logs_dir / "adbot.log").read_text()
        assert "control bot started" in service_log and "control bot stopped" in service_log
        assert TOKEN not in service_log
    finally:
        asyncio.run_coroutine_threadsafe(emu.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def test_handler_errors_become_replies_and_polling_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("bug with a secret detail")

        async def busy(*args: object, **kwargs: object) -> None:
            raise StorageBusy()

        monkeypatch.setattr(campaign, "campaign_status", broken)
        reply = await alice.ask("/status")
        assert reply.text == error_texts.GENERIC_ERROR() and "secret" not in reply.text
        menu = await alice.ask("/help")
        assert "/addgroups" in menu.text  # still serving

        monkeypatch.setattr(campaign, "campaign_stats", busy)
        reply = await alice.ask("/stats")
        assert reply.text == error_texts.TRY_AGAIN()

        await alice.ask("/logs")
        answer = await alice.press_answer(t.BTN_MENU())  # the menu uses campaign_status: broken
        assert answer.show_alert and answer.text == error_texts.GENERIC_ERROR()


async def test_failing_startup_releases_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with BotApiEmulator(TOKEN, "adbot_test_bot") as emu:
        settings = make_settings(tmp_path, emu.base_url)
        app = await app_module.create_app(settings, configure_logging=False, schedule=False)

        async def fail() -> None:
            raise RuntimeError("engine cannot start")

        monkeypatch.setattr(app.engine, "start", fail)
        with pytest.raises(RuntimeError, match="engine cannot start"):
            async with app.running():
                pass  # pragma: no cover - never reached
        assert app.polling_task is None
        await app.close()
        await app.close()  # twice is fine
        with pytest.raises(RuntimeError, match="closed"):
            async with app.db.read():
                pass  # pragma: no cover - never reached


async def test_admins_get_customer_and_admin_commands(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, users=[(ADMIN_ID, "Admin")]) as h:
        admin_scope = h.emu.commands_for({"type": "chat", "chat_id": ADMIN_ID})
        names = [name for name, _ in admin_scope]
        assert "run" in names
        assert "admin" in names and len(names) == len(set(names))
        assert "admin" not in [name for name, _ in h.emu.commands]


def test_the_open_file_limit_is_lifted_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
        before, after = app_module.raise_open_file_limit(ceiling=4096)
        assert (before, after) == (low, 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096))
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == after
        assert app_module.raise_open_file_limit(ceiling=4096) == (after, after)  # nothing left to lift
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
