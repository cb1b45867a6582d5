"""The ``adbot`` console script: ``build_parser`` declares the subcommands (one module per family:
``run``, ``migrate``, ``pool``, ``admin``, ``demo``), ``main`` runs one.

Each subcommand loads settings itself and reports a bad config as one line naming the key, never a
traceback. Importing this package loads only the standard library and ``core.texts.cli`` (which words
the help and the output); building the parser declares each command by its name and one-line help
only (``common.LazyParser``): a command's arguments, and whatever declaring them imports, are declared
when that command is used. Each command imports what it needs when it runs. So ``adbot --help`` costs
about what the interpreter's start-up does, and the commands that need no network never load aiogram,
aiohttp, Telethon or APScheduler (``tests/test_cli_imports.py``; figures in docs/PERFORMANCE.md).

Exit codes (``docs/DEPLOY.md``): 0 done; 1 failed (a refused input, a domain error, Telegram unreachable
at start-up after the configured attempts); 2 the configuration is refused (a bad key, a missing or
refused bot token: restarting will not help); 130 interrupted. ``adbot health`` has its own (0, 1, 2).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence

from control_bot.cli import admin, backup, demo, health, migrate, pool, run
from control_bot.cli.common import Handler, add_subcommands, new_parser
from core.texts import cli as texts

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


class _Version(argparse.Action):
    """``adbot --version``: the package's version, the schema version it brings, the Python it runs on.
    Read when asked (``importlib.metadata`` alone costs more than the rest of ``--help``)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, default=argparse.SUPPRESS, help=texts.HELP_VERSION)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib import metadata

        from storage.migrations import LATEST_VERSION  # the SQL text only: no SQLite is loaded

        try:
            version = metadata.version("adbot")
        except metadata.PackageNotFoundError:  # run from a source tree that was never installed
            version = None
        print(texts.version_line(version, LATEST_VERSION, sys.version.split()[0]))  # stdout, as argparse's own
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = new_parser(texts.DESCRIPTION)
    parser.add_argument("--version", action=_Version)
    subparsers = add_subcommands(parser, "command")
    run.register(subparsers)
    migrate.register(subparsers)
    pool.register(subparsers)
    admin.register(subparsers)
    health.register(subparsers)
    demo.register(subparsers)
    backup.register(subparsers)  # issue 20 part B: backup, restore, prune
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        from core.errors import AdbotError, ConfigError  # here: importing this package stays stdlib-only

        if isinstance(exc, ConfigError):
            print(_redacted(exc.user_message, args), file=sys.stderr)
            return EXIT_CONFIG
        if isinstance(exc, AdbotError):
            print(_redacted(texts.error(exc.user_message), args), file=sys.stderr)
            return EXIT_FAILED
        raise


def _redacted(message: str, args: argparse.Namespace) -> str:
    """``message`` as adbot.log would write it (``control_bot.logfiles.RedactingFilter``, with the
    configured bot token added): stderr goes to the journal or ``docker logs``, read by more people than
    the config. Imported here, on the error path only (``adbot --help`` stays cheap)."""
    from control_bot.logfiles import RedactingFilter
    from core.config import load_settings

    secrets: list[str] = []
    with contextlib.suppress(Exception):  # no readable config: the patterns alone still catch a token's shape
        secrets.append(load_settings(getattr(args, "config", None)).bot.token.get_secret_value().strip())
    return RedactingFilter(secrets).redact(message)
