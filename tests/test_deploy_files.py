"""Issue 20, deploy: the Dockerfile, compose.yaml, .dockerignore and the systemd unit say what
docs/DEPLOY.md says, and every ``adbot`` command the operator docs show exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from control_bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
UNIT = ROOT / "deploy" / "adbot.service"
# Commands other parts of issue 20 add (20B); checked once they are registered.
ELSEWHERE = {"backup", "restore"}


def test_the_image_is_slim_non_root_with_volumes_and_a_healthcheck() -> None:
    assert re.search(r"^FROM python:3\.11-slim$", DOCKERFILE, re.M)
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert users == ["adbot"]
    assert '"/srv/adbot/data", "/srv/adbot/sessions", "/srv/adbot/logs"' in DOCKERFILE
    assert re.search(r"^HEALTHCHECK .*\\\n\s+CMD adbot health", DOCKERFILE, re.M)
    assert 'ENTRYPOINT ["adbot"]' in DOCKERFILE and 'CMD ["run"]' in DOCKERFILE


def test_the_image_copies_every_package_the_wheel_holds() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"][
        "packages"
    ]
    copied = re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE, re.M)
    assert sorted(copied) == sorted(packages)


def test_no_secret_or_state_enters_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in ("config.toml", "*.session", "data/", "sessions/", "logs/", ".git", ".env", ".venv"):
        assert entry in ignored


def test_compose_mounts_the_config_read_only_and_the_three_volumes() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    assert "./config.toml:/srv/adbot/config.toml:ro" in compose
    for folder in ("data", "sessions", "logs", "backups"):  # backups: review 20 F3, not on the read-only root
        assert f"      - adbot-{folder}:/srv/adbot/{folder}\n" in compose
    assert "init: true" in compose and "no-new-privileges:true" in compose


def test_compose_shows_how_to_publish_webhook_api_and_metrics_on_the_hosts_loopback_only() -> None:
    """Inside the container 127.0.0.1 is its own: the ports, commented, on the host's loopback only."""
    import re

    from core.config import Settings

    compose = (ROOT / "compose.yaml").read_text()
    assert "\n    # ports:\n" in compose
    published = re.findall(r'\n    #   - "127\.0\.0\.1:(\d+):(\d+)"', compose)
    defaults = Settings()
    wanted = {defaults.bot.webhook_port, defaults.api.port, defaults.metrics.port}
    assert {(str(p), str(p)) for p in wanted} == set(published)
    assert not re.search(r'^\s*-?\s*"?\d+:\d+"?\s*$', compose, re.MULTILINE)  # never all the host's interfaces
    for doc in ("API.md", "METRICS.md", "WEBHOOK.md", "DEPLOY.md"):
        assert "0.0.0.0" in (ROOT / "docs" / doc).read_text(), doc


def test_the_unit_does_not_restart_a_refused_configuration_and_is_sandboxed() -> None:
    unit = UNIT.read_text()
    for line in ("RestartPreventExitStatus=2", "User=adbot", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=", "SystemCallFilter=@system-service",
                 "ExecStart=/opt/adbot/.venv/bin/adbot run --config /etc/adbot/config.toml"):
        assert f"\n{line}\n" in unit, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd here")
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    adbot = Path(sys.executable).parent / "adbot"  # an installed adbot, as verify checks ExecStart's program
    assert adbot.exists()
    unit = tmp_path / "adbot.service"
    unit.write_text(UNIT.read_text().replace("/opt/adbot/.venv/bin/adbot", str(adbot)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert (done.returncode, done.stderr.strip()) == (0, "")


def _registered() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    assert action.choices is not None
    return set(action.choices)


def _code(text: str) -> str:
    """The fenced blocks and inline code spans of a Markdown text: where commands are shown."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
    return "\n".join(blocks + inline)


@pytest.mark.parametrize("doc", ["README.md", "docs/DEPLOY.md", "docs/UPGRADING.md"])
def test_every_adbot_command_the_docs_show_exists(doc: str) -> None:
    code = _code((ROOT / doc).read_text(encoding="utf-8"))
    # ``adbot X``, ``.venv/bin/adbot X``, ``docker compose run --rm adbot X`` (the image's entry point is adbot)
    named = set(re.findall(r"(?:^|[\s(]|bin/)(?=adbot (?:--config \S+ )?([a-z][a-z-]+))", code, re.M)) - {"adbot"}
    assert {"health"} <= named or doc != "docs/DEPLOY.md"
    commands = _registered()
    unknown = named - commands - ELSEWHERE
    assert not unknown, f"{doc} shows adbot commands that do not exist: {sorted(unknown)}"
