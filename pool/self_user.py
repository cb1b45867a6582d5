"""Who each pool session's account is, read once in its life and stored (issue 22).

A connect costs Telegram's init request and nothing more once the session's row says who the account is
(``sessions.self_user_*``, handed to the port in ``SessionCredentials.self_user``). The row learns it at
the session's first connect, which for a session just taken in is the pool's first read of its dialogs
(due at once after intake, ``pool.discovery``): the port then asks ``users.getUsers`` of itself, a request
that needs an authorised account (a dead one is retired right there), and its answer is stored here. A
health check (``pool.health``) asks again on purpose, as its proof that the account is alive, and stores
what changed (a new username, say).

Issue 19 part A reads the account's Premium flag from the same answer (``engine.telethon_adapter.self_info``).
"""

from __future__ import annotations

import dataclasses

from core.ports import AccountInfo, SessionCredentials
from storage import sessions as session_rows
from storage.db import Database

__all__ = ["asking", "remember"]


def asking(credentials: SessionCredentials) -> SessionCredentials:
    """The credentials without the stored self user: the port asks Telegram who the account is (a probe)."""
    return dataclasses.replace(credentials, self_user=None)


async def remember(db: Database, stored: AccountInfo | None, session_id: int, info: AccountInfo, now: float) -> bool:
    """Store ``info`` (what a connect that asked Telegram said) unless the row says the same already;
    True when written."""
    if stored == info:
        return False
    async with db.tx() as conn:
        await session_rows.record_self_user(conn, session_id, info, now)
    return True
