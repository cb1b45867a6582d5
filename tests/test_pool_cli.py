"""``adbot pool`` and ``adbot pairs`` through the real console-script entry point."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from control_bot.cli import main
from sandbox.sessionfiles import make_session_file, make_sidecar
from tests.fake_proxy import FakeProxy, closed_port, in_thread

HASH = "0123456789abcdef0123456789abcdef"


def test_import_status_and_pairs(config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    up = tmp_path / "upload"
    up.mkdir()
    make_session_file(up / "a.session")
    make_session_file(up / "b.session", dc_id=4)
    (up / "b.json").write_text(json.dumps(make_sidecar(api_id=77)))
    (up / "junk.session").write_bytes(b"junk")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../x.session", b"x")
    (up / "evil.zip").write_bytes(buf.getvalue())

    files = [str(up / n) for n in ("a.session", "b.session", "b.json", "junk.session", "evil.zip", "nope.session")]
    assert main(["pool", "import", *files, "--config", config]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "rejected  nope.session: cannot read it (No such file or directory)"
    # no API pair yet: a.session is accepted but waits for one (b.session has its sidecar's own app)
    assert out[1] == "accepted  a.session -> session #1  (waits for an API pair: none has room, and no .json" \
        " sidecar came with it; add one with 'adbot pairs add' or import its sidecar)"
    assert out[2] == "accepted  b.session -> session #2" and out[3] == "accepted  b.json -> session #2"
    assert out[4].startswith("rejected  junk.session: not a Telethon session")
    assert out[5].startswith("rejected  evil.zip: the archive entry 'x.session' points outside")
    assert out[-1] == "3 accepted, 3 rejected"
    assert not (tmp_path / "sessions" / "unused" / "a.session").exists()  # server-made names only

    assert main(["pairs", "add", "2040", HASH, "--config", config]) == 0
    # the waiting session gets it at once
    assert capsys.readouterr().out == (
        "API pair 2040 added (up to 3 sessions); 1 session(s) connect with its API id now\n"
    )
    assert main(["pairs", "add", "2040", "nothex", "--config", config]) == 1
    assert "32 hexadecimal" in capsys.readouterr().err
    assert main(["pairs", "list", "--config", config]) == 0
    assert capsys.readouterr().out == "2040  1/3 sessions\n"  # the waiting session got it, for life

    assert main(["pool", "status", "--json", "--config", config]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["sessions"]["unused"] == 2 and status["pairs"][0]["api_id"] == 2040
    assert main(["pool", "status", "--config", config]) == 0
    assert "2 total, 2 free" in capsys.readouterr().out
    assert main(["pool", "reconcile", "--config", config]) == 0
    assert "agree" in capsys.readouterr().out

    assert main(["pairs", "remove", "2040", "--config", config]) == 1
    assert "used by 1 session;" in capsys.readouterr().err
    assert main(["pairs", "remove", "2040", "--move", "--config", config]) == 1  # nowhere to move it
    assert "room for only 0" in capsys.readouterr().err
    assert main(["pairs", "add", "2041", HASH, "--config", config]) == 0
    capsys.readouterr()
    assert main(["pairs", "remove", "2040", "--move", "--config", config]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "API pair 2040 removed", "session #1 moved to API id 2041 (its API id changed once, as asked)"
    ]
    assert main(["pairs", "remove", "2040", "--config", config]) == 1
    assert "no API pair with id 2040" in capsys.readouterr().err
    assert HASH not in capsys.readouterr().out


def test_import_too_large_is_refused_before_reading(config: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.session"
    big.write_bytes(b"\0" * (10 * 1024 * 1024 + 1))
    assert main(["pool", "import", str(big), "--config", config]) == 1
    assert "too large (10485761 bytes; the limit is 10485760)" in capsys.readouterr().out


def test_bad_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pool", "status", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_pairs_add_reads_the_hash_from_stdin(config: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(HASH + "\n"))
    assert main(["pairs", "add", "777", "-", "--config", config]) == 0
    assert capsys.readouterr().out == "API pair 777 added (up to 3 sessions)\n"


def test_pool_join_queues_and_joins_lists(config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pairs", "add", "2040", HASH, "--config", config]) == 0  # an identity for them: they may join
    make_session_file(tmp_path / "a.session")
    make_session_file(tmp_path / "b.session")
    assert main(["pool", "import", str(tmp_path / "a.session"), str(tmp_path / "b.session"), "--config", config]) == 0
    capsys.readouterr()
    assert main(["pool", "joins", "--config", config]) == 0
    assert capsys.readouterr().out == "no joins yet\n"

    assert main(["pool", "join", "1,2,7", "t.me/+AbCdEf123456", "--admin", "9000", "--config", config]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("session 1: join #1 at ") and out[0].endswith("(now)")
    assert out[1].startswith("session 2: join #2 at ")
    assert out[2] == "session 7: not queued, no such session"
    assert main(["pool", "join", "1", "+AbCdEf123456", "--config", config]) == 1  # queued already: nothing new
    assert capsys.readouterr().out == "session 1: not queued, already queued or waiting for approval\n"
    assert main(["pool", "join", "1", "-1001234567890", "--config", config]) == 1
    assert "only be joined by its @username or an invite link" in capsys.readouterr().err

    assert main(["pool", "joins", "--json", "--config", config]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(j["session_id"], j["target"], j["status"]) for j in listed] == [
        (2, "+AbCdEf123456", "queued"),
        (1, "+AbCdEf123456", "queued"),
    ]
    assert main(["pool", "joins", "--config", config]) == 0
    assert capsys.readouterr().out.startswith("#2 session 2 +AbCdEf123456: queued ")


def test_pool_proxy_sets_checked_refuses_and_clears(
    config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_session_file(tmp_path / "p.session")
    assert main(["pool", "import", str(tmp_path / "p.session"), "--config", config]) == 0
    capsys.readouterr()
    with in_thread(FakeProxy("socks5", auth=("u", "pw"))) as fake:
        monkeypatch.setattr("sys.stdin", io.StringIO(f"socks5://u:pw@127.0.0.1:{fake.port}\n"))
        assert main(["pool", "proxy", "1", "-", "--config", config]) == 0
    out = capsys.readouterr().out
    assert f"Session #1 now connects through socks5://127.0.0.1:{fake.port}" in out and "pw" not in out
    assert fake.connects == [("149.154.167.51", 443)]

    dead = f"http://127.0.0.1:{closed_port()}"
    assert main(["pool", "proxy", "1", dead, "--config", config]) == 1
    assert "did not reach Telegram" in capsys.readouterr().err
    assert main(["health", "--config", config]) == 2  # down: no adbot run holds the data dir
    health = capsys.readouterr().out
    assert "Proxies (optional): 1 of 1 sessions have one; 0 direct, 0 failed check" in health
    assert f"socks5://127.0.0.1:{fake.port}: #1" in health and "pw" not in health  # the refused one changed nothing
    assert main(["health", "--json", "--config", config]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["proxies"]["sessions"] == [
        {"session_id": 1, "state": "unused", "masked": f"socks5://127.0.0.1:{fake.port}", "check_error": None}
    ]

    assert main(["pool", "proxy", "1", "--clear", "--config", config]) == 0
    assert "now connects directly" in capsys.readouterr().out
    assert main(["pool", "proxy", "1", "--config", config]) == 1
    assert "--clear" in capsys.readouterr().err
    assert main(["pool", "proxy", "1", "socks4://1.2.3.4:1", "--config", config]) == 1
    assert "SOCKS4" in capsys.readouterr().err
    assert main(["health", "--config", config]) == 2  # down: no adbot run holds the data dir
    assert "  direct: #1" in capsys.readouterr().out
