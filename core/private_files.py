"""Files and folders that hold secrets (session files, the database, logs): owner-only, set explicitly.

Modes are set with an explicit chmod because ``mkdir``/``open`` modes are filtered by the process umask.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def write_private_file(path: Path, data: bytes) -> None:
    """Write a new file (never overwriting) readable by the owner only, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
