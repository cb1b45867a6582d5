"""One send: the request, in a task of its own that cancellation does not reach, and its outcome.

Every send is: intent committed ('pending', random_id derived from campaign, cycle and group) ->
one request -> outcome and statistics committed in one transaction. That section runs in a task of its
own that cancellation does not reach (the worker waits for it), so a shutdown never loses the answer to
a request that was made. A crash can: the row is then still 'pending' when the cycle is resumed, and
it becomes 'in_doubt' and is never sent again. Hence at most one post per (campaign, cycle, group).

What each outcome does (``engine.outcomes.classify`` decides the kind; what it means for the rest of
the session's groups is ``engine.worker``'s):

    SENT             row 'sent'; the group's failure streak is cleared
    (no new message) the answer names no new message: row 'in_doubt' (not a delivery, not re-sent
                     in this cycle, counted apart in /stats)
    FLOOD_WAIT       the session's sends rest (its 'send' wait: the persisted cooldown; other
                     request classes go on); its groups wait for it, never moving to
                     another session: sent after the wait if it ends before the next cycle is due,
                     else left 'waiting'
    SLOW_MODE        row 'skipped'; the group's window is remembered and never sent into
    GROUP_FAILED     row 'failed'; the group is paused after ``group_failure_limit`` in a row
                     (an error of either peer of a forward is settled first: ``engine.sources``)
    REFUSED          row 'failed'; the session's refusal by the chat (topic) is stored, it never tries
                     the group again: the next placement picks another session or none (``engine.refusals``)
    UNKNOWN          same as GROUP_FAILED
    POST_INVALID     the campaign stops (POST_INVALID event): the customer must set a new post
    SOURCE_FAILED    the same stop, the row 'skipped' (error ``source_failed:<error>``): no group is blamed
    TRANSIENT        retried with backoff and the same random_id, then 'failed'
    ACCOUNT_DEAD     the pool retires the session and finds a replacement for the next cycle; this
    ACCOUNT_LIMITED  session's groups are 'skipped' for this cycle
    ACCOUNT_FROZEN
    (no answer)      'in_doubt' after ``send_timeout``: never retried in this cycle (an own media
                     post's files are uploaded before the intent, under a timeout of their own:
                     ``engine.uploads``; the request here only names them)

A database that cannot be written holds the send where it is: its intent is committed before the request
leaves, however long that takes, and an answer that arrived is kept until its row can be written (the
ledger retries it: ``engine.ledger``). A storage failure that still comes through (the engine is
stopping) is raised, never classified: the row stays 'pending' and the resume makes it 'in_doubt'.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from core.clock import DeadlineExceeded, wait_with_timeout
from core.customer_log import LogKey
from core.outcomes import RETIREMENTS, Outcome, OutcomeKind
from core.ports import Peer
from engine.accounts import Account
from engine.customer_log import customer_log
from engine.outcomes import classify, either_peer
from engine.refusals import record_refusal
from engine.slowmode import record_slowmode
from engine.sources import settle
from storage import ledger as ledger_rows
from storage.db import unavailable
from storage.groups import Group

if TYPE_CHECKING:
    from engine.worker import SessionWorker

logger = logging.getLogger(__name__)

__all__ = ["SendJob", "SendStatus", "run_send"]

SendStatus = Literal["sent", "failed", "waiting", "skipped", "in_doubt", "refused", "not_started"]


_log = customer_log(logger)


@dataclass(eq=False)
class SendJob:
    """One send in flight: the task that owns the request and its ledger write."""

    customer_id: int
    group_ref: str
    session_id: int
    phase: Literal["queued", "intent", "request", "recording"] = "queued"
    aborted: bool = False
    task: asyncio.Task[Any] | None = None

    def abort(self) -> None:
        """Give up waiting for the answer (shutdown took too long); the send is recorded 'in_doubt'."""
        if self.phase == "request" and self.task is not None and not self.task.done():
            self.aborted = True
            self.task.cancel()

    def take_back_abort(self) -> bool:
        """Inside the job's task, on CancelledError: True when it is ``abort()``'s, now taken back so
        the send can still be recorded as in doubt; False for any other cancellation (re-raise it)."""
        if not self.aborted:
            return False
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        return True


async def run_send(
    worker: SessionWorker,
    group: Group,
    account: Account,
    source: Peer | None,
    dest: Peer,
    topic_id: int | None,
    album: Sequence[int] = (),
) -> tuple[SendStatus, Outcome | None]:
    """Run one send in a task that cancellation does not reach; wait for it even when cancelled."""
    rt = worker.rt
    loop = asyncio.get_running_loop()
    job = SendJob(worker.cycle.cid, group.ref, worker.sid)
    task = loop.create_task(_send(worker, job, group, account, source, dest, topic_id, album))
    job.task = task
    rt.in_flight.add(job)
    # The worker waits on a future of its own that the task's end resolves: cancelling the worker
    # cancels that future, never the task (asyncio.shield's effect, with one callback instead of three).
    finished: asyncio.Future[None] = loop.create_future()

    def done(_task: asyncio.Task[tuple[SendStatus, Outcome | None]]) -> None:
        rt.in_flight.discard(job)
        if not finished.done():
            finished.set_result(None)

    task.add_done_callback(done)
    try:
        await finished
    except asyncio.CancelledError:
        if task.done() and task.cancelled():
            raise
        while not task.done():  # keep waiting: the answer must reach the ledger
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.done() and task.cancelled():
                    raise
        task.result()  # what the send raised goes first
        raise
    return task.result()


async def _send(
    worker: SessionWorker,
    job: SendJob,
    group: Group,
    account: Account,
    source: Peer | None,
    dest: Peer,
    topic_id: int | None,
    album: Sequence[int],
) -> tuple[SendStatus, Outcome | None]:
    cycle, rt = worker.cycle, worker.rt
    cid, sid = cycle.cid, worker.sid
    post = cycle.post_for(group)
    customer = post.customer
    # The slot bounds requests in flight: held from the intent to the answer, and given back before
    # the outcome is written so that the next send does not wait for this one's commit.
    gate = rt.semaphore
    await gate.acquire()
    held = True

    def recording() -> None:
        nonlocal held
        job.phase = "recording"
        if held:
            held = False
            gate.release()

    try:
        if cycle.aborted:
            return "not_started", None
        job.phase = "intent"
        random_id = cycle.random_id(group.ref)
        intent = ledger_rows.Intent(cid, cycle.cycle_no, group.ref, sid, random_id, rt.clock.now(), post.post_id)
        if not await rt.ledger.intent(intent):
            _log(cid, logging.WARNING, LogKey.ALREADY_DONE, group=group.ref, cycle=cycle.cycle_no)
            return "refused", None
        job.phase = "request"
        attempts = 0
        outcome: Outcome
        message_id: int | None = None
        while True:
            attempts += 1
            cycle.report.requests += 1
            worker.request_at = rt.clock.now()
            try:
                if source is not None:
                    assert customer.post_msg_id is not None
                    request = account.port.forward(
                        source=source, msg_id=customer.post_msg_id, dest=dest, topic_id=topic_id,
                        random_id=random_id, drop_author=customer.drop_author, album=album,
                        drop_media_captions=customer.drop_author and customer.drop_media_captions,
                    )
                elif post.media:  # the customer's own photos/videos/...: sent as media, never as text
                    request = account.port.send_media(
                        dest=dest, topic_id=topic_id, items=post.media, random_id=random_id,
                    )
                else:
                    request = account.port.send_text(
                        dest=dest, topic_id=topic_id, text=customer.post_text or "",
                        entities=customer.post_entities, random_id=random_id, no_webpage=not post.link_preview,
                    )
                message_id = await wait_with_timeout(rt.clock, request, rt.config.send_timeout)
                if message_id is None:  # taken, but no new message named: not a delivery
                    recording()
                    return await _record_in_doubt(worker, group, attempts, "no_new_message")
                outcome = Outcome(OutcomeKind.SENT, "")
            except DeadlineExceeded:
                recording()
                return await _record_in_doubt(worker, group, attempts, "timeout")
            except asyncio.CancelledError:
                if not job.take_back_abort():
                    raise
                recording()
                return await _record_in_doubt(worker, group, attempts, "shutdown")
            except Exception as exc:
                if unavailable(exc):
                    raise  # not the group's nor the session's: the row stays 'pending' (resumed: 'in_doubt')
                outcome = classify(exc)
                if outcome.kind is OutcomeKind.TRANSIENT and attempts <= rt.config.transient_retries:
                    try:
                        await rt.clock.sleep(rt.config.transient_backoff * 2 ** (attempts - 1))
                    except asyncio.CancelledError:
                        if not job.take_back_abort():
                            raise
                        recording()
                        return await _record_in_doubt(worker, group, attempts, "shutdown")
                    continue
                if source is not None and either_peer(exc) and outcome.kind is OutcomeKind.GROUP_FAILED:
                    assert customer.post_msg_id is not None
                    try:
                        settled = await settle(worker.source_check(post.post_id), rt.accounts, account, source,
                                               customer.post_msg_id, outcome, rt.config.send_timeout)
                    except asyncio.CancelledError:
                        if not job.take_back_abort():
                            raise
                        recording()
                        return await _record_in_doubt(worker, group, attempts, "shutdown")
                    if settled is None:
                        recording()
                        return await _record_unsettled(worker, group, outcome, attempts)
                    outcome = settled
            break
        recording()
        return await _record(worker, group, dest, outcome, message_id, attempts), outcome
    finally:
        if held:
            held = False
            gate.release()


async def _record_in_doubt(
    worker: SessionWorker, group: Group, attempts: int, why: str
) -> tuple[SendStatus, Outcome | None]:
    cycle = worker.cycle
    await worker.rt.ledger.result(cycle.result(group, worker.sid, "in_doubt", error=why, attempts=attempts))
    cycle.report.count("in_doubt")
    _log(cycle.cid, logging.WARNING, LogKey.NO_ANSWER, group=group.ref, why=why)
    return "in_doubt", None


async def _record_unsettled(
    worker: SessionWorker, group: Group, outcome: Outcome, attempts: int
) -> tuple[SendStatus, Outcome | None]:
    """A refusal that may be the source's or the group's, and a read of the source that did not say:
    'skipped', blaming neither (the next cycle tries again)."""
    cycle = worker.cycle
    error = f"unsettled:{outcome.error}"
    await worker.rt.ledger.result(cycle.result(group, worker.sid, "skipped", error=error, attempts=attempts))
    cycle.report.count("skipped")
    _log(cycle.cid, logging.WARNING, LogKey.UNSETTLED, group=group.ref, kind=outcome.kind, error=outcome.error)
    return "skipped", None


async def _record(
    worker: SessionWorker, group: Group, dest: Peer, outcome: Outcome, message_id: int | None, attempts: int
) -> SendStatus:
    cycle, rt = worker.cycle, worker.rt
    cid, sid = cycle.cid, worker.sid
    kind = outcome.kind
    if kind is OutcomeKind.SENT:
        await rt.ledger.result(cycle.result(group, sid, "sent", message_id=message_id, attempts=attempts))
        cycle.report.count("sent")
        _log(cid, logging.DEBUG, LogKey.SENT, group=group.ref, message=message_id, session=sid)
        return "sent"
    if kind is OutcomeKind.FLOOD_WAIT:
        now = rt.clock.now()
        until = now + (outcome.seconds or 0)
        worker.cooling = True
        # The wait and the row in one transaction: a crash keeps both or neither (never a 'pending' row,
        # later 'in_doubt', for a send that was refused, nor a wait missing from the statistics).
        await rt.ledger.result(
            cycle.result(group, sid, "waiting", error=outcome.error, attempts=attempts, flood_waits=1),
            then=rt.accounts.waits.record(sid, "send", until, now),
        )
        _log(cid, logging.WARNING, LogKey.FLOOD_WAIT, session=sid, seconds=outcome.seconds, error=outcome.error)
        return "waiting"
    if kind is OutcomeKind.SLOW_MODE:
        seconds = outcome.seconds or 0
        window = await rt.ledger.result(
            cycle.result(group, sid, "skipped", error=outcome.error, attempts=attempts),
            then=record_slowmode(cid, group, seconds, rt.clock.now()),
        )
        cycle.report.count("skipped")
        _log(cid, logging.INFO, LogKey.SLOW_MODE, group=group.ref, window=window, left=seconds)
        return "skipped"
    if kind in RETIREMENTS:
        # The request was refused, so nothing arrived: skipped, not failed; never retried by another session.
        await rt.ledger.result(cycle.result(group, sid, "skipped", error=outcome.error, attempts=attempts))
        cycle.report.count("skipped")
        return "skipped"
    if kind is OutcomeKind.POST_INVALID:
        await cycle.post_invalid(group, sid, outcome.error, attempts)
        return "failed"
    if kind is OutcomeKind.SOURCE_FAILED:
        await cycle.source_failed(group, sid, outcome.error, attempts)
        return "skipped"
    if kind is OutcomeKind.REFUSED:
        await record_refusal(worker, group, dest, outcome, attempts)
        return "failed"
    if kind is OutcomeKind.TRANSIENT:
        await rt.ledger.result(cycle.result(group, sid, "failed", error=outcome.error, attempts=attempts))
        cycle.report.count("failed")
        _log(cid, logging.WARNING, LogKey.SEND_FAILED, group=group.ref, attempts=attempts, kind=kind,
             error=outcome.error)
        return "failed"
    # GROUP_FAILED and UNKNOWN count toward pausing the group.
    await worker.group_failed(group, outcome, attempts=attempts)
    return "failed"

