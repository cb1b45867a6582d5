"""Files and folders that hold secrets (session files, the database, logs): owner-only, set explicitly.

Modes are set with an explicit chmod because ``mkdir``/``open`` modes are filtered by the process umask.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) owner-only; an existing folder is tightened to 0700 too.
    Whichever command runs first (``adbot run`` or a CLI command) creates the folder this way."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)


def make_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist, and tighten it to 0600 if it does: a file
    another program (SQLite) then opens keeps the owner-only mode it finds."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private_file(
    path: Path, data: bytes, *, write: Callable[[int, memoryview], int] = os.write
) -> None:
    """Write a new file (never overwriting, never through a symlink) readable by the owner only, flushed
    to disk; a failed write (a full disk) removes what it created. ``write``: the one writing call."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (a new, linked, replaced or removed name) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
