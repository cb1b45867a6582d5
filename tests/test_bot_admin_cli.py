"""``adbot grant|revoke|customers|health`` through ``control_bot.cli.main`` on a temporary config."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from control_bot.cli import main
from core.states import EventKind
from storage import events
from storage.db import Database

CUSTOMER = 424242


def outbox(tmp_path: Path) -> list[events.Event]:
    async def read() -> list[events.Event]:
        db = await Database.open(tmp_path / "data" / "adbot.sqlite3")
        try:
            async with db.read() as conn:
                return await events.list_for(conn, CUSTOMER)
        finally:
            await db.close()

    return asyncio.run(read())


def test_grant_then_customers_json_then_revoke(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = time.time()
    assert main(["grant", str(CUSTOMER), "3", "30", "--config", config]) == 0
    assert f"plan created for {CUSTOMER}: 3 session(s)" in capsys.readouterr().out
    assert main(["grant", str(CUSTOMER), "2", "5", "--config", config]) == 0
    assert "plan extended" in capsys.readouterr().out

    assert main(["customers", "--json", "--config", config]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["user_id"] == CUSTOMER
    assert listed["plan_sessions"] == 2
    assert listed["plan_active"] is True
    assert listed["status"] == "stopped"
    assert listed["interval_s"] == 600
    assert listed["sessions"] == 0 and listed["sent_today"] == 0
    assert before + 35 * 86_400 <= listed["plan_expires_at"] <= time.time() + 35 * 86_400
    # The customer is told by the bot's outbox sender, whichever process made the change.
    kinds = [e.kind for e in reversed(outbox(tmp_path))]
    assert kinds == [EventKind.PLAN_GRANTED, EventKind.PLAN_GRANTED]

    assert main(["revoke", str(CUSTOMER), "--config", config]) == 0
    assert "0 session(s) back in the pool" in capsys.readouterr().out
    assert main(["customers", "--json", "--config", config]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["plan_active"] is False
    assert outbox(tmp_path)[0].kind is EventKind.PLAN_REVOKED

    assert main(["health", "--json", "--config", config]) == 2  # down: no adbot run holds the data dir
    health = json.loads(capsys.readouterr().out)
    assert health["engine"] is None
    assert health["cycles"]["running_campaigns"] == 0
    assert health["sessions"]["unused"] == 0
    assert health["last_hour"] == {"sent": 0, "failed": 0, "other": 0}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["grant", "0", "1", "1"], "“0” is not a user id I know: a user id is a number like 123456789."),
        (["grant", str(2**63), "1", "1"], "is not a user id I know"),  # no 2^63 bound shown
        (["grant", "12", "101", "1"], "The number of sessions must be from 1 to 100"),
        (["grant", "12", "1", "3651"], "The number of days must be from 1 to 3650"),
        (["grant", "12", "x", "1"], "The number of sessions must be a whole number"),
        (["revoke", "12"], "There is no customer with id 12"),
    ],
)
def test_bad_arguments_are_one_line_and_change_nothing(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([*argv, "--config", config]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert main(["customers", "--json", "--config", config]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_plain_listing_and_a_bad_config(config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["customers", "--config", config]) == 0
    assert "no customers" in capsys.readouterr().out
    assert main(["grant", "7", "1", "1", "--config", config]) == 0
    assert main(["customers", "--config", config]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("7  plan 1 until ")
    assert main(["health", "--config", config]) == 2  # down: no adbot run holds the data dir
    assert "running campaigns: 0" in capsys.readouterr().out
    assert main(["grant", "7", "1", "1", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "file not found" in capsys.readouterr().err
