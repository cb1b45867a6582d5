"""``adbot pool ...`` and ``adbot pairs ...``: the admins' command line for the session pool.

Thin: each command loads the settings, opens the database and calls the same service functions the
control bot uses (``pool.intake``, ``pool.pairs``, ``pool.status``, ``pool.reconcile``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from control_bot.cli.common import Subparsers, add_command, add_group, run_with_db

if TYPE_CHECKING:
    from core.config import Settings
    from storage.db import Database


def _read_upload(path: Path, max_bytes: int) -> tuple[bytes | None, str | None]:
    """The file's bytes, or why it cannot be read (never more than max_bytes + 1 bytes in memory)."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            return None, "not a regular file"
        if size > max_bytes:
            return None, f"the file is too large ({size} bytes; the limit is {max_bytes})"
        with path.open("rb") as fh:
            return fh.read(max_bytes + 1), None
    except OSError as exc:
        return None, f"cannot read it ({exc.strerror})"


def _cmd_import(args: argparse.Namespace) -> int:
    from pool.intake import IntakeResult, import_files

    async def work(settings: Settings, db: Database) -> list[IntakeResult]:
        limit = settings.pool.max_upload_bytes
        uploads: list[tuple[str, bytes]] = []
        unreadable: list[IntakeResult] = []
        for path in args.files:
            data, problem = _read_upload(path, limit)
            if data is None:
                unreadable.append(IntakeResult(path.name, False, None, problem))
            else:
                uploads.append((path.name, data))
        results = await import_files(db, settings.paths.sessions_dir, uploads, max_bytes=limit, now=time.time())
        return unreadable + results

    results = run_with_db(args, work)
    for r in results:
        if r.accepted:
            print(f"accepted  {r.filename} -> session #{r.session_id}")
        else:
            print(f"rejected  {r.filename}: {r.reason}")
    accepted = sum(r.accepted for r in results)
    print(f"{accepted} accepted, {len(results) - accepted} rejected")
    return 0 if accepted == len(results) else 1


def _cmd_status(args: argparse.Namespace) -> int:
    from pool.status import format_status, pool_status

    status = run_with_db(args, lambda _settings, db: pool_status(db))
    print(json.dumps(status, indent=2) if args.json else format_status(status))
    return 0


def _cmd_reconcile(args: argparse.Namespace) -> int:
    from pool.reconcile import ReconcileReport, reconcile

    async def work(settings: Settings, db: Database) -> ReconcileReport:
        return await reconcile(db, settings.paths.sessions_dir)

    report = run_with_db(args, work)
    for line in report.lines():
        print(line)
    print("session folders agree with the database" if report.clean else f"{len(report.lines())} finding(s)")
    return 0 if not (report.missing or report.conflicts) else 1


def _cmd_pairs_add(args: argparse.Namespace) -> int:
    from pool.pairs import add_pair
    from storage.pairs import ApiPair

    api_hash = sys.stdin.readline().strip() if args.api_hash == "-" else args.api_hash

    async def work(settings: Settings, db: Database) -> ApiPair:
        return await add_pair(db, args.api_id, api_hash, capacity=settings.pool.max_sessions_per_pair, now=time.time())

    pair = run_with_db(args, work)
    print(f"API pair {pair.api_id} added (up to {pair.capacity} sessions)")
    return 0


def _cmd_pairs_list(args: argparse.Namespace) -> int:
    from pool.pairs import list_pairs

    pairs = run_with_db(args, lambda _settings, db: list_pairs(db))
    if args.json:
        print(json.dumps([{"api_id": p.api_id, "used": p.used, "capacity": p.capacity} for p in pairs], indent=2))
    elif not pairs:
        print("no API pairs (add one with 'adbot pairs add API_ID API_HASH')")
    for p in [] if args.json else pairs:
        print(f"{p.api_id}  {p.used}/{p.capacity} sessions" + ("  (full)" if p.full else ""))
    return 0


def _cmd_pairs_remove(args: argparse.Namespace) -> int:
    from pool.pairs import parse_api_id, remove_pair

    run_with_db(args, lambda _settings, db: remove_pair(db, args.api_id))
    print(f"API pair {parse_api_id(args.api_id)} removed")
    return 0


def register(subparsers: Subparsers) -> None:
    """``pool`` and ``pairs``."""
    pool = add_group(subparsers, "pool", "the session pool: import files, status")
    p = add_command(pool, "import", _cmd_import, "add .session files (with .json sidecars) or .zip archives of them")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_command(pool, "status", _cmd_status, "sessions per state, API pair usage, sessions per customer", json=True)
    add_command(pool, "reconcile", _cmd_reconcile, "move session files to the folders the database says")

    pairs = add_group(subparsers, "pairs", "API pairs (api_id, api_hash) for sessions without their own")
    p = add_command(pairs, "add", _cmd_pairs_add, "add an API pair from my.telegram.org")
    p.add_argument("api_id", metavar="API_ID")
    p.add_argument("api_hash", metavar="API_HASH", help="32 hex characters, or - to read it from stdin")
    add_command(pairs, "list", _cmd_pairs_list, "API pairs and how many sessions use each", json=True)
    p = add_command(pairs, "remove", _cmd_pairs_remove, "remove an API pair no session uses")
    p.add_argument("api_id", metavar="API_ID")
