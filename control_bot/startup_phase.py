"""Where ``adbot run`` is in its start-up, for ``adbot health`` (another process): a small file in the
data dir while the Bot API cannot be reached (``control_bot.startup.wait_for_bot_api`` writes it after
each failed ``getMe`` and removes it once the bot answers), so a monitor does not see "ok" while the
service answers nobody (issue 20, review F10).

A process killed by a signal during that wait (SIGTERM before the signal handlers are installed, SIGKILL)
leaves the file behind: it names the pid that wrote it, and counts only while that pid holds the data
dir's lock (``storage.instance_lock`` writes the holder's pid), so the next start is not reported with
the last one's wait. Standard library only (and the lock file's name): ``adbot health`` reads it without
importing aiogram.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from storage.instance_lock import LOCK_FILE

STARTUP_FILE = "startup.json"


@dataclass(frozen=True)
class StartupPhase:
    """The Bot API has not answered since ``since`` (epoch seconds), ``attempt`` tries so far; ``reason``:
    the last failure in words (scheme, host and the error's type: never a URL or the token)."""

    since: float
    attempt: int
    reason: str


def phase_path(data_dir: Path) -> Path:
    return data_dir / STARTUP_FILE


def write_phase(path: Path, phase: StartupPhase) -> None:
    """Replace the file at once (a reader sees the old or the new one, never half)."""
    tmp = path.with_name(path.name + ".tmp")
    record = {"since": phase.since, "attempt": phase.attempt, "reason": phase.reason, "pid": os.getpid()}
    tmp.write_text(json.dumps(record))
    tmp.replace(path)


def clear_phase(path: Path) -> None:
    path.unlink(missing_ok=True)


def read_phase(path: Path) -> StartupPhase | None:
    """The recorded phase, or None: no file (started, or never started), one an earlier process left (its
    pid is not the lock holder's), or an unreadable one."""
    try:
        raw = json.loads(path.read_text())
        holder = int((path.parent / LOCK_FILE).read_text().split()[0])
        if int(raw["pid"]) != holder:
            return None
        return StartupPhase(float(raw["since"]), int(raw["attempt"]), str(raw["reason"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
