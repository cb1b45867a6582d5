"""Kills during dialogs scans, the real process: SIGKILL while sessions' dialogs are being read.

The bot runs as its own process (``tests.process_harness``) against a *strict* sandbox world (each chat
names its members; an account the world does not know is dead): four pool sessions, each in 130 chats
besides the campaign's (three getDialogs pages: two of the main list, one of the archive, every request
answered after ``LATENCY``), a campaign of six groups on two of them (one group nobody is in), and
``dialogs_refresh_hours`` so short (about 2 s) that the engine reads its sessions' dialogs again at
nearly every cycle and the pool reads the idle ones at every start when due: a kill lands in a read
most of the time. Once the campaign has its sessions, the first one's second dialogs page meets a
FloodWait of ``FLOOD_SECONDS`` in every process that starts outside such a wait; a process that starts
inside one gets a world file without the fault (the world forgets a wait with its process, as a new
process of ours would if it did not keep it: only the database holds the read back).

The process is killed ``ADBOT_SCAN_KILLS`` times (default 10; ``ADBOT_SCAN_SEED`` repeats a run) at a
random moment 0.3–2.5 s after launch and started again; then it runs until every session's dialogs were
read again and every reachable group was posted to, and is stopped with SIGTERM. Checked:

* after every kill: each session's rows are exactly its dialogs (with ``dialogs_checked_at``) or none
  (without): never half a read; no group a session of the campaign can write in is stored or reported
  unreachable; no send was refused for want of membership (no ``failed`` row at all: nothing else
  refuses here); the crash audit (one post per cycle and group, ledger, statistics, integrity);
* all along (the database polled every 20 ms): no session's read completed inside a dialogs wait the
  database had recorded for it (with the world forgetting the wait, a completed read inside it could
  only come from a request inside it);
* at the end: exit 0 after SIGTERM, every session's rows equal its dialogs (the scans cut by kills
  were completed: the campaign's sessions read again by the last process, the idle ones at least
  once), every group but the one nobody is in reachable and posted to, the full audit.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from core.clock import FakeClock
from sandbox.botapi import BotApiEmulator
from sandbox.world import World
from tests.process_harness import (
    ADMIN_ID,
    BOT_USERNAME,
    TOKEN,
    BotRunner,
    CampaignSpec,
    Installation,
    audit,
    install,
    query,
    read_deliveries,
    seed,
)
from tests.test_scan_crash import Chat, truth

pytestmark = pytest.mark.process(fork_server=True)

KILLS = int(os.environ.get("ADBOT_SCAN_KILLS", "10"))
SEED = int(os.environ.get("ADBOT_SCAN_SEED", str(random.SystemRandom().randrange(1 << 32))))

CUSTOMER = 1001
GROUPS = [f"@kscan_g{i}" for i in range(6)]
NOBODY = GROUPS[5]
FILLERS = 130  # plus the campaign's: three getDialogs pages per account (two of the main list, the archive)
LATENCY = 0.1
FLOOD_SECONDS = 5


@pytest.fixture
def emu_bot() -> tuple[str, str]:
    return TOKEN, BOT_USERNAME


@pytest.fixture
def emu_users() -> list[tuple[int, str]]:
    return [(ADMIN_ID, "Admin"), (CUSTOMER, "Customer")]


def world_data(keys: list[str], flooded: str | None = None) -> dict[str, Any]:
    """Every account in g0-g3; all but the last in g4; nobody in g5; 130 chats of its own each. The
    ``flooded`` account's second dialogs page meets a FloodWait in every process."""
    groups: list[dict[str, Any]] = [{"username": ref[1:], "members": keys} for ref in GROUPS[:4]]
    groups.append({"username": GROUPS[4][1:], "members": keys[:-1]})
    groups.append({"username": NOBODY[1:], "members": []})
    for n, key in enumerate(keys):
        groups += [{"username": f"kfill_{n}_{i:03d}", "members": [key]} for i in range(FILLERS)]
    return {
        "lenient": False,
        "dedupe": False,
        "accounts": [{"key": key, "latency": LATENCY} for key in keys],
        "channels": [{"username": "ads", "posts": [1]}],
        "groups": groups,
        "faults": [] if flooded is None else [
            {"kind": "flood_wait", "method": "dialogs", "account": flooded, "after": 1, "times": 1,
             "seconds": FLOOD_SECONDS}
        ],
    }


