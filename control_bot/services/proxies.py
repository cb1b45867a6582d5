"""Setting a session's proxy, for ``/proxy`` and ``adbot pool proxy``: parse what the admin typed, then
``pool.proxies.set_proxy`` (checked before anything is stored)."""

from __future__ import annotations

from dataclasses import dataclass

from control_bot.services.admin import parse_int
from core.errors import InputError
from core.proxy import ProxySpec, parse_proxy
from core.texts import admin as admin_texts
from core.texts import proxy as texts
from pool.proxies import ProxyChecker, check_proxy, set_proxy
from storage.db import Database

OFF_WORDS = frozenset({"off", "none", "direct", "clear", "-"})
MAX_SESSION_ID = 2**63 - 1


@dataclass(frozen=True)
class ProxyChange:
    session_id: int
    spec: ProxySpec | None  # None: cleared
    changed: bool

    def reply(self) -> str:
        if self.spec is not None:
            return texts.proxy_set(self.session_id, self.spec.masked())
        return texts.proxy_cleared(self.session_id) if self.changed else texts.proxy_unchanged_off(self.session_id)


def parse_args(raw: str | None) -> tuple[int, ProxySpec | None]:
    """'<session id> <url|off>' -> (session id, proxy or None to clear); InputError with the reason."""
    parts = (raw or "").split()
    if len(parts) != 2:
        raise InputError(admin_texts.usage(texts.USAGE))
    session_id = parse_int(parts[0], texts.SESSION_ID, 1, MAX_SESSION_ID)
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
) -> ProxyChange:
    changed = await set_proxy(db, session_id, spec, set_by=set_by, now=now, check=check)
    return ProxyChange(session_id, spec, changed)
