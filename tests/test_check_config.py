"""Issue 20: ``adbot check-config`` flags what would stop or cripple the service (the example's
placeholder token and admin, no admins, folders it cannot create or write) and, with ``--online``, asks
the Bot API about the token (``getMe``). Findings: stderr, exit code 1; the settings stay on stdout."""

from __future__ import annotations

import asyncio
import os
import sys
import tomllib
from pathlib import Path

import pytest

from control_bot.cli import main
from control_bot.cli.config_check import PLACEHOLDER_ADMIN, PLACEHOLDER_TOKEN, findings
from core.config import settings_from_dict
from sandbox.botapi import BotApiEmulator
from tests.fake_proxy import closed_port

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def test_the_placeholders_are_the_examples() -> None:
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert example["bot"]["token"] == PLACEHOLDER_TOKEN
    assert example["bot"]["admins"] == [PLACEHOLDER_ADMIN]


def test_the_example_is_flagged_token_and_admin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(EXAMPLE)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "finding: bot.token: still the example's placeholder: copy the token @BotFather gave you",
        "finding: bot.admins: holds the example's 111111111: put your own Telegram user id there (README)",
        "2 finding(s): fix them before 'adbot run'",
    ]
    assert captured.out.startswith("config OK") and "REPLACE-WITH" not in captured.out


def test_no_token_and_no_admins(tmp_path: Path) -> None:
    settings = settings_from_dict({"paths": {"data_dir": "d", "sessions_dir": "s", "logs_dir": "l"}}, tmp_path)
    assert findings(settings) == [
        "finding: bot.token: missing: adbot run refuses to start (set it, or ADBOT_BOT__TOKEN)",
        "finding: bot.admins: empty: nobody can upload sessions or grant plans (add your Telegram user id; README)",
    ]