def world_truth(data: dict[str, Any], keys: list[str]) -> dict[str, set[Chat]]:
    """What each account's dialogs list (the world file's world is deterministic: ids, rights)."""
    world = World.from_dict(data, FakeClock())
    return {key: truth(world, key) for key in keys}


def sessions(inst: Installation) -> dict[int, tuple[str, float | None, int | None]]:
    """session id -> (account key, dialogs_checked_at, owner)."""
    rows = query(inst, "SELECT id, auth_key_sha, dialogs_checked_at, owner_id FROM sessions")
    return {int(r[0]): (str(r[1]), r[2], r[3]) for r in rows}


def stored_rows(inst: Installation) -> dict[int, set[Chat]]:
    found: dict[int, set[Chat]] = defaultdict(set)
    for r in query(inst, "SELECT session_id, peer_type, chat_id, can_write FROM memberships"):
        found[int(r[0])].add((str(r[1]), int(r[2]), bool(r[3])))
    return found


def check_state(
    inst: Installation, want: dict[str, set[Chat]], ids: dict[str, int], *, complete: bool = False
) -> None:
    """Whole reads only; no group a session of the campaign can write in is called unreachable."""
    rows = stored_rows(inst)
    known = sessions(inst)
    for sid, (key, checked, _owner) in known.items():
        if checked is None and not complete:
            assert not rows.get(sid), f"session {sid}: {len(rows[sid])} row(s) without a full read"
        else:
            assert checked is not None, f"session {sid}: its dialogs were never read"
            assert rows.get(sid, set()) == want[key], f"session {sid}: {len(rows.get(sid, ()))} row(s), " \
                                                      f"its dialogs list {len(want[key])}"
    owners = {key for key, _checked, owner in known.values() if owner == CUSTOMER}
    writable = {ref for ref in GROUPS if any(("channel", ids[ref], True) in want[key] for key in owners)}
    for r in query(inst, "SELECT ref, reach FROM groups WHERE customer_id = ?", (CUSTOMER,)):
        if r["ref"] in writable:
            assert r["reach"] in (None, "checking"), (r["ref"], r["reach"])
    told = query(inst, "SELECT payload FROM events WHERE kind = 'group_unreachable'")
    assert all(NOBODY in str(t[0]) for t in told), [tuple(t) for t in told]
    failed = query(inst, "SELECT group_ref, error FROM sends WHERE outcome = 'failed'")
    assert failed == [], [tuple(r) for r in failed]


