"""``adbot run``: the control bot with the engine (``adbot check-config`` is ``control_bot.cli.config_check``).

Start-up errors read as one line (``control_bot.startup``, ``control_bot.cli`` for the exit codes): a bad
config, a refused token or a database migrated by a newer adbot exits 2, Telegram unreachable after
``[bot] startup_attempts`` exits 1."""

from __future__ import annotations

import argparse
import sys

from control_bot.cli import config_check
from control_bot.cli.common import Subparsers, add_command
from core.texts import cli as texts

EXIT_SCHEMA_NEWER = 2  # as a refused configuration: restarting cannot help (docs/UPGRADING.md)


def _cmd_run(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from storage.instance_lock import hold_instance_lock

    settings = load_settings(args.config)
    settings.require_token()
    shape = config_check.token_shape_problem(settings.bot.token.get_secret_value().strip())
    if shape is not None:  # aiogram would refuse it with a traceback before asking Telegram
        from core.errors import ConfigError
        from core.texts.config import config_error

        raise ConfigError(config_error("bot.token", shape))
    for key, problem in config_check.folder_problems(settings)[:1]:  # not a PermissionError's traceback
        from core.errors import ConfigError
        from core.texts.config import config_error

        raise ConfigError(config_error(key, problem))
    # One adbot per data dir, before anything connects: a second one would post twice and open every
    # session twice (AUTH_KEY_DUPLICATED). Held until the process ends; the kernel drops it on SIGKILL.
    with hold_instance_lock(settings.paths.data_dir):
        from storage.schema_status import schema_status

        status = schema_status(settings.db_path)
        if status.newer:  # a newer adbot migrated it: one line, not the migration's traceback
            print(texts.schema_newer(status.current, status.latest), file=sys.stderr)
            return EXIT_SCHEMA_NEWER
        from control_bot.app import run

        return run(settings)


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "run", _cmd_run, texts.HELP_RUN)
    config_check.register(subparsers)
