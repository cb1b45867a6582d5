"""What ``adbot --help`` costs: wall time, peak RSS and modules loaded, each run in a fresh interpreter.

    .venv/bin/python -m benchmarks.bench_cli_help [--runs 7] [--source DIR] [--argv "--help"]

Two cases: *warm* (the bytecode caches exist, as after any earlier run) and *cold* (a fresh, empty
``-X pycache_prefix`` per run: every module is compiled from source, as on the first run after an install
that wrote no bytecode, or a read-only tree). ``--source DIR`` measures another checkout (put first on
``PYTHONPATH``; e.g. ``git archive 13f0ce5 | tar -x -C /tmp/base`` for the code before issue 20). The
figures are medians (wall) and the maximum (RSS) over the runs; the machine's load moves the wall times,
not the RSS or the module count.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHILD = (
    "import sys\n"
    "from control_bot.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(len(sys.modules), file=sys.stderr)\n"
)


def emit(name: str, figures: dict[str, object]) -> None:
    """``benchmarks.common.emit``'s line, written here: importing that module would make this process, and
    so each child's RSS before its ``exec`` (which ``wait4`` reports), some 60 MiB."""
    print(f"RESULT {json.dumps({'bench': name, **figures})}", flush=True)


def one_run(source: Path, argv: list[str], pycache: Path | None) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in KiB, modules loaded) of one fresh interpreter running the CLI."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("ADBOT_CONFIG", None)
    cmd = [sys.executable]
    if pycache is not None:
        cmd += ["-X", f"pycache_prefix={pycache}"]
    cmd += ["-c", CHILD, *argv]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tempfile.gettempdir())
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    modules = int(err.strip().splitlines()[-1])
    return wall, int(usage.ru_maxrss), modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--source", type=Path, default=REPO)
    parser.add_argument("--argv", default="--help")
    args = parser.parse_args()
    argv = args.argv.split()
    print(f"adbot {' '.join(argv)} from {args.source}, {args.runs} runs each, load {os.getloadavg()[0]:.2f}")
    for case in ("warm", "cold"):
        runs = []
        with tempfile.TemporaryDirectory() as tmp:
            if case == "warm":
                one_run(args.source, argv, None)  # make sure the caches exist
            for i in range(args.runs):
                runs.append(one_run(args.source, argv, Path(tmp) / str(i) if case == "cold" else None))
        wall = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        modules = runs[0][2]
        print(f"  {case}: median {wall * 1000:.0f} ms (min {min(r[0] for r in runs) * 1000:.0f}),"
              f" peak RSS {rss / 1024:.1f} MiB, {modules} modules")
        emit("cli_help", {"case": case, "argv": argv, "source": str(args.source), "wall_ms": round(wall * 1000),
                          "rss_mib": round(rss / 1024, 1), "modules": modules})


if __name__ == "__main__":
    main()
