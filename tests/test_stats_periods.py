"""The figures of /stats periods and charts (``storage.stats_periods``, ``control_bot.services.stats``): live
ledger rows plus the per-day aggregates of pruned ones, periods cut at the reader's local midnights, days
a clock change shortens or lengthens, per group with the last delivery; and the chart is a PNG."""

from __future__ import annotations

import itertools
import struct
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from control_bot.charts import ChartLabels, render_deliveries
from control_bot.services import stats
from core.periods import Period, local_days, period_start
from storage import customers, stats_periods
from storage.db import Database
from storage.stats_periods import Counts

CID = 4242
OTHER = 4343
BERLIN = ZoneInfo("Europe/Berlin")


UTC_ZONE = ZoneInfo("UTC")


def ts(text: str, zone: ZoneInfo = UTC_ZONE) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


async def _customer(db: Database, cid: int, now: float) -> None:
    async with db.tx() as conn:
        await customers.grant(conn, cid, 1, 400, now, 300)


_ROW_NO = itertools.count(1)


async def _send(
    db: Database, cid: int, group: str, outcome: str, at: float | None, message_id: int | None = None
) -> None:
    """One ledger row as the engine leaves it (each in a cycle of its own)."""
    row_no = next(_ROW_NO)
    async with db.tx() as conn:
        await conn.execute(
            "INSERT INTO sends (customer_id, cycle_no, group_ref, outcome, message_id, random_id, started_at,"
            " finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (cid, row_no, group, outcome, message_id, row_no, (at or 0.0) - 1, at),
        )


async def _folded(db: Database, cid: int, day: str, group: str, delivered: int, failed: int = 0) -> None:
    async with db.tx() as conn:
        await conn.execute(
            "INSERT INTO send_days (customer_id, day, group_ref, delivered, failed) VALUES (?, ?, ?, ?, ?)",
            (cid, day, group, delivered, failed),
        )


async def test_totals_add_live_rows_and_folded_days(db: Database) -> None:
    now = ts("2026-12-07T12:00:00")
    await _customer(db, CID, now)
    await _customer(db, OTHER, now)
    await _send(db, CID, "@a", "sent", now - 3600, 10)
    await _send(db, CID, "@a", "failed", now - 7200)
    await _send(db, CID, "@b", "in_doubt", now - 86_400 * 3)
    await _send(db, CID, "@b", "skipped", now - 86_400 * 40)
    await _send(db, CID, "@b", "pending", None)  # in flight: counted nowhere
    await _send(db, OTHER, "@a", "sent", now - 60, 11)  # another customer's
    await _folded(db, CID, "2026-06-01", "@a", 5, 2)
    async with db.read() as conn:
        assert await stats_periods.totals(conn, CID, None, None) == Counts(6, 3, 1, 1)
        assert await stats_periods.totals(conn, CID, now - 86_400, None) == Counts(1, 1, 0, 0)
        assert await stats_periods.totals(conn, None, now - 86_400, None) == Counts(2, 1, 0, 0)
        assert await stats_periods.totals(conn, CID, ts("2026-06-01T15:00:00"), ts("2026-06-02T00:00:00")) == Counts(
            5, 2, 0, 0)
        assert await stats_periods.first_activity(conn, CID) == ts("2026-06-01T00:00:00")
        assert await stats_periods.first_activity(conn, OTHER) == now - 60
    # the service's periods: today, 7 and 30 days in the reader's zone
    assert await stats.period_totals(db, CID, Period.TODAY, now, ZoneInfo("UTC")) == Counts(1, 1, 0, 0)
    assert await stats.period_totals(db, CID, Period.WEEK, now, ZoneInfo("UTC")) == Counts(1, 1, 1, 0)
    assert await stats.period_totals(db, CID, Period.ALL, now, ZoneInfo("UTC")) == Counts(6, 3, 1, 1)


def test_periods_start_at_the_readers_local_midnight() -> None:
    now = ts("2026-12-07T01:30:00")  # 02:30 in Berlin, 20:30 the day before in New York
    assert period_start(Period.TODAY, now, BERLIN) == ts("2026-12-07T00:00:00", BERLIN)
    assert period_start(Period.TODAY, now, ZoneInfo("America/New_York")) == ts(
        "2026-12-06T00:00:00", ZoneInfo("America/New_York"))
    assert period_start(Period.WEEK, now, BERLIN) == ts("2026-12-01T00:00:00", BERLIN)
    assert period_start(Period.MONTH, now, BERLIN) == ts("2026-11-08T00:00:00", BERLIN)
    assert period_start(Period.ALL, now, BERLIN) is None
    days = local_days(date(2026, 10, 24), date(2026, 10, 26), BERLIN)  # summer time ends on the 25th
    assert [d.end - d.start for d in days] == [86_400, 90_000, 86_400]
    assert [d.offset for d in days] == [7200, None, 3600]


