"""Start-up check that the session folders mirror the database (see ``pool.moves`` for why they can
briefly disagree after a crash).

The rows are the truth. A session file found in another folder is moved to where its row says (with
its SQLite side files); a file no row claims is reported, never deleted; a row whose file is nowhere is
reported. Folder and file permissions are tightened to 0700/0600 on the way. Every file found where its
row says is then checked for objects Telethon's schema lacks and rewritten fresh if it has any
(``pool.sanitize``: files an older version stored as uploaded).

First, the leftovers of an interrupted upload (``pool.staging``) are completed or removed, and counted.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from core.private_files import DIR_MODE, FILE_MODE
from core.texts import intake as intake_texts
from pool.layout import check_folder, ensure_layout, is_session_folder, owner_of_side_file
from pool.moves import move_file, move_side_files
from pool.sanitize import TMP_SUFFIX, SanitizeReport, remove_leftover, sanitize
from pool.staging import STAGING, settle
from storage import sessions as session_rows
from storage.db import Database
from storage.sessions import Placement

logger = logging.getLogger(__name__)

_IGNORED_AT_ROOT = ("README", ".")  # the folder's own README, dotfiles


@dataclass
class ReconcileReport:
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # (file name, from folder, to folder)
    unknown: list[str] = field(default_factory=list)  # paths relative to sessions_dir no row claims
    missing: list[tuple[int, str]] = field(default_factory=list)  # (session id, where the row says)
    conflicts: list[tuple[int, list[str]]] = field(default_factory=list)  # one session's file in many places
    sanitized: SanitizeReport = field(default_factory=SanitizeReport)  # files rewritten fresh (pool.sanitize)
    staged_completed: int = 0  # interrupted uploads whose row had committed: completed
    staged_removed: int = 0  # interrupted uploads without a row: their files removed

    @property
    def clean(self) -> bool:
        s = self.sanitized
        return not (self.moved or self.unknown or self.missing or self.conflicts or s.rewritten or s.unreadable
                    or s.leftovers or self.staged_completed or self.staged_removed)

    def lines(self) -> list[str]:
        out = [intake_texts.folder_moved(name, src, dst) for name, src, dst in self.moved]
        out += [intake_texts.folder_unknown_file(path) for path in self.unknown]
        out += [intake_texts.folder_file_missing(sid, where) for sid, where in self.missing]
        out += [intake_texts.folder_conflict(sid, paths) for sid, paths in self.conflicts]
        out += [intake_texts.folder_rewritten(sid, kinds) for sid, kinds in self.sanitized.rewritten]
        out += [intake_texts.folder_unreadable(sid) for sid in self.sanitized.unreadable]
        out += [intake_texts.folder_leftover_removed(path) for path in self.sanitized.leftovers]
        if self.staged_completed or self.staged_removed:
            out.append(intake_texts.interrupted_uploads(self.staged_completed, self.staged_removed))
        return out


def _scan(root: Path) -> tuple[dict[str, list[str]], dict[str, list[tuple[str, str]]], list[str]]:
    """(files by name -> folders, side files by their session file's name -> (folder, name), other files).

    ``os.scandir`` and plain strings: start-up walks every session file (30,000 at 10,000 customers),
    and ``DirEntry`` answers is-dir / is-file from the directory listing without a ``stat`` each."""
    mains: dict[str, list[str]] = defaultdict(list)
    sides: dict[str, list[tuple[str, str]]] = defaultdict(list)
    others: list[str] = []
    pending = [(os.fspath(root), ".")]
    while pending:
        path, folder = pending.pop()
        try:
            with os.scandir(path) as listing:
                entries = list(listing)
        except OSError as exc:  # an unreadable sub-folder: reported, the rest goes on
            logger.warning("session folders: cannot read %s: %s", folder, exc)
            others.append(f"{folder}/")
            continue
        for entry in entries:
            name = entry.name
            rel = name if folder == "." else f"{folder}/{name}"
            if entry.is_dir(follow_symlinks=False):
                _tighten(entry.path, rel)
                if folder == "." and name == STAGING:
                    continue  # uploads on their way in: pool.staging settled it already
                pending.append((entry.path, rel))
                continue
            if folder == "." and name.startswith(_IGNORED_AT_ROOT):
                continue
            # Symlinks, sockets, and any file outside the layout's own folders (a sub-folder of one,
            # a foreign folder, the root): reported as odd and never moved, even under a row's name.
            if not entry.is_file(follow_symlinks=False) or not is_session_folder(folder):
                others.append(rel)
                continue
            owner = owner_of_side_file(name)
            if owner is not None:
                sides[owner].append((folder, name))
            else:
                mains[name].append(folder)
    return mains, sides, others


def _tighten(path: str, rel: str) -> None:
    """0700 on a folder; one that cannot be changed (another owner) is logged, never fatal."""
    try:
        os.chmod(path, DIR_MODE)  # noqa: PTH101 - see _scan
    except OSError as exc:
        logger.warning("session folders: cannot set the mode of %s: %s", rel, exc)


def _place(root: Path, report: ReconcileReport, sid: int, file_name: str, folder: str, found: list[str]) -> bool:
    """True when the file is (now) where its row says."""
    want = check_folder(folder)
    if not found:
        report.missing.append((sid, want))
        return False
    if len(found) > 1:
        report.conflicts.append((sid, [f"{f}/{file_name}" for f in found]))
        return False
    if found[0] != want:
        move_file(root, file_name, found[0], want)
        report.moved.append((file_name, found[0], want))
    os.chmod(os.path.join(root, want, file_name), FILE_MODE)  # noqa: PTH101,PTH118 - once per session file
    return True


async def reconcile(db: Database, sessions_dir: Path, *, ipv6: bool = False) -> ReconcileReport:
    """Make the folders agree with the rows; returns what was done and what needs a person.
    ``ipv6``: ``[pool] ipv6``, the family of the DC address a rewritten file gets."""
    report = ReconcileReport()
    ensure_layout(sessions_dir)
    # The write lock keeps every other pool change out while files are looked at and moved.
    async with db.tx() as conn:
        placements = await session_rows.list_placements(conn)
        staged = settle(sessions_dir, {p.file_name: p.folder for p in placements})
        report.staged_completed, report.staged_removed = staged.completed, staged.removed
        mains, sides, others = _scan(sessions_dir)
        in_place: list[Placement] = []
        others += staged.odd
        for placement in placements:
            sid, file_name, want, _test = placement
            if _place(sessions_dir, report, sid, file_name, want, mains.pop(file_name, [])):
                in_place.append(placement)
            for folder in mains.pop(file_name + TMP_SUFFIX, []):  # an interrupted rewrite (pool.sanitize)
                remove_leftover(sessions_dir, f"{folder}/{file_name}{TMP_SUFFIX}")
                report.sanitized.leftovers.append(f"{folder}/{file_name}{TMP_SUFFIX}")
            for folder in sorted({f for f, _name in sides.pop(file_name, [])} - {want}):
                if move_side_files(sessions_dir, file_name, folder, want):
                    report.moved.append((intake_texts.side_files(file_name), folder, want))
        for name, folders in sorted(mains.items()):
            report.unknown += [f"{f}/{name}" if f != "." else name for f in folders]
        for entries in sides.values():
            report.unknown += [f"{f}/{name}" if f != "." else name for f, name in entries]
        report.unknown = sorted(report.unknown + others)
        sanitize(sessions_dir, in_place, report.sanitized, ipv6=ipv6)
    for line in report.lines():
        logger.warning("session folders: %s", line)
    return report
