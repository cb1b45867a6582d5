"""The ``adbot`` console script: ``build_parser`` declares the subcommands (one module per family:
``run``, ``pool``, ``admin``; ``demo`` from ``control_bot.demo``), ``main`` runs one.

Each subcommand loads settings itself and reports a bad config as one line naming the key, never a
traceback. Importing this package loads only the standard library (and ``core.errors``); building the
parser adds the admin service layer, for the plan bounds ``adbot grant --help`` shows. Each command
imports what it needs when it runs, so ``adbot --help`` and the commands that need no network never
load aiogram, aiohttp, Telethon or APScheduler (``tests/test_cli_imports.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from control_bot.cli import admin, pool, run
from control_bot.cli.common import Handler, Subparsers
from core.errors import AdbotError, ConfigError

# The words control_bot.demo.register gives the command (a test keeps the two the same).
DEMO_HELP = "run the whole system offline with a scripted story"


def _register_demo(subparsers: Subparsers, *, load: bool) -> None:
    """``control_bot.demo`` imports the whole bot and engine, so it declares its command only when that
    command runs; otherwise its name and help stand in (all ``adbot --help`` shows of it)."""
    if load:
        from control_bot import demo

        demo.register(subparsers)
    else:
        subparsers.add_parser("demo", help=DEMO_HELP)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; ``command``: the subcommand about to run (``main`` passes it), which
    ``demo`` needs to be declared in full."""
    parser = argparse.ArgumentParser(prog="adbot", description="Multi-customer Telegram ad-posting service.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.register(subparsers)
    pool.register(subparsers)
    admin.register(subparsers)
    _register_demo(subparsers, load=command == "demo")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv else None)  # the top level has no options: the command comes first
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