async def test_a_chart_counts_each_send_on_its_local_day_across_a_clock_change(db: Database) -> None:
    now = ts("2026-10-27T12:00:00")
    await _customer(db, CID, now)
    # 23:30 local on the 24th (summer time, UTC+2), 23:30 local on the 25th (winter time, UTC+1),
    # 00:30 local on the 26th, and one a folded day holds
    await _send(db, CID, "@a", "sent", ts("2026-10-24T23:30:00", BERLIN), 1)
    await _send(db, CID, "@a", "sent", ts("2026-10-25T23:30:00", BERLIN), 2)
    await _send(db, CID, "@a", "failed", ts("2026-10-25T02:30:00", BERLIN))  # the repeated hour
    await _send(db, CID, "@a", "sent", ts("2026-10-26T00:30:00", BERLIN), 3)
    await _folded(db, CID, "2026-10-22", "@a", 4)
    days = await stats.customer_series(db, CID, Period.WEEK, now, BERLIN)
    by_day = {d.day.isoformat(): d.counts for d in days}
    assert days[0].day == date(2026, 10, 21) and len(days) == 7
    assert by_day["2026-10-24"] == Counts(1, 0, 0, 0)
    assert by_day["2026-10-25"] == Counts(1, 1, 0, 0)
    assert by_day["2026-10-26"] == Counts(1, 0, 0, 0)
    assert by_day["2026-10-22"] == Counts(4, 0, 0, 0)
    assert sum(d.counts.delivered for d in days) == 7
    every = await stats.customer_series(db, CID, Period.ALL, now, BERLIN)
    assert every[0].day == date(2026, 10, 21) and every[-1].day == date(2026, 10, 27)  # at least a week
    whole = await stats.service_series(db, now, BERLIN)
    assert len(whole) == 30 and sum(d.counts.delivered for d in whole) == 7


async def test_group_page_has_each_groups_figures_and_last_delivery(db: Database) -> None:
    from storage import groups

    now = ts("2026-12-07T12:00:00")
    await _customer(db, CID, now)
    async with db.tx() as conn:
        await groups.add_many(conn, CID, ["@cats", "@dogs#5", "-1001234567890"], now)
    await _send(db, CID, "@cats", "sent", now - 86_400 * 10, 7)
    await _send(db, CID, "@cats", "sent", now - 100, 8)
    await _send(db, CID, "@dogs#5", "sent", now - 50, 30)
    await _send(db, CID, "-1001234567890", "sent", now - 40, 40)
    await _send(db, CID, "-1001234567890", "failed", now - 30)
    page = await stats.group_page(db, CID, Period.WEEK, 0, now, ZoneInfo("UTC"))
    found = {f.group.ref: f for f in page.groups}
    assert (page.total, page.pages, page.first) == (3, 1, 1)
    assert found["@cats"].counts == Counts(1, 0, 0, 0) and found["@cats"].last is not None
    assert found["@cats"].link == "https://t.me/cats/8"
    assert found["@dogs#5"].link == "https://t.me/dogs/5/30"
    assert found["-1001234567890"].link is None and found["-1001234567890"].counts == Counts(1, 1, 0, 0)
    assert found["-1001234567890"].last is not None and found["-1001234567890"].last.message_id == 40
    every = await stats.group_page(db, CID, Period.ALL, 0, now, ZoneInfo("UTC"))
    assert {f.group.ref: f.counts.delivered for f in every.groups}["@cats"] == 2


@pytest.mark.parametrize("count", [1, 7, 30])
def test_the_chart_is_a_png_of_the_promised_size(count: int) -> None:
    days = [stats.DayFigure(date(2026, 12, 1 + i % 28), Counts(i, i % 3, i % 2, 0)) for i in range(count)]
    png = render_deliveries(days, ChartLabels("Deliveries per day", "delivered", "failed", "unconfirmed"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1000, 500)


def test_a_readers_zone_is_used_not_the_machines() -> None:
    # 23:30 UTC is already the next day in Berlin: "today" for a Berlin reader starts at their midnight
    now = datetime(2026, 12, 6, 23, 30, tzinfo=UTC).timestamp()
    assert period_start(Period.TODAY, now, BERLIN) == ts("2026-12-07T00:00:00", BERLIN)
