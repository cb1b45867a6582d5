"""The SQLite write-ahead log under the engine's write load, with and without the WAL policy (issue 22).

    .venv/bin/python -m benchmarks.bench_wal [--quick] [--campaigns N] [--groups N] [--cycles N]
        [--concurrency N] [--readers N] [--hold-ms N]

Every send writes twice through the engine's group commit (``engine.ledger``): its intent, committed
before the request, and its outcome with the statistics. This drives exactly those writes (the real
``Ledger``, ``storage.ledger`` rows) for ``campaigns x groups x cycles`` sends, ``concurrency`` at a time,
while ``readers`` tasks read as the bot does (a customer's row and statistics, again and again), and one
of them now and then holds a read transaction open for ``hold-ms`` (a long /export or /stats page): that is
what keeps SQLite's passive checkpoints from reaching the WAL's end. The WAL file's size is sampled every
5 ms. Two runs on the same seed: SQLite's defaults (``wal_autocheckpoint`` 1000 pages, no size limit) and
the policy of ``[storage]`` (``storage.db.WalPolicy``).

Prints per run: sends, write transactions and their rate, writes per transaction, intent commit latency
(p50 / p95 / max: what a send waits for before its request may leave), the WAL's peak size, its size when
the load ended and after a quiet spell of single writes (the readers gone), TRUNCATE checkpoints the policy
ran.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import emit, header, machine, percentile, seed
from engine.ledger import Ledger
from storage import customers as customer_rows
from storage import ledger as rows
from storage.db import MB, Database, WalPolicy

DEFAULTS = WalPolicy(autocheckpoint_pages=1000, max_bytes=1 << 50, check_every=1 << 30)
"""SQLite's own behaviour: passive checkpoints every 1000 pages, the WAL never truncated."""


async def _sampler(db: Database, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], db.wal_bytes())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.005)


async def _reader(db: Database, customers: list[int], stop: asyncio.Event, hold_s: float, holder: bool) -> int:
    reads = 0
    n = 0
    while not stop.is_set():
        uid = customers[n % len(customers)]
        n += 1
        async with db.read() as conn:
            await customer_rows.get(conn, uid)
            await rows.get_stats(conn, uid)
        reads += 1
        if holder and n % 50 == 0:
            # A long read: one snapshot kept open (BEGIN ... a read ... hold ... COMMIT on the reader).
            async with db.read() as conn:
                await conn.execute("BEGIN")
                await rows.get_stats(conn, uid)
                await asyncio.sleep(hold_s)
                await conn.execute("COMMIT")
        await asyncio.sleep(0.001)
    return reads


async def run(root: Path, policy: WalPolicy, label: str, args: argparse.Namespace) -> dict[str, Any]:
    fleet = seed(root, campaigns=args.campaigns, sessions=1, groups=args.groups, running=True)
    db = await Database.open(fleet.db_path, wal=policy)
    ledger = Ledger(db)
    stop = asyncio.Event()
    peak = [0]
    latencies: list[float] = []
    gate = asyncio.Semaphore(args.concurrency)
    now = time.time()

    async def send(uid: int, cycle_no: int, ref: str, n: int) -> None:
        async with gate:
            sid = fleet.sessions[uid][0]
            t0 = time.perf_counter()
            await ledger.intent(rows.Intent(uid, cycle_no, ref, sid, n, now))
            latencies.append(time.perf_counter() - t0)
            await ledger.result(rows.Result(uid, cycle_no, ref, sid, "sent", n, now, message_id=n))

    sampler = asyncio.create_task(_sampler(db, peak, stop))
    readers = [
        asyncio.create_task(_reader(db, fleet.customers, stop, args.hold_ms / 1000, holder=i == 0))
        for i in range(args.readers)
    ]
    commits0 = db.commits
    started = time.perf_counter()
    n = 0
    for cycle_no in range(1, args.cycles + 1):
        jobs = []
        for uid in fleet.customers:
            for ref in fleet.groups[uid]:
                n += 1
                jobs.append(send(uid, cycle_no, ref, n))
        await asyncio.gather(*jobs)
    wall = time.perf_counter() - started
    stop.set()
    reads = sum(await asyncio.gather(*readers))
    await sampler
    commits = db.commits - commits0
    wal_end = db.wal_bytes()
    writes_per_tx = ledger.writes / max(1, ledger.batches)
    # A quiet spell after the load: the readers gone, writes one at a time (a status change, a wait kept),
    # as many as two of the policy's looks at the WAL take.
    for _ in range(2 * min(policy.check_every, 1000)):
        await ledger.run(lambda conn: customer_rows.get(conn, fleet.customers[0]))
    result = {
        "policy": label,
        "sends": n,
        "transactions": commits,
        "tx_per_s": commits / wall,
        "writes_per_tx": writes_per_tx,
        "intent_p50_ms": percentile(latencies, 50) * 1000,
        "intent_p95_ms": percentile(latencies, 95) * 1000,
        "intent_max_ms": max(latencies) * 1000,
        "wal_peak_mb": peak[0] / MB,
        "wal_end_mb": wal_end / MB,
        "wal_quiet_mb": db.wal_bytes() / MB,
        "checkpoints": db.checkpoints,
        "reads": reads,
        "wall_s": wall,
    }
    await ledger.close()
    await db.close()
    return result


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--campaigns", type=int, default=500)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2000)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--hold-ms", type=float, default=200.0)
    parser.add_argument("--wal-max-mb", type=int, default=8, help="the policy's bound (config default: 64)")
    args = parser.parse_args(argv)
    if args.quick:
        args.campaigns, args.groups, args.cycles, args.concurrency = 40, 20, 2, 200
    policy = WalPolicy(max_bytes=args.wal_max_mb * MB)
    print(machine())
    header(
        f"WAL under the engine's writes: {args.campaigns} campaigns x {args.groups} groups x {args.cycles} cycles, "
        f"{args.concurrency} sends at a time, {args.readers} readers (one holding a snapshot {args.hold_ms:g} ms "
        "every 50 reads)"
    )
    print(f"{'policy':<22} {'sends':>7} {'tx':>6} {'tx/s':>6} {'w/tx':>5} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'max ms':>7} {'WAL peak MB':>11} {'end MB':>7} {'quiet MB':>8} {'ckpts':>5}")
    results = []
    for label, chosen in (("sqlite defaults", DEFAULTS), (f"policy (max {args.wal_max_mb} MB)", policy)):
        with tempfile.TemporaryDirectory() as tmp:
            r = asyncio.run(run(Path(tmp), chosen, label, args))
        print(f"{label:<22} {r['sends']:>7} {r['transactions']:>6} {r['tx_per_s']:>6.0f} {r['writes_per_tx']:>5.1f} "
              f"{r['intent_p50_ms']:>7.1f} {r['intent_p95_ms']:>7.1f} {r['intent_max_ms']:>7.1f} "
              f"{r['wal_peak_mb']:>11.1f} {r['wal_end_mb']:>7.1f} {r['wal_quiet_mb']:>8.1f} {r['checkpoints']:>5}",
              flush=True)
        emit("wal", r)
        results.append(r)
    return results


if __name__ == "__main__":
    main()
