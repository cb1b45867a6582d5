"""Every benchmark, one after the other, each in its own process; then one table of the headline figures.

    .venv/bin/python -m benchmarks [--quick] [--json FILE]
        [--only overhead,cycle,memory,status,startup,discovery,placement,soak,scale]

Each benchmark prints its own table as it runs and one ``RESULT {...}`` line per figure; this collects
those lines, prints the headline of each against its target, and with ``--json`` writes every result
line to FILE (one JSON object per line). A separate process per benchmark, so none inherits another's
heap, garbage-collector state or threads. Exit status 1 when a benchmark failed to run; figures are
reported against their targets, never asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = ("overhead", "cycle", "memory", "status", "startup", "discovery", "placement", "soak", "scale")
Result = dict[str, Any]


def _overhead(r: Result) -> tuple[str, str, bool | None]:
    what = f"engine overhead, {r['campaigns']} campaigns, {r['setup']}"
    return what, f"{r['fwd_per_cpu_s']:,.0f} forwards/CPU-s", r["fwd_per_cpu_s"] >= r["target"]


def _cycle(r: Result) -> tuple[str, str, bool | None]:
    what = f"cycle / bound, {r['campaigns']} campaigns, spacing {r['spacing_s']:g} s"
    figure = f"{r['ratio']:.3f} ({r['cycle_s']:.1f} s / {r['bound_s']:.1f} s), {r['requests_per_post']:.2f} req/post"
    if r["requests_per_post"] > 1.0:
        return what, figure, False  # a post costs more than its one request: a miss at any size
    return what, figure, r["ratio"] <= r["target_ratio"] if r["campaigns"] >= 1000 else None


def _memory(r: Result) -> tuple[str, str, bool | None]:
    return (
        "memory per campaign / per session / per Telethon client",
        f"{r['per_campaign_kib']:.0f} / {r['per_session_kib']:.0f} / {r['per_telethon_client_kib']:.0f} KiB",
        None,
    )


def _status(r: Result) -> tuple[str, str, bool | None]:
    what = f"/status p50 / p95, {r['phase']}, {r['campaigns']} campaigns, spacing {r['spacing_s']:g} s"
    meets = r["p95_ms"] < r["target_p95_ms"] if r["phase"] == "cycle" and r["campaigns"] >= 1000 else None
    return what, f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} ms ({r['samples']} probes)", meets


def _startup(r: Result) -> tuple[str, str, bool | None]:
    what = f"start-up, {r['customers']} customers, on_restart = {r['on_restart']}"
    meets = r["wall_s"] < r["target_s"] if r["customers"] >= 10_000 else None
    return what, f"{r['wall_s']:.2f} s wall ({r['cpu_s']:.2f} s CPU)", meets


def _discovery(r: Result) -> tuple[str, str, bool | None]:
    what = f"discovery, {r['dialogs']} dialogs, refresh {r['refresh_hours']:g} h"
    figure = (
        f"{r['requests_per_session_day']:g} getDialogs requests/session/day "
        f"({r['requests_per_scan']:g} a scan; Telethon {r['telethon_requests_per_scan']:g})"
    )
    return what, figure, None


def _placement(r: Result) -> tuple[str, str, bool | None]:
    what = (f"placement, {r['campaigns']} campaigns x {r['groups'] // max(1, r['campaigns'])} groups over "
            f"{r['sessions']} sessions ({r['share']:.0%} memberships)")
    figure = f"{r['place_s'] * 1000:.0f} ms alone, {r['read_place_s']:.2f} s with each campaign's reads"
    return what, figure, r["place_s"] < r["target_s"] if r["campaigns"] >= 1000 else None


def _soak(r: Result) -> tuple[str, str, bool | None]:
    what = f"soak, {r['sessions']} sessions x {r['groups']} groups, {r['hours']:g} simulated h"
    figure = (f"{r['delivered']:,} posts, {r['non_member_sends']} non-member sends, {r['flood_violations']} requests"
              f" inside a wait, {r['identity_changes']} identity changes, {r['requests_per_post']:.2f} req/post")
    holds = not (r["non_member_sends"] or r["flood_violations"] or r["identity_changes"] or r["source_blamed_groups"])
    return what, figure, holds and round(r["requests_per_post"], 2) == 1.0


def _overhead_logging(r: Result) -> tuple[str, str, bool | None]:
    what = f"forwards per CPU-s with logging on / off, {r['campaigns']} campaigns"
    return what, f"{r['ratio']:.1%} ({r['with_log']:,.0f} / {r['without_log']:,.0f})", r["ratio"] >= r["target"]


def _scale(r: Result) -> tuple[str, str, bool | None]:
    what = f"scale, {r['sessions']:,} Telethon clients, {r['campaigns']:,} campaigns"
    figure = (f"peak RSS {r['peak_rss_mib']:,.0f} MiB, {r['fwd_per_cpu_s']:,.0f} fwd/CPU-s, "
              f"{r['requests_per_connection']:.2f} req/connection, {r['requests_per_post']:.2f} req/post")
    meets = (r["peak_rss_mib"] <= 4096 and r["requests_per_connection"] <= 2 and round(r["requests_per_post"], 2) == 1
             if r["sessions"] >= 10_000 else None)
    return what, figure, meets


HEADLINES: dict[str, Callable[[Result], tuple[str, str, bool | None]]] = {
    "overhead": _overhead,
    "overhead_logging": _overhead_logging,
    "scale": _scale,
    "cycle": _cycle,
    "memory": _memory,
    "status": _status,
    "startup": _startup,
    "discovery": _discovery,
    "placement": _placement,
    "soak": _soak,
}


def run_one(name: str, quick: bool) -> tuple[int, list[Result], float]:
    """Run ``benchmarks.bench_<name>``, echoing its output; its exit status, RESULT lines and seconds."""
    command = [sys.executable, "-m", f"benchmarks.bench_{name}", *(["--quick"] if quick else [])]
    started = time.perf_counter()
    results: list[Result] = []
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("RESULT "):
                results.append(json.loads(line[len("RESULT "):]))
            else:
                print(line, end="", flush=True)
    return proc.returncode, results, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every benchmark's small variant (a few minutes)")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset, in this order")
    parser.add_argument("--json", type=Path, default=None, help="write every RESULT line here (JSON lines)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")

    collected: list[Result] = []
    failed: list[str] = []
    timings: list[str] = []
    for name in names:
        code, results, seconds = run_one(name, args.quick)
        collected += results
        timings.append(f"{name} {seconds:.0f} s")
        if code != 0 or not results:
            failed.append(name)

    print("\n== headline figures ==")
    for r in collected:
        what, figure, meets = HEADLINES[r["bench"]](r)
        verdict = "" if meets is None else ("  meets target" if meets else "  MISSES target")
        print(f"  {what}: {figure}{verdict}")
    print(f"  ({'; '.join(timings)}{'; quick variants' if args.quick else ''})")
    if args.json is not None:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in collected), encoding="utf-8")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
