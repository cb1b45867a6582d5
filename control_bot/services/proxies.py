"""Setting a session's proxy, for ``/proxy`` and ``adbot pool proxy``: parse what the admin typed, then
``pool.proxies.set_proxy`` (checked before anything is stored).

A customer's session keeps its client connected across cycles: in the bot (an engine in the process)
its port is closed after a change when no cycle of its campaign is running (``Engine.session_released``),
so the next cycle connects through the new proxy; during a cycle the change waits for the session's next
connection. Idle sessions open a new client for each scan, check or join anyway."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from control_bot.services.admin import parse_int
from core.errors import InputError
from core.proxy import ProxySpec, parse_proxy
from core.texts import admin as admin_texts
from core.texts import proxy as texts
from pool.proxies import ProxyChecker, check_proxy, set_proxy
from storage import sessions as session_rows
from storage.db import Database

OFF_WORDS = frozenset({"off", "none", "direct", "clear", "-"})
MAX_SESSION_ID = 2**63 - 1


@dataclass(frozen=True)
class ProxyChange:
    session_id: int
    spec: ProxySpec | None  # None: cleared
    changed: bool
    reconnects: bool = False  # its customer's live client was closed: the next cycle uses the change

    def reply(self) -> str:
        if self.spec is not None:
            text = texts.proxy_set(self.session_id, self.spec.masked())
        elif self.changed:
            text = texts.proxy_cleared(self.session_id)
        else:
            return texts.proxy_unchanged_off(self.session_id)
        return text + ("\n" + texts.RECONNECTS() if self.reconnects else "")


class LiveSessions(Protocol):
    """The engine, as far as a proxy change needs it (``Engine.session_released``)."""

    def session_released(self, customer_id: int, session_id: int) -> AbstractAsyncContextManager[bool]: ...


async def _reconnect(db: Database, engine: LiveSessions, session_id: int) -> bool:
    async with db.read() as conn:
        row = await session_rows.get(conn, session_id)
    if row is None or not row.owned or row.owner_id is None:
        return False
    async with engine.session_released(row.owner_id, session_id) as released:
        return released


def parse_args(raw: str | None) -> tuple[int, ProxySpec | None]:
    """'<session id> <url|off>' -> (session id, proxy or None to clear); InputError with the reason."""
    parts = (raw or "").split()
    if len(parts) != 2:
        raise InputError(admin_texts.usage(texts.USAGE()))
    session_id = parse_int(parts[0], texts.SESSION_ID(), 1, MAX_SESSION_ID)
    if parts[1].lower() in OFF_WORDS:
        return session_id, None
    return session_id, parse_proxy(parts[1])


async def change(
    db: Database,
    session_id: int,
    spec: ProxySpec | None,
    *,
    set_by: str,
    now: float,
    check: ProxyChecker = check_proxy,
    engine: LiveSessions | None = None,
    ipv6: bool = False,
) -> ProxyChange:
    """``ipv6``: ``[pool] ipv6``, the address family the proxy is checked on (the one sessions connect on)."""
    changed = await set_proxy(db, session_id, spec, set_by=set_by, now=now, check=check, ipv6=ipv6)
    reconnects = changed and engine is not None and await _reconnect(db, engine, session_id)
    return ProxyChange(session_id, spec, changed, reconnects)
