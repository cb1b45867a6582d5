"""The Prometheus endpoint (issue 20 part C; ``[metrics]``, off by default; ``docs/METRICS.md``).

Nothing is counted on the send path: each scrape reads a snapshot from storage (``storage.metrics``, a few
aggregate queries) and the engine's in-memory health, and a collector registered for that scrape only
turns it into metric families (prometheus-client's ``generate_latest``). Counters come from the ``stats``
totals, which retention never prunes, so they only grow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from core.clock import Clock
from core.states import STATES
from core.waits import METHOD_CLASSES
from engine.engine import Engine, EngineHealth
from storage import ledger
from storage import metrics as reads
from storage import sessions as session_rows
from storage.db import Database

logger = logging.getLogger(__name__)

HOUR = 3_600.0


@dataclass(frozen=True)
class Snapshot:
    """Everything one scrape reports, read at once."""

    totals: reads.Totals
    last_hour_sent: int
    last_hour_failed: int
    last_hour_other: int
    failures_last_hour: dict[str, int]
    sessions: dict[str, int]
    waiting: dict[str, int]
    lag: reads.Lag
    engine: EngineHealth | None = None
    extra: dict[str, float] = field(default_factory=dict)


async def snapshot(db: Database, engine: Engine | None, now: float) -> Snapshot:
    async with db.read() as conn:
        totals = await reads.totals(conn)
        hour = await ledger.counts_since(conn, now - HOUR)
        failures = await reads.failures_since(conn, now - HOUR)
        sessions = await session_rows.count_by_state(conn)
        waiting = await reads.waiting_sessions(conn, now)
        lag = await reads.cycle_lag(conn, now)
    return Snapshot(
        totals, hour.sent, hour.failed, hour.other, failures, sessions, waiting, lag,
        engine=engine.health() if engine is not None else None,
    )


class SnapshotCollector(Collector):
    """The metric families of one snapshot (registered for one scrape)."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def collect(self) -> Iterator[Metric]:
        s = self._snap
        sends = CounterMetricFamily("adbot_sends", "Finished sends since the service began, by outcome",
                                    labels=["outcome"])
        sends.add_metric(["sent"], s.totals.sent)
        sends.add_metric(["failed"], s.totals.failed)
        yield sends
        waits = CounterMetricFamily("adbot_flood_waits", "Flood waits Telegram asked for, since the service began")
        waits.add_metric([], s.totals.flood_waits)
        yield waits
        hour = GaugeMetricFamily("adbot_sends_last_hour", "Sends finished in the last hour, by outcome",
                                 labels=["outcome"])
        hour.add_metric(["sent"], s.last_hour_sent)
        hour.add_metric(["failed"], s.last_hour_failed)
        hour.add_metric(["other"], s.last_hour_other)  # waiting, skipped, in doubt
        yield hour
        failures = GaugeMetricFamily("adbot_send_failures_last_hour", "Failed sends in the last hour, by error",
                                     labels=["error"])
        for error, n in sorted(s.failures_last_hour.items()):
            failures.add_metric([error], n)
        yield failures
        sessions = GaugeMetricFamily("adbot_sessions", "Sessions per state", labels=["state"])
        for state in STATES:
            sessions.add_metric([state], s.sessions.get(state, 0))
        yield sessions
        waiting = GaugeMetricFamily("adbot_sessions_waiting", "Sessions inside a flood wait now, per method class",
                                    labels=["method"])
        for method in METHOD_CLASSES:
            waiting.add_metric([method], s.waiting.get(method, 0))
        yield waiting
        yield GaugeMetricFamily("adbot_cycle_lag_seconds",
                                "How late the most overdue running campaign's next cycle is (0: none overdue)",
                                value=s.lag.max_lag)
        yield GaugeMetricFamily("adbot_campaigns_overdue", "Running campaigns whose cycle is due and not started",
                                value=s.lag.overdue)
        e = s.engine
        if e is not None:
            yield GaugeMetricFamily("adbot_engine_up", "1 while the engine runs", value=1 if e.running else 0)
            yield GaugeMetricFamily("adbot_campaigns_running", "Campaigns running", value=e.running_campaigns)
            yield GaugeMetricFamily("adbot_cycles_in_progress", "Cycles under way", value=e.cycles_in_progress)
            yield GaugeMetricFamily("adbot_sends_in_flight", "Sends waiting for Telegram's answer",
                                    value=e.sends_in_flight)
            yield GaugeMetricFamily("adbot_last_cycle_start_lag_seconds",
                                    "How late the last cycle started after it was due", value=e.lag)
            yield GaugeMetricFamily("adbot_open_ports", "Telegram connections open", value=e.open_ports)


def render(snap: Snapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snap))
    return generate_latest(registry)


DB = web.AppKey("db", Database)
ENGINE = web.AppKey("engine", Engine)
CLOCK = web.AppKey("clock", Clock)


async def _metrics(request: web.Request) -> web.Response:
    snap = await snapshot(request.app[DB], request.app[ENGINE], request.app[CLOCK].now())
    return web.Response(body=render(snap), headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_metrics(db: Database, engine: Engine, clock: Clock) -> web.Application:
    """``GET /metrics`` (no key: bind it to an address only the scraper reaches, 127.0.0.1 by default)."""
    app = web.Application()
    app[DB] = db
    app[ENGINE] = engine
    app[CLOCK] = clock
    app.router.add_get("/metrics", _metrics)
    return app
