"""``adbot --help`` and the commands that need no network start without the network stack.

aiogram, aiohttp, Telethon and APScheduler take seconds to import on a loaded machine; an operator's
``adbot pool status`` or ``adbot pairs list`` must not pay for them (nor for ``adbot --help``). Each
check runs in a fresh interpreter, since this test process has long imported them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox.sessionfiles import make_session_file

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("aiogram", "aiohttp", "telethon", "apscheduler")
HASH = "0123456789abcdef0123456789abcdef"


def _run_child(script: str, *args: str, cwd: Path) -> list[dict[str, object]]:
    """Run ``script`` in a new interpreter; it prints one JSON object per line (its last lines)."""
    env = {k: v for k, v in os.environ.items() if k != "ADBOT_CONFIG"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args], env=env, cwd=cwd, capture_output=True, timeout=120,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


@pytest.mark.process
def test_help_imports_no_network_package(tmp_path: Path) -> None:
    [result] = _run_child(
        f"""
        import json, sys
        from control_bot.cli import build_parser, main
        build_parser().format_help()
        try:
            main(["--help"])
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({{"code": code, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
        """,
        cwd=tmp_path,
    )
    assert result == {"code": 0, "loaded": []}


@pytest.mark.process
def test_offline_commands_import_no_network_package(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[bot]\ntoken = "1:x"\nadmins = [5]\n'  # no check-config finding (issue 20)
        '[paths]\ndata_dir = "data"\nsessions_dir = "sessions"\n[pool]\nmax_sessions_per_pair = 3\n'
    )
    upload = tmp_path / "a.session"
    make_session_file(upload)
    c = ["--config", str(config)]
    commands = [
        ["check-config", *c],
        ["pairs", "add", "2040", HASH, *c],
        ["pairs", "list", *c],
        ["pairs", "list", "--json", *c],
        ["pool", "import", str(upload), *c],
        ["pool", "status", *c],
        ["pool", "status", "--json", *c],
        ["pool", "reconcile", *c],
        ["pool", "join", "1", "@cats_chat", *c],
        ["pool", "joins", *c],
        ["pool", "joins", "--json", *c],
        ["grant", "42", "1", "30", *c],
        ["customers", "--json", *c],
        ["health", *c],
        ["revoke", "42", *c],
        ["pairs", "add", "2041", HASH, *c],
        ["pairs", "remove", "2040", "--move", *c],  # the imported session holds it: moved to 2041
    ]
    results = _run_child(
        f"""
        import contextlib, io, json, sys
        from control_bot.cli import main
        for argv in json.loads(sys.argv[1]):
            with contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
            print(json.dumps({{"argv": argv, "code": code, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
        """,
        json.dumps(commands),
        cwd=tmp_path,
    )
    # health: down (2), no adbot run holds the data dir (issue 20: exit codes for monitors)
    codes = [2 if argv[0] == "health" else 0 for argv in commands]
    assert [(r["argv"], r["code"], r["loaded"]) for r in results] == [
        (argv, code, []) for argv, code in zip(commands, codes, strict=True)
    ]
