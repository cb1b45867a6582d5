"""Requests of the integration API that change something (``control_bot.api``), kept by their request id.

A shop's payment callback may arrive twice (a retry after a timeout, two workers at once). The change and
its row here are written in one ``BEGIN IMMEDIATE`` transaction, so the second request finds the first's row
and gets the same answer, and the primary key is the backstop. The parameters' hash tells a true retry
from a request id used again for something else.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.db import execute, fetchone


@dataclass(frozen=True)
class ApiRequest:
    request_id: str
    action: str
    customer_id: int
    body_sha256: str
    response: str  # JSON
    created_at: float


async def find(conn: aiosqlite.Connection, request_id: str) -> ApiRequest | None:
    row = await fetchone(
        conn,
        "SELECT request_id, action, customer_id, body_sha256, response, created_at FROM api_requests"
        " WHERE request_id = ?",
        (request_id,),
    )
    if row is None:
        return None
    return ApiRequest(
        row["request_id"], row["action"], row["customer_id"], row["body_sha256"], row["response"], row["created_at"]
    )


async def record(conn: aiosqlite.Connection, request: ApiRequest) -> None:
    """Inside the transaction that made the change (a second insert of the id fails: the backstop)."""
    await execute(
        conn,
        "INSERT INTO api_requests (request_id, action, customer_id, body_sha256, response, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (request.request_id, request.action, request.customer_id, request.body_sha256, request.response,
         request.created_at),
    )


async def count(conn: aiosqlite.Connection) -> int:
    row = await fetchone(conn, "SELECT COUNT(*) AS n FROM api_requests")
    return int(row["n"]) if row is not None else 0


async def prune_older(conn: aiosqlite.Connection, before: float) -> int:
    """Forget the requests recorded before ``before`` (their ids are then answered as new ones)."""
    cursor = await conn.execute("DELETE FROM api_requests WHERE created_at < ?", (before,))
    return cursor.rowcount


async def count_older(conn: aiosqlite.Connection, before: float) -> int:
    row = await fetchone(conn, "SELECT COUNT(*) AS n FROM api_requests WHERE created_at < ?", (before,))
    return int(row[0]) if row else 0
