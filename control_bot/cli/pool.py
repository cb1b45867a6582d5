"""``adbot pool ...`` and ``adbot pairs ...``: the admins' command line for the session pool.

Thin: each command loads the settings, opens the database and calls the same service functions the
control bot uses (``pool.intake``, ``pool.pairs``, ``pool.status``, ``pool.reconcile``, the admin's joins:
``control_bot.services.joins``; the running bot's process makes the queued joins).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from control_bot.cli.common import Subparsers, add_command, add_group, run_with_db
from core.texts import cli as texts

if TYPE_CHECKING:
    from core.config import Settings
    from storage.db import Database


def _read_upload(path: Path, max_bytes: int) -> tuple[bytes | None, str | None]:
    """The file's bytes, or why it cannot be read (never more than max_bytes + 1 bytes in memory)."""
    from core.texts import intake as intake_texts

    try:
        size = path.stat().st_size
        if not path.is_file():
            return None, texts.NOT_A_REGULAR_FILE
        if size > max_bytes:
            return None, intake_texts.file_too_large(size, max_bytes)
        with path.open("rb") as fh:
            return fh.read(max_bytes + 1), None
    except OSError as exc:
        return None, texts.cannot_read(exc.strerror)


def _passcode(args: argparse.Namespace) -> str | None:
    """A Telegram Desktop passcode for locked tdata: asked without echo (``--passcode``) or the first line
    of stdin (``--passcode-stdin``, for scripts). Held only for this run, never printed or logged."""
    from core.texts import tdata as tdata_texts

    if args.passcode_stdin:
        return sys.stdin.readline().rstrip("\r\n") or None
    if args.passcode:
        import getpass

        return getpass.getpass(tdata_texts.CLI_PASSCODE_PROMPT) or None
    return None


def _cmd_import(args: argparse.Namespace) -> int:
    from pool.intake import IntakeResult, import_files

    passcode = _passcode(args)

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
        results = await import_files(
            db, settings.paths.sessions_dir, uploads, max_bytes=limit, now=time.time(), ipv6=settings.pool.ipv6,
            allow_test_servers=settings.pool.allow_test_servers, passcode=passcode,
        )
        return unreadable + results

    results = run_with_db(args, work, writes=True)
    for r in results:
        if r.accepted:
            print(texts.import_accepted(r.filename, r.session_id, r.note, r.waiting, r.lacks))
        else:
            print(texts.import_rejected(r.filename, r.reason))
    accepted = sum(r.accepted for r in results)
    print(texts.import_summary(accepted, len(results) - accepted))
    if passcode is None and any(r.needs_passcode for r in results):
        from core.texts import tdata as tdata_texts

        print(tdata_texts.CLI_PASSCODE_HINT)
    return 0 if accepted == len(results) else 1


def _cmd_status(args: argparse.Namespace) -> int:
    from pool.status import format_status, pool_status

    status = run_with_db(args, lambda _settings, db: pool_status(db))
    print(json.dumps(status, indent=2) if args.json else format_status(status))
    return 0


def _cmd_reconcile(args: argparse.Namespace) -> int:
    from pool.reconcile import ReconcileReport, reconcile

    async def work(settings: Settings, db: Database) -> ReconcileReport:
        return await reconcile(db, settings.paths.sessions_dir, ipv6=settings.pool.ipv6)

    report = run_with_db(args, work, writes=True)
    for line in report.lines():
        print(line)
    print(texts.RECONCILE_CLEAN if report.clean else texts.reconcile_findings(len(report.lines())))
    return 0 if not (report.missing or report.conflicts) else 1


def _cmd_join(args: argparse.Namespace) -> int:
    from control_bot.services import joins
    from core.join_targets import parse_join_target
    from core.texts import joins as join_texts

    choice = joins.parse_sessions(args.sessions)
    target = parse_join_target(args.target)
    now = time.time()

    async def work(settings: Settings, db: Database) -> joins.JoinsQueued:
        session_ids = await joins.choose_sessions(db, choice)
        return await joins.queue(
            db, session_ids, target, requested_by=args.admin, now=now, pacing=joins.pacing(settings)
        )

    result = run_with_db(args, work, writes=True)
    for item in result.queued:
        print(join_texts.cli_queued(item, now))
    return 0 if any(item.join_id is not None for item in result.queued) else 1


def _cmd_joins(args: argparse.Namespace) -> int:
    from control_bot.services import joins
    from core.texts import joins as join_texts

    now = time.time()
    view = run_with_db(args, lambda _settings, db: joins.recent_joins(db, now))
    if args.json:
        print(json.dumps([{"id": r.id, "session_id": r.session_id, "target": r.target, "status": r.status,
                           "reason": r.reason, "due_at": r.due_at, "done_at": r.done_at} for r in view.rows], indent=2))
    elif not view.rows:
        print(join_texts.CLI_NO_JOINS)
    for row in [] if args.json else view.rows:
        print(join_texts.cli_join(row, now))
    return 0


