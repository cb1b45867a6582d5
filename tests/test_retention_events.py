"""Retention of the outbox and the API's request ids (issue 20 part B, review 20): delivered events past the
period go in short batches, but the newest of each (customer, kind) code reads back as memory and every
undelivered one stay; API request ids are remembered for ``API_REQUEST_DAYS`` whatever the period."""

from __future__ import annotations

from pathlib import Path

from control_bot import retention
from core.config import Settings, settings_from_dict
from core.states import EventKind
from storage import api_requests, events
from storage.api_requests import ApiRequest
from storage.db import Database, fetchall
from tests.pool_support import NOW

DAY = 86_400
CID = 4242
OLD = NOW - 40 * DAY  # past a 30-day period
RECENT = NOW - 5 * DAY


def settings(tmp_path: Path, days: int = 30) -> Settings:
    return settings_from_dict({"retention": {"days": days, "batch_rows": 100}}, tmp_path)


async def _seed(db: Database) -> None:
    async with db.tx() as conn:
        for i in range(250):  # more than two batches of plain old notifications
            await events.add(conn, CID, EventKind.CAMPAIGN_STARTED, OLD + i)
        await events.add(conn, CID, EventKind.CYCLE_SUMMARY, OLD, cycle_no=1, sent=1, total=1, failed=0, problems=[])
        await events.add(conn, CID, EventKind.CYCLE_SUMMARY, OLD + 10, cycle_no=2, sent=2, total=2, failed=0,
                         problems=[])
        await events.add(conn, CID, EventKind.PLAN_EXPIRING, OLD, expires_at=OLD + 3 * DAY, days_left=3, sessions=1)
        await events.add(conn, None, EventKind.SESSIONS_SHORT, OLD, customer_id=CID, wanted=1, free=0,
                         reason="no_sessions")
        await events.add(conn, None, EventKind.SESSIONS_SHORT, OLD + 5, customer_id=CID, wanted=2, free=0,
                         reason="no_pair")
        await events.add(conn, CID, EventKind.CAMPAIGN_STARTED, RECENT)
        rows = await fetchall(conn, "SELECT id FROM events")
        await events.mark_delivered(conn, [int(r[0]) for r in rows], NOW)
        await events.add(conn, CID, EventKind.CAMPAIGN_STOPPED, OLD, reason="by_service")  # never delivered yet
        for request_id, at in (("old", NOW - 400 * DAY), ("kept", NOW - 200 * DAY)):
            await api_requests.record(conn, ApiRequest(request_id, "plan", CID, "0" * 64, "{}", at))


async def _kinds(db: Database) -> list[tuple[int | None, str, float]]:
    async with db.read() as conn:
        rows = await fetchall(conn, "SELECT customer_id, kind, created_at FROM events ORDER BY id")
    return [(r[0], r[1], r[2]) for r in rows]


async def test_old_delivered_events_go_but_what_code_remembers_and_undelivered_ones_stay(
    db: Database, tmp_path: Path
) -> None:
    await _seed(db)
    dry = await retention.prune(db, settings(tmp_path), NOW, dry_run=True)
    assert dry is not None and (dry.events, dry.api_requests) == (252, 1)
    assert len(await _kinds(db)) == 257  # a dry run deletes nothing

    report = await retention.prune(db, settings(tmp_path), NOW)
    assert report is not None and (report.events, report.api_requests) == (252, 1)
    assert await _kinds(db) == [
        (CID, "cycle_summary", OLD + 10),  # the newest summary: /status still shows the last cycle
        (CID, "plan_expiring", OLD),  # the reminder is not sent twice
        (None, "sessions_short", OLD + 5),
        (CID, "campaign_started", RECENT),  # inside the period
        (CID, "campaign_stopped", OLD),  # not delivered yet: the outbox still owes it
    ]
    async with db.read() as conn:
        summary = await events.latest(conn, CID, EventKind.CYCLE_SUMMARY)
        assert summary is not None and summary.payload["cycle_no"] == 2
        assert await events.was_written(conn, CID, EventKind.PLAN_EXPIRING, expires_at=OLD + 3 * DAY, days_left=3)
        assert await api_requests.find(conn, "old") is None
        assert await api_requests.find(conn, "kept") is not None  # a year, whatever the period

    again = await retention.prune(db, settings(tmp_path), NOW)
    assert again is not None and (again.events, again.api_requests) == (0, 0)


async def test_retention_off_keeps_every_event_and_request(db: Database, tmp_path: Path) -> None:
    await _seed(db)
    assert await retention.prune(db, settings(tmp_path, days=0), NOW) is None
    assert len(await _kinds(db)) == 257
    async with db.read() as conn:
        assert await api_requests.count(conn) == 2
