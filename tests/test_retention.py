"""Retention (issue 20 part B): ledger rows past the period are folded into ``send_days`` and deleted in
short batches, per-day figures and every total unchanged; the crash promise's rows (the current cycle,
anything pending) stay; customer log files past the period are deleted, nothing else."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from control_bot import retention
from control_bot.housekeeping import Housekeeping, next_run
from core.config import Settings, settings_from_dict
from core.states import SendOutcome
from storage import customers
from storage import ledger as ledger_rows
from storage.db import Database, execute, fetchall
from storage.ledger import Intent, Result
from storage.retention import count_prunable, fold_old_sends
from tests.engine_support import CID, fast_config, make_setup, running
from tests.pool_support import NOW

DAY = 86_400
OTHER = 555_000_222
GROUPS = tuple(f"@g{i}" for i in range(6))
OUTCOMES: tuple[SendOutcome, ...] = ("sent", "sent", "sent", "failed", "in_doubt", "skipped", "waiting")


def settings(tmp_path: Path, **retention_keys: object) -> Settings:
    return settings_from_dict({"retention": dict(retention_keys)}, tmp_path)


async def seed_ledger(db: Database, *, days: int = 20, cycles_per_day: int = 3, seed: int = 1) -> int:
    """Two customers, ``days`` days before NOW of cycles over six groups with mixed outcomes, written
    through the ledger's own functions (so ``stats`` and ``group_stats`` grow as in production). The
    customers' current cycle is the last one written; returns how many rows were written."""
    rng = random.Random(seed)
    written = 0
    async with db.tx() as conn:
        for cid in (CID, OTHER):
            await customers.grant(conn, cid, 3, 30, NOW - days * DAY, default_interval=300)
    for cid in (CID, OTHER):
        cycle = 0
        for day in range(days, 0, -1):
            for k in range(cycles_per_day):
                cycle += 1
                at = NOW - day * DAY + k * 7_000 + rng.random() * 100
                results = []
                for ref in GROUPS:
                    outcome = rng.choice(OUTCOMES)
                    results.append(Result(
                        cid, cycle, ref, None, outcome, random_id=rng.getrandbits(63), finished_at=at + rng.random(),
                        error="USER_BANNED_IN_CHANNEL" if outcome == "failed" else None,
                        message_id=rng.randrange(1, 10**6) if outcome == "sent" else None, attempts=1,
                        flood_waits=int(outcome == "waiting"),
                    ))
                async with db.tx() as conn:
                    await ledger_rows.apply_results(conn, results)
                written += len(results)
        # the customer's row says the last cycle written is the current one (as ``begin_cycle`` leaves it)
        async with db.tx() as conn:
            await execute(conn, "UPDATE customers SET cycle_no = ? WHERE user_id = ?", (cycle, cid))
    return written


async def per_day(db: Database) -> dict[tuple[int, str, str], tuple[int, int, int, int]]:
    """(delivered, failed, in doubt, skipped) per (customer, UTC day, group): the folded aggregates plus
    the live rows, as a per-day reader sums them (a 'waiting' row of a past cycle counts as skipped)."""
    async with db.read() as conn:
        rows = await fetchall(
            conn,
            "SELECT customer_id, day, group_ref, SUM(d), SUM(f), SUM(i), SUM(s) FROM ("
            " SELECT customer_id, day, group_ref, delivered AS d, failed AS f, in_doubt AS i, skipped AS s"
            " FROM send_days"
            " UNION ALL SELECT customer_id, strftime('%Y-%m-%d', finished_at, 'unixepoch'), group_ref,"
            " outcome = 'sent', outcome = 'failed', outcome = 'in_doubt', outcome IN ('skipped', 'waiting')"
            " FROM sends WHERE outcome != 'pending')"
            " GROUP BY customer_id, day, group_ref",
        )
    return {(int(r[0]), str(r[1]), str(r[2])): (int(r[3]), int(r[4]), int(r[5]), int(r[6])) for r in rows}


