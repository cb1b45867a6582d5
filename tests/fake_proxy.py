"""A tiny local proxy for tests: SOCKS5 (RFC 1928, user/password RFC 1929) and HTTP CONNECT on 127.0.0.1.

It answers the handshake like a real proxy and records where each CONNECT asked to go, then closes the
tunnel without connecting anywhere: a check through it never touches the internet. ``refuse`` makes it
answer a CONNECT with a failure (SOCKS5 reply 5 'connection refused' / HTTP 502), ``auth`` demands a user
and password (a wrong one fails the handshake as a real proxy does).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field


@dataclass
class FakeProxy:
    kind: str  # 'socks5' | 'http' | 'tcp' (an MTProxy stand-in: accepts a connection, says nothing)
    auth: tuple[str, str] | None = None
    refuse: bool = False
    port: int = 0
    connects: list[tuple[str, int]] = field(default_factory=list)  # destinations asked for (IPs as text)
    logins: list[tuple[str, str]] = field(default_factory=list)
    accepted: int = 0

    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _ver, n = await reader.readexactly(2)
        methods = await reader.readexactly(n)
        want = 2 if self.auth else 0
        if want not in methods:
            writer.write(b"\x05\xff")
            return
        writer.write(bytes([5, want]))
        if self.auth:
            await reader.readexactly(1)
            user = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            pwd = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            self.logins.append((user, pwd))
            ok = (user, pwd) == self.auth
            writer.write(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return
        _ver, _cmd, _rsv, atyp = await reader.readexactly(4)
        if atyp == 1:
            host = ".".join(str(b) for b in await reader.readexactly(4))
        elif atyp == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        port = int.from_bytes(await reader.readexactly(2), "big")
        self.connects.append((host, port))
        code = 5 if self.refuse else 0
        writer.write(bytes([5, code, 0, 1, 127, 0, 0, 1, 0, 0]))

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        lines = head.split("\r\n")
        _method, target, _version = lines[0].split(" ")
        host, _, port = target.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")  # an IPv6 destination, as python-socks writes it
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if self.auth:
            given = headers.get("proxy-authorization", "")
            decoded = base64.b64decode(given.removeprefix("Basic ")).decode() if given else ""
            user, _, pwd = decoded.partition(":")
            self.logins.append((user, pwd))
            if (user, pwd) != self.auth:
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                return
        self.connects.append((host, int(port)))
        ok = b"HTTP/1.1 200 Connection established\r\n\r\n"
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\n\r\n" if self.refuse else ok)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            if self.kind == "socks5":
                await self._socks5(reader, writer)
            elif self.kind == "http":
                await self._http(reader, writer)
            await writer.drain()
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(1), 0.2)  # let the client read the answer before closing
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()

    @property
    def url_host(self) -> str:
        return f"127.0.0.1:{self.port}"


@asynccontextmanager
async def running(proxy: FakeProxy) -> AsyncIterator[FakeProxy]:
    server = await asyncio.start_server(proxy._serve, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): a connect to it is refused at once."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def in_thread(proxy: FakeProxy) -> Iterator[FakeProxy]:
    """The fake proxy on its own event loop in a thread: for code that runs ``asyncio.run`` itself (the CLI)."""
    started = threading.Event()
    stop: list[asyncio.Event] = []
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        async with running(proxy):
            stop.append(asyncio.Event())
            started.set()
            await stop[0].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(5)
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(5)
        loop.close()
