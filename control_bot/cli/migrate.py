"""``adbot migrate``: bring the database's schema up to date now (``adbot run`` does it at start too),
or with ``--check`` say what would change without changing anything (``docs/UPGRADING.md``).

``--check`` exits 0 when the schema is current, 1 when migrations would run, 2 when the database is
newer than this adbot (it would refuse to open it: upgrade adbot, or restore the backup you made).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from control_bot.cli.common import Subparsers, add_command
from core.texts import cli as texts

if TYPE_CHECKING:
    from core.config import Settings
    from storage.schema_status import SchemaStatus

CURRENT, PENDING, NEWER = 0, 1, 2


def _cmd_migrate(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from storage.schema_status import schema_status

    settings = load_settings(args.config)
    status = schema_status(settings.db_path)
    if args.check:
        return _report(status, as_json=args.json)
    if status.newer:
        print(texts.schema_newer(status.current, status.latest))
        return NEWER
    if not status.pending:
        print(texts.schema_current(status.current))
        return 0
    return _apply(settings, status.current)


def _report(status: SchemaStatus, *, as_json: bool) -> int:
    code = NEWER if status.newer else PENDING if status.pending else CURRENT
    if as_json:
        print(json.dumps({
            "database": str(status.path),
            "exists": status.exists,
            "current": status.current,
            "latest": status.latest,
            "pending": [
                {"version": m.version, "note": m.note, "changes": [" ".join(c) for c in m.changes]}
                for m in status.pending
            ],
        }, indent=2))
        return code
    print(texts.schema_versions(str(status.path), status.exists, status.current, status.latest))
    if status.newer:
        print(texts.schema_newer(status.current, status.latest))
    elif not status.pending:
        print(texts.schema_current(status.current))
    else:
        for m in status.pending:
            print(texts.migration_line(m.version, m.note, [" ".join(c) for c in m.changes]))
        print(texts.migrations_would_run(len(status.pending)))
    return code


def _apply(settings: Settings, before: int) -> int:
    import asyncio

    from storage.db import Database
    from storage.instance_lock import hold_instance_lock
    from storage.schema_status import schema_status

    async def work() -> None:
        db = await Database.open(settings.db_path)  # opening migrates, each migration in its own transaction
        await db.close()

    # Not while adbot run holds the data dir (it migrated at its own start anyway).
    with hold_instance_lock(settings.paths.data_dir):
        asyncio.run(work())
    print(texts.schema_migrated(before, schema_status(settings.db_path).current))
    return 0


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check", action="store_true", help=texts.HELP_MIGRATE_CHECK)


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "migrate", _cmd_migrate, texts.HELP_MIGRATE, json=True, arguments=_arguments)