def _cmd_proxy(args: argparse.Namespace) -> int:
    from control_bot.services import proxies
    from core.errors import InputError
    from core.texts import proxy as proxy_texts
    from storage.proxies import CLI

    if (args.url is None) == (not args.clear):
        raise InputError(proxy_texts.CLI_URL_OR_CLEAR)
    url = sys.stdin.readline().strip() if args.url == "-" else args.url
    session_id, spec = proxies.parse_args(f"{args.session_id} {'off' if args.clear else url}")

    async def work(settings: Settings, db: Database) -> proxies.ProxyChange:
        return await proxies.change(db, session_id, spec, set_by=CLI, now=time.time(), ipv6=settings.pool.ipv6)

    print(run_with_db(args, work, writes=True).reply())
    return 0


def _cmd_pairs_add(args: argparse.Namespace) -> int:
    from pool.pairs import add_pair
    from storage.pairs import ApiPair

    api_hash = sys.stdin.readline().strip() if args.api_hash == "-" else args.api_hash

    async def work(settings: Settings, db: Database) -> ApiPair:
        return await add_pair(db, args.api_id, api_hash, capacity=settings.pool.max_sessions_per_pair, now=time.time())

    pair = run_with_db(args, work, writes=True)
    print(texts.pair_added(pair))
    return 0


def _cmd_pairs_list(args: argparse.Namespace) -> int:
    from pool.pairs import list_pairs

    pairs = run_with_db(args, lambda _settings, db: list_pairs(db))
    if args.json:
        print(json.dumps([{"api_id": p.api_id, "used": p.used, "capacity": p.capacity} for p in pairs], indent=2))
    elif not pairs:
        print(texts.NO_PAIRS)
    for p in [] if args.json else pairs:
        print(texts.pair_line(p))
    return 0


def _cmd_pairs_remove(args: argparse.Namespace) -> int:
    from pool.pairs import parse_api_id, remove_pair

    moved = run_with_db(args, lambda _settings, db: remove_pair(db, args.api_id, move=args.move), writes=True)
    print(texts.pair_removed(parse_api_id(args.api_id), moved))
    return 0


def _import_arguments(p: argparse.ArgumentParser) -> None:
    from core.texts import tdata as tdata_texts

    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    asked = p.add_mutually_exclusive_group()
    asked.add_argument("--passcode", action="store_true", help=tdata_texts.HELP_PASSCODE)
    asked.add_argument("--passcode-stdin", action="store_true", help=tdata_texts.HELP_PASSCODE_STDIN)


def _join_arguments(p: argparse.ArgumentParser) -> None:
    from core.texts import joins as join_texts

    p.add_argument("sessions", metavar="SESSIONS", help=join_texts.HELP_POOL_JOIN_SESSIONS)
    p.add_argument("target", metavar="GROUP", help=join_texts.HELP_POOL_JOIN_TARGET)
    p.add_argument("--admin", type=int, default=0, metavar="USER_ID", help=join_texts.HELP_POOL_JOIN_ADMIN)


def _proxy_arguments(p: argparse.ArgumentParser) -> None:
    from core.texts import proxy as proxy_texts

    p.add_argument("session_id", metavar="SESSION")
    p.add_argument("url", nargs="?", metavar="URL", help=proxy_texts.HELP_POOL_PROXY_URL)
    p.add_argument("--clear", action="store_true", help=proxy_texts.HELP_POOL_PROXY_CLEAR)


def _pool_commands(pool: Subparsers) -> None:
    from core.texts import joins as join_texts
    from core.texts import proxy as proxy_texts

    add_command(pool, "import", _cmd_import, texts.HELP_POOL_IMPORT, arguments=_import_arguments)
    add_command(pool, "status", _cmd_status, texts.HELP_POOL_STATUS, json=True)
    add_command(pool, "reconcile", _cmd_reconcile, texts.HELP_POOL_RECONCILE)
    add_command(pool, "join", _cmd_join, join_texts.HELP_POOL_JOIN, arguments=_join_arguments)
    add_command(pool, "joins", _cmd_joins, join_texts.HELP_POOL_JOINS, json=True)
    add_command(pool, "proxy", _cmd_proxy, proxy_texts.HELP_POOL_PROXY, arguments=_proxy_arguments)


def _pairs_arguments_add(p: argparse.ArgumentParser) -> None:
    p.add_argument("api_id", metavar="API_ID")
    p.add_argument("api_hash", metavar="API_HASH", help=texts.HELP_PAIRS_ADD_HASH)


def _pairs_arguments_remove(p: argparse.ArgumentParser) -> None:
    p.add_argument("api_id", metavar="API_ID")
    p.add_argument("--move", action="store_true", help=texts.HELP_PAIRS_REMOVE_MOVE)


def _pairs_commands(pairs: Subparsers) -> None:
    add_command(pairs, "add", _cmd_pairs_add, texts.HELP_PAIRS_ADD, arguments=_pairs_arguments_add)
    add_command(pairs, "list", _cmd_pairs_list, texts.HELP_PAIRS_LIST, json=True)
    add_command(pairs, "remove", _cmd_pairs_remove, texts.HELP_PAIRS_REMOVE, arguments=_pairs_arguments_remove)


def register(subparsers: Subparsers) -> None:
    """``pool`` and ``pairs`` (their commands are declared when the group is used)."""
    add_group(subparsers, "pool", texts.HELP_POOL, _pool_commands)
    add_group(subparsers, "pairs", texts.HELP_PAIRS, _pairs_commands)
