"""``adbot run`` (the control bot with the engine) and ``adbot check-config`` (which also warns, on
stderr, about pacing values less safe than the defaults: ``core.pacing``)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from control_bot.cli.common import Subparsers, add_command
from core.texts import cli as texts


def _cmd_check_config(args: argparse.Namespace) -> int:
    from core.config import load_settings, resolve_config_path
    from core.pacing import unsafe_values
    from core.texts.limits import unsafe_warning

    settings = load_settings(args.config)
    print(texts.config_ok(resolve_config_path(args.config, os.environ)))
    # Pacing values less safe than the defaults are allowed (tests, the demo): a warning, not a failure.
    for unsafe in unsafe_values(settings.engine):
        print(unsafe_warning(unsafe.key, unsafe.value, unsafe.safe), file=sys.stderr)
    print(json.dumps(settings.masked(), indent=2))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from storage.instance_lock import hold_instance_lock

    settings = load_settings(args.config)
    settings.require_token()
    # One adbot per data dir, before anything connects: a second one would post twice and open every
    # session twice (AUTH_KEY_DUPLICATED). Held until the process ends; the kernel drops it on SIGKILL.
    with hold_instance_lock(settings.paths.data_dir):
        from control_bot.app import run

        return run(settings)


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "run", _cmd_run, texts.HELP_RUN)
    add_command(subparsers, "check-config", _cmd_check_config, texts.HELP_CHECK_CONFIG)
