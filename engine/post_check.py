"""Checking a post link when the customer saves it, through a session of theirs that is already connected.

The customer learns at once that a link leads nowhere, to a channel their sessions cannot read, or to a
post whose channel forbids forwarding, instead of from a campaign that stops at its first cycle. The
check never opens a session for this: only a port the engine already holds for one of the customer's
sessions is used (connecting is the expensive, visible part of a session's life), and only when none of
its request classes must wait. Then it is one ``read_post`` (class 'read'), and for a public channel the
session knows no peer of yet one ``resolve`` (kept, as a cycle would keep it). A private channel is
addressed with the session's own row of it (its dialogs), never resolved.

No connected session, or a check that met a wait or a network failure: 'unchecked' (the link is saved and
the first cycle reads the post anyway: ``engine.sources.post_ids``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Literal

from core.clock import wait_with_timeout
from core.ports import NOT_IN_CHAT, Peer, PostInfo
from core.waits import WaitPending
from engine.accounts import Account, Accounts
from engine.outcomes import classify
from storage import memberships
from storage import sessions as session_rows

logger = logging.getLogger(__name__)

__all__ = ["PostCheck", "PostVerdict", "check_post"]

PostVerdict = Literal["ok", "unchecked", "missing", "unreadable", "no_forwards"]
"""ok: readable and forwardable; unchecked: no session could say now; missing: no such post (deleted or
never there: MESSAGE_ID_INVALID); unreadable: the sessions cannot read the channel (CHANNEL_PRIVATE, not
a member of a private one); no_forwards: the channel or the post forbids forwarding."""

_UNREADABLE = frozenset({"ChannelPrivateError", "ChannelInvalidError", "PeerIdInvalidError", "UsernameNotOccupiedError",
                         "UsernameInvalidError", "ChatForwardsRestrictedError", "UserBannedInChannelError"})


@dataclass(frozen=True)
class PostCheck:
    verdict: PostVerdict
    info: PostInfo | None = None
    session_id: int | None = None  # the session that read it
    error: str | None = None  # Telegram's error class behind a verdict other than ok/unchecked


async def check_post(accounts: Accounts, customer_id: int, peer: str, msg_id: int, *, limit: float) -> PostCheck:
    """Read the post ``peer``/``msg_id`` ('@name' or '-100<id>') through one connected session of the
    customer; see the module docstring."""
    async with accounts.db.read() as conn:
        owned = [s.id for s in await session_rows.list_for_owner(conn, customer_id)]
        rows = {} if peer.startswith("@") else {m.session_id: m for m in await memberships.members_of(conn, peer)}
    live = [sid for sid in owned if sid in accounts and sid not in accounts.retired]
    if not peer.startswith("@"):
        # A private channel is read only by a session its dialogs show in it; none connected: the first
        # cycle's to find out (the bot says what the sessions' dialogs say, ``services.post``).
        live = [sid for sid in live if sid in rows and rows[sid].why_not not in NOT_IN_CHAT]
    for session_id in live:
        if session_id not in accounts:
            continue  # closed meanwhile (idle): not opened for this
        account = await accounts.get(session_id)
        accounts.hold(account)  # an idle close meanwhile waits for this read
        try:
            source = rows[session_id].peer if session_id in rows else await accounts.peer(account, peer)
            read = partial(_read, accounts, account, source, msg_id, limit)
            info = await accounts.guarded(session_id, "read", read)
        except WaitPending:
            continue
        except Exception as exc:
            outcome = classify(exc, source_failed=True)
            error = outcome.error
            if exc.__class__.__name__ in ("MessageIdInvalidError", "MsgIdInvalidError"):
                return PostCheck("missing", session_id=session_id, error=error)
            if exc.__class__.__name__ in _UNREADABLE:
                return PostCheck("unreadable", session_id=session_id, error=error)
            logger.info("customer %d: the post check through session %d said nothing (%s)", customer_id, session_id,
                        error)
            continue
        finally:
            await accounts.release(account)
        if info.noforwards:
            return PostCheck("no_forwards", info, session_id, "ChatForwardsRestrictedError")
        return PostCheck("ok", info, session_id)
    return PostCheck("unchecked")


async def _read(accounts: Accounts, account: Account, source: Peer, msg_id: int, limit: float) -> PostInfo:
    return await wait_with_timeout(accounts.clock, account.port.read_post(source, msg_id), limit)
