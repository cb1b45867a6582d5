"""One adbot per data dir: an exclusive ``flock`` on ``<data_dir>/adbot.lock``, which holds the holder's pid.

Two ``adbot run`` on one data dir would both post (double posts) and both connect every session
(AUTH_KEY_DUPLICATED, which kills the sessions). ``adbot run`` takes the lock before anything connects
and keeps it for its whole life; the CLI commands that write to the database or the pool take it too,
so they refuse while the bot runs. The kernel drops a ``flock`` when its holder dies (SIGKILL included):
a stale lock file never blocks a restart, and the file is never deleted (deleting it would let a
second process lock a fresh inode while the first still holds the old one).

File I/O only, no SQL; it sits in storage because it guards what storage holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from core.errors import AlreadyRunning
from core.private_files import FILE_MODE, make_private_dir

LOCK_FILE = "adbot.lock"


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


class InstanceLock:
    """The held lock; ``release`` (or leaving ``hold_instance_lock``) lets it go."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock


def acquire_instance_lock(data_dir: Path) -> InstanceLock:
    """Take the data dir's lock without waiting (creating the folder 0700 if needed); raises
    ``AlreadyRunning`` with the holder's pid when another process holds it."""
    make_private_dir(data_dir)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(_read_pid(fd)) from None
        os.fchmod(fd, FILE_MODE)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except BaseException:
        os.close(fd)
        raise
    return InstanceLock(path, fd)


@contextlib.contextmanager
def hold_instance_lock(data_dir: Path) -> Iterator[InstanceLock]:
    """``acquire_instance_lock`` for the block."""
    lock = acquire_instance_lock(data_dir)
    try:
        yield lock
    finally:
        lock.release()


def is_held(data_dir: Path) -> bool:
    """Whether a process holds the data dir's lock now (``adbot health``: is the service running?).

    Probes with a shared lock, released at once; creates nothing. (A ``flock`` cannot be tested without
    taking it: an ``adbot run`` starting within the probe's microseconds refuses as already running and
    is restarted by its supervisor.)"""
    path = data_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # drops the probe's lock, when it got one
    return False
