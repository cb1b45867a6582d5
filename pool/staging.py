"""How an accepted upload's session file reaches the pool so that no crash leaves anything behind.

The protocol (``pool.intake._store`` runs steps 2 to 6 inside the row's ``BEGIN IMMEDIATE``; steps 3 and
4 run in one thread that a cancelled upload still waits for, ``StagedFile.place``, so that clean-up
never runs before the thread stops creating files):

1. ``sessions_dir/staging/`` (0700) is the only place a file is written: it lives inside
   ``sessions_dir``, hence on the pool folders' filesystem, so steps 4 and 7 are atomic link/unlink
   operations, never a copy. (The data dir may be another filesystem: ``[paths]`` sets them apart.)
   Nothing with an auth key ever goes to the system temp folder.
2. the row is inserted (not committed);
3. the bytes are written to ``staging/<name>`` (0600, ``O_EXCL``), fsynced, and the folder fsynced;
4. the staged file is hard-linked to ``unused/<name>`` and that folder fsynced: the pool file appears
   whole, in one step;
5. COMMIT;
6. the staged name is unlinked.

Why a hard link, and before COMMIT: the staged name is the marker that tells start-up which pool file
may not be committed yet. Every crash window leaves a state ``settle`` can always resolve from the rows:

* during 2-3: a partial or whole staged file, no row, no pool file: the staged file is removed;
* during 4-5 (link made, no COMMIT): the staged file and its pool link, no row: both are removed (the
  pool name only when it is the same file as the staged one);
* after 5, before 6: the row, the pool file and the staged name: the staged name is removed (the
  upload is complete); a row whose file is nowhere but in staging is completed (linked into place).

Renaming into the pool after COMMIT was rejected: between the COMMIT and the rename a committed row
points at a missing file, which the running engine could open (Telethon quietly creates an empty
session at a missing path) or move. Renaming before COMMIT was rejected too: a crash between the rename
and the COMMIT leaves a pool file no row claims and nothing marks it as ours to delete.

``settle`` runs at start-up and in ``adbot pool reconcile`` (``pool.reconcile``), under the database
write lock that every intake holds while it works on these files, so it never races a live upload.
It reports counts, never names or contents of the files.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.private_files import DIR_MODE, fsync_dir, write_private_file
from pool.layout import UNUSED, check_folder, ensure_dir

logger = logging.getLogger(__name__)

STAGING = "staging"
"""The staging folder, relative to ``sessions_dir`` (not a session folder: reconcile leaves it to us)."""

_write = os.write  # the one writing call (a seam tests use to simulate a full disk)


def staging_dir(sessions_dir: Path) -> Path:
    return ensure_dir(sessions_dir, STAGING)


def _write_new(path: Path, data: bytes) -> None:
    """A new 0600 file with ``data``, fsynced; a failed write removes what it created."""
    write_private_file(path, data, write=_write)


async def _to_the_end(fn: Callable[[bytes], None], data: bytes) -> None:
    """``fn(data)`` in a thread, awaited to its end even when the caller is cancelled meanwhile (the
    cancellation is raised then, once the thread is done; the thread's own error goes with it)."""
    work = asyncio.ensure_future(asyncio.to_thread(fn, data))
    cancelled: asyncio.CancelledError | None = None
    while not work.done():
        try:
            await asyncio.wait({work})  # unlike shield, wait() never cancels what it waits for
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is not None:
        if not work.cancelled() and work.exception() is not None:
            logger.warning("staging an upload failed while it was cancelled: %s", work.exception())
        raise cancelled
    work.result()


class StagedFile:
    """One upload's file on its way into ``unused/`` (steps 3, 4 and 6 of the module doc)."""

    def __init__(self, sessions_dir: Path, name: str) -> None:
        self.staged = staging_dir(sessions_dir) / name
        self.target = ensure_dir(sessions_dir, UNUSED) / name
        self._linked = False

    async def place(self, data: bytes) -> None:
        """Steps 3 and 4, in a thread. Cancelled meanwhile, it still waits for the thread to end before
        it raises: a thread cannot be stopped, and a ``discard`` run while it works could come before the
        staged file or the pool link exists, which would then stay until the next start."""
        await _to_the_end(self._place, data)

    def _place(self, data: bytes) -> None:
        self.write(data)
        self.link()

    def write(self, data: bytes) -> None:
        _write_new(self.staged, data)
        fsync_dir(self.staged.parent)

    def link(self) -> None:
        os.link(self.staged, self.target)
        self._linked = True
        fsync_dir(self.target.parent)

    def finish(self) -> None:
        """After COMMIT: the pool file stays, the staged name goes (start-up removes it if this fails)."""
        try:
            self.staged.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("could not remove a staged upload (start-up will): %s", exc.strerror)

    def discard(self) -> None:
        """The row did not commit: neither the pool file nor the staged one may stay."""
        try:
            if self._linked:
                self.target.unlink(missing_ok=True)
            self.staged.unlink(missing_ok=True)
        except OSError as exc:
            logger.error("could not remove an uncommitted upload (start-up will): %s", exc.strerror)


@dataclass
class StagingReport:
    completed: int = 0  # staged files whose row had committed: the upload is complete
    removed: int = 0  # staged files without a row (and their uncommitted pool link): gone
    odd: list[str] = field(default_factory=list)  # entries of the staging folder that are not files


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _settle_one(sessions_dir: Path, staged: Path, folder: str | None) -> bool:
    """True: completed (the row exists); False: removed."""
    if folder is None:
        uncommitted = sessions_dir / UNUSED / staged.name
        if _same_file(staged, uncommitted):
            uncommitted.unlink()
        staged.unlink()
        return False
    target = sessions_dir / check_folder(folder) / staged.name
    if not target.exists():  # committed but never linked (not this protocol's order; still complete it)
        os.link(staged, ensure_dir(sessions_dir, folder) / staged.name)
        fsync_dir(target.parent)
    staged.unlink()
    return True


def settle(sessions_dir: Path, placements: Mapping[str, str]) -> StagingReport:
    """Complete or remove every leftover of an interrupted upload. ``placements``: file name -> the
    folder its row says (every row's). Call it under the database write lock (see the module doc)."""
    report = StagingReport()
    folder = sessions_dir / STAGING
    if not folder.is_dir():
        return report
    folder.chmod(DIR_MODE)
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        path = folder / entry.name
        if entry.is_dir(follow_symlinks=False):
            report.odd.append(f"{STAGING}/{entry.name}/")
            continue
        try:
            if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                path.unlink()  # nothing we write; the name alone goes
                report.removed += 1
                continue
            done = _settle_one(sessions_dir, path, placements.get(entry.name))
        except (OSError, ValueError) as exc:  # reported, and start-up goes on (the next start tries again)
            logger.error("could not settle an interrupted upload: %s", exc)
            report.odd.append(f"{STAGING}/{entry.name}")
            continue
        if done:
            report.completed += 1
        else:
            report.removed += 1
    if report.completed or report.removed:
        fsync_dir(folder)
        logger.warning("interrupted uploads: %d completed, %d removed", report.completed, report.removed)
    return report
