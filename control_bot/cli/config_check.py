"""``adbot check-config [--online]``: validate a config file, print the effective settings (secrets
masked), and say what would stop or cripple the service:

* findings (exit code 1): the example's placeholder token (or none), no admins or the example's
  placeholder admin, a data/sessions/logs folder the service could not create or write (the backup
  folder too when daily backups are on); with
  ``--online``, the token as the Bot API judges it (``getMe``: refused, or Telegram not reachable);
* warnings (exit code 0 when they are all): pacing values less safe than the defaults (``core.pacing``);
  ``[api]`` or ``[metrics]`` listening on a host that is not loopback (their keys and figures travel in
  clear HTTP; in a container, where 127.0.0.1 is the container's own, it is the way when the port is
  published on the host's 127.0.0.1 only).

A file that does not load at all is one line naming the key, exit code 2 (``control_bot.cli.main``).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from control_bot.cli.common import Subparsers, add_command
from core.texts import cli as texts

if TYPE_CHECKING:
    from core.config import Settings

# What config.example.toml ships (tests/test_check_config.py keeps these equal to the file).
PLACEHOLDER_TOKEN = "123456789:REPLACE-WITH-YOUR-BOT-TOKEN-FROM-BOTFATHER"  # noqa: S105  # the example's, public
PLACEHOLDER_ADMIN = 111111111
OK, FINDINGS = 0, 1


def token_shape_problem(token: str) -> str | None:
    """Why ``token`` cannot be a bot token (None: it may be one). @BotFather's are ``<digits>:<secret>``
    without spaces; aiogram refuses any other shape before asking Telegram (``adbot run`` says so first)."""
    left, sep, right = token.partition(":")
    if not sep or not left.isdigit() or not right or any(c.isspace() for c in token):
        return texts.FINDING_TOKEN_SHAPE
    return None


def _folder_problem(folder: Path) -> str | None:
    """Why the service could not use ``folder`` (None: it can): it exists and is a writable folder, or
    the nearest existing parent is one (``adbot run`` creates it, 0700)."""
    if folder.exists():
        if not folder.is_dir():
            return texts.NOT_A_FOLDER
        return None if os.access(folder, os.W_OK | os.X_OK) else texts.FOLDER_NOT_WRITABLE
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return texts.folder_cannot_create(str(parent))
    return None


def findings(settings: Settings) -> list[str]:
    """What in ``settings`` would stop or cripple the service, one line each (empty: nothing)."""
    found: list[str] = []
    token = settings.bot.token.get_secret_value().strip()
    if not token:
        found.append(texts.finding("bot.token", texts.FINDING_NO_TOKEN))
    elif token == PLACEHOLDER_TOKEN:
        found.append(texts.finding("bot.token", texts.FINDING_PLACEHOLDER_TOKEN))
    elif (shape := token_shape_problem(token)) is not None:
        found.append(texts.finding("bot.token", shape))
    admins = settings.bot.admins
    if not admins:
        found.append(texts.finding("bot.admins", texts.FINDING_NO_ADMINS))
    elif PLACEHOLDER_ADMIN in admins:
        found.append(texts.finding("bot.admins", texts.FINDING_PLACEHOLDER_ADMIN))
    found += [texts.finding(key, problem) for key, problem in folder_problems(settings)]
    # The daily backups' folder: a finding here, not a reason for ``adbot run`` to refuse to start.
    if settings.backup.enabled and (problem := _folder_problem(settings.backup.dir)) is not None:
        found.append(texts.finding("backup.dir", f"{settings.backup.dir}: {problem}"))
    return found


def folder_problems(settings: Settings) -> list[tuple[str, str]]:
    """(key, problem) for each of the three folders this user could not create or write."""
    problems = []
    for key, folder in (
        ("paths.data_dir", settings.paths.data_dir),
        ("paths.sessions_dir", settings.paths.sessions_dir),
        ("paths.logs_dir", settings.paths.logs_dir),
    ):
        problem = _folder_problem(folder)
        if problem is not None:
            problems.append((key, f"{folder}: {problem}"))
    return problems


DOCKER_MARK = Path("/.dockerenv")  # Docker creates it in every container


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name other than localhost: may resolve anywhere
        return False


def exposure_warnings(settings: Settings, in_container: bool) -> list[str]:
    """A warning for each enabled [api] / [metrics] listening on a host that is not loopback."""
    return [
        texts.not_loopback_warning(name, section.host, section.port, in_container)
        for name, section in (("api", settings.api), ("metrics", settings.metrics))
        if section.enabled and not _is_loopback(section.host)
    ]


def online_findings(settings: Settings) -> tuple[str | None, list[str]]:
    """``getMe`` once with the configured token: (the OK line, []) or (None, [the finding])."""
    import asyncio

    from control_bot.app import make_bot
    from control_bot.startup import BotApiUnreachable, api_host, check_token
    from core.errors import ConfigError

    async def ask() -> tuple[str | None, list[str]]:
        bot = make_bot(settings)
        try:
            me = await check_token(bot, settings.bot.api_base)
        except (ConfigError, BotApiUnreachable) as exc:
            return None, [exc.user_message]
        finally:
            await bot.session.close()
        return texts.token_ok(me.username, me.id, api_host(settings.bot.api_base)), []

    return asyncio.run(ask())


def _cmd_check_config(args: argparse.Namespace) -> int:
    from core.config import load_settings, resolve_config_path
    from core.pacing import unsafe_values
    from core.texts.limits import unsafe_warning

    settings = load_settings(args.config)
    print(texts.config_ok(resolve_config_path(args.config, os.environ)))
    # Pacing values less safe than the defaults are allowed (tests, the demo): a warning, not a failure.
    for unsafe in unsafe_values(settings.engine):
        print(unsafe_warning(unsafe.key, unsafe.value, unsafe.safe), file=sys.stderr)
    for warning in exposure_warnings(settings, DOCKER_MARK.exists()):
        print(warning, file=sys.stderr)
    print(json.dumps(settings.masked(), indent=2))
    found = findings(settings)
    if args.online and not any(line.startswith(texts.finding("bot.token", "")) for line in found):
        ok, more = online_findings(settings)
        if ok is not None:
            print(ok)
        found += more
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(texts.findings_summary(len(found)), file=sys.stderr)
    return FINDINGS if found else OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--online", action="store_true", help=texts.HELP_CHECK_CONFIG_ONLINE)


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "check-config", _cmd_check_config, texts.HELP_CHECK_CONFIG, arguments=_arguments)
