"""The benchmarks still run, at tiny sizes, and their result lines carry what the summary reads.

Times are never asserted here (docs/PERFORMANCE.md holds the measured figures); what is checked is
that each benchmark does the work it claims (every post sent once, every probe answered by the status
screen, every campaign rebuilt) and that ``python -m benchmarks`` can read every figure it prints.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import (
    bench_cycle,
    bench_discovery,
    bench_memory,
    bench_overhead,
    bench_placement,
    bench_startup,
    bench_status,
)
from benchmarks.__main__ import HEADLINES


def result_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line[len("RESULT "):]) for line in out.splitlines() if line.startswith("RESULT ")]


def headlines(results: list[dict[str, Any]]) -> list[tuple[str, str, bool | None]]:
    return [HEADLINES[r["bench"]](r) for r in results]


def test_overhead_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    results = bench_overhead.main(["--campaigns", "3", "--cycles", "1", "--setups", "engine,world"])
    assert [(r["setup"], r["forwards"]) for r in results] == [("engine", 180), ("world", 180)]
    printed = result_lines(capsys.readouterr().out)
    assert [r["bench"] for r in printed] == ["overhead", "overhead"]
    assert all("forwards/CPU-s" in figure for _what, figure, _meets in headlines(printed))


def test_cycle_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    [r] = bench_cycle.main(["--campaigns", "3", "--spacing", "0.02", "--latency", "0.001"])
    assert r["forwards"] == 3 * 60 and r["busiest_session_groups"] >= 20
    assert r["requests_per_post"] == 1.0  # the steady state: each post one request, nothing else
    assert r["bound_s"] == pytest.approx((r["busiest_session_groups"] - 1) * 0.02 + 0.001)
    [printed] = result_lines(capsys.readouterr().out)
    what, _figure, meets = HEADLINES["cycle"](printed)
    assert "3 campaigns" in what and meets is None  # the target applies at 1,000 campaigns


def test_status_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    results = bench_status.main(
        ["--campaigns", "4", "--spacing", "0.05", "--latency", "0.001", "--idle-samples", "3", "--customers", "2"]
    )
    assert [r["phase"] for r in results] == ["idle", "flat out", "cycle"]
    assert all(r["timeouts"] == 0 and r["wrong_replies"] == 0 for r in results)
    assert results[0]["samples"] == 3 and results[2]["samples"] >= 1
    assert results[1]["forwards"] == results[2]["forwards"] == 4 * 60
    assert len(headlines(result_lines(capsys.readouterr().out))) == 3


def test_startup_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    results = bench_startup.main(["--customers", "40"])
    assert [(r["on_restart"], r["running_after"]) for r in results] == [("resume", 40), ("stop", 0)]
    assert len(headlines(result_lines(capsys.readouterr().out))) == 2


def test_placement_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    [r] = bench_placement.main(["--campaigns", "4", "--groups", "10", "--other-dialogs", "3"])
    assert (r["campaigns"], r["groups"], r["sessions"]) == (4, 40, 12)
    assert 0 < r["placed"] <= 40 and r["unreachable_share"] == pytest.approx(1 - r["placed"] / 40)
    [printed] = result_lines(capsys.readouterr().out)
    what, figure, meets = HEADLINES["placement"](printed)
    assert "4 campaigns x 10 groups over 12 sessions (30% memberships)" in what
    assert "ms alone" in figure and meets is None  # the target applies at 1,000 campaigns


@pytest.mark.parametrize("port", ["null", "telethon"])
def test_memory_benchmark_point(tmp_path: Path, port: str) -> None:
    """One point of each set-up in this process (the benchmark runs each in a fresh child)."""
    point = bench_memory.Point(port, campaigns=3, sessions=2, groups=4)
    bench_memory.prepare(tmp_path, point)
    r = asyncio.run(bench_memory.measure(tmp_path, point))
    assert r["sent"] == 12 and r["open_ports"] == 6
    assert r["peak_bytes"] >= r["after_bytes"] > 0


def test_memory_summary_is_readable() -> None:
    what, figure, meets = HEADLINES["memory"](
        {"bench": "memory", "per_campaign_kib": 104.0, "per_session_kib": 24.0, "per_telethon_client_kib": 147.0}
    )
    assert figure == "104 / 24 / 147 KiB" and meets is None and "per campaign" in what


def test_discovery_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    results = bench_discovery.main(["--dialogs", "50", "230", "--archived", "3", "--sessions", "2"])
    # pages of 100 until a short one: main list then archive, the same in the world and through Telethon
    assert [(r["requests_per_scan"], r["telethon_requests_per_scan"]) for r in results] == [(2, 2), (4, 4)]
    assert [r["requests_per_session_day"] for r in results] == [4, 8]  # the default refresh: 2 scans a day
    assert [r["world_requests"] for r in results] == [2 * 2 * 2, 2 * 2 * 4]
    printed = result_lines(capsys.readouterr().out)
    assert [what for what, _figure, _meets in headlines(printed)] == [
        "discovery, 50 dialogs, refresh 12 h",
        "discovery, 230 dialogs, refresh 12 h",
    ]


def test_soak_benchmark_holds_the_account_safety_rules(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_soak

    [r] = bench_soak.main(["--sessions", "12", "--groups", "60", "--customers", "2", "--hours", "6"])
    assert bench_soak.broken_rules(r) == []
    assert r["delivered"] > 0 and r["faults_fired"] > 0 and r["source_paused"] is not None
    assert r["non_member_sends"] == 0 and r["flood_violations"] == 0 and r["identity_changes"] == 0
    [printed] = result_lines(capsys.readouterr().out)
    what, _figure, meets = HEADLINES["soak"](printed)
    assert "12 sessions" in what and meets is True


def test_scale_benchmark_in_this_process(tmp_path: Path) -> None:
    """The 10,000-session benchmark's measurement at a tiny size (the benchmark runs it in a fresh child): real
    Telethon clients over the fake sender, every post sent once a cycle, one request per post."""
    from benchmarks import bench_scale
    from control_bot.logfiles import preserved_logging, setup_logging

    shape = bench_scale.Shape(campaigns=2, sessions=2, groups=6, factor=1000.0, cycles=1, connect_rate=2.0)
    bench_scale.prepare(tmp_path, shape)
    with preserved_logging():
        setup_logging(tmp_path / "logs", console=False)
        r = asyncio.run(bench_scale.measure(tmp_path, shape))
    assert r["sessions"] == 4 and r["connects"] == 4 and r["sessions_that_posted"] == 4
    assert r["forwards"] == 12 and r["requests_per_post"] == 1.0
    assert r["peak_rss_mib"] >= r["rss_after_mib"] > 0 and r["tx_per_post"] > 0
    assert "GetConfigRequest" in r["connect_requests"] and r["requests_per_connection"] <= 2
    # the restart's connects go through the engine's limiter, at the rate the benchmark says (review R22-1)
    assert r["connect_rate"] == 2.0 and r["connects_per_s_peak"] <= 2
    what, _figure, meets = HEADLINES["scale"]({"bench": "scale", **r})
    assert "4 Telethon clients" in what and meets is None


def test_logging_ratio_summary_is_readable() -> None:
    what, figure, meets = HEADLINES["overhead_logging"](
        {"bench": "overhead_logging", "campaigns": 200, "ratio": 0.93, "target": 0.9, "with_log": 5000.0,
         "without_log": 5376.0}
    )
    assert figure == "93.0% (5,000 / 5,376)" and meets is True and "logging" in what
