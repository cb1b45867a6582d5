"""What every ``adbot`` subcommand shares: its declaration (``--config``, ``--json``, the handler) and
running a coroutine against the database the config names.

Standard library and ``core.texts.cli`` only at import time: ``adbot --help`` imports this (see
``control_bot.cli``).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from core.texts import cli as texts

if TYPE_CHECKING:
    from core.config import Settings
    from storage.db import Database

Handler = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # not subscriptable at run time
T = TypeVar("T")


def _config_flag() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--config", metavar="PATH", default=None, help=texts.HELP_CONFIG)
    return parent


def _json_flag() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true", help=texts.HELP_JSON)
    return parent


def add_command(
    subparsers: Subparsers, name: str, handler: Handler, help: str, *, json: bool = False
) -> argparse.ArgumentParser:
    """Declare one subcommand: ``--json`` when it has a machine-readable output, ``--config``, its handler.
    Returns its parser for the command's own arguments."""
    parents = [_json_flag(), _config_flag()] if json else [_config_flag()]
    parser = subparsers.add_parser(name, help=help, parents=parents)
    parser.set_defaults(handler=handler)
    return parser


def add_group(subparsers: Subparsers, name: str, help: str) -> Subparsers:
    """A command with subcommands of its own (``adbot pool import``...)."""
    group = subparsers.add_parser(name, help=help)
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


def run_with_db(
    args: argparse.Namespace, work: Callable[[Settings, Database], Awaitable[T]], *, writes: bool = False
) -> T:
    """Load the settings ``--config`` names, open the database, run ``work`` and close it again.

    ``writes``: the command changes the database or the pool, so it holds the data dir's instance lock
    (``storage.instance_lock``) while it runs and refuses with ``AlreadyRunning`` while ``adbot run``
    (or another writing command) holds it. Read-only commands need no lock (WAL lets them read)."""
    from core.config import load_settings
    from storage.instance_lock import hold_instance_lock

    settings = load_settings(args.config)
    if writes:
        with hold_instance_lock(settings.paths.data_dir):
            return _run(settings, work)
    return _run(settings, work)


def _run(settings: Settings, work: Callable[[Settings, Database], Awaitable[T]]) -> T:
    from storage.db import Database

    async def main() -> T:
        db = await Database.open(settings.db_path)
        try:
            return await work(settings, db)
        finally:
            await db.close()

    return asyncio.run(main())