async def totals(db: Database) -> tuple[object, ...]:
    async with db.read() as conn:
        stats = [await ledger_rows.get_stats(conn, cid) for cid in (CID, OTHER)]
        groups = [await ledger_rows.group_stats(conn, cid) for cid in (CID, OTHER)]
    return tuple(stats), tuple(groups)


async def count_sends(db: Database, where: str = "1", params: tuple[object, ...] = ()) -> int:
    async with db.read() as conn:
        rows = await fetchall(conn, f"SELECT COUNT(*) FROM sends WHERE {where}", params)
    return int(rows[0][0])


async def test_pruning_keeps_per_day_figures_and_totals_equal(db: Database, tmp_path: Path) -> None:
    written = await seed_ledger(db)
    figures, before_totals = await per_day(db), await totals(db)
    cutoff = NOW - 9.5 * DAY
    old = await count_sends(db, "finished_at < ?", (cutoff,))
    assert 0 < old < written
    assert await count_prunable(db, cutoff) == old
    result = await fold_old_sends(db, cutoff, batch=100)
    assert result.rows == old and result.batches == old // 100 + 1  # short transactions, the last one partial
    assert await count_sends(db, "finished_at < ?", (cutoff,)) == 0
    assert await count_sends(db) == written - old
    assert await per_day(db) == figures
    assert await totals(db) == before_totals
    async with db.read() as conn:
        [[folded_days]] = await fetchall(conn, "SELECT COUNT(DISTINCT day) FROM send_days")
        [[aggregates]] = await fetchall(conn, "SELECT COUNT(*) FROM send_days")
    assert folded_days == 11 and aggregates < old  # days 20 to 10 before NOW folded, fewer rows than sends
    # a second run finds nothing and changes nothing; a later cutoff folds into the same day rows
    assert (await fold_old_sends(db, cutoff, batch=100)).rows == 0
    later = await fold_old_sends(db, NOW - 3 * DAY, batch=7)
    assert later.rows > 0 and await per_day(db) == figures and await totals(db) == before_totals


async def test_the_current_cycle_and_pending_rows_are_never_pruned(db: Database, tmp_path: Path) -> None:
    await seed_ledger(db, days=5, cycles_per_day=1)
    # the current cycle (5) of CID is old, and a pending row of an older cycle (a crash mid-send)
    async with db.tx() as conn:
        await ledger_rows.insert_intents(conn, [Intent(CID, 2, "@pending", None, 42, NOW - 4 * DAY)])
    current = await count_sends(db, "customer_id = ? AND cycle_no = 5", (CID,))
    assert current == len(GROUPS)
    figures = await per_day(db)
    await fold_old_sends(db, NOW, batch=1_000)
    assert await count_sends(db, "customer_id = ? AND cycle_no = 5", (CID,)) == current
    assert await count_sends(db, "outcome = 'pending'") == 1
    assert await count_sends(db) == 2 * len(GROUPS) + 1  # each customer's current cycle, and the pending row
    assert await per_day(db) == figures
    # the crash promise still holds for the current cycle: its rows answer a resumed cycle
    async with db.read() as conn:
        rows = await ledger_rows.cycle_rows(conn, CID, 5)
    assert set(rows) == set(GROUPS)


