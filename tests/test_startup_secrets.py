"""Review 20 F7: the bot token never reaches stderr (the journal, ``docker logs``). A malformed
``[bot] api_base`` is a configuration error naming the key (``check-config`` too), not a network
problem whose aiohttp message is the request URL ``<base>/bot<TOKEN>/getMe``; no start-up reason
quotes aiohttp's text; and every error ``adbot`` prints goes through adbot.log's redaction."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import GetMe
from aiohttp import ClientConnectorError, InvalidURL, NonHttpUrlClientError
from aiohttp.client_reqrep import ConnectionKey

from control_bot.cli import main
from control_bot.startup import _unreachable_reason, api_host
from core.config import load_settings
from core.errors import AdbotError, ConfigError
from tests.test_startup_errors import run_adbot, write_config

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr"
SECRET = TOKEN.split(":")[1]
BAD_BASES = ["127.0.0.1:8081", "ftp://x", "http://127.0.0.1:99999", "http://127.0.0.1:port", "https://", "api.example"]


@pytest.mark.parametrize("base", BAD_BASES)
def test_a_malformed_api_base_is_a_config_error_naming_the_key(tmp_path: Path, base: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(write_config(tmp_path, TOKEN, base))
    assert "bot.api_base" in refused.value.user_message and "\n" not in refused.value.user_message
    assert SECRET not in refused.value.user_message


@pytest.mark.parametrize("base", ["", "http://127.0.0.1:8081", "https://api.telegram.org", "http://[::1]:8081/"])
def test_a_usable_api_base_is_accepted(tmp_path: Path, base: str) -> None:
    assert load_settings(write_config(tmp_path, TOKEN, base)).bot.api_base == base


@pytest.mark.parametrize("base", ["127.0.0.1:8081", "http://127.0.0.1:99999"])
def test_check_config_flags_a_malformed_api_base_in_one_line(
    tmp_path: Path, base: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--online", "--config", str(write_config(tmp_path, TOKEN, base))]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == [err.strip()] and "bot.api_base" in err
    assert SECRET not in out + err and "Traceback" not in err


def _network_error(cause: Exception) -> TelegramNetworkError:
    """What aiogram's AiohttpSession raises: aiohttp's ``str(exc)`` in the message, the error chained."""
    error = TelegramNetworkError(method=GetMe(), message=f"{type(cause).__name__}: {cause}")
    error.__cause__ = cause
    return error


def test_a_start_up_reason_never_quotes_aiohttps_message() -> None:
    url = f"127.0.0.1:8081/bot{TOKEN}/getMe"
    for cause in (NonHttpUrlClientError(url), InvalidURL(url)):
        reason = _unreachable_reason(_network_error(cause))
        assert reason == type(cause).__name__
    key = ConnectionKey("127.0.0.1", 9, False, True, None, None, None)
    refused = ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))
    assert _unreachable_reason(_network_error(refused)) == "ClientConnectorError: Connection refused"
    assert api_host("http://user:pw@127.0.0.1:8081/secret/path") == "http://127.0.0.1:8081"


def test_an_error_the_cli_prints_is_redacted_with_the_configured_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = "42:short"  # not a token's usual shape: only the configured value can catch it
    config = write_config(tmp_path, odd, "")

    def leaky(args: argparse.Namespace, *_: object, **__: object) -> None:
        raise AdbotError(f"failed at http://x/bot{odd}/getMe and bot{TOKEN}")

    monkeypatch.setattr("control_bot.cli.admin.run_with_db", leaky)
    assert main(["customers", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert err == "error: failed at http://x/bot[redacted]/getMe and bot[redacted]\n"


@pytest.mark.process
@pytest.mark.parametrize("base", ["127.0.0.1:8081", "ftp://x", "http://127.0.0.1:99999"])
async def test_adbot_run_with_a_malformed_api_base_exits_2_without_the_token(tmp_path: Path, base: str) -> None:
    code, err = await run_adbot(write_config(tmp_path, TOKEN, base, attempts=3))
    assert code == 2, err
    assert SECRET not in err and "Traceback" not in err
    assert err.splitlines() == [err.strip()] and "bot.api_base" in err
