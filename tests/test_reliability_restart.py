"""Restart policy and waits across restarts, with the real bot process (``tests.process_harness``).

* ``on_restart = "stop"``: a cycle cut by SIGKILL is closed at the next start, the campaign comes back
  stopped, nothing more is posted and the customer reads why in their chat.
* ``on_restart = "resume"``: the cut cycle continues with the same number, posts only to the groups it
  had not reached, and the customer is told.
* A flood wait Telegram gave an account, and a group's slow-mode window, hold across SIGKILLs: the
  delivery log shows no post of that account before its wait ended, and no second request into a
  window the engine already knew of.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.clock import FakeClock
from core.ports import Peer
from sandbox.botapi import BotApiEmulator
from sandbox.world import World
from sandbox.world.port import SimPort
from tests.process_harness import (
    ADMIN_ID,
    BOT_USERNAME,
    TOKEN,
    BotRunner,
    CampaignSpec,
    Installation,
    audit,
    in_progress,
    install,
    query,
    read_deliveries,
    seed,
)

pytestmark = pytest.mark.process(fork_server=True)  # conftest starts the fork server early for these

ALICE = 1001
BOB = 1002
GROUPS = [f"@rs_g{i:02d}" for i in range(12)]
WORLD: dict[str, Any] = {"lenient": True, "dedupe": False, "latency": 0.05}


@pytest.fixture
def emu_bot() -> tuple[str, str]:
    return TOKEN, BOT_USERNAME


@pytest.fixture
def emu_users() -> list[tuple[int, str]]:
    return [(ADMIN_ID, "Admin"), (ALICE, "Alice"), (BOB, "Bob")]


async def _until(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll ``check`` (files and database of the running bot) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)
    return value


def _rows(inst: Installation, customer: int, cycle: int) -> dict[str, Any]:
    rows = query(inst, "SELECT * FROM sends WHERE customer_id = ? AND cycle_no = ?", (customer, cycle))
    return {str(r["group_ref"]): r for r in rows}


def _sent_some_but_not_all(inst: Installation) -> bool:
    sent = [r for r in _rows(inst, ALICE, 1).values() if r["outcome"] == "sent"]
    return len(sent) >= 4 and in_progress(inst) == {ALICE: 1}


def _bot_said(emu: BotApiEmulator, user: int, text: str) -> bool:
    return any(m.from_bot and text in (m.text or "") for m in emu.messages(user))


async def _kill_mid_cycle(inst: Installation, runner: BotRunner) -> float:
    """Start, let cycle 1 reach a few groups, SIGKILL; returns when it died (wall clock)."""
    bot = await runner.start()
    await _until("a few posts of cycle 1", lambda: _sent_some_but_not_all(inst))
    assert await bot.kill() == -9
    return time.time()


async def test_on_restart_stop_closes_the_cut_cycle_and_tells_the_customer(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    # Sends spaced 0.2 s on two sessions: cycle 1 lasts about a second; the next one is 60 s away.
    # The first run resumes the seeded campaign; the process that follows the kill runs with "stop".
    inst = install(tmp_path, emu.base_url, engine={"send_spacing": 0.2, "on_restart": "resume"}, world=WORLD)
    await seed(inst, [CampaignSpec(ALICE, GROUPS, sessions=2, interval=60)], pool=2)
    async with BotRunner(inst, emu) as runner:
        await _kill_mid_cycle(inst, runner)
        inst.write_config(emu.base_url, {"send_spacing": 0.2, "on_restart": "stop"})
        before = len(read_deliveries(inst))
        assert before < len(GROUPS)
        bot = await runner.start()
        await _until("the customer told", lambda: _bot_said(emu, ALICE, "campaign was stopped: the service restarted"))
        person = query(inst, "SELECT * FROM customers WHERE user_id = ?", (ALICE,))[0]
        assert (person["status"], person["stop_reason"]) == ("stopped", "restart")
        assert person["cycle_finished_at"] is not None  # the cut cycle is closed, not resumed
        await asyncio.sleep(1.0)  # a second of a running bot in which nothing may be posted
        assert await bot.terminate() == 0, bot.tail()
    assert len(read_deliveries(inst)) == before
    rows = _rows(inst, ALICE, 1)
    assert len(rows) < len(GROUPS)
    assert all(r["outcome"] in ("sent", "in_doubt") for r in rows.values())
    kinds = [str(r[0]) for r in query(inst, "SELECT kind FROM events WHERE customer_id = ? ORDER BY id", (ALICE,))]
    assert kinds == ["campaign_resumed", "campaign_stopped"], kinds  # first run resumed the seeded campaign
    await audit(inst, final=True, complete_cycles=False)  # the cut cycle stays short by design


async def test_on_restart_resume_finishes_the_cut_cycle_without_reposting(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    inst = install(tmp_path, emu.base_url, engine={"send_spacing": 0.2, "on_restart": "resume"}, world=WORLD)
    await seed(inst, [CampaignSpec(ALICE, GROUPS, sessions=2, interval=60)], pool=2)
    async with BotRunner(inst, emu) as runner:
        killed_at = await _kill_mid_cycle(inst, runner)
        cut = _rows(inst, ALICE, 1)
        sent_before = {ref for ref, r in cut.items() if r["outcome"] == "sent"}
        pending_before = {ref for ref, r in cut.items() if r["outcome"] == "pending"}
        bot = await runner.start()
        await _until("cycle 1 finished", lambda: not in_progress(inst))
        await _until("the customer told", lambda: _bot_said(emu, ALICE, "campaign was resumed after a restart"))
        assert await bot.terminate() == 0, bot.tail()
    person = query(inst, "SELECT * FROM customers WHERE user_id = ?", (ALICE,))[0]
    assert (person["status"], person["cycle_no"]) == ("running", 1)  # the same cycle, finished
    rows = _rows(inst, ALICE, 1)
    assert set(rows) == set(GROUPS)
    for ref in pending_before:
        assert (rows[ref]["outcome"], rows[ref]["error"]) == ("in_doubt", "interrupted")
    per_group: dict[str, list[float]] = {}
    for d in read_deliveries(inst):
        per_group.setdefault(d.chat_ref, []).append(d.at)
    for ref in GROUPS:
        times = per_group.get(ref, [])
        assert len(times) <= 1, f"{ref} got {len(times)} posts in cycle 1"
        if ref in sent_before:
            assert times and times[0] < killed_at  # reached before the kill, not again after
        elif ref not in pending_before:
            assert rows[ref]["outcome"] == "sent" and times[0] > killed_at  # reached by the resumed cycle
    report = await audit(inst, final=True)
    assert report.complete_cycles == 1


FLOODED = [f"@fw_a{i:02d}" for i in range(6)]
SLOW = "@fw_slow"
SLOW_WINDOW = 10
FLOOD_SECONDS = 8


def _flood_world(with_fault: bool) -> dict[str, Any]:
    world: dict[str, Any] = {**WORLD, "groups": [{"username": SLOW[1:], "slow_mode": SLOW_WINDOW}]}
    if with_fault:
        world["faults"] = [{"kind": "flood_wait", "group": FLOODED[2], "seconds": FLOOD_SECONDS}]
    return world


async def test_flood_waits_and_slow_mode_windows_hold_across_kills(tmp_path: Path, emu: BotApiEmulator) -> None:
    """Alice's only account gets an 8 s flood wait in cycle 1; Bob's group has a 10 s slow mode that
    the engine learns in cycle 2 (cycles every 3 s). The bot is killed right after each is recorded
    and started again; the world forgets both with the process, so only the engine's memory (the
    database) keeps the accounts and the group safe."""
    inst = install(tmp_path, emu.base_url, engine={"send_spacing": 0.05}, world=_flood_world(with_fault=True))
    await seed(
        inst,
        [CampaignSpec(ALICE, FLOODED, sessions=1, interval=3), CampaignSpec(BOB, [SLOW, "@fw_b1"], interval=3)],
        pool=2,
    )
    async with BotRunner(inst, emu) as runner:
        bot = await runner.start()
        cooling = await _until(
            "the flood wait recorded",
            lambda: query(inst, "SELECT id, auth_key_sha, cooldown_until FROM sessions WHERE cooldown_until > 0"),
        )
        assert await bot.kill() == -9
        until = float(cooling[0]["cooldown_until"])
        flooded_account = str(cooling[0]["auth_key_sha"])
        # The wait and the refused send's row were committed together (a kill cannot split them).
        row = _rows(inst, ALICE, 1)[FLOODED[2]]
        assert (row["outcome"], row["flood_waits"]) == ("waiting", 1), tuple(row)
        inst.write_world(_flood_world(with_fault=False))  # one flood wait is the story; no second one
        bot = await runner.start()
        assert time.time() < until, "the restart took longer than the wait: nothing left to prove"
        learned = await _until(
            "the slow mode learned",
            lambda: query(inst, "SELECT slowmode_until FROM groups WHERE ref = ? AND slowmode_until > 0", (SLOW,)),
        )
        assert await bot.kill() == -9
        window_end = float(learned[0]["slowmode_until"])
        bot = await runner.start()

        def done() -> bool:
            deliveries = read_deliveries(inst)
            flooded_again = any(d.account == flooded_account and d.at >= until for d in deliveries)
            slow_again = any(d.chat_ref == SLOW and d.at >= window_end for d in deliveries)
            return flooded_again and slow_again

        await _until("posts after the wait and after the window", done, timeout=60.0)
        assert await bot.terminate() == 0, bot.tail()

    deliveries = read_deliveries(inst)
    flood_started = until - FLOOD_SECONDS
    during = [d for d in deliveries if d.account == flooded_account and flood_started <= d.at < until]
    assert during == [], f"posted during the flood wait: {during}"
    assert any(d.account == flooded_account and d.at < flood_started for d in deliveries)  # it had posted before
    # Bob kept posting while Alice's account rested (a wait is one account's, not the engine's).
    assert any(d.chat_ref == "@fw_b1" and flood_started <= d.at < until for d in deliveries)
    # The slow-mode group was asked once inside a window (how the engine learns it), never again.
    refused = query(
        inst, "SELECT cycle_no FROM sends WHERE group_ref = ? AND error = 'SlowModeWaitError' AND attempts > 0", (SLOW,)
    )
    assert len(refused) == 1, [tuple(r) for r in refused]
    slow_posts = sorted(d.at for d in deliveries if d.chat_ref == SLOW)
    assert all(b - a >= SLOW_WINDOW for a, b in itertools.pairwise(slow_posts)), slow_posts
    stats = query(inst, "SELECT total_flood_waits FROM stats WHERE customer_id = ?", (ALICE,))[0]
    assert stats["total_flood_waits"] == 1
    await audit(inst, final=True)


async def test_a_lenient_worlds_chats_outlive_the_process(tmp_path: Path) -> None:
    """The engine caches (id, access hash) per session in its database; the next process must accept
    them without resolving again, as Telegram does (found by the kill loop: every cached peer was
    refused after a restart, so every post failed)."""
    clock = FakeClock(1_800_000_000.0)
    log = tmp_path / "world_deliveries.jsonl"
    first = World(clock, lenient=True, log_path=log)
    port = SimPort(first, "acct", 1)
    await port.connect()
    source, dest, plain = await port.resolve("@ads"), await port.resolve("@cats"), await port.resolve("-4242")
    first.close()
    second = World(clock, lenient=True, log_path=log)
    port = SimPort(second, "acct", 1)
    await port.connect()
    for peer in (dest, plain):
        sent = await port.forward(source=source, msg_id=1, dest=peer, topic_id=None, random_id=7, drop_author=False)
        assert sent == 1
    assert [d.chat_ref for d in second.deliveries] == ["@cats", "-4242"]
    assert await port.resolve("@cats") == dest  # the same chat, not a second one under a new id
    assert isinstance(dest, Peer)
    second.close()
    await clock.aclose()
