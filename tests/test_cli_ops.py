"""Issue 20, the operator's command line: ``adbot --help`` cheap (standard library only), ``--version``,
``adbot migrate --check``, and ``adbot health``'s verdict and exit codes for monitors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from control_bot.cli import main
from control_bot.cli.health import DEGRADED, DOWN, OK, OVERDUE_GRACE
from storage import customers
from storage.db import Database
from storage.health_checks import overdue_campaigns
from storage.instance_lock import hold_instance_lock, is_held
from storage.migrations import LATEST_VERSION, MIGRATIONS

REPO = Path(__file__).resolve().parent.parent
# What ``adbot --help`` must not import: the network stack, the config model, Babel, SQLite, asyncio.
HEAVY = ("aiogram", "aiohttp", "telethon", "apscheduler", "pydantic", "babel", "sqlite3", "aiosqlite", "asyncio",
         "core.config", "storage.db")


@pytest.mark.process
def test_help_imports_the_standard_library_and_the_cli_texts_only(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import json, sys
        from control_bot.cli import main
        try:
            main(["--help"])
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({{"code": code, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert json.loads(done.stdout.splitlines()[-1]) == {"code": 0, "loaded": []}
    assert "COMMAND" in done.stdout and "migrate" in done.stdout and "check-config" in done.stdout


def test_a_commands_own_help_declares_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["grant", "--help"])
    assert "sessions in the plan (1..100)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["pool", "join", "--help"])
    assert "GROUP" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    from importlib import metadata

    python = sys.version.split()[0]
    assert out == f"adbot {metadata.version('adbot')} (database schema {LATEST_VERSION}, Python {python})\n"


# --- migrate --check --------------------------------------------------------------------------------------


def test_migrate_check_lists_what_would_run_without_running_it(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "data" / "adbot.sqlite3"
    assert main(["migrate", "--check", "--config", config]) == 1
    out = capsys.readouterr().out
    assert "does not exist yet" in out and f"schema version: 0, latest: {LATEST_VERSION}" in out
    assert "would run 1: create table customers, create table api_pairs" in out
    assert f"{LATEST_VERSION} migration(s) would run" in out
    assert not db_path.parent.exists()  # nothing created
    db_path.parent.mkdir()

    # A database two migrations behind: exactly those two are listed, and nothing changes.
    with sqlite3.connect(db_path) as conn:
        for script in MIGRATIONS[: LATEST_VERSION - 2]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION - 2}")
    before = db_path.read_bytes()
    assert main(["migrate", "--check", "--json", "--config", config]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["current"], report["latest"]) == (LATEST_VERSION - 2, LATEST_VERSION)
    assert [m["version"] for m in report["pending"]] == [LATEST_VERSION - 1, LATEST_VERSION]
    assert db_path.read_bytes() == before

    assert main(["migrate", "--config", config]) == 0
    assert capsys.readouterr().out.strip() == f"schema migrated from version {LATEST_VERSION - 2} to {LATEST_VERSION}"
    assert main(["migrate", "--check", "--config", config]) == 0
    assert "the schema is up to date" in capsys.readouterr().out


def test_migrate_check_on_a_database_newer_than_this_adbot(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / "adbot.sqlite3") as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    assert main(["migrate", "--check", "--config", config]) == 2
    assert "newer than this adbot knows" in capsys.readouterr().out
    assert main(["migrate", "--config", config]) == 2


# --- health: verdict and exit codes ---------------------------------------------------------------------


def test_health_is_down_when_no_service_holds_the_data_dir(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--json", "--config", config]) == DOWN
    report = json.loads(capsys.readouterr().out)
    assert (report["status"], report["exit_code"], report["service_running"]) == ("down", 2, False)
    assert report["problems"] == ["no adbot run holds the data dir: the service is not running"]
    assert "sessions" in report and "last_hour" in report  # the report itself is still there


def test_health_is_ok_while_a_service_holds_the_data_dir(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["customers", "--config", config]) == 0  # creates the database
    capsys.readouterr()
    assert not is_held(tmp_path / "data")
    with hold_instance_lock(tmp_path / "data"):  # this process plays adbot run
        assert is_held(tmp_path / "data")
        assert main(["health", "--config", config]) == OK
        captured = capsys.readouterr()
        assert captured.err == "status: ok\n" and "running campaigns: 0" in captured.out
    assert not is_held(tmp_path / "data")  # the probe left no lock behind


async def _overdue_setup(db: Database, now: float) -> None:
    async with db.tx() as conn:
        for user_id in (1, 2, 3):
            await customers.grant(conn, user_id, 1, 30, now, 300)
        # 1: between cycles, due 20 min ago; 2: due 1 min ago; 3: a cycle in progress since long ago
        await customers.set_status(conn, 1, "running", now, next_cycle_at=now - 1200)
        await customers.finish_cycle(conn, 1, 0, now - 1500, now - 1200)
        await customers.set_status(conn, 2, "running", now, next_cycle_at=now - 60)
        await customers.finish_cycle(conn, 2, 0, now - 360, now - 60)
        await customers.set_status(conn, 3, "running", now, next_cycle_at=now - 5000)


async def test_overdue_campaigns_count_only_late_ones_between_cycles(db: Database) -> None:
    now = time.time()
    await _overdue_setup(db, now)
    async with db.read() as conn:
        assert await overdue_campaigns(conn, now - OVERDUE_GRACE) == 1
        assert await overdue_campaigns(conn, now - 30) == 2


def test_health_is_degraded_with_an_overdue_campaign_and_no_assigned_session(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    async def setup() -> None:
        db = await Database.open(tmp_path / "data" / "adbot.sqlite3")
        try:
            await _overdue_setup(db, time.time())
        finally:
            await db.close()

    asyncio.run(setup())
    with hold_instance_lock(tmp_path / "data"):
        assert main(["health", "--json", "--config", config]) == DEGRADED
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "degraded" and report["overdue_campaigns"] == 1
    assert report["problems"] == [
        "1 running campaign(s) more than 10 min past their due cycle",
        "campaigns are running but no session is assigned to any customer",
    ]


def test_run_on_a_database_newer_than_this_adbot_is_one_line_exit_2(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / "adbot.sqlite3") as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 3}")
    assert main(["run", "--config", config]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"the database is at schema version {LATEST_VERSION + 3}, newer than this adbot knows ({LATEST_VERSION}):"
        " upgrade adbot, or restore the backup made before the upgrade (docs/UPGRADING.md)"
    ]


# --- read-only commands never migrate (review 20 F4) ------------------------------------------------------


def _database_at(tmp_path: Path, version: int) -> Path:
    """A database migrated by this code up to ``version`` (an older adbot's), or stamped ``version``."""
    import asyncio

    import aiosqlite

    from storage.db import migrate

    path = tmp_path / "data" / "adbot.sqlite3"
    path.parent.mkdir(exist_ok=True)

    async def build() -> None:
        async with aiosqlite.connect(path, isolation_level=None) as conn:
            if version <= LATEST_VERSION:
                await migrate(conn, version)
            else:
                await conn.execute(f"PRAGMA user_version = {version}")

    asyncio.run(build())
    return path


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_health_and_customers_on_an_older_schema_change_nothing(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = LATEST_VERSION - 3
    path = _database_at(tmp_path, old)
    assert main(["health", "--json", "--config", config]) == DOWN  # nothing runs
    report = json.loads(capsys.readouterr().out)
    assert report["schema_pending"] == 3 and report["status"] == "down"
    assert report["problems"][-1] == "schema 3 behind: run adbot migrate (docs/UPGRADING.md)"
    assert main(["customers", "--config", config]) == 1
    assert capsys.readouterr().err == "error: schema 3 behind: run adbot migrate (docs/UPGRADING.md)\n"
    with hold_instance_lock(tmp_path / "data"):  # an older adbot run still serving it
        assert main(["health", "--config", config]) == DEGRADED
        assert capsys.readouterr().err == "status: degraded: schema 3 behind: run adbot migrate (docs/UPGRADING.md)\n"
    assert _user_version(path) == old
    assert main(["migrate", "--check", "--config", config]) == 1  # the operator's check still sees them
    assert "3 migration(s) would run" in capsys.readouterr().out


def test_health_on_a_newer_schema_is_json_down_exit_2_and_customers_one_line(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database_at(tmp_path, 99)
    newer = (f"the database is at schema version 99, newer than this adbot knows ({LATEST_VERSION}):"
             " upgrade adbot, or restore the backup made before the upgrade (docs/UPGRADING.md)")
    assert main(["health", "--json", "--config", config]) == DOWN
    report = json.loads(capsys.readouterr().out)
    assert (report["status"], report["exit_code"], report["problems"]) == ("down", 2, [newer])
    with hold_instance_lock(tmp_path / "data"):
        assert main(["health", "--config", config]) == DOWN
        assert capsys.readouterr().err == f"status: down: {newer}\n"
    assert main(["customers", "--config", config]) == 1
    assert capsys.readouterr().err == f"error: {newer}\n"
    assert _user_version(path) == 99
