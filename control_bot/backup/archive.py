"""One backup archive: made while the service runs, checked whole, restored into an empty data dir.

The archive is a gzipped tar, 0600 from its first byte (session files are account credentials):

    data/adbot.sqlite3        the database, copied with SQLite's online backup API (``storage.backup``)
    data/media/<sha256>       the media customers' own posts keep
    sessions/<folder>/<file>  every session file, each SQLite one copied with the backup API as well
    manifest.json             format, when, adbot's version, the schema version, each file's sha256 and size

The database is copied first, then the session files: a session an assignment moved in between is found
again by its name (names are unique) and stored where it was found; the start-up reconciliation
(``pool.reconcile``) puts it back where its row says. A restore unpacks into a staging folder inside the
data dir, checks every name, size and hash against the manifest and the database with
``PRAGMA integrity_check``, and only then moves the files into place (0700 folders, 0600 files). It never
writes into a data dir or a sessions folder that holds anything.

Synchronous file work: callers run it in a thread. Nothing here logs a file's contents.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core.errors import AdbotError
from core.private_files import DIR_MODE, FILE_MODE, fsync_dir, make_private_dir
from storage import backup as sqlite_backup
from storage.instance_lock import LOCK_FILE

logger = logging.getLogger(__name__)

FORMAT = "adbot-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBER = "data/adbot.sqlite3"
DB_FILE = "adbot.sqlite3"  # ``Settings.db_path``'s name inside the data dir
MEDIA_DIR = "media"  # ``control_bot.post_intake.MEDIA_DIR`` (not imported: it pulls in aiogram)
SUFFIX = ".tar.gz"
SIDE_SUFFIXES = ("-journal", "-wal", "-shm")  # SQLite's side files: the backup API's copy includes them
_PART = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,254}")  # one path part: no leading dot, so no '..'
_MAX_MANIFEST = 64 * 1024 * 1024
_CHUNK = 1 << 20
_SESSIONS_IGNORED = ("README.md",)  # the repository's note in an empty sessions folder
PARTIAL = ".partial"


class BackupRefused(AdbotError):
    """A backup could not be made, or an archive is not one this adbot restores (the message says why)."""


@dataclass(frozen=True)
class FileEntry:
    name: str  # the member's name in the archive
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    created_at: float
    adbot_version: str
    schema_version: int
    files: tuple[FileEntry, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created_at)),
            "created_at_unix": self.created_at,
            "adbot_version": self.adbot_version,
            "schema_version": self.schema_version,
            "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in self.files],
        }

    @property
    def sessions(self) -> int:
        return sum(1 for f in self.files if f.name.startswith("sessions/"))

    @property
    def media(self) -> int:
        return sum(1 for f in self.files if f.name.startswith(f"data/{MEDIA_DIR}/"))


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int  # bytes of the archive
    manifest: Manifest
    seconds: float
    skipped: tuple[str, ...] = ()  # files under the sessions folder left out: names a restore refuses


def adbot_version() -> str:
    try:
        from importlib.metadata import version

        return version("adbot")
    except Exception:  # not installed as a distribution (a plain checkout): the manifest says so
        return "unknown"


def archive_name(now: float, prefix: str = "adbot-backup") -> str:
    """``adbot-backup-20261207T031500Z.tar.gz``: sorts by time."""
    return f"{prefix}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))}{SUFFIX}"


# --- making one ------------------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """A reader that hashes and counts what passes through it (tarfile reads the member's bytes from it)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        self.count += len(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path, mtime: float) -> FileEntry:
    """Add the file at ``path`` as the member ``name`` (0600, no owner names), hashing it on the way."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, FILE_MODE, int(mtime)
        reader = _Hashing(fh)
        tar.addfile(info, reader)
    if reader.count != size:  # tarfile raises on a short file; a longer one would be cut silently
        raise OSError(f"{name} changed while it was copied")
    return FileEntry(name, reader.digest.hexdigest(), size)


def _session_walk(sessions_dir: Path) -> Iterator[tuple[Path, bool]]:
    """(path, kept) of every file under ``sessions_dir``, sorted; SQLite side files and links left out.
    ``kept`` is False for a name a restore refuses (``_safe_name``: the one rule for both): such a file
    (an operator's "My Imports/tdata/...", "Иван.session") is skipped, never put into an archive that
    would then be refused whole."""
    if not sessions_dir.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(sessions_dir):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.endswith(SIDE_SUFFIXES) or path.is_symlink() or not path.is_file():
                continue
            if path.parent == sessions_dir and name in _SESSIONS_IGNORED:
                continue
            yield path, _safe_name(_session_member(sessions_dir, path))


def _session_member(sessions_dir: Path, path: Path) -> str:
    return f"sessions/{path.relative_to(sessions_dir).as_posix()}"


def _session_files(sessions_dir: Path) -> Iterator[Path]:
    """Every session file to keep (``_session_walk``'s kept ones)."""
    return (path for path, kept in _session_walk(sessions_dir) if kept)


def _find_by_name(sessions_dir: Path, name: str) -> Path | None:
    """Where a session file named ``name`` is now (it moved while the backup ran), if anywhere."""
    for path in _session_files(sessions_dir):
        if path.name == name:
            return path
    return None


def _add_session(tar: tarfile.TarFile, sessions_dir: Path, path: Path, staging: Path) -> FileEntry | None:
    """Add one session file: a consistent SQLite copy (or its bytes, if it is no SQLite file); found again
    by name if it moved meanwhile; None when it is gone (a session removed while the backup ran)."""
    for _attempt in range(3):
        try:
            if sqlite_backup.is_sqlite(path):
                copy = staging / "session.copy"
                try:
                    sqlite_backup.snapshot(path, copy)
                except sqlite_backup.SnapshotFailed as exc:  # damaged: kept as it is, for the record
                    logger.warning("backup: session file %s copied byte for byte: %s", path.name, exc)
                    return _add(tar, f"sessions/{path.relative_to(sessions_dir).as_posix()}", path, time.time())
                try:
                    return _add(tar, f"sessions/{path.relative_to(sessions_dir).as_posix()}", copy, time.time())
                finally:
                    copy.unlink(missing_ok=True)
            return _add(tar, f"sessions/{path.relative_to(sessions_dir).as_posix()}", path, path.stat().st_mtime)
        except FileNotFoundError:
            moved = _find_by_name(sessions_dir, path.name)
            if moved is None:
                logger.warning("backup: session file %s was removed while the backup ran", path.name)
                return None
            path = moved
    raise BackupRefused(f"session file {path.name} kept moving while it was copied; try again")


def _open_private(path: Path) -> int:
    """A new file, 0600 before its first byte, never through a link, never over an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def create_backup(data_dir: Path, sessions_dir: Path, dest: Path, *, now: float | None = None) -> BackupResult:
    """Write a backup of ``data_dir`` (its database and media) and ``sessions_dir`` to the new file ``dest``.

    Written as ``dest.partial`` and renamed when complete, so a crash never leaves something that looks
    like a backup; refuses an existing ``dest``."""
    started = time.monotonic()
    now = time.time() if now is None else now
    db_path = data_dir / DB_FILE
    if not db_path.is_file():
        raise BackupRefused(f"no database at {db_path}: nothing to back up (check [paths] data_dir)")
    if dest.exists():
        raise BackupRefused(f"{dest} exists already; choose another name")
    if not dest.parent.exists():
        make_private_dir(dest.parent)
    partial = dest.with_name(dest.name + PARTIAL)
    entries: list[FileEntry] = []
    skipped: list[str] = []
    staging = Path(tempfile.mkdtemp(prefix=".adbot-backup-", dir=dest.parent))  # 0700
    try:
        fd = _open_private(partial)
        try:
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
                    db_copy = staging / DB_FILE
                    try:
                        sqlite_backup.snapshot(db_path, db_copy)
                    except sqlite_backup.SnapshotFailed as exc:
                        raise BackupRefused(f"the database could not be copied: {exc}") from exc
                    schema = sqlite_backup.schema_version(db_copy)
                    entries.append(_add(tar, DB_MEMBER, db_copy, now))
                    db_copy.unlink()
                    for path, kept in list(_session_walk(sessions_dir)):
                        if not kept:
                            skipped.append(path.relative_to(sessions_dir).as_posix())
                            continue
                        entry = _add_session(tar, sessions_dir, path, staging)
                        if entry is not None:
                            entries.append(entry)
                    entries.extend(_add_media(tar, data_dir / MEDIA_DIR))
                    manifest = Manifest(now, adbot_version(), schema, tuple(entries))
                    body = json.dumps(manifest.as_json(), indent=2).encode("utf-8")
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mode, info.mtime = len(body), FILE_MODE, int(now)
                    tar.addfile(info, io.BytesIO(body))
                raw.flush()
                os.fsync(raw.fileno())
            _check_written(partial, staging / "check")
            partial.replace(dest)
            fsync_dir(dest.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if skipped:
        logger.warning(
            "backup: %d file(s) in the sessions folder left out: names a restore refuses (only ASCII letters, "
            "digits and ._+- , no leading dot, at most 3 folders deep): %s",
            len(skipped), ", ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else ""),
        )
    return BackupResult(dest, dest.stat().st_size, manifest, time.monotonic() - started, tuple(skipped))


def _check_written(archive: Path, into: Path) -> None:
    """The archive just written, checked as a restore checks it (``unpack_checked``), before it is named
    a backup: one that would be refused is never reported good."""
    into.mkdir(mode=DIR_MODE)
    try:
        unpack_checked(archive, into)
    except BackupRefused as exc:
        raise BackupRefused(f"the archive just written does not check, so it was removed: {exc}") from None
    finally:
        shutil.rmtree(into, ignore_errors=True)


def _add_media(tar: tarfile.TarFile, media_dir: Path) -> list[FileEntry]:
    """The kept media files (each written once and never changed; one pruned meanwhile is skipped)."""
    if not media_dir.is_dir():
        return []
    found = []
    for path in sorted(media_dir.iterdir()):
        if path.is_symlink() or not path.is_file() or not _PART.fullmatch(path.name):
            continue
        try:
            found.append(_add(tar, f"data/{MEDIA_DIR}/{path.name}", path, path.stat().st_mtime))
        except FileNotFoundError:
            continue
    return found


# --- checking one -----------------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    """A member name this adbot writes: data/adbot.sqlite3, data/media/<file>, sessions/<parts>, the manifest."""
    if name in (MANIFEST, DB_MEMBER):
        return True
    parts = name.split("/")
    if not all(_PART.fullmatch(part) for part in parts):
        return False
    if parts[0] == "data":
        return len(parts) == 3 and parts[1] == MEDIA_DIR
    return parts[0] == "sessions" and 2 <= len(parts) <= 4


def _write_member(source: IO[bytes], target: Path) -> tuple[str, int]:
    """Copy a member to the new file ``target`` (0600; folders 0700), returning its sha256 and size."""
    make_private_dir(target.parent)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(_open_private(target), "wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _parse_manifest(body: bytes) -> Manifest:
    try:
        data = json.loads(body)
        if data.get("format") != FORMAT:
            raise BackupRefused("not an adbot backup: its manifest names another format")
        if int(data.get("format_version", 0)) > FORMAT_VERSION:
            raise BackupRefused("made by a newer adbot (a newer backup format): upgrade adbot to restore it")
        files = tuple(FileEntry(str(f["name"]), str(f["sha256"]), int(f["size"])) for f in data["files"])
        return Manifest(
            float(data["created_at_unix"]), str(data.get("adbot_version", "unknown")),
            int(data["schema_version"]), files,
        )
    except BackupRefused:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupRefused(f"the manifest cannot be read ({type(exc).__name__}): the archive is damaged") from None


def unpack_checked(archive: Path, into: Path) -> Manifest:
    """Unpack ``archive`` into the empty folder ``into`` and check it whole: only names this adbot writes,
    regular files, each listed in the manifest with its size and sha256 and none missing, the database
    sound (``PRAGMA integrity_check``) and of the manifest's schema version, which this adbot can open.
    Raises ``BackupRefused`` saying what is wrong; ``into`` then holds whatever was unpacked."""
    seen: dict[str, tuple[str, int]] = {}
    manifest_body: bytes | None = None
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                name = member.name
                if not member.isreg() or not _safe_name(name):
                    raise BackupRefused(f"the archive holds {name!r}, which no adbot backup holds: refused")
                if name in seen or (name == MANIFEST and manifest_body is not None):
                    raise BackupRefused(f"the archive holds {name!r} twice: refused")
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has its bytes
                if name == MANIFEST:
                    if member.size > _MAX_MANIFEST:
                        raise BackupRefused("the manifest is too big: the archive is damaged")
                    manifest_body = source.read()
                    continue
                seen[name] = _write_member(source, into / name)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise BackupRefused(f"no such file: {archive}") from None
        raise BackupRefused(f"the archive could not be unpacked ({exc}): damaged, not a backup, or no room") from None
    if manifest_body is None:
        raise BackupRefused("the archive has no manifest: not an adbot backup, or cut short")
    manifest = _parse_manifest(manifest_body)
    listed = {f.name: f for f in manifest.files}
    if len(listed) != len(manifest.files):
        raise BackupRefused("the manifest lists a file twice: the archive is damaged")
    missing = sorted(set(listed) - set(seen))
    extra = sorted(set(seen) - set(listed))
    if missing or extra:
        raise BackupRefused(
            f"the archive and its manifest disagree (missing: {', '.join(missing) or 'none'}; "
            f"not listed: {', '.join(extra) or 'none'}): it is damaged"
        )
    for name, (digest, size) in seen.items():
        entry = listed[name]
        if size != entry.size or digest != entry.sha256:
            raise BackupRefused(f"{name} does not match its sha256 in the manifest: the archive is damaged")
    if DB_MEMBER not in seen:
        raise BackupRefused("the archive holds no database")
    db_file = into / DB_MEMBER
    problems = sqlite_backup.integrity_problems(db_file)
    if problems:
        raise BackupRefused("the database in the archive is damaged: " + "; ".join(problems[:3]))
    version = sqlite_backup.schema_version(db_file)
    if version != manifest.schema_version:
        raise BackupRefused(
            f"the database is at schema version {version}, its manifest says {manifest.schema_version}: refused"
        )
    if sqlite_backup.newer_than_this_adbot(version):
        raise BackupRefused(
            f"the database is at schema version {version}, newer than this adbot's "
            f"{sqlite_backup.LATEST_VERSION}: upgrade adbot first"
        )
    return manifest


def check_backup(archive: Path) -> Manifest:
    """``unpack_checked`` into a private temporary folder, removed afterwards: is this backup restorable?"""
    with tempfile.TemporaryDirectory(prefix="adbot-check-") as tmp:
        return unpack_checked(archive, Path(tmp))


# --- restoring one ----------------------------------------------------------------------------------------


def _holds_anything(folder: Path, ignored: tuple[str, ...]) -> str | None:
    """The first thing ``folder`` holds (recursively: empty folders do not count, but any symbolic link
    does, to a folder too: a restore never writes through one) but the top-level names ``ignored``; None
    when it holds nothing."""
    if not folder.exists() and not folder.is_symlink():
        return None
    if not folder.is_dir():
        return str(folder)
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                return f"{Path(dirpath) / name}, a symbolic link"
        for name in filenames:
            if Path(dirpath) == folder and name in ignored and not (folder / name).is_symlink():
                continue
            path = Path(dirpath) / name
            return f"{path}, a symbolic link" if path.is_symlink() else str(path)
    return None


def refuse_unless_empty(data_dir: Path, sessions_dir: Path) -> None:
    """A restore writes only where nothing is: ``BackupRefused`` naming the first file found otherwise.
    The data dir's lock file (``storage.instance_lock``) holds nothing and does not count."""
    for folder, ignored in ((data_dir, (LOCK_FILE,)), (sessions_dir, _SESSIONS_IGNORED)):
        found = _holds_anything(folder, ignored)
        if found is not None:
            raise BackupRefused(
                f"{folder} is not empty (it holds {found}): a restore only fills an empty data dir and "
                "sessions folder. Move them aside first."
            )


def _tighten(folder: Path) -> None:
    """0700 folders and 0600 files all the way down (never through a link: its target is not ours)."""
    folder.chmod(DIR_MODE)
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                path.chmod(DIR_MODE if name in dirnames else FILE_MODE)


def _no_link_below(target: Path, folder: Path) -> None:
    """Refuse ``folder`` (under ``target``) if any part of it from ``target`` down is a symbolic link:
    a file moved there would land outside ``target``."""
    part = target
    for name in folder.relative_to(target).parts:
        part = part / name
        if part.is_symlink():
            raise BackupRefused(f"{part} is a symbolic link (it appeared while restoring): refused")


def _move_tree(source: Path, target: Path) -> None:
    """Move every file under ``source`` to the same place under ``target`` (folders made 0700), never
    over an existing file nor through a link; a rename where both are on one file system, else a copy."""
    if target.is_symlink():
        raise BackupRefused(f"{target} is a symbolic link: refused")
    for dirpath, _dirs, filenames in os.walk(source):
        for name in filenames:
            src = Path(dirpath) / name
            dst = target / src.relative_to(source)
            _no_link_below(target, dst.parent)
            make_private_dir(dst.parent)
            _no_link_below(target, dst.parent)
            if dst.exists() or dst.is_symlink():
                raise BackupRefused(f"{dst} appeared while restoring: refused")
            shutil.move(str(src), str(dst))


def restore_backup(archive: Path, data_dir: Path, sessions_dir: Path) -> Manifest:
    """Restore ``archive`` into the empty ``data_dir`` and ``sessions_dir`` (``refuse_unless_empty``).

    Unpacked and checked in a staging folder inside the data dir first (``unpack_checked``): a refused
    archive leaves both as they were. The caller holds the data dir's instance lock."""
    refuse_unless_empty(data_dir, sessions_dir)
    make_private_dir(data_dir)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    try:
        manifest = unpack_checked(archive, staging)
        (staging / DB_MEMBER).replace(data_dir / DB_FILE)
        if (staging / "data" / MEDIA_DIR).is_dir():
            _move_tree(staging / "data" / MEDIA_DIR, data_dir / MEDIA_DIR)
        make_private_dir(sessions_dir)
        if (staging / "sessions").is_dir():
            _move_tree(staging / "sessions", sessions_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _tighten(data_dir)
    _tighten(sessions_dir)
    with contextlib.suppress(OSError):
        fsync_dir(data_dir)
        fsync_dir(sessions_dir)
    return manifest
