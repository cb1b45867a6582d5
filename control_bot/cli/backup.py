"""``adbot backup [PATH]``, ``adbot restore PATH`` (``--check``: only check it) and ``adbot prune``
(``docs/BACKUP.md``).

``backup`` needs no lock: it reads while the service runs (SQLite's online backup API). ``restore``
holds the data dir's instance lock, so no ``adbot run`` starts on a half-restored data dir; ``prune``
too (it writes the ledger). The operator's wording is here, plain English like the rest of the
command line; standard library only at import time (``adbot --help``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from control_bot.cli.common import Subparsers, add_command, run_with_db

if TYPE_CHECKING:
    from control_bot.backup.archive import Manifest
    from core.config import Settings
    from storage.db import Database

HELP_BACKUP = "write a backup (database, session files, media) into one 0600 archive, also while adbot runs"
HELP_BACKUP_PATH = "archive file or existing folder (default: [backup] dir, a name with the UTC time)"
HELP_RESTORE = "check a backup and restore it into an empty data dir and sessions folder"
HELP_RESTORE_PATH = "the backup archive (.tar.gz)"
HELP_RESTORE_CHECK = "only check the archive (manifest, hashes, database integrity); restore nothing"
HELP_PRUNE = "fold sends older than [retention] days into per-day figures, delete old customer logs"
HELP_PRUNE_DRY = "only count what would be pruned"


def _describe(manifest: Manifest) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(manifest.created_at))
    return (
        f"made {when} by adbot {manifest.adbot_version}, schema version {manifest.schema_version}, "
        f"{len(manifest.files)} files ({manifest.sessions} session files, {manifest.media} media files)"
    )


def _destination(path: str | None, default_dir: Path, now: float) -> Path:
    """Where ``adbot backup [PATH]`` writes: an existing folder gets a timestamped name; anything else must
    name the archive itself (``.tar.gz``): ``/srv/backups/`` for a folder not made yet is refused rather
    than written as a file named ``backups``."""
    from control_bot.backup.archive import SUFFIX, BackupRefused, archive_name

    if path is None:
        return default_dir / archive_name(now)
    dest = Path(path)
    if dest.is_dir():
        return dest / archive_name(now)
    if path.endswith(("/", os.sep)) or not dest.name.endswith(SUFFIX):
        raise BackupRefused(
            f"{path} is no existing folder and no archive name ending in {SUFFIX}: "
            "create the folder first, or name the file (e.g. adbot-backup.tar.gz)"
        )
    return dest


def _cannot_write(exc: OSError, where: Path) -> Exception:
    """One line for a file system error (a folder not writable, a read-only root, a full disk)."""
    from control_bot.backup.archive import BackupRefused

    return BackupRefused(f"cannot write {exc.filename or where}: {exc.strerror or exc}")


def _cmd_backup(args: argparse.Namespace) -> int:
    from control_bot.backup.archive import create_backup
    from core.config import load_settings

    settings = load_settings(args.config)
    now = time.time()
    dest = _destination(args.path, settings.backup.dir, now)
    try:
        result = create_backup(settings.paths.data_dir, settings.paths.sessions_dir, dest, now=now)
    except OSError as exc:
        raise _cannot_write(exc, dest) from None
    if args.json:
        print(json.dumps({"path": str(result.path), "size": result.size, "seconds": round(result.seconds, 3),
                          "skipped": list(result.skipped), "manifest": result.manifest.as_json()}, indent=2))
        return 0
    print(f"backup written and checked: {result.path} ({result.size / 1e6:.1f} MB in {result.seconds:.1f} s)")
    print(_describe(result.manifest))
    if result.skipped:
        shown = ", ".join(result.skipped[:5]) + (" ..." if len(result.skipped) > 5 else "")
        print(f"{len(result.skipped)} file(s) in the sessions folder skipped: names a restore refuses (only "
              f"ASCII letters, digits and ._+- , no leading dot, at most 3 folders deep): {shown}")
    print("It holds session files (account credentials): keep it as safe as the sessions folder.")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from control_bot.backup.archive import check_backup, restore_backup
    from core.config import load_settings
    from storage.instance_lock import hold_instance_lock

    archive = Path(args.path)
    if args.check:
        try:
            manifest = check_backup(archive)
        except OSError as exc:  # no private temporary folder
            raise _cannot_write(exc, archive) from None
        print(f"backup ok: {archive}: {_describe(manifest)}")
        return 0
    settings = load_settings(args.config)
    data_dir, sessions_dir = settings.paths.data_dir, settings.paths.sessions_dir
    from control_bot.backup.archive import refuse_unless_empty

    try:
        refuse_unless_empty(data_dir, sessions_dir)  # before the lock file is made in it
        with hold_instance_lock(data_dir):
            manifest = restore_backup(archive, data_dir, sessions_dir)
    except OSError as exc:
        raise _cannot_write(exc, data_dir) from None
    print(f"restored {archive}: {_describe(manifest)}")
    print(f"into {data_dir} and {sessions_dir}. Start adbot as usual: migrations run at start if needed.")
    return 0


def _prune_json(report: Any) -> dict[str, Any]:
    return {
        "cutoff": report.cutoff, "ledger_rows": report.ledger_rows, "batches": report.batches,
        "log_files": report.log_files, "dry_run": report.dry_run,
    }


def _cmd_prune(args: argparse.Namespace) -> int:
    from control_bot import retention

    async def work(settings: Settings, db: Database) -> retention.PruneReport | None:
        return await retention.prune(db, settings, time.time(), dry_run=args.dry_run)

    report = run_with_db(args, work, writes=not args.dry_run)
    if report is None:
        print("retention is off ([retention] days = 0): nothing pruned")
        return 0
    if args.json:
        print(json.dumps(_prune_json(report), indent=2))
        return 0
    before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(report.cutoff))
    verb = "would fold" if report.dry_run else "folded"
    print(f"{verb} {report.ledger_rows} sends finished before {before} into per-day figures; "
          f"{'would delete' if report.dry_run else 'deleted'} {report.log_files} customer log files")
    return 0


def _backup_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", nargs="?", default=None, help=HELP_BACKUP_PATH)


def _restore_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help=HELP_RESTORE_PATH)
    p.add_argument("--check", action="store_true", help=HELP_RESTORE_CHECK)


def _prune_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help=HELP_PRUNE_DRY)


def register(subparsers: Subparsers) -> None:
    """``backup``, ``restore`` and ``prune`` (their arguments declared when used: ``common.LazyParser``)."""
    add_command(subparsers, "backup", _cmd_backup, HELP_BACKUP, json=True, arguments=_backup_arguments)
    add_command(subparsers, "restore", _cmd_restore, HELP_RESTORE, arguments=_restore_arguments)
    add_command(subparsers, "prune", _cmd_prune, HELP_PRUNE, json=True, arguments=_prune_arguments)
