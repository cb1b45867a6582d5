"""The Prometheus endpoint (issue 20 part C), scraped over HTTP on 127.0.0.1 beside the real bot: what it
says is read from storage at scrape time (sends, failures, flood waits, sessions per state, cycle lag)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from botkit import Harness, bot_harness
from prometheus_client.parser import text_string_to_metric_families

from storage import stats
from storage import waits as wait_rows

ALICE = 1001
METRICS = {"metrics": {"enabled": True, "host": "127.0.0.1", "port": 0}}


async def _scrape(h: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(h.app.http[0].url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_a_scrape_reads_sends_sessions_waits_and_lag(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, sections=METRICS) as h:
        assert [s.name for s in h.app.http] == ["metrics endpoint"]  # the API stays off
        empty = await _scrape(h)
        assert empty[("adbot_sends_total", (("outcome", "sent"),))] == 0
        assert empty[("adbot_sessions", (("state", "unused"),))] == 0
        assert empty[("adbot_engine_up", ())] == 1 and empty[("adbot_cycle_lag_seconds", ())] == 0

        await h.grant(ALICE)
        await h.fill_pool(3)
        alice = h.user(ALICE, "Alice")
        await alice.ask("/post https://t.me/AdsChannel/5")
        await alice.ask("/addgroups @cats_group")
        await alice.ask("/run")
        report = await h.cycle(ALICE)
        assert report.ran and len(h.world.deliveries) == 1
        async with h.db.tx() as conn:
            await stats.count_flood_wait(conn, ALICE)
            session_id = (await h.rows("SELECT id FROM sessions WHERE state = 'unused' LIMIT 1"))[0]["id"]
            await wait_rows.record(conn, session_id, "join", h.clock.now() + 60, h.clock.now())

        seen = await _scrape(h)
        assert seen[("adbot_sends_total", (("outcome", "sent"),))] == 1
        assert seen[("adbot_sends_total", (("outcome", "failed"),))] == 0
        assert seen[("adbot_sends_last_hour", (("outcome", "sent"),))] == 1
        assert seen[("adbot_flood_waits_total", ())] == 1
        assert seen[("adbot_sessions", (("state", "assigned"),))] == 1
        assert seen[("adbot_sessions", (("state", "unused"),))] == 2
        assert seen[("adbot_sessions_waiting", (("method", "join"),))] == 1
        assert seen[("adbot_campaigns_running", ())] == 1

        # The next cycle is due in one interval; nobody runs it (no scheduler here): it is late by then + 90 s.
        interval = (await h.customer(ALICE)).interval_s
        await h.clock.advance(interval + 90)
        late = await _scrape(h)
        assert late[("adbot_campaigns_overdue", ())] == 1
        assert late[("adbot_cycle_lag_seconds", ())] == 90
        assert late[("adbot_sessions_waiting", (("method", "join"),))] == 0  # its wait is over


def test_the_scrape_benchmark_runs() -> None:
    from benchmarks import bench_metrics

    figures = bench_metrics.main(["--campaigns", "3", "--sessions", "1", "--groups", "2", "--hours", "2",
                                  "--scrapes", "1"])
    assert figures["ledger_rows"] == 12 and figures["sends_last_hour"] == 6
    assert isinstance(figures["page_bytes"], int) and figures["page_bytes"] > 0
