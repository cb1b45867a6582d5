"""Crash safety and graceful stop of the real bot process.

The bot runs as its own process (``tests.process_harness``) against the Bot API emulator and the
sandbox world with de-duplication of random_ids OFF, so a second post of one cycle to one group would
show in the world's delivery log. It is killed with SIGKILL at random moments, many times in a row,
then run cleanly and stopped with SIGTERM; the delivery log and the database must then agree on every
invariant ``process_harness.audit`` checks (at most one post per cycle and group, every delivery
accounted for in the ledger, statistics equal to the ledger, integrity, session files in place).

``ADBOT_CRASH_KILLS`` sets the number of kills (default 15: about 25 s); ``ADBOT_CRASH_SEED`` makes a
run repeatable (the seed in use is printed); ``ADBOT_CRASH_LAUNCH=exec`` starts every run as
``python -m control_bot`` instead of forking it from the warm fork server (about 10 s more per start).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from pathlib import Path

import pytest

from sandbox.botapi import BotApiEmulator
from tests.process_harness import (
    ADMIN_ID,
    BOT_USERNAME,
    TOKEN,
    BotRunner,
    CampaignSpec,
    Installation,
    LaunchMode,
    audit,
    in_progress,
    install,
    query,
    read_deliveries,
    seed,
)

pytestmark = pytest.mark.process(fork_server=True)  # conftest starts the fork server early for these

KILLS = int(os.environ.get("ADBOT_CRASH_KILLS", "15"))
SEED = int(os.environ.get("ADBOT_CRASH_SEED", str(random.SystemRandom().randrange(1 << 32))))
LAUNCH: LaunchMode = "exec" if os.environ.get("ADBOT_CRASH_LAUNCH") == "exec" else "fork"

# Three campaigns; C shares five groups with A (one chat, two campaigns: two different random_ids).
GROUPS_A = [f"@crash_a{i:02d}" for i in range(20)]
GROUPS_B = [f"@crash_b{i:02d}" for i in range(12)]
GROUPS_C = [f"@crash_c{i:02d}" for i in range(10)] + GROUPS_A[:5]
CAMPAIGNS = [
    CampaignSpec(1001, GROUPS_A, sessions=1, interval=2),
    CampaignSpec(1002, GROUPS_B, sessions=2, interval=2),
    CampaignSpec(1003, GROUPS_C, sessions=2, interval=2),
]


@pytest.fixture
def emu_bot() -> tuple[str, str]:
    return TOKEN, BOT_USERNAME


@pytest.fixture
def emu_users() -> list[tuple[int, str]]:
    return [(ADMIN_ID, "Admin"), *((spec.user_id, f"Customer{spec.user_id}") for spec in CAMPAIGNS)]


async def _wait_for_full_cycles(inst: Installation, since: float, timeout: float = 60.0) -> None:
    """Every campaign finished a cycle that started after ``since``."""
    deadline = time.monotonic() + timeout
    while True:
        rows = query(inst, "SELECT user_id, cycle_started_at, cycle_finished_at FROM customers")
        if all(r["cycle_finished_at"] is not None and r["cycle_started_at"] >= since for r in rows):
            return
        assert time.monotonic() < deadline, f"no full cycle since the start: {[tuple(r) for r in rows]}"
        await asyncio.sleep(0.05)


async def test_sigkill_at_random_moments_never_posts_twice_nor_loses_track(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    rng = random.Random(SEED)
    inst = install(
        tmp_path,
        emu.base_url,
        engine={"send_spacing": 0.05, "on_restart": "resume", "shutdown_timeout": 5.0},
        world={"lenient": True, "dedupe": False, "latency": 0.05},
    )
    await seed(inst, CAMPAIGNS, pool=6)
    kills = mid_cycle = during_start = during_stop = 0
    in_flight: set[int] = set()  # ledger rows a kill left 'pending' (request out, answer not recorded)
    async with BotRunner(inst, emu, mode=LAUNCH) as runner:
        # About 15 % of the kills during start-up, 15 % during a graceful stop, the rest while running.
        share = max(1, round(KILLS * 0.15))
        moments = ["start-up"] * share + ["stopping"] * share
        moments += ["running"] * (KILLS - len(moments))
        rng.shuffle(moments)
        for moment in moments[:KILLS]:
            if moment == "start-up":
                # Now and then the kill lands during start-up: reconciliation, resumption, first sends.
                bot = await runner.start(ready=False)
                await asyncio.sleep(rng.uniform(0.05, 0.6))
                during_start += 1
            else:
                bot = await runner.start()
                await asyncio.sleep(rng.uniform(0.2, 2.0))
            stopping = moment == "stopping"
            if stopping:
                # An impatient operator: SIGTERM, then SIGKILL while the graceful stop is under way.
                bot.signal(signal.SIGTERM)
                await asyncio.sleep(rng.uniform(0.01, 0.3))
                during_stop += 1
            code = await bot.kill()
            expected = (-9, 0) if stopping else (-9,)
            assert code in expected, f"seed {SEED}: run {bot.run} ended with {code} before the kill:\n{bot.tail()}"
            kills += 1
            open_cycles = in_progress(inst)
            mid_cycle += bool(open_cycles)
            in_flight |= {int(r["id"]) for r in query(inst, "SELECT id FROM sends WHERE outcome = 'pending'")}
            try:
                await audit(inst, final=False)  # the state a crash leaves is already consistent
            except AssertionError as exc:
                raise AssertionError(f"seed {SEED}, after kill {kills}: {exc}") from None

        bot = await runner.start()
        await _wait_for_full_cycles(inst, since=bot.ready_at or bot.started_at)
        signalled = time.monotonic()
        code = await bot.terminate(timeout=30.0)
        stop_took = time.monotonic() - signalled
    assert code == 0, f"seed {SEED}: exit code {code} after SIGTERM:\n{bot.tail()}"
    assert stop_took < 5.0 + 10.0, stop_took  # shutdown_timeout + a margin for a loaded machine
    try:
        report = await audit(inst, final=True)
    except AssertionError as exc:
        raise AssertionError(f"seed {SEED}: {exc}") from None

    # Notifications are written with the change they report and sent afterwards: none is lost.
    assert query(inst, "SELECT COUNT(*) FROM events WHERE delivered_at IS NULL")[0][0] == 0
    # Nothing in this world refuses a post: anything but 'sent' is the mark of a crash.
    assert set(report.outcomes) <= {"sent", "in_doubt"}, (report.outcomes, report.errors)
    assert report.interrupted == len(in_flight), (report.interrupted, len(in_flight))
    # The runs did real work and the kills landed where it matters.
    total_groups = sum(len(spec.groups) for spec in CAMPAIGNS)
    assert report.deliveries >= total_groups + kills, report
    assert report.outcomes["sent"] >= total_groups
    assert mid_cycle >= max(1, kills // 4), (mid_cycle, kills)
    print(
        f"\ncrash loop: seed {SEED}, {kills} kills ({during_start} during start-up, {during_stop} during a graceful "
        f"stop, {mid_cycle} mid-cycle, "
        f"{len(in_flight)} send(s) in flight), {report.deliveries} deliveries checked, {report.rows} ledger rows "
        f"{dict(report.outcomes)}, {report.interrupted} found pending at resume "
        f"({report.delivered_in_doubt} of the in-doubt posts had arrived), {report.complete_cycles} full cycles"
    )
    assert len(read_deliveries(inst)) == report.deliveries


TERM_GROUPS = [f"@term_g{i:02d}" for i in range(12)]
HUNG = "@term_g05"  # its post arrives but the answer never comes


async def test_sigterm_mid_cycle_records_every_send_in_flight_and_exits_0(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    """``python -m control_bot`` itself (not a fork): SIGTERM while three sends are out, each taking a
    second, and one request hangs forever after its post arrived. The sends in flight finish and are
    recorded 'sent'; the hung one is given up after shutdown_timeout and recorded 'in_doubt'; exit 0."""
    shutdown_timeout = 3.0
    inst = install(
        tmp_path,
        emu.base_url,
        engine={"send_spacing": 0.05, "shutdown_timeout": shutdown_timeout, "send_timeout": 60.0},
        world={
            "lenient": True,
            "dedupe": False,
            "latency": 1.0,
            "faults": [{"kind": "timeout", "group": HUNG, "deliver": True, "seconds": 0, "times": 0}],
        },
    )
    await seed(inst, [CampaignSpec(1001, TERM_GROUPS, sessions=3, interval=60)], pool=3)
    async with BotRunner(inst, emu, mode="exec") as runner:
        bot = await runner.start()
        deadline = time.monotonic() + 60
        while True:
            # The hung post arrived, and another send left after it: that one is surely still out
            # (1 s of latency) when the signal lands.
            hung_at = min((d.at for d in read_deliveries(inst) if d.chat_ref == HUNG), default=None)
            out = query(inst, "SELECT group_ref, started_at FROM sends WHERE outcome = 'pending'")
            pending = {str(r[0]) for r in out if r[0] != HUNG and hung_at is not None and r[1] > hung_at}
            if pending:
                break
            assert time.monotonic() < deadline, f"no moment with the hung post and other sends in flight:\n{bot.tail()}"
            await asyncio.sleep(0.02)
        signalled_at = time.time()
        code = await bot.terminate(timeout=shutdown_timeout + 30)
        took = time.time() - signalled_at
    assert code == 0, f"exit code {code} after SIGTERM:\n{bot.tail()}"
    # It waited for the hung request (shutdown_timeout), and not much longer.
    assert shutdown_timeout <= took < shutdown_timeout + 10.0, took
    rows = {str(r["group_ref"]): r for r in query(inst, "SELECT * FROM sends")}
    assert (rows[HUNG]["outcome"], rows[HUNG]["error"]) == ("in_doubt", "shutdown")
    for ref in pending:
        assert rows[ref]["outcome"] == "sent", tuple(rows[ref])  # in flight at the signal, answer recorded
    deliveries = read_deliveries(inst)
    for d in deliveries:
        if d.chat_ref != HUNG:
            assert rows[d.chat_ref]["outcome"] == "sent", tuple(rows[d.chat_ref])
    assert any(d.at > signalled_at and d.chat_ref != HUNG for d in deliveries), "no send finished after the signal"
    assert len(rows) < len(TERM_GROUPS), "the cycle should have been cut short"
    assert in_progress(inst) == {1001: 1}  # resumed by the next start
    report = await audit(inst, final=True)
    assert report.outcomes["pending"] == 0
    print(f"\nSIGTERM: exit 0 after {took:.2f} s; {len(pending)} send(s) in flight recorded 'sent', "
          f"hung one 'in_doubt'; {report.deliveries} deliveries checked")
