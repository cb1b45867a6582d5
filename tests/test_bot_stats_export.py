"""/stats periods, per group (with the proof of posting), the chart, /export and the admin's /health chart,
end to end: the real app over the Bot API emulator, the engine in the strict simulated world, in English
and in Russian (expected texts rendered in the reader's language, never copied)."""

from __future__ import annotations

import contextlib
import csv
import io
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botkit import ADMIN_ID, START, Harness, Player, bot_harness, in_locale, labels

from control_bot import retention
from core.clock import FakeClock
from core.texts import export as et
from core.texts import stats as stt
from sandbox.world import World

ALICE = 1001
DAY = 86_400.0
PNG = b"\x89PNG\r\n\x1a\n"


@contextlib.asynccontextmanager
async def strict(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = FakeClock(START, auto=True)
    try:
        async with bot_harness(tmp_path, world=World(clock), clock=clock) as h:
            yield h
    finally:
        await clock.aclose()


async def _three_days_of_cycles(h: Harness, alice: Player) -> str:
    """A campaign to a public group, a forum topic, a private group and one that refuses posts; a cycle on
    each of three days. Returns the private group's reference."""
    await h.fill_pool(1)
    h.world.add_channel("adschannel", posts=[5])
    h.world.add_group("cats")
    h.world.add_group("forum", topics=[3])
    private = h.world.add_group(None).ref
    h.world.add_group("admins_only")
    h.world.add_fault(kind="error", error="ChatAdminRequiredError", group="@admins_only", times=0)
    await h.grant(ALICE)
    await alice.ask("/post https://t.me/adschannel/5")
    await alice.ask(f"/addgroups @cats @forum#3 {private} @admins_only")
    await alice.ask("/run")
    assert (await h.customer(ALICE)).status == "running"
    for day in range(3):
        if day:
            await h.clock.advance(DAY)
        assert (await h.cycle(ALICE)).ran
    await h.deliver()
    await h.idle()
    return private


async def _sent(h: Harness) -> list[tuple[str, int, float]]:
    rows = await h.rows(
        "SELECT group_ref, message_id, finished_at FROM sends WHERE customer_id = ? AND outcome = 'sent'"
        " ORDER BY finished_at", (ALICE,))
    return [(r[0], r[1], r[2]) for r in rows]


async def test_stats_periods_per_group_chart_and_export_in_english(tmp_path: Path) -> None:
    async with strict(tmp_path) as h:
        alice = h.user(ALICE, "Alice")
        private = await _three_days_of_cycles(h, alice)
        sent = await _sent(h)
        assert len(sent) == 9 == len(h.world.deliveries)  # three groups a day, @admins_only refuses
        failed = len(await h.rows("SELECT 1 FROM sends WHERE customer_id = ? AND outcome = 'failed'", (ALICE,)))
        assert failed >= 1

        screen = await alice.ask("/stats")
        assert screen.text.startswith("Stats") and "Successful: 9" in screen.text  # all time, as before
        with in_locale("en"):
            buttons = [stt.btn_period("all", True), stt.btn_period("today", False), stt.btn_period("7d", False),
                       stt.btn_period("30d", False), stt.BTN_PER_GROUP(), stt.BTN_CHART(), stt.BTN_EXPORT()]
        assert set(buttons) <= set(labels(screen))

        today = await alice.press("Today")
        assert today.message_id == screen.message_id  # edited in place
        assert today.text.startswith("Stats: today") and "Delivered: 3\n" in today.text
        week = await alice.press("7 days")
        assert "Stats: last 7 days" in week.text and "Delivered: 9\n" in week.text
        assert f"Failed: {failed}" in week.text

        groups = await alice.press(stt.BTN_PER_GROUP())
        assert "Per group: last 7 days" in groups.text and "Groups 1–4 of 4" in groups.text
        last = {ref: mid for ref, mid, _at in sent}
        cats = h.world.deliveries_to("@cats")[-1].message_id
        topic = h.world.deliveries_to("@forum", 3)[-1].message_id
        assert last["@cats"] == cats and last["@forum#3"] == topic
        assert f"https://t.me/cats/{cats}" in groups.text  # proof of posting
        assert f"https://t.me/forum/3/{topic}" in groups.text
        assert "t.me/c/" not in groups.text  # the private group: no link
        block = groups.text.split(private, 1)[1].split("\n\n", 1)[0]
        assert "✅ 3 delivered · ❌ 0 failed" in block and "Last delivery:" in block
        refusing = groups.text.split("@admins_only", 1)[1].split("\n\n", 1)[0]
        assert "✅ 0 delivered" in refusing and "No delivery yet" in refusing and "Now:" in refusing
        today_groups = await alice.press("Today")
        assert "Per group: today" in today_groups.text and "✅ 1 delivered" in today_groups.text

        summary = await alice.press(stt.BTN_SUMMARY())
        assert summary.text.startswith("Stats: today")
        chart = await alice.press(stt.BTN_CHART())  # "today" draws the week it ends
        assert chart.photo is not None and chart.photo.data.startswith(PNG)
        assert struct.unpack(">II", chart.photo.data[16:24]) == (1000, 500)
        assert "Deliveries per day, 7 days up to today" in chart.text and "Delivered in them: 9." in chart.text

        logs = await alice.ask("/logs")
        assert f"posted to @cats: https://t.me/cats/{cats}" in logs.text

        prompt = await alice.ask("/export")
        assert "CSV file of your send attempts" in prompt.text
        document = await alice.press("All time")
        assert document.document is not None and document.document.file_name is not None
        assert document.document.file_name.startswith("adbot-sends-all-") and document.document.file_name.endswith(
            ".csv")
        rows = list(csv.DictReader(io.StringIO(document.document.data.decode())))
        attempts = await h.rows("SELECT COUNT(*) FROM sends WHERE customer_id = ? AND finished_at IS NOT NULL",
                                (ALICE,))
        assert len(rows) == attempts[0][0]
        assert f"{len(rows)} rows (times in UTC)" in document.text
        delivered = [r for r in rows if r["outcome"] == "delivered"]
        # exactly the delivered sends of the ledger: same groups, same times, same messages
        assert sorted((r["group"], r["message_link"]) for r in delivered) == sorted(
            (ref, f"https://t.me/{ref[1:].replace('#', '/')}/{mid}" if ref.startswith("@") else "")
            for ref, mid, _at in sent)
        assert len(delivered) == len(sent)
        assert {r["session"] for r in rows} == {f"#{sid}" for (sid,) in await h.rows(
            "SELECT DISTINCT session_id FROM sends WHERE customer_id = ?", (ALICE,))}
        exports = h.settings.paths.data_dir / "exports"
        assert list(exports.iterdir()) == []  # sent, then deleted

        admin = h.user(ADMIN_ID, "Admin")
        health = await admin.ask("/health")
        assert health.photo is None
        health_chart = await admin.user.wait_reply()
        assert health_chart.photo is not None and health_chart.photo.data.startswith(PNG)
        assert "Every customer's deliveries per day, last 30 days" in health_chart.text
        assert "Delivered in them: 9." in health_chart.text
        assert h.world.violations == []


async def test_stats_and_export_in_russian(tmp_path: Path) -> None:
    async with strict(tmp_path) as h:
        alice = h.user(ALICE, "Alice", language_code="ru")
        await _three_days_of_cycles(h, alice)
        await alice.ask("/stats")
        with in_locale("ru"):
            week_label, per_group, chart_label, all_label = (
                stt.btn_period("7d", False), stt.BTN_PER_GROUP(), stt.BTN_CHART(), stt.btn_period("all", False))
            heading = stt.period_screen("7d", None, 9, 0, 0, 0, START).splitlines()[0]
            delivered = stt.period_screen("7d", None, 9, 0, 0, 0, START).splitlines()[1]
            groups_heading = stt.group_page("7d", ["x"], 1, 4, 0, 1, START).splitlines()[0]
            empty_chart = stt.CHART_EMPTY()
            summary_label = stt.BTN_SUMMARY()
        week = await alice.press(week_label)
        assert week.text.startswith(heading.replace("<b>", "").replace("</b>", "")) and delivered in week.text
        groups = await alice.press(per_group)
        assert groups.text.startswith(groups_heading.replace("<b>", "").replace("</b>", ""))
        await alice.press(summary_label)
        chart = await alice.press(chart_label)
        assert chart.photo is not None and chart.photo.data.startswith(PNG)
        with in_locale("ru"):
            assert chart.text.startswith(stt.chart_caption("7d", 7, 9).split(",", 1)[0])
        assert empty_chart not in chart.text
        await alice.ask("/export")
        document = await alice.press(all_label)
        assert document.document is not None
        rows = list(csv.DictReader(io.StringIO(document.document.data.decode())))
        attempts = (await h.rows("SELECT COUNT(*) FROM sends WHERE customer_id = ? AND finished_at IS NOT NULL",
                                 (ALICE,)))[0][0]
        with in_locale("ru"):
            caption = et.caption("all", attempts, False, 90)  # all time reaches past [retention] days = 90
        assert len(rows) == attempts and document.text == caption
        assert sum(r["outcome"] == "delivered" for r in rows) == len(await _sent(h))


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_chart_with_nothing_sent_is_explained_not_drawn(tmp_path: Path, lang: str) -> None:
    async with strict(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice", language_code=lang)
        await alice.ask("/stats")
        with in_locale(lang):
            chart_label, empty, nothing = stt.BTN_CHART(), stt.CHART_EMPTY(), et.EMPTY()
            today = stt.btn_period("today", False)
        answer = await alice.press_answer(chart_label)
        assert answer.show_alert and answer.text == empty
        await alice.ask("/export")
        reply = await alice.press(today)
        assert reply.text == nothing and reply.document is None


async def test_an_export_reaching_past_the_retention_period_says_older_attempts_are_daily_totals(
    tmp_path: Path
) -> None:
    """With ``[retention] days = 2`` and the first day folded into daily totals, "All time" and "7 days"
    have fewer delivered rows than /stats counts: the caption says why; "Today" does not reach back."""
    clock = FakeClock(START, auto=True)
    try:
        async with bot_harness(tmp_path, world=World(clock), clock=clock, sections={"retention": {"days": 2}}) as h:
            alice = h.user(ALICE, "Alice")
            await _three_days_of_cycles(h, alice)
            await h.clock.advance(3_600)  # the first day's cycle is now older than two days, the second's not
            report = await retention.prune(h.db, h.settings, h.clock.now())
            assert report is not None and report.ledger_rows > 0
            live = len(await _sent(h))
            assert live == 6  # the first day's three deliveries are daily totals only
            await alice.ask("/stats")
            week = await alice.press("7 days")
            assert "Delivered: 9\n" in week.text
            note = "Attempts older than 2 days are kept as daily totals only: see /stats."
            for label, period in (("All time", "all"), ("7 days", "7d")):
                await alice.ask("/export")
                document = await alice.press(label)
                assert document.document is not None
                rows = list(csv.DictReader(io.StringIO(document.document.data.decode())))
                assert sum(r["outcome"] == "delivered" for r in rows) == live
                with in_locale("en"):
                    assert document.text == et.caption(period, len(rows), False, 2)
                assert document.text.endswith("\n" + note)
            await alice.ask("/export")
            today = await alice.press("Today")
            assert today.document is not None
            rows = list(csv.DictReader(io.StringIO(today.document.data.decode())))
            with in_locale("en"):
                assert today.text == et.caption("today", len(rows), False) and note not in today.text
    finally:
        await clock.aclose()


async def test_an_export_file_left_behind_by_a_crash_is_gone_once_the_bot_has_started(tmp_path: Path) -> None:
    left = tmp_path / "data" / "exports" / "export-crashed.csv"
    left.parent.mkdir(parents=True)
    left.write_text("time_utc,group,session,outcome,message_link\n")
    async with strict(tmp_path) as h:
        assert left.parent == h.settings.paths.data_dir / "exports"
        assert not left.exists() and left.parent.is_dir()
