"""Start-up logs each finding of the session folders once (review of issue 17, point 9b): ``reconcile``
logs its report itself, and ``create_app`` used to log every line a second time."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from botkit import TOKEN, make_settings

from control_bot import app as app_module
from core.texts import intake as intake_texts
from sandbox.botuser import BotApiEmulator


async def test_each_reconcile_finding_is_logged_once_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with BotApiEmulator(TOKEN, "adbot_test_bot") as emu:
        settings = make_settings(tmp_path, emu.base_url)
        stray = settings.paths.sessions_dir / "unused" / "stray.session"
        stray.parent.mkdir(parents=True)
        stray.write_bytes(b"not ours")
        with caplog.at_level(logging.WARNING):
            app = await app_module.create_app(settings, configure_logging=False, schedule=False)
        await app.close()
    expected = f"session folders: {intake_texts.folder_unknown_file('unused/stray.session')}"
    found = [r.getMessage() for r in caplog.records if r.getMessage().startswith("session folders:")]
    assert found == [expected]
