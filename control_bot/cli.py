"""The ``adbot`` console script. Each subcommand loads settings itself and reports a bad config as one
line naming the key, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from core.errors import AdbotError, ConfigError

if TYPE_CHECKING:
    from core.config import Settings
    from storage.db import Database

Handler = Callable[[argparse.Namespace], int]
T = TypeVar("T")


def add_config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="PATH", default=None, help="config file (default: $ADBOT_CONFIG, else ./config.toml)"
    )


def run_with_db(args: argparse.Namespace, work: Callable[[Settings, Database], Awaitable[T]]) -> T:
    """Load the settings ``--config`` names, open the database, run ``work`` and close it again."""
    from core.config import load_settings
    from storage.db import Database

    settings = load_settings(args.config)

    async def main() -> T:
        db = await Database.open(settings.db_path)
        try:
            return await work(settings, db)
        finally:
            await db.close()

    return asyncio.run(main())


def _cmd_check_config(args: argparse.Namespace) -> int:
    from core.config import load_settings, resolve_config_path

    settings = load_settings(args.config)
    print(f"config OK: {resolve_config_path(args.config, os.environ)}")
    print(json.dumps(settings.masked(), indent=2))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from core.config import load_settings

    settings = load_settings(args.config)
    settings.require_token()
    from control_bot.app import run

    return run(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adbot", description="Multi-customer Telegram ad-posting service.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the control bot and the engine")
    add_config_flag(p)
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("check-config", help="validate a config file and print the effective settings")
    add_config_flag(p)
    p.set_defaults(handler=_cmd_check_config)

    for register in _registrars():
        register(sub)
    return parser


def _registrars() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    """Subcommands contributed by other packages (pool, admin, demo)."""
    found = []
    for module_name in ("pool.cli", "control_bot.admin_cli", "control_bot.demo"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        found.append(module.register)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(exc.user_message, file=sys.stderr)
        return 2
    except AdbotError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
