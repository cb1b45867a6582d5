"""The cycle benchmark with several posts in rotation (issue 19): every post carried once in the warm-up,
then the measured cycle still costs one Telegram request per delivered post."""

from __future__ import annotations

import pytest

from benchmarks import bench_cycle


@pytest.mark.parametrize("rotation", ["order", "random"])
def test_rotation_keeps_one_request_per_post(rotation: str) -> None:
    [r] = bench_cycle.main(["--campaigns", "2", "--spacing", "0.02", "--latency", "0.001", "--posts", "4",
                            "--rotation", rotation])
    assert (r["posts"], r["rotation"], r["forwards"]) == (4, rotation, 2 * 60)
    if rotation == "order":  # every post was carried in the warm-up: the steady state
        assert r["requests_per_post"] == 1.0
    else:  # a post drawn for the first time costs its one read per session on top (never more)
        assert 1.0 <= r["requests_per_post"] <= 1.0 + 3 / 60
