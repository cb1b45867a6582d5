"""What every ``adbot`` subcommand shares: its declaration (``--config``, ``--json``, the handler) and
running a coroutine against the database the config names.

Standard library and ``core.texts.cli`` only at import time: ``adbot --help`` imports this (see
``control_bot.cli``). A command's own arguments (and a group's commands) are declared by a callback
that runs only when that command is used (``LazyParser``): ``adbot --help`` lists the commands from
their one-line help alone, and never imports what declaring their arguments needs (the plan bounds of
``adbot grant``, the wording of ``adbot pool join``...).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from core.texts import cli as texts

if TYPE_CHECKING:
    from core.config import Settings
    from storage.db import Database

Handler = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # not subscriptable at run time
Declare = Callable[[argparse.ArgumentParser], None]
"""Adds a command's own arguments to its parser (run when the command is used, see ``LazyParser``)."""
DeclareGroup = Callable[[Subparsers], None]
"""Adds a group's commands (``adbot pool import``...) to its subparsers."""
T = TypeVar("T")


class LazyParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose arguments are declared the first time it parses or shows its help.

    argparse hands the rest of the command line to the chosen command's parser (``parse_known_args``)
    and formats only the parser asked for, so the commands not chosen are never declared."""

    def __init__(self, *args: Any, declare: Declare | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._declare = declare

    def declared(self) -> LazyParser:
        """Run the declaration now (once); returns self."""
        declare, self._declare = self._declare, None
        if declare is not None:
            declare(self)
        return self

    def parse_known_args(  # type: ignore[override]  # typeshed's overloads; same behaviour
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self.declared()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self.declared()
        return super().format_help()

    def format_usage(self) -> str:
        self.declared()
        return super().format_usage()


def _config_flag() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--config", metavar="PATH", default=None, help=texts.HELP_CONFIG)
    return parent


def _json_flag() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true", help=texts.HELP_JSON)
    return parent


def new_parser(description: str) -> argparse.ArgumentParser:
    """The top-level parser; its commands' parsers are ``LazyParser``s."""
    return argparse.ArgumentParser(prog="adbot", description=description)


def add_subcommands(parser: argparse.ArgumentParser, dest: str) -> Subparsers:
    return parser.add_subparsers(dest=dest, required=True, metavar="COMMAND", parser_class=LazyParser)


def add_command(
    subparsers: Subparsers,
    name: str,
    handler: Handler,
    help: str,
    *,
    json: bool = False,
    arguments: Declare | None = None,
) -> argparse.ArgumentParser:
    """Declare one subcommand: ``--json`` when it has a machine-readable output, ``--config``, its handler.
    ``arguments`` declares the command's own arguments when the command is used (keep what it imports
    out of the module's top level). Returns its parser."""
    parents = [_json_flag(), _config_flag()] if json else [_config_flag()]
    parser = subparsers.add_parser(name, help=help, parents=parents, declare=arguments)
    parser.set_defaults(handler=handler)
    return parser


def add_group(subparsers: Subparsers, name: str, help: str, commands: DeclareGroup) -> None:
    """A command with subcommands of its own (``adbot pool import``...): ``commands`` declares them
    when the group is used."""

    def declare(group: argparse.ArgumentParser) -> None:
        commands(add_subcommands(group, f"{name.replace('-', '_')}_command"))

    subparsers.add_parser(name, help=help, declare=declare)


def run_with_db(
    args: argparse.Namespace, work: Callable[[Settings, Database], Awaitable[T]], *, writes: bool = False
) -> T:
    """Load the settings ``--config`` names, open the database, run ``work`` and close it again.

    ``writes``: the command changes the database or the pool, so it holds the data dir's instance lock
    (``storage.instance_lock``) while it runs and refuses with ``AlreadyRunning`` while ``adbot run``
    (or another writing command) holds it. Read-only commands need no lock (WAL lets them read) and never
    migrate: a database at another schema version is refused in one line (``SchemaMismatch``: "run adbot
    migrate", or newer than this adbot), unchanged. A missing one is created at the latest version, as
    before (no service can be using it)."""
    from core.config import load_settings
    from storage.instance_lock import hold_instance_lock

    settings = load_settings(args.config)
    if writes:
        with hold_instance_lock(settings.paths.data_dir):
            return _run(settings, work, migrate=True)
    return _run(settings, work, migrate=False)


def run_with_settings(settings: Settings, work: Callable[[Settings, Database], Awaitable[T]]) -> T:
    """``run_with_db`` for settings already loaded, reading only (no lock, no migration)."""
    return _run(settings, work, migrate=False)


def _run(settings: Settings, work: Callable[[Settings, Database], Awaitable[T]], *, migrate: bool) -> T:
    import asyncio

    from storage.db import Database

    migrate = migrate or not settings.db_path.exists()

    async def main() -> T:
        db = await Database.open(settings.db_path, migrate=migrate)
        try:
            return await work(settings, db)
        finally:
            await db.close()

    return asyncio.run(main())
