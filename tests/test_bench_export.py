"""The export benchmark still runs (at a tiny size) and checks what it claims: every row in the file once,
its deliveries equal to the ledger's (``bench_export`` asserts both). Times are never asserted."""

from __future__ import annotations

import json

import pytest

from benchmarks import bench_export


def test_export_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    [r] = bench_export.main(["--rows", "3000", "--page-rows", "700"])
    assert r["rows"] == 3000 and not r["compressed"]
    assert r["tracemalloc_peak_mb"] > 0 and r["rows_per_s"] > 0
    printed = [json.loads(line[len("RESULT "):]) for line in capsys.readouterr().out.splitlines()
               if line.startswith("RESULT ")]
    assert [p["bench"] for p in printed] == ["export"]