async def test_sigkill_during_dialogs_scans_leaves_whole_memberships_and_honours_the_wait(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    rng = random.Random(SEED)
    inst = install(
        tmp_path,
        emu.base_url,
        engine={
            "send_spacing": 0.05,
            "on_restart": "resume",
            "dialogs_refresh_hours": 0.0005,  # 1.8 s x (1 ± 0.25)
            "dialogs_scan_concurrency": 2,
            "transient_retries": 0,
        },
    )
    keys = await seed(inst, [CampaignSpec(CUSTOMER, GROUPS, sessions=2, interval=2)], pool=4)
    data = world_data(keys)
    inst.write_world(data)
    want = world_truth(data, keys)
    ids_world = World.from_dict(data, FakeClock())
    ids = {ref: chat.id for ref in GROUPS if (chat := ids_world.chat(ref)) is not None}
    # The observer: every session's recorded dialogs waits and completed reads, as often as it can look.
    windows: dict[int, set[float]] = defaultdict(set)  # session -> ends of its recorded dialogs waits
    reads: dict[int, set[float]] = defaultdict(set)  # session -> its dialogs_checked_at values seen
    stop = asyncio.Event()

    async def observe() -> None:
        while not stop.is_set():
            for r in query(inst, "SELECT s.id, s.dialogs_checked_at, w.until FROM sessions s LEFT JOIN method_waits w"
                                 " ON w.session_id = s.id AND w.method = 'dialogs'"):
                if r[1] is not None:
                    reads[int(r[0])].add(float(r[1]))
                if r[2] is not None:
                    windows[int(r[0])].add(float(r[2]))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(observe())
    kills = due_at_kill = restarts_in_wait = 0
    flooded: int | None = None  # the campaign's first session, once it has one: its reads meet the wait
    try:
        async with BotRunner(inst, emu) as runner:
            for _ in range(KILLS):
                bot = await runner.start(ready=False)
                await asyncio.sleep(rng.uniform(0.3, 2.5))
                killed_at = time.time()
                code = await bot.kill()
                assert code == -9, f"seed {SEED}: run {bot.run} ended with {code} before the kill:\n{bot.tail()}"
                kills += 1
                due = query(inst, "SELECT COUNT(*) FROM sessions WHERE COALESCE(dialogs_due_at, 0) <= ?", (killed_at,))
                due_at_kill += bool(due[0][0])
                try:
                    check_state(inst, want, ids)
                    await audit(inst, final=False, complete_cycles=False)  # g5 never gets a row
                except AssertionError as exc:
                    raise AssertionError(f"seed {SEED}, after kill {kills}: {exc}") from None
                owned = sorted(sid for sid, (_k, _c, owner) in sessions(inst).items() if owner == CUSTOMER)
                if flooded is None and owned:
                    flooded = owned[0]
                if flooded is not None:
                    # A process that starts inside the wait gets a world that forgot it (no fault): only the
                    # database can hold the read back. Otherwise the next process meets a new wait.
                    waits = query(inst, "SELECT until FROM method_waits WHERE session_id = ? AND method = 'dialogs'"
                                        " AND until > ?", (flooded, time.time() + 0.5))
                    restarts_in_wait += bool(waits)
                    inst.write_world(world_data(keys, None if waits else sessions(inst)[flooded][0]))

            inst.write_world(data)  # the last run meets no new wait
            bot = await runner.start()
            since = time.time()
            deadline = since + 60

            def settled() -> bool:
                # The campaign's sessions read again by this process; the idle ones read at least once (the
                # pool reads those that are due at start, then every 5 min).
                known = sessions(inst)
                if any(checked is None or (owner == CUSTOMER and checked < since)
                       for _key, checked, owner in known.values()):
                    return False
                delivered = {d.chat_ref for d in read_deliveries(inst) if d.at >= since}
                return set(GROUPS[:5]) <= delivered

            while not settled():
                assert time.time() < deadline, f"seed {SEED}: not settled after 60 s:\n{bot.tail()}"
                await asyncio.sleep(0.05)
            code = await bot.terminate(timeout=30.0)
        assert code == 0, f"seed {SEED}: exit code {code} after SIGTERM:\n{bot.tail()}"
    finally:
        stop.set()
        await watcher
    try:
        check_state(inst, want, ids, complete=True)
        report = await audit(inst, final=True, complete_cycles=False)
    except AssertionError as exc:
        raise AssertionError(f"seed {SEED}: {exc}") from None
    inside = sorted((sid, t) for sid, seen in reads.items() for t in seen
                    for end in windows.get(sid, ()) if end - FLOOD_SECONDS <= t < end)
    assert inside == [], f"seed {SEED}: dialogs read inside a recorded wait (session, when): {inside}"
    assert flooded is not None and windows[flooded], "no dialogs wait was ever recorded: the fault never fired"
    assert restarts_in_wait >= 1, "no process started inside a recorded dialogs wait: nothing shown"
    groups = {str(r["ref"]): r["reach"] for r in query(inst, "SELECT ref, reach FROM groups")}
    assert groups[NOBODY] == "not_member" and all(groups[ref] is None for ref in GROUPS[:5]), groups
    print(
        f"\nscan kills: seed {SEED}, {kills} kills ({due_at_kill} with a dialogs read due or under way, "
        f"{restarts_in_wait} restarts inside a recorded dialogs wait the world had forgotten), "
        f"{len(windows[flooded])} dialogs wait(s) of session {flooded} recorded, {len(reads[flooded])} of its reads "
        f"seen ({sum(map(len, reads.values()))} of all sessions), none inside a wait; {report.deliveries} "
        f"deliveries, {report.rows} ledger rows {dict(report.outcomes)}"
    )
