"""The ``adbot`` console script: ``build_parser`` declares the subcommands (one module per family:
``run``, ``pool``, ``admin``, ``demo``), ``main`` runs one.

Each subcommand loads settings itself and reports a bad config as one line naming the key, never a
traceback. Importing this package loads only the standard library (and ``core.errors``, and
``core.texts.cli`` which words the help and the output); building the parser adds the admin service
layer, for the plan bounds ``adbot grant --help`` shows. Each command imports what it needs when it
runs, so ``adbot --help`` and the commands that need no network never load aiogram, aiohttp, Telethon
or APScheduler (``tests/test_cli_imports.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from control_bot.cli import admin, backup, demo, pool, run
from control_bot.cli.common import Handler
from core.errors import AdbotError, ConfigError
from core.texts import cli as texts


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(prog="adbot", description=texts.DESCRIPTION)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.register(subparsers)
    pool.register(subparsers)
    admin.register(subparsers)
    demo.register(subparsers)
    backup.register(subparsers)  # issue 20 part B: backup, restore, prune
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(exc.user_message, file=sys.stderr)
        return 2
    except AdbotError as exc:
        print(texts.error(exc.user_message), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