def test_a_good_config_has_no_finding(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", config]) == 0
    assert capsys.readouterr().err == ""


def test_folders_it_cannot_use_are_flagged(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    bot = {"token": "1:x", "admins": [5]}
    settings = settings_from_dict(
        {"bot": bot, "paths": {"data_dir": "afile", "sessions_dir": "afile/sessions", "logs_dir": "new/logs"}},
        tmp_path,
    )
    assert findings(settings) == [
        f"finding: paths.data_dir: {tmp_path / 'afile'}: exists but is not a folder",
        f"finding: paths.sessions_dir: {tmp_path / 'afile' / 'sessions'}: does not exist and cannot be created"
        f" ({tmp_path / 'afile'} is not writable by this user)",
    ]  # new/logs: its parents do not exist yet, but the nearest existing one is writable: run creates it


def test_the_backup_folder_is_checked_when_daily_backups_are_on(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    raw = {"bot": {"token": "1:x", "admins": [5]}, "backup": {"dir": "afile/backups"}}
    assert findings(settings_from_dict(raw, tmp_path)) == []  # off: adbot backup's own error says it
    raw["backup"]["enabled"] = True  # type: ignore[index]
    assert findings(settings_from_dict(raw, tmp_path)) == [
        f"finding: backup.dir: {tmp_path / 'afile' / 'backups'}: does not exist and cannot be created"
        f" ({tmp_path / 'afile'} is not writable by this user)",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder: nothing to flag")
def test_a_read_only_folder_is_flagged(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        settings = settings_from_dict(
            {"bot": {"token": "1:x", "admins": [5]}, "paths": {"data_dir": "locked", "logs_dir": "locked/logs"}},
            tmp_path,
        )
        assert findings(settings) == [
            f"finding: paths.data_dir: {locked}: not writable by this user",
            f"finding: paths.logs_dir: {locked / 'logs'}: does not exist and cannot be created"
            f" ({locked} is not writable by this user)",
        ]
    finally:
        locked.chmod(0o700)


async def _check_online(config: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from control_bot.cli import main; sys.exit(main(sys.argv[1:]))",
        "check-config", "--online", "--config", str(config), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _config(tmp_path: Path, token: str, api_base: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f'[bot]\ntoken = "{token}"\napi_base = "{api_base}"\nadmins = [5]\n', encoding="utf-8")
    return path


@pytest.mark.process
async def test_online_asks_the_bot_api_about_the_token(tmp_path: Path, emu: BotApiEmulator) -> None:
    code, out, err = await _check_online(_config(tmp_path, emu.token, emu.base_url))
    assert (code, err) == (0, "")
    assert f"bot token OK: @adbot_test_bot (id {emu.token.split(':')[0]}) at http://127.0.0.1:" in out

    code, out, err = await _check_online(_config(tmp_path, "42:not-this-one", emu.base_url))
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[0].startswith("config error: bot.token: refused by the Bot API at http://127.0.0.1:")
    assert err.splitlines()[1] == "1 finding(s): fix them before 'adbot run'"

    code, out, err = await _check_online(_config(tmp_path, emu.token, f"http://127.0.0.1:{closed_port()}"))
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[0].startswith("cannot reach the Bot API at http://127.0.0.1:")


@pytest.mark.process
@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists(), reason="needs root and setpriv")
def test_read_only_folders_are_flagged_for_the_user_who_runs_it() -> None:
    """As root every folder is writable: check-config runs as ``nobody`` (the service's user would be
    ``adbot``) over a folder only root may write."""
    import shutil
    import subprocess
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="adbot-ro-"))
    try:
        base.chmod(0o755)
        (base / "locked").mkdir(mode=0o555)
        (base / "c.toml").write_text(
            '[bot]\ntoken = "1:x"\nadmins = [5]\n[paths]\ndata_dir = "locked"\nlogs_dir = "locked/logs"\n'
            '[backup]\nenabled = true\n'  # dir = "backups" beside the config, in a folder only root writes
        )
        (base / "c.toml").chmod(0o644)
        done = subprocess.run(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
             "import sys; from control_bot.cli import main; sys.exit(main(sys.argv[1:]))",
             "check-config", "--config", str(base / "c.toml")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 1, done.stderr
        assert done.stderr.splitlines() == [
            f"finding: paths.data_dir: {base / 'locked'}: not writable by this user",
            f"finding: paths.sessions_dir: {base / 'sessions'}: does not exist and cannot be created"
            f" ({base} is not writable by this user)",
            f"finding: paths.logs_dir: {base / 'locked' / 'logs'}: does not exist and cannot be created"
            f" ({base / 'locked'} is not writable by this user)",
            f"finding: backup.dir: {base / 'backups'}: does not exist and cannot be created"
            f" ({base} is not writable by this user)",
            "4 finding(s): fix them before 'adbot run'",
        ]
        # adbot run as that user: the first of them in one line, exit code 2, before anything is opened
        done = subprocess.run(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
             "control_bot", "--config", str(base / "c.toml")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert (done.returncode, done.stderr.splitlines()) == (
            2, [f"config error: paths.data_dir: {base / 'locked'}: not writable by this user"]
        )
    finally:
        (base / "locked").chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.parametrize("token", ["abc", "123:", "12a:bc", "123:ab c"])
def test_a_token_of_the_wrong_shape_is_a_finding_and_run_refuses_it_in_one_line(
    tmp_path: Path, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_from_dict({"bot": {"token": token, "admins": [5]}}, tmp_path)
    assert findings(settings) == [
        "finding: bot.token: not shaped like a token from @BotFather (<digits>:<secret>, no spaces)"
    ]
    path = tmp_path / "c.toml"
    path.write_text(f'[bot]\ntoken = "{token}"\nadmins = [5]\n', encoding="utf-8")
    assert main(["run", "--config", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "config error: bot.token: not shaped like a token from @BotFather (<digits>:<secret>, no spaces)"
    ]
    assert not (tmp_path / "data").exists()  # refused before anything was opened


_KEY = "k" * 32


def test_api_or_metrics_beyond_loopback_is_a_warning_that_knows_containers(
    config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from control_bot.cli import config_check

    path = Path(config)
    base = path.read_text(encoding="utf-8")
    monkeypatch.setattr(config_check, "DOCKER_MARK", tmp_path / "no-dockerenv")
    for host in ("127.0.0.1", "::1", "localhost"):  # loopback: nothing to say
        path.write_text(base + f'\n[api]\nenabled = true\nhost = "{host}"\nkeys = ["{_KEY}"]\n', encoding="utf-8")
        assert main(["check-config", "--config", config]) == 0
        assert capsys.readouterr().err == ""
    path.write_text(
        base + f'\n[api]\nenabled = true\nhost = "0.0.0.0"\nport = 8080\nkeys = ["{_KEY}"]\n'
        '\n[metrics]\nenabled = true\nhost = "192.168.1.5"\nport = 9108\n'
        '\n', encoding="utf-8",
    )
    assert main(["check-config", "--config", config]) == 0  # a warning, not a finding
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "warning: api.host = 0.0.0.0 is not loopback: the API keys and customers' data travel in clear HTTP to"
        " anyone who reaches port 8080; listen on 127.0.0.1 (a TLS reverse proxy in front, docs/DEPLOY.md)",
        "warning: metrics.host = 192.168.1.5 is not loopback: the service's figures travel in clear HTTP to"
        " anyone who reaches port 9108; listen on 127.0.0.1 (a TLS reverse proxy in front, docs/DEPLOY.md)",
    ]
    assert _KEY not in "\n".join(err)
    (tmp_path / "dockerenv").touch()  # inside a container 127.0.0.1 is the container's own: 0.0.0.0 is the way
    monkeypatch.setattr(config_check, "DOCKER_MARK", tmp_path / "dockerenv")
    assert main(["check-config", "--config", config]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].endswith(
        '; fine in a container when published on 127.0.0.1 only (compose: ports: ["127.0.0.1:8080:8080"])'
    )
    path.write_text(base + f'\n[api]\nenabled = false\nhost = "0.0.0.0"\nkeys = ["{_KEY}"]\n', encoding="utf-8")
    assert main(["check-config", "--config", config]) == 0  # not served: nothing travels
    assert capsys.readouterr().err == ""
