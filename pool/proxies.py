"""Per-session proxies: setting one (checked first), clearing it, checking the stored ones, and the
overview health shows.

A session keeps its proxy for life: only its sidecar (at intake, when it had none) or an admin (``/proxy``,
``adbot pool proxy``) sets one. A proxy an admin gives is checked before it is stored: a TCP connect
through it to the session's own Telegram DC (python-socks, as Telethon will use it); one that does not
reach Telegram is refused with the reason and nothing changes. An MTProxy speaks only MTProto, so its
check is a plain TCP connect to it (the secret is proven at the session's next connection).

The DC address checked is the one the session will connect to (``engine.session_address`` pins the same):
its DC in the configured family (``[pool] ipv6``: an IPv4-only proxy must not pass for an IPv6 pool),
and Telegram's test DC table for a test-server session (its row's ``test_mode``), never the production one.

The check is injectable (``ProxyChecker``): tests run it against a local fake proxy, never the internet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from python_socks import ProxyError, ProxyType
from python_socks.async_.asyncio import Proxy

from core import dcs
from core.errors import NotFound, ProxyRefused
from core.proxy import ProxySpec
from core.texts import errors as error_texts
from core.texts import proxy as texts
from storage import proxies as proxy_rows
from storage import sessions as session_rows
from storage.db import Database

logger = logging.getLogger(__name__)

TELEGRAM_PORT = dcs.PORT
CHECK_TIMEOUT = 10.0

ProxyChecker = Callable[[ProxySpec, str], Awaitable[str | None]]
"""Checks a proxy on the way to a session's DC address (``dc_address``): None when it reaches Telegram,
else why not (plain text)."""


def dc_address(dc_id: int, *, ipv6: bool, test: bool) -> str:
    """Where a session of DC ``dc_id`` connects (``core.dcs``): the configured family, the test table for a
    test-server session; an id outside the table (never stored by intake) is checked against DC 2's."""
    known = dcs.TEST_DC_IDS if test else dcs.DC_IDS
    return dcs.address_for(dc_id if dc_id in known else 2, ipv6=ipv6, test=test)


async def check_proxy(spec: ProxySpec, address: str, *, limit: float = CHECK_TIMEOUT) -> str | None:
    """A TCP connect through the proxy to the DC ``address`` (SOCKS5 / HTTP CONNECT), or to the MTProxy
    itself, within ``limit`` seconds."""
    try:
        if spec.scheme == "mtproxy":
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(spec.host, spec.port), limit)
            writer.close()
            await writer.wait_closed()
        else:
            kind = ProxyType.SOCKS5 if spec.scheme == "socks5" else ProxyType.HTTP
            proxy = Proxy(kind, spec.host, spec.port, spec.username, spec.password, rdns=True)
            sock = await proxy.connect(address, TELEGRAM_PORT, timeout=limit)
            sock.close()
    except TimeoutError:  # ProxyTimeoutError included
        return texts.CHECK_TIMEOUT()
    except ProxyError as exc:
        return texts.proxy_refused(str(exc))
    except OSError as exc:  # python-socks' ProxyConnectionError included
        return texts.check_unreachable(exc.strerror or type(exc).__name__)
    return None


async def set_proxy(
    db: Database,
    session_id: int,
    spec: ProxySpec | None,
    *,
    set_by: str,
    now: float,
    check: ProxyChecker = check_proxy,
    ipv6: bool = False,
) -> bool:
    """An admin sets (checked first) or clears (``spec`` None) a session's proxy. Returns whether anything
    changed; raises NotFound, or ProxyRefused (a dead session, a failed check) with nothing changed.
    It takes effect at the session's next connection. ``ipv6``: ``[pool] ipv6``, the family checked."""
    async with db.read() as conn:
        row = await session_rows.get(conn, session_id)
    if row is None:
        raise NotFound(error_texts.no_session(session_id))
    if row.state == "dead":
        raise ProxyRefused(texts.session_dead(session_id))
    if spec is None:
        async with db.tx() as conn:
            changed = await proxy_rows.clear(conn, session_id)
        if changed:
            logger.info("session %d: proxy cleared by %s (direct from its next connection)", session_id, set_by)
        return changed
    error = await check(spec, dc_address(row.dc_id, ipv6=ipv6, test=row.test_mode))
    if error is not None:
        logger.info("session %d: proxy %s refused, its check failed: %s", session_id, spec.masked(), error)
        raise ProxyRefused(texts.check_failed(spec.masked(), error))
    async with db.tx() as conn:
        await proxy_rows.put(conn, session_id, spec, set_by=set_by, now=now, checked_at=now)
    logger.info("session %d: proxy set to %s by %s", session_id, spec.masked(), set_by)
    return True


async def check_stored(
    db: Database, session_id: int, now: float, check: ProxyChecker = check_proxy, *, ipv6: bool = False
) -> str | None:
    """Check the session's stored proxy and record the outcome (a sidecar's, at intake); None: fine or none.
    ``ipv6``: ``[pool] ipv6``, the family checked."""
    async with db.read() as conn:
        row = await session_rows.get(conn, session_id)
        stored = await proxy_rows.get(conn, session_id)
    if row is None or stored is None:
        return None
    error = await check(stored.spec, dc_address(row.dc_id, ipv6=ipv6, test=row.test_mode))
    async with db.tx() as conn:
        await proxy_rows.record_check(conn, session_id, now, error)
    if error is not None:
        logger.warning("session %d: its proxy %s did not reach Telegram: %s", session_id, stored.spec.masked(), error)
    return error


@dataclass(frozen=True)
class SessionProxy:
    session_id: int
    state: str
    masked: str | None  # None: direct
    check_error: str | None


@dataclass(frozen=True)
class ProxyOverview:
    """Every session that may still connect (dead ones never do), with its proxy, for health."""

    required: bool
    sessions: list[SessionProxy]

    @property
    def direct(self) -> int:
        return sum(s.masked is None for s in self.sessions)

    @property
    def failed(self) -> int:
        return sum(s.check_error is not None for s in self.sessions)


async def overview(db: Database, *, required: bool) -> ProxyOverview:
    async with db.read() as conn:
        rows = [r for r in await session_rows.list_all(conn) if r.state != "dead"]
        proxies = await proxy_rows.list_all(conn)
    items = []
    for r in rows:
        p = proxies.get(r.id)
        items.append(SessionProxy(r.id, r.state, p.spec.masked() if p else None, p.check_error if p else None))
    return ProxyOverview(required, items)
