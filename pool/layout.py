"""Where session files live under ``sessions_dir`` and with which permissions.

    sessions_dir/            0700
        unused/              in the pool
        assigned/<user_id>/  owned by a customer (assigned or cooling)
        limited/             quarantine: may come back to the pool
        frozen/              frozen by Telegram: out until Telegram lifts it
        banned/              dead accounts, kept for the record
        staging/             uploads on their way into unused/ (``pool.staging``); empty at rest

Session files are account credentials: folders are 0700 and files 0600, set with an explicit chmod
because ``mkdir``/``open`` modes are filtered by the process umask.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.private_files import DIR_MODE
from core.states import SessionState

UNUSED = "unused"
ASSIGNED = "assigned"
LIMITED = "limited"
BANNED = "banned"
FROZEN = "frozen"
TOP_FOLDERS = (UNUSED, ASSIGNED, LIMITED, BANNED, FROZEN)

SESSION_SUFFIX = ".session"
# SQLite's side files (Telethon uses the rollback journal); a hot journal must stay beside its database.
SIDE_SUFFIXES = ("-journal", "-wal", "-shm")
_SIDE_ENDINGS = tuple(SESSION_SUFFIX + suffix for suffix in SIDE_SUFFIXES)
_ASSIGNED_RE = re.compile(r"assigned/[1-9][0-9]{0,18}")
_FILE_NAME_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}\.session")


def folder_for(state: SessionState, owner_id: int | None) -> str:
    """The folder (relative to sessions_dir) a session in ``state`` belongs in."""
    if state in ("assigned", "cooling"):
        if owner_id is None:
            raise ValueError("an owned session needs an owner")
        return f"{ASSIGNED}/{int(owner_id)}"
    if state == "unused":
        return UNUSED
    if state == "limited":
        return LIMITED
    if state == "frozen":
        return FROZEN
    return BANNED


def check_folder(folder: str) -> str:
    """``folder`` as stored in a row; refuses anything but the layout's own names (never a path escape)."""
    if folder in (UNUSED, LIMITED, BANNED, FROZEN) or _ASSIGNED_RE.fullmatch(folder):
        return folder
    raise ValueError(f"not a session folder: {folder!r}")


def is_session_folder(folder: str) -> bool:
    """True for the layout's own folders (where ``check_folder`` passes): a sub-folder is not one."""
    return folder in (UNUSED, LIMITED, BANNED, FROZEN) or _ASSIGNED_RE.fullmatch(folder) is not None


def check_file_name(name: str) -> str:
    """A session file name as stored in a row: one plain path component (server-generated)."""
    if _FILE_NAME_RE.fullmatch(name):
        return name
    raise ValueError(f"not a session file name: {name!r}")


def ensure_dir(root: Path, folder: str = "") -> Path:
    """Create ``root/folder`` and its missing parents below root as 0700; returns the path."""
    parts = [p for p in folder.split("/") if p]
    for depth in range(len(parts) + 1):
        target = root.joinpath(*parts[:depth])
        if not target.is_dir():
            target.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            target.chmod(DIR_MODE)
    return root.joinpath(*parts)


def ensure_layout(root: Path) -> None:
    """The top folders exist with mode 0700 (existing ones are tightened too)."""
    ensure_dir(root)
    root.chmod(DIR_MODE)
    for name in TOP_FOLDERS:
        ensure_dir(root, name).chmod(DIR_MODE)


def side_files(path: Path) -> list[Path]:
    """SQLite side files of the session at ``path`` that exist now."""
    return [p for p in (path.with_name(path.name + s) for s in SIDE_SUFFIXES) if p.exists()]


def owner_of_side_file(name: str) -> str | None:
    """``x.session-journal`` -> ``x.session``; None for anything else."""
    if not name.endswith(_SIDE_ENDINGS):  # the common case, once per file at start-up
        return None
    for suffix in SIDE_SUFFIXES:
        if name.endswith(SESSION_SUFFIX + suffix):
            return name[: -len(suffix)]
    return None
