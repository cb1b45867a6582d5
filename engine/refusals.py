"""A permanent refusal of one session's posts by one group (a REFUSED outcome), recorded at the first
answer: write forbidden, plain text or media forbidden, guest send forbidden, admin required, topic
closed or deleted.

The send's row is 'failed' (the group did refuse the post) but the group's failure streak is not
touched: the refusal is about this session there, not about the group. The session's refusal is
stored (``storage.refusals``: the whole chat, or the one topic for a closed or deleted topic) in the
same transaction, so the session never tries that group again; from the next cycle the group is placed
on another of the customer's sessions that may write there, or it is unreachable with the reason
(``engine.reach``, REFUSED). A refusal that also says the session is not in the chat (guest send
forbidden) or may not write at all (write forbidden) updates its membership row as well.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.customer_log import LogKey
from core.outcomes import TOPIC_REFUSALS, Outcome
from core.ports import Peer
from engine.customer_log import customer_log
from storage import memberships, refusals
from storage.db import Connection
from storage.groups import Group

if TYPE_CHECKING:
    from engine.worker import SessionWorker

logger = logging.getLogger(__name__)

__all__ = ["record_refusal"]

_log = customer_log(logger)


async def record_refusal(worker: SessionWorker, group: Group, dest: Peer, outcome: Outcome, attempts: int) -> None:
    cycle, sid = worker.cycle, worker.sid
    now = worker.rt.clock.now()
    chat, _, topic = group.ref.partition("#")
    reason = outcome.refusal or "write_forbidden"
    topic_id = int(topic) if topic and reason in TOPIC_REFUSALS else None

    async def op(conn: Connection) -> None:
        await refusals.record(conn, sid, dest, topic_id, reason, outcome.error, now)
        if outcome.membership == "left":
            await memberships.forget(conn, sid, chat)
        elif outcome.membership == "blocked":
            await memberships.mark_blocked(conn, sid, chat, "banned", now)

    await worker.rt.ledger.result(
        cycle.result(group, sid, "failed", error=outcome.error, attempts=attempts), then=op
    )
    cycle.report.count("failed")
    _log(cycle.cid, logging.WARNING, LogKey.REFUSED, group=group.ref, session=sid, refusal=reason, error=outcome.error)
