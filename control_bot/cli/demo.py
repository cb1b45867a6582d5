"""``adbot demo``: the whole system offline with a scripted story (``control_bot.demo``, loaded when run)."""

from __future__ import annotations

import argparse

from control_bot.cli.common import Subparsers
from core.texts import cli as texts


def _cmd_demo(args: argparse.Namespace) -> int:
    from control_bot import demo

    return demo.main(as_json=args.json)


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("demo", help=texts.HELP_DEMO)
    parser.add_argument("--json", action="store_true", help=texts.HELP_DEMO_JSON)
    parser.set_defaults(handler=_cmd_demo)  # declared at once: nothing to import for it
