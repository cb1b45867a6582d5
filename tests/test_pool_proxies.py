"""Per-session proxies in the pool: the check against a local fake proxy, setting (checked first) and
clearing one, the credentials the engine gets, ``[pool] proxy_required``, and Telethon really connecting
through the proxy it is given (never the internet: the fake proxy only records where it was asked to go).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from telethon.network.connection import ConnectionTcpMTProxyRandomizedIntermediate
from telethon.sessions import StringSession

from control_bot.cli import main
from core import dcs
from core.clock import FakeClock
from core.errors import NotFound, ProxyMissing, ProxyRefused
from core.ports import SessionCredentials
from core.proxy import ProxySpec, parse_proxy
from core.texts.proxy import health_lines
from engine.outcomes import classify
from engine.telethon_adapter import ClientSettings, build_client
from pool import lifecycle
from pool.health import check_sessions
from pool.intake import import_files
from pool.layout import UNUSED
from pool.proxies import check_proxy, check_stored, overview, set_proxy
from pool.supply import PoolSupply
from sandbox.sessionfiles import make_session_bytes, make_sidecar, new_auth_key
from sandbox.world import World
from storage import proxies as proxy_rows
from storage import sessions as session_rows
from storage.db import Database
from tests.fake_proxy import FakeProxy, closed_port, in_thread, running
from tests.pool_support import NOW, add_pair, seed_sessions

SECRET = "0123456789abcdef0123456789abcdef"
DC2 = dcs.address_for(2)


async def test_check_through_socks5_reaches_the_sessions_dc_with_its_login() -> None:
    async with running(FakeProxy("socks5", auth=("alice", "pw"))) as fake:
        spec = parse_proxy(f"socks5://alice:pw@{fake.url_host}")
        assert await check_proxy(spec, dcs.address_for(4)) is None
    assert fake.connects == [(dcs.address_for(4), 443)]
    assert fake.logins == [("alice", "pw")]


async def test_check_through_http_connect() -> None:
    async with running(FakeProxy("http", auth=("bob", "x:y"))) as fake:
        assert await check_proxy(parse_proxy(f"http://bob:x%3Ay@{fake.url_host}"), dcs.address_for(2)) is None
    assert fake.connects == [(dcs.address_for(2), 443)]
    assert fake.logins == [("bob", "x:y")]


@pytest.mark.parametrize("kind", ["socks5", "http"])
async def test_check_fails_on_wrong_password_refusal_and_dead_port(kind: str) -> None:
    async with running(FakeProxy(kind, auth=("alice", "pw"))) as fake:
        wrong = await check_proxy(parse_proxy(f"{kind}://alice:nope@{fake.url_host}"), DC2)
    assert wrong is not None and "nope" not in wrong
    assert fake.connects == []  # it never got as far as Telegram
    async with running(FakeProxy(kind, refuse=True)) as fake:
        refused = await check_proxy(parse_proxy(f"{kind}://{fake.url_host}"), DC2)
    assert refused is not None
    dead = await check_proxy(parse_proxy(f"{kind}://127.0.0.1:{closed_port()}"), DC2)
    assert dead is not None and "cannot connect" in dead


async def test_check_of_an_mtproxy_is_a_tcp_connect() -> None:
    async with running(FakeProxy("tcp")) as fake:
        assert await check_proxy(parse_proxy(f"mtproxy://{SECRET}@{fake.url_host}"), DC2) is None
    assert fake.accepted == 1
    assert await check_proxy(parse_proxy(f"mtproxy://{SECRET}@127.0.0.1:{closed_port()}"), DC2) is not None


async def test_check_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        error = await check_proxy(parse_proxy(f"socks5://127.0.0.1:{port}"), DC2, limit=0.3)
    finally:
        server.close()
    assert error == "no answer in time"


async def test_set_checks_first_and_a_failed_check_changes_nothing(db: Database, sdir: Path) -> None:
    (sid,) = await seed_sessions(db, sdir, 1)
    async with running(FakeProxy("socks5")) as fake:
        good = parse_proxy(f"socks5://u:p@{fake.url_host}")
        assert await set_proxy(db, sid, good, set_by=proxy_rows.by_admin(7), now=NOW) is True
    bad = parse_proxy(f"socks5://127.0.0.1:{closed_port()}")
    with pytest.raises(ProxyRefused) as err:
        await set_proxy(db, sid, bad, set_by=proxy_rows.CLI, now=NOW + 1)
    assert bad.masked() in err.value.user_message and "Nothing was changed" in err.value.user_message
    async with db.read() as conn:
        row = await proxy_rows.get(conn, sid)
    assert row is not None and row.spec == good and row.spec.password == "p"
    assert (row.set_by, row.set_at, row.checked_at, row.check_error) == ("admin:7", NOW, NOW, None)
    assert await set_proxy(db, sid, None, set_by=proxy_rows.CLI, now=NOW + 2) is True
    assert await set_proxy(db, sid, None, set_by=proxy_rows.CLI, now=NOW + 3) is False
    async with db.read() as conn:
        assert await proxy_rows.get(conn, sid) is None


async def _session(db: Database, sdir: Path, *, dc_id: int, test: bool) -> int:
    """A session row of ``dc_id`` (a test-server one when ``test``); the proxy check reads only the row."""
    key = new_auth_key()
    async with db.tx() as conn:
        return await session_rows.insert(
            conn, file_name=f"s{key[:8].hex()}.session", auth_key_sha=hashlib.sha256(key).hexdigest(), dc_id=dc_id,
            folder=UNUSED, now=NOW, test_mode=test,
        )


WHERE = [(False, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize("kind", ["socks5", "http"])
@pytest.mark.parametrize(("ipv6", "test"), WHERE, ids=["ipv4", "ipv6", "test-ipv4", "test-ipv6"])
async def test_set_checks_the_address_the_session_will_connect_to(
    db: Database, sdir: Path, kind: str, ipv6: bool, test: bool
) -> None:
    """The configured family ([pool] ipv6) and, for a test-server session, the test DC table: the address
    engine.session_address pins, never production IPv4 whatever the session."""
    sid = await _session(db, sdir, dc_id=3, test=test)
    async with running(FakeProxy(kind)) as fake:
        assert await set_proxy(db, sid, parse_proxy(f"{kind}://{fake.url_host}"), set_by="cli", now=NOW, ipv6=ipv6)
    assert fake.connects == [(dcs.address_for(3, ipv6=ipv6, test=test), 443)]


@pytest.mark.parametrize(("ipv6", "test"), WHERE, ids=["ipv4", "ipv6", "test-ipv4", "test-ipv6"])
async def test_a_stored_proxy_is_checked_on_the_address_the_session_will_connect_to(
    db: Database, sdir: Path, ipv6: bool, test: bool
) -> None:
    sid = await _session(db, sdir, dc_id=1, test=test)
    async with running(FakeProxy("socks5")) as fake:
        async with db.tx() as conn:
            await proxy_rows.put(conn, sid, parse_proxy(f"socks5://{fake.url_host}"), set_by="sidecar", now=NOW)
        assert await check_stored(db, sid, NOW, ipv6=ipv6) is None
    assert fake.connects == [(dcs.address_for(1, ipv6=ipv6, test=test), 443)]


async def test_a_test_sessions_sidecar_proxy_is_checked_on_the_test_dc_in_the_configured_family(
    db: Database, sdir: Path
) -> None:
    key = new_auth_key()
    async with running(FakeProxy("socks5")) as fake:
        sidecar = make_sidecar(proxy=f"socks5://{fake.url_host}")
        session, side = await import_files(
            db, sdir, [("t.session", make_session_bytes(2, key, server_address=dcs.TEST_IPV4[2])),
                       ("t.json", json.dumps(sidecar).encode())],
            max_bytes=1024 * 1024, now=NOW, ipv6=True, allow_test_servers=True,
        )
    assert session.accepted and side.accepted, (session.reason, side.reason)
    assert fake.connects == [(dcs.TEST_IPV6[2], 443)]


def test_cli_proxy_is_checked_on_the_configured_family(
    config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(config)
    path.write_text(path.read_text(encoding="utf-8") + "ipv6 = true\n", encoding="utf-8")
    (tmp_path / "p.session").write_bytes(make_session_bytes(4))
    assert main(["pool", "import", str(tmp_path / "p.session"), "--config", config]) == 0
    with in_thread(FakeProxy("http")) as fake:
        assert main(["pool", "proxy", "1", f"http://127.0.0.1:{fake.port}", "--config", config]) == 0
    assert "now connects through" in capsys.readouterr().out
    assert fake.connects == [(dcs.IPV6[4], 443)]


async def test_set_refuses_unknown_and_dead_sessions(db: Database, sdir: Path) -> None:
    (sid,) = await seed_sessions(db, sdir, 1)

    async def never(_spec: ProxySpec, _address: str) -> str | None:
        raise AssertionError("no check for a session that cannot take a proxy")

    spec = parse_proxy("socks5://1.2.3.4:1080")
    with pytest.raises(NotFound):
        await set_proxy(db, 999, spec, set_by="cli", now=NOW, check=never)
    async with db.tx() as conn:
        await session_rows.retire(conn, sid, "dead", "banned", "AUTH_KEY_UNREGISTERED", NOW)
    with pytest.raises(ProxyRefused):
        await set_proxy(db, sid, spec, set_by="cli", now=NOW, check=never)


async def test_credentials_carry_the_proxy_and_proxy_required_refuses_a_direct_session(
    db: Database, sdir: Path
) -> None:
    await add_pair(db, 111)
    with_proxy, direct = await seed_sessions(db, sdir, 2)
    spec = parse_proxy(f"mtproxy://dd{SECRET}@mt.example.org:443")
    async with db.tx() as conn:
        await proxy_rows.put(conn, with_proxy, spec, set_by=proxy_rows.SIDECAR, now=NOW)
    creds = await lifecycle.credentials(db, sdir, with_proxy, proxy_required=True)
    assert creds.proxy == spec and creds.proxy.secret == "dd" + SECRET
    assert (await lifecycle.credentials(db, sdir, direct)).proxy is None
    supply = PoolSupply(db, sdir, proxy_required=True)
    with pytest.raises(ProxyMissing) as err:
        await supply.credentials(direct)
    assert f"#{direct}" in err.value.user_message and "proxy_required" in err.value.user_message
    assert (await supply.credentials(with_proxy)).proxy == spec


async def test_overview_counts_direct_and_failed(db: Database, sdir: Path) -> None:
    a, b, c = await seed_sessions(db, sdir, 3)
    async with db.tx() as conn:
        await proxy_rows.put(conn, a, parse_proxy("socks5://u:p@1.2.3.4:1080"), set_by="sidecar", now=NOW)
        await proxy_rows.put(conn, b, parse_proxy("http://5.6.7.8:80"), set_by="sidecar", now=NOW,
                             checked_at=NOW, check_error="cannot connect")
    view = await overview(db, required=True)
    assert [(s.session_id, s.masked, s.check_error) for s in view.sessions] == [
        (a, "socks5://1.2.3.4:1080", None),
        (b, "http://5.6.7.8:80", "cannot connect"),
        (c, None, None),
    ]
    assert (view.direct, view.failed, view.required) == (1, 1, True)


def _client_creds(tmp_path: Path, spec: ProxySpec | None) -> SessionCredentials:
    return SessionCredentials(1, tmp_path / "x.session", api_id=1, api_hash="0" * 32, proxy=spec)


def test_build_client_passes_the_proxy_in_telethons_forms(tmp_path: Path) -> None:
    socks = parse_proxy("socks5://alice:pw@10.0.0.1:1080")
    client = build_client(_client_creds(tmp_path, socks), ClientSettings(), session=StringSession())
    assert client._proxy == {
        "proxy_type": "socks5", "addr": "10.0.0.1", "port": 1080, "username": "alice", "password": "pw", "rdns": True,
    }
    assert client._init_request.proxy is None
    mt = parse_proxy(f"mtproxy://dd{SECRET}@mt.example.org:443")
    client = build_client(_client_creds(tmp_path, mt), ClientSettings(), session=StringSession())
    assert client._connection is ConnectionTcpMTProxyRandomizedIntermediate
    assert client._proxy == ("mt.example.org", 443, "dd" + SECRET)
    assert (client._init_request.proxy.address, client._init_request.proxy.port) == ("mt.example.org", 443)
    direct = build_client(_client_creds(tmp_path, None), ClientSettings(), session=StringSession())
    assert direct._proxy is None


@pytest.mark.parametrize("kind", ["socks5", "http"])
async def test_telethon_connects_through_the_proxy_not_directly(tmp_path: Path, kind: str) -> None:
    # The fake proxy records the CONNECT to the session's DC and closes the tunnel: the connect fails
    # (no Telegram behind it), which proves the client went through the proxy and nowhere else.
    session = StringSession()
    session.set_dc(4, dcs.address_for(4), 443)
    settings = ClientSettings(connection_retries=0, timeout=3)
    async with running(FakeProxy(kind, auth=("alice", "pw"))) as fake:
        client = build_client(
            _client_creds(tmp_path, parse_proxy(f"{kind}://alice:pw@{fake.url_host}")), settings, session=session
        )
        with pytest.raises((ConnectionError, OSError, asyncio.IncompleteReadError)):
            await client.connect()
        await client.disconnect()
    assert fake.connects and set(fake.connects) == {(dcs.address_for(4), 443)}
    assert fake.logins[0] == ("alice", "pw")


async def test_telethon_connects_to_the_mtproxy(tmp_path: Path) -> None:
    session = StringSession()
    session.set_dc(2, DC2, 443)
    async with running(FakeProxy("tcp")) as fake:
        spec = parse_proxy(f"mtproxy://{SECRET}@{fake.url_host}")
        client = build_client(_client_creds(tmp_path, spec), ClientSettings(connection_retries=0, timeout=3),
                              session=session)
        with pytest.raises((ConnectionError, OSError, asyncio.IncompleteReadError)):
            await client.connect()
        await client.disconnect()
    assert fake.accepted >= 1


async def test_health_lines_mark_sessions_a_required_proxy_keeps_closed(db: Database, sdir: Path) -> None:
    a, _b = await seed_sessions(db, sdir, 2)
    async with db.tx() as conn:
        await proxy_rows.put(conn, a, parse_proxy("socks5://u:secretpw@1.2.3.4:1080"), set_by="cli", now=NOW)
    lines = health_lines(await overview(db, required=True), html=True)
    assert lines[0] == "Proxies (required): 1 of 2 sessions have one; 1 direct, 0 failed check"
    assert "⛔ 1 session without a proxy are never opened (proxy_required)" in lines
    assert "  socks5://1.2.3.4:1080: #1" in lines and "  direct: #2" in lines
    assert "secretpw" not in "\n".join(lines)


async def test_check_sessions_never_opens_a_direct_session_when_a_proxy_is_required(db: Database, sdir: Path) -> None:
    await add_pair(db, 111)
    (sid,) = await seed_sessions(db, sdir, 1)
    world = World(FakeClock(NOW), lenient=True)
    [result] = await check_sessions(db, sdir, world, NOW, classify=classify, proxy_required=True)
    assert result.outcome == "error" and result.detail is not None and "proxy_required" in result.detail
    assert world.request_count() == 0 and world.accounts == {}
    async with db.tx() as conn:
        await proxy_rows.put(conn, sid, parse_proxy("http://10.1.1.1:80"), set_by="cli", now=NOW)
    [result] = await check_sessions(db, sdir, world, NOW, classify=classify, proxy_required=True)
    assert result.outcome == "healthy"
    assert [a.routes for a in world.accounts.values()] == [["http://10.1.1.1:80"]]