async def test_pruning_while_cycles_run(db: Database, tmp_path: Path) -> None:
    """The engine keeps writing its ledger while old rows are folded in batches of 5: every send of the
    running cycles lands, per-day figures of the folded days stay, and the totals match the ledger."""
    s = await make_setup(db, tmp_path, groups=tuple(f"@group_{i:02d}" for i in range(12)))
    engine = s.engine(fast_config(send_spacing=1.0, spacing_jitter=0.0))
    await running(s, engine)
    for cycle_no in range(1, 4):  # three old cycles, days ago
        s.clock.set(NOW + (cycle_no - 1) * DAY)
        assert (await engine.run_cycle(CID)).sent == 12
    figures = await per_day(db)
    s.clock.set(NOW + 10 * DAY)
    folding = asyncio.create_task(fold_old_sends(db, NOW + 1.5 * DAY, batch=5))  # cycles 1 and 2
    report = await engine.run_cycle(CID)
    result = await folding
    await engine.shutdown()
    assert report.sent == 12 and (result.rows, result.batches) == (24, 5)
    after = await per_day(db)
    assert {k: v for k, v in after.items() if k in figures} == figures  # the folded days' figures
    assert set(after) - set(figures) == {(CID, "2027-01-25", ref) for ref in s.refs}  # and the new cycle's
    async with db.read() as conn:
        stats = await ledger_rows.get_stats(conn, CID)
        [[folded]] = await fetchall(conn, "SELECT SUM(delivered) FROM send_days WHERE customer_id = ?", (CID,))
    assert stats.total_success == 48 == folded + await count_sends(db, "outcome = 'sent'")
    assert s.world.violations == []


def write_log(logs: Path, customer: int | str, day: str) -> Path:
    path = logs / str(customer) / f"{day}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{day} 00:00:00 INFO hello\n", encoding="utf-8")
    return path


async def test_customer_log_files_past_the_period_are_deleted(db: Database, tmp_path: Path) -> None:
    config = settings(tmp_path, days=30)
    logs = config.paths.logs_dir
    now = 1_800_000_000.0  # 2027-01-15 08:00 UTC: the cutoff falls on 2026-12-16
    old = [write_log(logs, c, day) for c, day in ((CID, "2026-11-01"), (CID, "2026-12-15"), (OTHER, "2026-12-01"))]
    kept = [write_log(logs, c, day) for c, day in ((CID, "2026-12-16"), (CID, "2027-01-15"), (OTHER, "2027-01-01"))]
    (logs / "adbot.log").write_text("service log\n", encoding="utf-8")
    stranger = logs / "notes"
    stranger.mkdir()
    (stranger / "2020-01-01.log").write_text("not a customer's\n", encoding="utf-8")
    (logs / str(CID) / "readme.txt").write_text("kept\n", encoding="utf-8")
    dry = await retention.prune(db, config, now, dry_run=True)
    assert dry is not None and dry.dry_run and dry.log_files == 3 and all(p.exists() for p in old)
    report = await retention.prune(db, config, now)
    assert report is not None and report.log_files == 3
    assert not any(p.exists() for p in old) and all(p.exists() for p in kept)
    assert (logs / "adbot.log").exists() and (stranger / "2020-01-01.log").exists()
    assert (logs / str(CID) / "readme.txt").exists()


async def test_retention_off_prunes_nothing(db: Database, tmp_path: Path) -> None:
    await seed_ledger(db, days=3, cycles_per_day=1)
    write_log(tmp_path / "logs", CID, "2000-01-01")
    before = await count_sends(db)
    assert await retention.prune(db, settings(tmp_path, days=0), NOW + 1_000 * DAY) is None
    assert await count_sends(db) == before and (tmp_path / "logs" / str(CID) / "2000-01-01.log").exists()


async def test_prune_uses_the_configured_period_and_batch(db: Database, tmp_path: Path) -> None:
    written = await seed_ledger(db, days=10, cycles_per_day=2)
    figures = await per_day(db)
    report = await retention.prune(db, settings(tmp_path, days=4, batch_rows=100), NOW)
    assert report is not None and report.cutoff == NOW - 4 * DAY
    assert report.ledger_rows == written - await count_sends(db)
    assert report.ledger_rows > 0 and report.batches == report.ledger_rows // 100 + 1
    assert await count_sends(db, "finished_at < ?", (NOW - 4 * DAY,)) == 0
    assert await per_day(db) == figures


