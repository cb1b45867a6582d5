"""``adbot demo``: the scripted story runs the whole system offline and says what happened."""

from __future__ import annotations

import json
from typing import Any

import pytest

from control_bot.cli import main
from control_bot.demo import GROUPS, JOINED, run_demo, summary_lines


async def test_demo_story_shows_every_scripted_event() -> None:
    events: list[dict[str, Any]] = []
    result = await run_demo(events.append)
    assert result.ok, summary_lines(result)
    assert result.violations == 0 and result.double_posts == 0
    assert result.replaced and result.unreachable == ["@closed_club"] and result.flood_waits == 1
    assert result.joined == [JOINED] and result.deliveries[JOINED] >= 1  # reachable once the admin had it joined
    assert result.paused == []
    assert result.slow_mode_skips >= 1
    assert result.deliveries["@closed_club"] == 0
    assert all(result.deliveries[g] >= 2 for g in GROUPS if g not in ("@closed_club", "@slow_lane"))
    assert result.stats["total_success"] == sum(result.deliveries.values())
    lines = [e["line"] for e in events if e["kind"] != "narration"]
    said = [e["text"] for e in events if e["kind"] == "user_message"]
    assert "/run" in said and "/logs" in said and "/health" in said
    bot_to_carl = "\n".join(e["text"] for e in events if e.get("to") == "Carl")
    for expected in ("Campaign started", "replaced", "@closed_club are on hold", "Stats", "slow mode",
                     "posted to @cats_market"):
        assert expected in bot_to_carl, expected
    assert any("Upload: accepted 4, rejected 1" in line for line in lines)
    assert any(e["kind"] == "user_click" for e in events)


def test_demo_json_is_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[-1]["kind"] == "summary" and rows[-1]["ok"] is True
    assert {"narration", "user_message", "bot_message"} <= {r["kind"] for r in rows}
