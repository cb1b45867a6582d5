"""Who each pool session's account is, read once in its life and stored (issue 22).

A connect costs Telegram's init request and nothing more once the session's row says who the account is
(``sessions.self_user_*``, handed to the port in ``SessionCredentials.self_user``). A connection makes at
most one request besides the init: the pool's dialogs reads (``pool.discovery``) spend it on the app config
(is the account frozen; a dead account's 401 retires it right there), so the row learns who the account is
from the first connection that does not read the app config: the engine's (``engine.accounts``) or a
join's. The port then asks ``users.getUsers`` of itself and its answer is stored here. A
health check (``pool.health``) asks again on purpose, as its proof that the account is alive, and stores
what changed (a new username, say).

Issue 19 part A reads the account's Premium flag from the same answer (``engine.telethon_adapter.self_info``).
"""

from __future__ import annotations

import dataclasses

from core.ports import UNKNOWN_SELF, AccountInfo, SessionCredentials
from storage import sessions as session_rows
from storage.db import Database

__all__ = ["asking", "not_asking", "remember"]


def not_asking(credentials: SessionCredentials) -> SessionCredentials:
    """The credentials for a connection that must not ask who the account is (it reads the app config, its
    one request besides the init): the stored self user, else ``UNKNOWN_SELF``."""
    if credentials.self_user is not None:
        return credentials
    return dataclasses.replace(credentials, self_user=UNKNOWN_SELF)


def asking(credentials: SessionCredentials) -> SessionCredentials:
    """The credentials without the stored self user: the port asks Telegram who the account is (a probe)."""
    return dataclasses.replace(credentials, self_user=None)


async def remember(db: Database, stored: AccountInfo | None, session_id: int, info: AccountInfo, now: float) -> bool:
    """Store ``info`` (what a connect that asked Telegram said) unless the row says the same already, or the
    connect did not ask (``UNKNOWN_SELF``); True when written."""
    if info == UNKNOWN_SELF or stored == info:
        return False
    async with db.tx() as conn:
        await session_rows.record_self_user(conn, session_id, info, now)
    return True
