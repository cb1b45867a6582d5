"""Moving session files together with the rows that say where they are.

Order: the rows change first (inside ``BEGIN IMMEDIATE``), then the files are renamed, then COMMIT.
``os.rename`` within one filesystem is atomic, so every file is always whole in exactly one place, and:

* a move that fails (permissions, a name already taken) raises before COMMIT: the transaction rolls
  back and the moves already done are undone, so rows and files agree again;
* a crash after a move but before COMMIT leaves a file ahead of its (rolled back) row, and a crash
  after COMMIT cannot leave a moved row with an unmoved file; ``pool.reconcile`` at start-up puts any
  file found elsewhere back where its row says.

Committing first and moving afterwards was rejected: a failed move would then leave a committed row
pointing at a folder without the file, and Telethon, asked to open a path that does not exist, quietly
creates a new empty session there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pool.layout import ASSIGNED, check_file_name, check_folder, ensure_dir, side_files
from storage.db import Connection, Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Move:
    file_name: str
    src: str  # folders relative to sessions_dir
    dst: str


def _rename(src: Path, dst: Path) -> None:
    """The one place a session file changes folder (a seam tests use to simulate a crash)."""
    src.rename(dst)


def move_side_files(root: Path, file_name: str, src_folder: str, dst_folder: str) -> int:
    """Move the SQLite side files (``-journal``...) of one session file; never overwrites. Returns how many."""
    found = side_files(root / check_folder(src_folder) / check_file_name(file_name))
    dst_dir = ensure_dir(root, check_folder(dst_folder)) if found else root
    for side in found:
        target = dst_dir / side.name
        if target.exists():
            raise FileExistsError(f"{dst_folder}/{side.name} already exists")
        _rename(side, target)
    return len(found)


def move_file(root: Path, file_name: str, src_folder: str, dst_folder: str) -> bool:
    """Move one session file and its side files; False (and a warning) when the file is not there.

    Never overwrites: a name already present at the destination raises FileExistsError."""
    src = root / check_folder(src_folder) / check_file_name(file_name)
    dst = ensure_dir(root, check_folder(dst_folder)) / file_name
    if dst.exists():
        raise FileExistsError(f"{dst_folder}/{file_name} already exists")
    # Side files first: a hot journal must never be left behind while its database moves on.
    move_side_files(root, file_name, src_folder, dst_folder)
    if not src.exists():
        logger.warning("session file %s/%s is missing; its row moves without it", src_folder, file_name)
        return False
    _rename(src, dst)
    return True


class FileMoves:
    """The file moves of one transaction: planned during it, applied just before COMMIT."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._planned: list[Move] = []
        self._done: list[Move] = []

    def plan(self, file_name: str, src: str, dst: str) -> None:
        if src != dst:
            self._planned.append(Move(file_name, src, dst))

    def apply(self) -> None:
        for move in self._planned:
            if move_file(self.root, move.file_name, move.src, move.dst):
                self._done.append(move)
        self._planned.clear()

    def undo(self) -> None:
        """Best effort: put back what ``apply`` moved (the transaction did not commit)."""
        while self._done:
            move = self._done.pop()
            try:
                move_file(self.root, move.file_name, move.dst, move.src)
            except OSError:
                logger.exception("could not move %s back to %s; reconcile will", move.file_name, move.src)
        self._planned.clear()

    def prune_empty(self) -> None:
        """Remove customer folders the moves emptied (after COMMIT; only empty ones)."""
        for move in self._done:
            if move.src.startswith(ASSIGNED + "/"):
                try:
                    (self.root / move.src).rmdir()
                except OSError:
                    pass  # not empty or already gone
        self._done.clear()


@asynccontextmanager
async def pool_tx(db: Database, root: Path) -> AsyncIterator[tuple[Connection, FileMoves]]:
    """``db.tx()`` whose planned file moves are applied right before COMMIT (see the module doc)."""
    moves = FileMoves(root)
    try:
        async with db.tx() as conn:
            yield conn, moves
            moves.apply()
    except Exception:
        # Only for ordinary errors: the transaction surely rolled back. A BaseException (cancellation,
        # interpreter exit) may arrive after COMMIT went through; reconcile settles that case.
        moves.undo()
        raise
    moves.prune_empty()
