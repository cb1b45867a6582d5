"""Configuration: loading, environment overrides, one-line errors, the check-config command."""

from __future__ import annotations

from pathlib import Path

import pytest

from control_bot.cli import main
from core.config import load_settings, resolve_config_path, settings_from_dict
from core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_example_config_loads_with_defaults_and_relative_paths() -> None:
    settings = load_settings(EXAMPLE, env={})
    assert settings.engine.cycle_interval == 300
    assert settings.pool.max_sessions_per_pair == 7
    assert settings.engine.on_restart == "stop"
    assert settings.engine.max_post_media_mb == 200
    assert settings.paths.data_dir == EXAMPLE.parent / "data"
    assert settings.db_path.name == "adbot.sqlite3"


def test_environment_overrides_win(tmp_path: Path) -> None:
    env = {"ADBOT_ENGINE__BACKEND": "simulated", "ADBOT_BOT__ADMINS": "[5, 6]", "ADBOT_BOT__TOKEN": "1:x"}
    settings = load_settings(EXAMPLE, env=env)
    assert settings.engine.backend == "simulated"
    assert settings.bot.admins == [5, 6]
    assert settings.bot.token.get_secret_value() == "1:x"


def test_config_path_resolution_order(tmp_path: Path) -> None:
    assert resolve_config_path("a.toml", {"ADBOT_CONFIG": "b.toml"}) == Path("a.toml")
    assert resolve_config_path(None, {"ADBOT_CONFIG": "b.toml"}) == Path("b.toml")
    assert resolve_config_path(None, {}) == Path("config.toml")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[engine]\nbackend = "carrier-pigeon"\n', "engine.backend"),
        ('[engine]\ncycle_interval = "often"\n', "engine.cycle_interval"),
        ("[engine]\ncycle_interval = -5\n", "engine.cycle_interval"),
        ("[engine]\nsend_spacing = -1\n", "engine.send_spacing"),
        ("[engine]\nspacing_jitter = 2\n", "engine.spacing_jitter"),
        ('[engine]\non_restart = "maybe"\n', "engine.on_restart"),
        ("[pool]\nmax_sessions_per_pair = 0\n", "pool.max_sessions_per_pair"),
        ('[bot]\nadmins = "me"\n', "bot.admins"),
        ("[bot]\ntokn = 1\n", "bot.tokn: unknown key"),
        ("[bot\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert expected in info.value.user_message
    assert "\n" not in info.value.user_message


def test_missing_token_is_refused_for_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[bot]\ntoken = ""\n')
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "config error: bot.token: missing (set it in the config or ADBOT_BOT__TOKEN)"


def test_check_config_masks_the_token(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADBOT_BOT__TOKEN", raising=False)
    assert main(["check-config", "--config", str(EXAMPLE)]) == 1  # its placeholders are findings (issue 20)
    out = capsys.readouterr().out
    assert "REPLACE-WITH-YOUR-BOT-TOKEN" not in out
    assert '"token": "***' in out
    assert '"max_sessions_per_pair": 7' in out


def test_check_config_refuses_unknown_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[engine]\nbackend = "x"\n')
    assert main(["check-config", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "engine.backend" in captured.err
    assert "Traceback" not in captured.err


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[engine]\nsend_spacing = inf\n", "engine.send_spacing: must be a finite number, 0 <= value <= 3600"),
        ("[engine]\nsend_timeout = nan\n", "engine.send_timeout: must be a finite number, 0 < value <= 3600"),
        ("[engine]\nconnect_timeout = inf\n", "engine.connect_timeout: must be a finite number, 0 < value <= 3600"),
        ("[engine]\nshutdown_timeout = -inf\n", "engine.shutdown_timeout: must be a finite number, 0 <= value <= 3600"),
        (
            "[engine]\ncycle_interval = 99999999999999999\n",
            "engine.cycle_interval: must be a finite number, 1 <= value <= 2592000",
        ),
        ("[engine]\nmax_cycle_interval = 1e18\n", "engine.max_cycle_interval"),
        ("[engine]\nmax_in_flight = 10000000\n", "engine.max_in_flight: must be a finite number, 1 <= value <= 100000"),
        ("[pool]\nquarantine_hours = inf\n", "pool.quarantine_hours: must be a finite number, 0 <= value <= 8760"),
        ("[pool]\nfrozen_check_hours = nan\n", "pool.frozen_check_hours"),
        ("[bot]\nadmins = [0]\n", "bot.admins.0: must be a finite number, 1 <= value < 9223372036854775808"),
        ("[engine]\nmax_post_media_mb = 0\n", "engine.max_post_media_mb: must be a finite number, 1 <= value <= 10000"),
    ],
)
def test_every_number_is_finite_and_bounded_with_its_range_named(tmp_path: Path, toml: str, expected: str) -> None:
    """Issue 17 point 8: ``inf``/``nan`` timeouts and spacing and a huge interval were accepted (a huge
    interval raised OverflowError only after the campaign was committed as running)."""
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert info.value.user_message.startswith(f"config error: {expected}")
    assert "\n" not in info.value.user_message


def test_a_non_finite_number_from_the_environment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("")
    with pytest.raises(ConfigError, match=r"engine\.send_spacing: must be a finite number"):
        load_settings(path, env={"ADBOT_ENGINE__SEND_SPACING": "inf"})


@pytest.mark.parametrize("token", [" ", "   \t  "])
def test_check_config_refuses_a_token_of_spaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    """Issue 17 point 9: a token of spaces passed check-config (and was shown as a masked token)."""
    path = tmp_path / "c.toml"
    path.write_text(f'[bot]\ntoken = "{token}"\n')
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("config error: bot.token:") and "only spaces" in err
    assert main(["run", "--config", str(path)]) == 2


def test_check_config_masks_the_api_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 17 point 9: api_base (a local Bot API server's URL, which can carry credentials or a secret
    path) was printed as it is."""
    path = tmp_path / "c.toml"
    path.write_text('[bot]\ntoken = "1:x"\nadmins = [5]\napi_base = "https://ops:s3cret@botapi.internal:8081/k3y/"\n')
    assert main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "k3y" not in out and "ops" not in out
    assert '"api_base": "https://***@botapi.internal:8081/***"' in out


def test_bot_language_contact_and_plan_presets(tmp_path: Path) -> None:
    """Issue 18: ``[bot] default_locale``, ``contact`` and ``plan_presets`` (sessions, days)."""
    settings = settings_from_dict({}, tmp_path)
    assert (settings.bot.default_locale, settings.bot.contact) == ("en", "")
    assert settings.bot.plan_presets == [(1, 30), (3, 30)]
    settings = settings_from_dict(
        {"bot": {"default_locale": "pt-BR", "contact": "@owner", "plan_presets": [[2, 7]]}}, tmp_path
    )
    bot = settings.bot
    assert (bot.default_locale, bot.contact, bot.plan_presets) == ("pt_BR", "@owner", [(2, 7)])
    for bad in ({"default_locale": "Russian"}, {"plan_presets": [[0, 30]]}, {"plan_presets": [[1]]},
                {"plan_presets": [[1, 30]] * 9}):
        with pytest.raises(ConfigError, match="config error: bot"):
            settings_from_dict({"bot": bad}, tmp_path)
