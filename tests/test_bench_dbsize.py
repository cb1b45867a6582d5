"""``benchmarks/bench_dbsize`` still runs, at a tiny size, and does what it claims: every send written,
everything but the current cycles folded, the totals unchanged (the benchmark asserts that itself)."""

from __future__ import annotations

import json

import pytest

from benchmarks import bench_dbsize


def test_dbsize_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    r = bench_dbsize.main(["--sends", "3000", "--campaigns", "5", "--groups", "10", "--batch", "500"])
    assert r["sends"] == 3000 and r["rows_left"] == 5 * 10  # each campaign's current cycle stays
    assert r["folded"] == 3000 - 50 and r["batches"] == (3000 - 50) // 500 + 1
    assert r["send_days_rows"] == 5 * 10 * 10  # 60 cycles at 6 a day: ten days of 5 x 10 groups
    assert r["bytes_per_send"] > 0 and r["backup_mb"] > 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("RESULT ")]
    assert json.loads(line[len("RESULT "):])["bench"] == "dbsize"
