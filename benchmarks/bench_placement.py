"""Placement by membership: how long spreading every campaign's groups over the sessions that can reach
them takes, as campaigns grow.

    .venv/bin/python -m benchmarks.bench_placement [--quick] [--campaigns 1000] [--groups 50] [--sessions 3]
                                                    [--share 0.3] [--other-dialogs 100]

Each campaign has ``groups`` groups and ``sessions`` sessions (1,000 x 3 = 3,000 sessions); each session
is a member of each of its campaign's groups with probability ``share`` (may write there), and of
``other-dialogs`` chats no campaign posts to (what real sessions carry besides). A group none of its
campaign's sessions is in is unreachable (with 3 sessions at 30 %: 0.7^3 = 34 % of them).

Two figures, for the whole fleet, on a fresh database seeded with those rows:

``place``: ``engine.placement.assign_groups`` alone, for every campaign, from the rows in memory (what a
  cycle's preparation computes when its plan is not cached: every session or membership changed).
``read+place``: what the preparation of every campaign's cycle does for it: read its sessions' rows for
  its chats and their read times (``engine.reach.assess``, one query each on SQLite through aiosqlite),
  judge each group, then place the reachable ones; campaign after campaign.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CHANNEL_BASE, FIRST_CUSTOMER, Fleet, emit, header, machine, seed
from engine.placement import assign_groups
from engine.reach import assess
from storage import groups as group_rows
from storage import sessions as session_rows
from storage.db import Database
from storage.groups import Group

TARGET_S = 1.0  # the whole fleet's placement alone, at 1,000 campaigns: well under a second of CPU
SEED = 15


def write_memberships(fleet: Fleet, *, groups: int, share: float, other: int, rng: random.Random) -> int:
    """Replace the seeded memberships (every session in every group) with random ones; returns the rows."""
    now = time.time()
    rows: list[tuple[object, ...]] = []
    other_base = CHANNEL_BASE + len(fleet.customers) * groups
    for uid in fleet.customers:
        for sid in fleet.sessions[uid]:
            for n, ref in enumerate(fleet.groups[uid]):
                if rng.random() < share:
                    bare = CHANNEL_BASE + (uid - FIRST_CUSTOMER) * groups + n
                    rows.append((sid, bare, sid * 1_000_003 + bare, ref[1:].lower(), now))
            for k in range(other):  # chats of its own that no campaign posts to
                bare = other_base + sid * other + k
                rows.append((sid, bare, sid * 1_000_003 + bare, None, now))
    conn = sqlite3.connect(fleet.db_path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute("DELETE FROM memberships")
        conn.executemany(
            "INSERT OR IGNORE INTO memberships (session_id, peer_type, chat_id, kind, access_hash, username, title,"
            " can_write, seen_at) VALUES (?, 'channel', ?, 'group', ?, ?, '', 1, ?)",
            rows,
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return len(rows)


async def measure(
    root: Path, *, campaigns: int, groups: int, sessions: int, share: float, other: int
) -> dict[str, Any]:
    fleet = seed(root, campaigns=campaigns, sessions=sessions, groups=groups, running=False)
    rows = write_memberships(fleet, groups=groups, share=share, other=other, rng=random.Random(SEED))
    db = await Database.open(fleet.db_path)
    try:
        # What each campaign's preparation reads, kept for the in-memory figure.
        campaigns_read: list[tuple[list[int], list[Group], dict[str, tuple[int, ...]]]] = []
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for uid in fleet.customers:
            async with db.read() as conn:
                owned = [s.id for s in await session_rows.list_for_owner(conn, uid)]
                active = [g for g in await group_rows.list_for(conn, uid) if g.active]
                known = await assess(conn, owned, active, None)
            reachable = [g for g in active if known.verdicts[g.ref].reach is None]
            writers = {g.ref: known.verdicts[g.ref].writers for g in reachable}
            assign_groups(reachable, owned, writers)
            campaigns_read.append((owned, reachable, writers))
        read_wall, read_cpu = time.perf_counter() - wall0, time.process_time() - cpu0

        wall0, cpu0 = time.perf_counter(), time.process_time()
        plans = [assign_groups(reachable, owned, writers) for owned, reachable, writers in campaigns_read]
        place_wall, place_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        await db.close()
    placed = sum(len(gs) for plan in plans for gs in plan.values())
    loads = [len(gs) for plan in plans for gs in plan.values()]
    total = campaigns * groups
    for (_, _, writers), plan in zip(campaigns_read, plans, strict=True):
        for sid, gs in plan.items():
            if any(sid not in writers[g.ref] for g in gs):
                raise RuntimeError("a group was placed on a session that cannot reach it")
    return {
        "campaigns": campaigns,
        "groups": total,
        "sessions": campaigns * sessions,
        "share": share,
        "other_dialogs": other,
        "membership_rows": rows,
        "placed": placed,
        "unreachable_share": 1 - placed / total,
        "max_load": max(loads, default=0),
        "place_s": place_wall,
        "place_cpu_s": place_cpu,
        "place_us_per_campaign": place_wall / campaigns * 1e6,
        "read_place_s": read_wall,
        "read_place_cpu_s": read_cpu,
        "read_place_ms_per_campaign": read_wall / campaigns * 1e3,
        "target_s": TARGET_S,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 campaigns")
    parser.add_argument("--campaigns", type=int, nargs="+", default=None)
    parser.add_argument("--groups", type=int, default=50, help="groups per campaign")
    parser.add_argument("--sessions", type=int, default=3, help="sessions per campaign")
    parser.add_argument("--share", type=float, default=0.3, help="chance a session is in one of its groups")
    parser.add_argument("--other-dialogs", type=int, default=100, help="other chats each session is in")
    args = parser.parse_args(argv)
    sizes = args.campaigns or ([100] if args.quick else [100, 1000])
    header(f"placement by membership: {args.groups} groups and {args.sessions} sessions per campaign, each session "
           f"in {args.share:.0%} of its groups and {args.other_dialogs} other chats")
    print(f"{'campaigns':>9} {'sessions':>8} {'groups':>7} {'unreach':>7} {'max/s':>5} {'place s':>8} "
          f"{'us/camp':>8} {'read+place s':>12} {'ms/camp':>8}")
    results = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="adbot-bench-") as tmp:
            r = asyncio.run(measure(Path(tmp), campaigns=n, groups=args.groups, sessions=args.sessions,
                                    share=args.share, other=args.other_dialogs))
        results.append(r)
        print(f"{n:>9} {r['sessions']:>8} {r['groups']:>7} {r['unreachable_share']:>6.0%} {r['max_load']:>5} "
              f"{r['place_s']:>8.3f} {r['place_us_per_campaign']:>8.0f} {r['read_place_s']:>12.2f} "
              f"{r['read_place_ms_per_campaign']:>8.2f}", flush=True)
        emit("placement", r)
    print(f"(place = assign_groups alone, every campaign, rows in memory; read+place = each campaign's rows read "
          f"from SQLite, judged and placed, one campaign after another; target: place < {TARGET_S:g} s at 1,000 "
          f"campaigns; load average {machine()['load']})")
    return results


if __name__ == "__main__":
    main()