def test_daily_jobs_run_at_their_utc_hour(tmp_path: Path) -> None:
    midnight = 1_799_971_200.0  # 2027-01-15 00:00 UTC
    assert next_run(midnight, 4) == midnight + 4 * 3_600
    assert next_run(midnight + 4 * 3_600, 4) == midnight + DAY + 4 * 3_600  # just done: tomorrow
    assert next_run(midnight + 5 * 3_600, 4) == midnight + DAY + 4 * 3_600
    assert next_run(midnight + 3 * 3_600 + 59, 4) == midnight + 4 * 3_600


def test_housekeeping_runs_the_jobs_the_settings_turn_on(tmp_path: Path) -> None:
    def names(data: dict[str, object]) -> list[str]:
        keeper = Housekeeping(settings_from_dict(data, tmp_path), None, None)  # type: ignore[arg-type]
        return [name for name, _hour, _work in keeper.jobs()]

    assert names({}) == ["retention"]  # 90 days by default, backups off
    assert names({"retention": {"days": 0}}) == ["exports"]  # no pruning; export files left behind still go
    assert names({"backup": {"enabled": True, "hour_utc": 2}}) == ["retention", "backup"]


class Ticking(Housekeeping):
    """Each job's next hour comes when the test says so; ``waiting`` tells when a loop waits for one."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.ticks: asyncio.Queue[None] = asyncio.Queue()
        self.waiting: asyncio.Queue[int] = asyncio.Queue()

    async def wait_for(self, hour: int) -> None:
        self.waiting.put_nowait(hour)
        await self.ticks.get()


async def test_the_daily_loop_prunes_each_time_and_survives_a_failure(db: Database, tmp_path: Path) -> None:
    from core.clock import FakeClock

    await seed_ledger(db, days=6, cycles_per_day=1)
    keeper = Ticking(settings(tmp_path, days=3, hour_utc=5), db, FakeClock(NOW, auto=False))
    calls: list[str] = []
    real_prune = keeper.prune

    async def prune() -> retention.PruneReport | None:
        calls.append("prune")
        if len(calls) == 1:
            raise OSError("disk trouble")  # logged; the loop goes on to the next day
        return await real_prune()

    keeper.prune = prune  # type: ignore[method-assign]
    await keeper.start()
    try:
        assert await keeper.waiting.get() == 5  # [retention] hour_utc
        for day in (1, 2):
            keeper.ticks.put_nowait(None)
            assert await keeper.waiting.get() == 5  # the day's job ran (or failed) and the loop waits again
            assert len(calls) == day
        assert await count_sends(db, "finished_at < ?", (NOW - 3 * DAY,)) == 0
    finally:
        await keeper.stop()
    assert calls == ["prune", "prune"] and keeper._tasks == []


async def test_export_files_left_behind_go_at_start_and_with_the_daily_run(db: Database, tmp_path: Path) -> None:
    """A crash while an export was written or sent leaves its file: every one goes at start (no export runs
    yet); the daily run deletes those untouched for hours and spares one under way and other files."""
    import os
    import time

    from core.clock import FakeClock

    for days in (3, 0):  # with retention off too
        keeper = Housekeeping(settings(tmp_path, days=days), db, FakeClock(NOW, auto=False))
        folder = keeper.settings.paths.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        old, packed, fresh, other = (folder / name for name in (
            "export-a1.csv", "export-b2.csv.gz", "export-c3.csv", "notes.txt"))
        for path in (old, packed, fresh, other):
            path.write_text("time_utc,group\n")
        hours_ago = time.time() - retention.STALE_EXPORT_AGE - 60
        for path in (old, packed, other):
            os.utime(path, (hours_ago, hours_ago))
        [(_name, _hour, daily)] = keeper.jobs()
        await daily()
        assert sorted(p.name for p in folder.iterdir()) == ["export-c3.csv", "notes.txt"]
        old.write_text("left by a crash just before the restart")
        await keeper.start()
        try:
            assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
        finally:
            await keeper.stop()
        other.unlink()
