"""A sidecar's proxy at intake: the shapes shops write, stored with the session for life, checked (an
unreachable one is stored and flagged, not fatal), an unreadable one refusing the sidecar and its session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pool_support import NOW

from core.proxy import ProxySpec, parse_proxy
from pool.intake import import_files
from pool.sidecar import parse_sidecar
from sandbox.sessionfiles import make_session_bytes, make_sidecar
from storage import proxies as proxy_rows
from storage.db import Database
from tests.fake_proxy import FakeProxy, closed_port, running

MAX = 1024 * 1024
SECRET = "0123456789abcdef0123456789abcdef"
pytestmark = pytest.mark.usefixtures("private_tmp")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("socks5://u:p@1.2.3.4:1080", ProxySpec("socks5", "1.2.3.4", 1080, "u", "p")),
        (["socks5", "1.2.3.4", 1080, "u", "p"], ProxySpec("socks5", "1.2.3.4", 1080, "u", "p")),
        ([2, "1.2.3.4", "1080", True, "u", "p"], ProxySpec("socks5", "1.2.3.4", 1080, "u", "p")),  # PySocks tuple
        (["http", "h.example", 3128], ProxySpec("http", "h.example", 3128)),
        (["mtproxy", "mt.example", 443, SECRET], ProxySpec("mtproxy", "mt.example", 443, secret=SECRET)),
        ({"type": "SOCKS5", "addr": "1.2.3.4", "port": 1080, "username": "u", "password": "p"},
         ProxySpec("socks5", "1.2.3.4", 1080, "u", "p")),
        ({"scheme": "http", "host": "h.example", "port": "8080", "user": "u", "pass": "p"},
         ProxySpec("http", "h.example", 8080, "u", "p")),
        ({"server": "mt.example", "port": 443, "secret": "dd" + SECRET},
         ProxySpec("mtproxy", "mt.example", 443, secret="dd" + SECRET)),
        (f"https://t.me/proxy?server=mt.example&port=443&secret={SECRET}",
         ProxySpec("mtproxy", "mt.example", 443, secret=SECRET)),
        (None, None),
        ("", None),
        ({"enabled": False, "type": "socks5", "host": "1.2.3.4", "port": 1}, None),
    ],
)
def test_sidecar_proxy_shapes(value: Any, expected: ProxySpec | None) -> None:
    sidecar = parse_sidecar(json.dumps(make_sidecar(proxy=value)).encode())
    assert sidecar.proxy == expected
    if expected is not None and sidecar.proxy is not None:
        assert (sidecar.proxy.password, sidecar.proxy.secret) == (expected.password, expected.secret)
        assert "p@" not in repr(sidecar) and SECRET not in repr(sidecar)


async def _proxy_of(db: Database, session_id: int | None) -> proxy_rows.ProxyRow | None:
    assert session_id is not None
    async with db.read() as conn:
        return await proxy_rows.get(conn, session_id)


async def test_sidecar_proxy_stored_and_checked_at_intake(db: Database, sdir: Path) -> None:
    async with running(FakeProxy("socks5", auth=("u", "p"))) as fake:
        sidecar = make_sidecar(phone="1555", proxy=["socks5", "127.0.0.1", fake.port, "u", "p"])
        session, side = await import_files(
            db, sdir, [("a.session", make_session_bytes()), ("a.json", json.dumps(sidecar).encode())],
            max_bytes=MAX, now=NOW,
        )
    assert session.accepted and side.accepted
    assert session.note == f"proxy socks5://127.0.0.1:{fake.port}"
    assert fake.connects == [("149.154.167.51", 443)]  # the session's own DC (2)
    row = await _proxy_of(db, session.session_id)
    assert row is not None and row.spec == parse_proxy(f"socks5://u:p@127.0.0.1:{fake.port}")
    assert (row.set_by, row.checked_at, row.check_error) == ("sidecar", NOW, None)


async def test_unreachable_sidecar_proxy_is_stored_and_flagged(db: Database, sdir: Path) -> None:
    port = closed_port()
    sidecar = make_sidecar(proxy=f"socks5://127.0.0.1:{port}")
    [session, _side] = await import_files(
        db, sdir, [("b.session", make_session_bytes()), ("b.json", json.dumps(sidecar).encode())],
        max_bytes=MAX, now=NOW,
    )
    assert session.accepted
    assert session.note is not None and "did not reach Telegram" in session.note
    row = await _proxy_of(db, session.session_id)
    assert row is not None and row.check_error is not None and row.checked_at == NOW


async def test_unreadable_sidecar_proxy_refuses_the_session(db: Database, sdir: Path) -> None:
    for value in ("socks4://1.2.3.4:1080", ["socks5", "1.2.3.4"], 42, {"type": "socks5", "host": "x_y", "port": 1}):
        sidecar = make_sidecar(proxy=value)
        session, side = await import_files(
            db, sdir, [("c.session", make_session_bytes()), ("c.json", json.dumps(sidecar).encode())],
            max_bytes=MAX, now=NOW,
        )
        assert not session.accepted and not side.accepted
        assert side.reason is not None and side.reason.startswith("the sidecar's proxy cannot be used: ")


async def test_later_sidecar_gives_its_proxy_only_to_a_session_without_one(db: Database, sdir: Path) -> None:
    async def ok(_spec: ProxySpec, _address: str) -> str | None:
        return None

    [first] = await import_files(db, sdir, [("+1777.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    late = json.dumps(make_sidecar(phone="1777", proxy="http://9.9.9.9:80")).encode()
    [side] = await import_files(db, sdir, [("+1777.json", late)], max_bytes=MAX, now=NOW + 1, check=ok)
    assert side.accepted and side.note == "proxy http://9.9.9.9:80"
    row = await _proxy_of(db, first.session_id)
    assert row is not None and row.spec.masked() == "http://9.9.9.9:80"
    again = json.dumps(make_sidecar(phone="1777", proxy="socks5://8.8.8.8:1080")).encode()
    [side] = await import_files(db, sdir, [("+1777.json", again)], max_bytes=MAX, now=NOW + 2, check=ok)
    assert side.accepted and side.note is None
    row = await _proxy_of(db, first.session_id)
    assert row is not None and row.spec.masked() == "http://9.9.9.9:80"  # kept for life
