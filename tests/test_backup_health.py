"""Review 20 F6: a failing daily backup is no longer only a traceback in adbot.log. Its outcome is
recorded; ``adbot health`` shows ``last_backup_at`` / ``last_backup_error`` and is degraded when backups
are on and the last one failed or the newest is more than 26 h old; each failed backup is told to the
admins once through the outbox (en and ru)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from botkit import ADMIN_ID, bot_harness, in_locale

from control_bot.backup.status import STALE_AFTER, backup_health, read_status
from control_bot.cli import main
from control_bot.housekeeping import Housekeeping
from core.config import Settings, settings_from_dict
from core.states import EventKind
from core.texts.events import event_text
from storage.db import Database
from storage.instance_lock import hold_instance_lock

RU_ADMIN = ADMIN_ID + 1


async def test_a_failed_daily_backup_is_told_to_the_admins_once_and_recorded(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")  # the backup folder cannot be made (as root too)
    sections = {"backup": {"enabled": True, "dir": "afile/backups"}}
    async with bot_harness(tmp_path, admins=(ADMIN_ID, RU_ADMIN), users=[(RU_ADMIN, "Ru", "ru")],
                           sections=sections) as h:
        admin, ru_admin = h.user(ADMIN_ID, "Admin"), h.user(RU_ADMIN, "Ru", language_code="ru")
        await ru_admin.ask("/start")  # the bot learns their language
        ru_admin.unread()
        jobs = Housekeeping(h.settings, h.db, h.clock)
        with pytest.raises(OSError):
            await jobs.backup()
        failed = read_status(h.settings.paths.data_dir)
        assert failed.last_ok_at is None and failed.last_error is not None
        assert failed.last_error.startswith(f"cannot write {tmp_path / 'afile'}")
        assert await h.deliver() == 1
        await h.idle()
        with in_locale("en"):
            en = event_text(EventKind.BACKUP_FAILED, {"problem": failed.last_error}, for_admin=True)
        with in_locale("ru"):
            ru = event_text(EventKind.BACKUP_FAILED, {"problem": failed.last_error}, for_admin=True)
        assert "Today's backup failed" in en and "резервная копия не создана" in ru
        assert [m.text for m in admin.unread()] == [en.replace("<code>", "").replace("</code>", "")]
        assert [m.text for m in ru_admin.unread()] == [ru.replace("<code>", "").replace("</code>", "")]
        assert await h.deliver() == 0  # once

        problems, fields = backup_health(h.settings, h.clock.now())
        assert fields["last_backup_error"] == failed.last_error and fields["last_backup_at"] is None
        assert problems and "the last daily backup failed" in problems[0]

        # the folder fixed: the next one works and clears the error; no new notice
        (tmp_path / "afile").unlink()
        await jobs.backup()
        problems, fields = backup_health(h.settings, h.clock.now())
        assert problems == [] and fields["last_backup_error"] is None and fields["last_backup_at"] is not None
        assert await h.deliver() == 0
        # a day and more without a new one: late
        problems, _ = backup_health(h.settings, h.clock.now() + STALE_AFTER + 60)
        assert problems and "more than 26 h ago" in problems[0]


def test_health_json_shows_the_last_backup_and_is_degraded_by_a_failure(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with open(config, "a", encoding="utf-8") as fh:
        fh.write('\n[backup]\nenabled = true\ndir = "afile/backups"\n')
    (tmp_path / "afile").write_text("x")
    asyncio.run(_open_and_close(tmp_path / "data" / "adbot.sqlite3"))  # a service's database
    settings = settings_from_dict({"backup": {"enabled": True, "dir": "afile/backups"}}, tmp_path)
    with hold_instance_lock(tmp_path / "data"):  # as a running adbot holds it
        assert main(["health", "--json", "--config", config]) == 0  # no daily backup yet: nothing late
        report = json.loads(capsys.readouterr().out)
        assert (report["last_backup_at"], report["last_backup_error"]) == (None, None)
        with pytest.raises(OSError):
            asyncio.run(_daily_backup(settings, tmp_path / "data" / "adbot.sqlite3"))
        assert main(["health", "--json", "--config", config]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["status"] == "degraded" and report["last_backup_error"].startswith("cannot write")
        assert any("the last daily backup failed" in p for p in report["problems"])


class _Clock:
    def now(self) -> float:
        return time.time()


async def _open_and_close(db_file: Path) -> None:
    await (await Database.open(db_file)).close()


async def _daily_backup(settings: Settings, db_file: Path) -> None:
    database = await Database.open(db_file)
    try:
        await Housekeeping(settings, database, _Clock()).backup()
    finally:
        await database.close()
