"""The post's source, as one session sees it: its album, and whose fault an ambiguous refusal is.

* ``post_ids``: the ids to forward (the whole album, or the post alone), read once per session with
  ``AccountPort.read_post`` (method class 'read') and kept (``Account.albums``, ``storage.albums``): a
  steady-state cycle, and a restart, make no read: one request per post.
* ``settle``: CHANNEL_PRIVATE, CHANNEL_INVALID and PEER_ID_INVALID on a forward may be about either
  peer (``engine.outcomes.either_peer``). The error's peer is determined, not guessed: one read of the
  source, once per session per cycle (``SourceCheck``, held by the session's worker), says which. A
  source the session can read puts the blame on the group (the original outcome); a source it cannot
  read fails the post (SOURCE_FAILED: the campaign pauses, no group is blamed). A read that itself waits
  (flood wait) or dies passes that outcome on; one that fails for another reason (network) settles
  nothing: the send is recorded without blaming anyone (``None``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from core.clock import wait_with_timeout
from core.outcomes import Outcome, OutcomeKind
from core.ports import Peer
from engine.accounts import Account, Accounts
from engine.outcomes import classify
from storage import albums

logger = logging.getLogger(__name__)

__all__ = ["SourceCheck", "post_ids", "settle"]

# A flood wait on the read is not passed on: it is the 'read' class's (recorded by ``Accounts.guarded``),
# never the sends'; the send is then recorded unsettled, blaming nobody, and settled in a later cycle.
_PASSED_ON = (OutcomeKind.ACCOUNT_DEAD, OutcomeKind.ACCOUNT_LIMITED, OutcomeKind.ACCOUNT_FROZEN,
              OutcomeKind.SOURCE_FAILED)


@dataclass
class SourceCheck:
    """What one read of the source said in this cycle for one session (None: not read yet)."""

    verdict: Outcome | None = None  # SENT: readable; SOURCE_FAILED: not


async def post_ids(accounts: Accounts, account: Account, source: Peer, msg_id: int, limit: float) -> Sequence[int]:
    """The ids a forward of the post sends: read once per session, kept in memory and in the database
    (``storage.albums``); raises what the read raised."""
    key = (Peer(source.kind, source.id), msg_id)  # without the access hash: as stored (``storage.albums``)
    ids = account.albums.get(key)
    if ids is not None:
        return ids
    sid = account.session_id
    async with accounts.db.read() as conn:
        ids = await albums.find(conn, sid, source, msg_id)
    if ids is None:
        found = await accounts.guarded(
            sid, "read", lambda: wait_with_timeout(accounts.clock, account.port.read_post(source, msg_id), limit)
        )
        read = ids = tuple(found.ids) or (msg_id,)
        now = accounts.clock.now()
        await accounts.ledger.run(lambda conn: albums.store(conn, sid, source, msg_id, read, now))
        if len(ids) > 1:
            logger.info("session %d: the post is an album of %d messages", sid, len(ids))
    account.albums[key] = ids
    return ids


async def settle(
    check: SourceCheck, accounts: Accounts, account: Account, source: Peer, msg_id: int, blamed: Outcome, limit: float
) -> Outcome | None:
    """Whose fault the forward's ``blamed`` (a GROUP_FAILED of either peer) is: ``blamed`` itself when
    the session can read the source, SOURCE_FAILED when it cannot, what the read came to when it waits
    or the account failed, None when the read settled nothing (a flood wait on the read included)."""
    if check.verdict is None:
        try:
            await accounts.guarded(
                account.session_id, "read",
                lambda: wait_with_timeout(accounts.clock, account.port.read_post(source, msg_id), limit),
            )
        except Exception as exc:
            outcome = classify(exc, source_failed=True)
            if outcome.kind not in _PASSED_ON:
                logger.warning("session %d: reading the source to settle %s failed: %s", account.session_id,
                               blamed.error, outcome.error)
                return None
            if outcome.kind is not OutcomeKind.SOURCE_FAILED:
                return outcome  # not settled: asked again after the wait (or never, the account is gone)
            check.verdict = outcome
        else:
            check.verdict = Outcome(OutcomeKind.SENT, "")
    if check.verdict.kind is OutcomeKind.SOURCE_FAILED:
        return check.verdict
    return blamed
