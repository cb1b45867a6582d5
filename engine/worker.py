"""A session's share of a cycle: its worker sends its groups one after another.

Sends are spaced by ``send_spacing`` +- jitter, start to start; a session that must wait (flood wait)
keeps its groups, never handing them to another session. Waits are per method class (``core.waits``):
the head group waits only for the classes its send still needs (connecting while the account is not
open, resolving the post's public source while it is not cached, and sending), so a resolve wait
never holds a send that needs no resolve. A session at its daily send cap makes no more post requests:
its remaining groups are left 'skipped' (``engine.daily_cap``). Each group (and a private source) is
addressed with the session's own peer from its dialogs (``addresses``, from its rows): no resolve
request, and a session never sends where its dialogs do not have it. Failures before any send (connecting, resolving
the post's public source) are handled here; one send and its outcome are ``engine.send``'s.

A storage failure (``storage.db.unavailable``: the database locked past ``busy_timeout``, a full disk)
is never classified as the session's or the group's. Opening the session (the pool seals its identity at
first use, a write of its own) waits and tries again; anywhere else it is raised past every handler here
and the cycle stays open (``engine.cycle``). The ledger keeps and retries the cycle's own writes while the
engine runs, so one of those only reaches a worker when the engine stops.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from core.customer_log import LogKey
from core.errors import NotFound, PoolError
from core.outcomes import RETIREMENTS, MembershipLoss, Outcome, OutcomeKind
from core.ports import MediaItem, Peer
from core.states import EventKind
from core.waits import MethodClass
from engine.accounts import Account
from engine.customer_log import customer_log
from engine.daily_cap import DAILY_CAP
from engine.outcomes import classify
from engine.send import run_send
from engine.sources import SourceCheck, post_ids
from engine.uploads import UploadTimeout, is_prepared, prepare
from storage import events, groups, memberships, stats
from storage import premium as premium_rows
from storage import sessions as session_rows
from storage.db import Connection, unavailable, unavailable_reason
from storage.groups import Group
from storage.ledger import Op
from storage.sessions import SessionRow

if TYPE_CHECKING:
    from engine.cycle import Cycle
    from engine.rotation import CyclePost

logger = logging.getLogger(__name__)
POST_UNUSABLE = "post_unusable"  # a group's row when its post was left out during the cycle (engine.cycle)

__all__ = ["SessionWorker", "split_ref"]

T = TypeVar("T")

UPLOAD_TIMEOUT = "upload_timeout"  # the error of groups left 'skipped' because the post's upload timed out
STORAGE_PAUSE_MAX = 60.0  # seconds: the longest pause before opening a session again after a storage failure


def split_ref(ref: str) -> tuple[str, int | None]:
    """'@name#5' -> ('@name', 5). Refs are stored normalised by ``core.group_refs``."""
    peer, sep, topic = ref.partition("#")
    return peer, int(topic) if sep else None


_log = customer_log(logger)


class SessionWorker:
    """Sends one session's share of the cycle, in order."""

    def __init__(
        self,
        cycle: Cycle,
        session: SessionRow,
        groups: list[Group],
        addresses: Mapping[str, Peer],
        cap_room: int | None = None,
    ) -> None:
        self.cycle = cycle
        self.addresses = addresses  # chat ('@name', '-100<id>') -> this session's own peer of it
        self.rt = cycle.rt
        self.session = session
        self.sid = session.id
        self.queue: deque[Group] = deque(groups)
        self.waits = self.rt.accounts.waits  # per method class; the send class is the session's cooldown
        self.waits.note(self.sid, "send", session.cooldown_until or 0.0)
        self.cooling = session.state == "cooling"
        self.account: Account | None = None
        self.held: list[Account] = []  # accounts this worker holds (``Accounts.hold``) until it ends
        self.sent_once = False  # a request went out for the last group: space the next one
        self.next_send_at = 0.0
        self.request_at: float | None = None  # when the last post request left (set by the send task)
        self.cap_room = cap_room  # post requests the daily cap still allows (None: no cap)
        # whether each post's source is readable, read at most once per cycle (per post: several in rotation)
        self.source_checks: dict[int | None, SourceCheck] = {}
        self.storage_pauses = 0  # tries to open the session that met a database it could not write

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            for account in self.held:  # an idle close that came meanwhile closes it now
                await self.rt.accounts.release(account)

    async def _run(self) -> None:
        cycle, rt, cid = self.cycle, self.rt, self.cycle.cid
        while self.queue:
            if cycle.aborted:
                return  # groups without a row are sent when the cycle is resumed
            if self.sid in rt.accounts.retired:
                # Retired by other work on the account meanwhile (a dialogs read, an admin's join): never
                # sent from again, its groups skipped for this cycle like a retirement found here.
                await cycle.leave(list(self.queue), self.sid, "skipped", "session_retired")
                self.queue.clear()
                return
            if cycle.carries_unusable(self.queue[0]):
                # Its post was found unusable in this cycle: no request; the next cycles carry another.
                await cycle.leave([self.queue.popleft()], self.sid, "skipped", POST_UNUSABLE)
                continue
            now = rt.clock.now()
            classes = self._needed()
            hold = self.waits.hold(self.sid, classes)
            if hold > now:
                if hold >= cycle.due:
                    _log(cid, logging.INFO, LogKey.SESSION_RESTS, session=self.sid, n=len(self.queue),
                         until=hold, waits="/".join(c for c in classes if self.waits.until(self.sid, c) > now))
                    await cycle.leave(list(self.queue), self.sid, "waiting", "flood_wait")
                    return
                await rt.clock.sleep(hold - now)
                continue
            if self.cooling:
                # Through the ledger: a busy database holds this write (and the worker) until it can be written.
                await rt.ledger.run(_clear_cooldown(self.sid, now))
                self.cooling = False
            group = self.queue[0]
            if group.slowmode_until is not None and group.slowmode_until > now:
                self.queue.popleft()
                await cycle.leave([group], self.sid, "skipped", "slow_mode")
                continue
            if self.cap_room is not None and self.cap_room <= 0:
                # The customer's log: said without the number (customers never see internal limits).
                _log(cid, logging.INFO, LogKey.DAILY_CAP, session=self.sid, n=len(self.queue))
                await cycle.leave(list(self.queue), self.sid, "skipped", DAILY_CAP)
                self.queue.clear()
                return
            if self.next_send_at > now:
                await rt.clock.sleep(self.next_send_at - now)
                continue  # re-check abort, waits and slow mode after the pause
            self.request_at = None
            going_on = await self.step(group)
            if self.request_at is not None and self.cap_room is not None:
                self.cap_room -= 1
            if not going_on:
                return
            if self.sent_once:
                # Spacing runs from the start of one request to the start of the next, so latency
                # does not add to it; from when the request really left, not from when this worker
                # decided to send, which can be earlier by the wait for a slot and the intent's commit.
                jitter = 1 + rt.rng.uniform(-1, 1) * rt.config.spacing_jitter
                start = self.request_at if self.request_at is not None else now
                self.next_send_at = start + rt.config.send_spacing * jitter
                self.sent_once = False

    def _needed(self) -> tuple[MethodClass, ...]:
        """The request classes the head group's send still needs: their waits hold it, no other's."""
        if self.account is None:
            return ("connect", "send")  # its app-config read waits for a read wait by itself (engine.accounts)
        post = self._post()
        needed: tuple[MethodClass, ...] = ("send",)
        if post.media and not is_prepared(self.account, post.media):
            needed += ("upload",)  # the post's files go up before its first send (engine.uploads)
        if post.private_source is None and post.post_peer is not None and post.post_peer not in self.account.peers:
            needed += ("resolve",)
        msg_id = post.customer.post_msg_id
        if msg_id is not None and not any(key[1] == msg_id for key in self.account.albums):
            needed += ("read",)  # the post's album is read once per session before its first forward
        return needed

    def source_check(self, post_id: int | None) -> SourceCheck:
        """Whether the source of post ``post_id`` is readable, as this session read it in this cycle."""
        check = self.source_checks.get(post_id)
        if check is None:
            check = self.source_checks[post_id] = SourceCheck()
        return check

    # --- one group ------------------------------------------------------------------------------------

    async def step(self, group: Group) -> bool:
        """Send to the group at the head of the queue; False when this session is done for the cycle."""
        account = await self._account()
        if isinstance(account, bool):
            return account
        peer, topic_id = split_ref(group.ref)
        cycle = self.cycle
        dest = self.addresses.get(peer)
        if dest is None:  # placement gives a session only groups its dialogs have: never sent blind
            self.queue.popleft()
            await cycle.leave([group], self.sid, "skipped", "not_member")
            return True
        post = cycle.post_for(group)
        post_peer = post.post_peer
        source: Peer | None = None
        if post.private_source is not None:
            source = self.addresses.get(post.private_source)
            if source is None:  # placement asks for both rows: as above
                self.queue.popleft()
                await cycle.leave([group], self.sid, "skipped", "source_not_member")
                return True
        elif post_peer is not None:
            # Resolved by username once per session, then from its cache without a coroutine.
            source = account.peers.get(post_peer)
            if source is None:
                try:
                    source = await self._retrying(lambda: self._source(account, post_peer))
                except Exception as exc:
                    if unavailable(exc):
                        raise
                    return await self._session_failure(classify(exc, source_failed=True), group, resolving=True)
        if post.media and not is_prepared(account, post.media):
            uploaded = await self._upload(account, group, post.media)
            if uploaded is not None:
                return uploaded
        album: Sequence[int] = ()
        if source is not None:
            found = await self._album(account, source, group)
            if isinstance(found, bool):
                return found  # reading it failed: handled (True: wait for its class, then go on)
            album = found
        status, outcome = await run_send(self, group, account, source, dest, topic_id, album)
        if status == "not_started":
            return False
        if outcome is None or outcome.kind is OutcomeKind.SENT or status in ("in_doubt", "refused"):
            self.queue.popleft()
            self.sent_once = True
            return True
        kind = outcome.kind
        if kind is OutcomeKind.FLOOD_WAIT:
            # The group stays at the head (its send wait is noted): sent after it or left 'waiting'. The
            # refused request went out, so the retry is spaced from it too (a wait of 0 or 1 s included).
            self.sent_once = True
            return True
        if kind in RETIREMENTS:
            self.queue.popleft()
            await self._retire(outcome)
            return False
        if kind in (OutcomeKind.POST_INVALID, OutcomeKind.SOURCE_FAILED):
            # The post is left out (``Cycle._unusable``); the other groups go on unless it was the last post
            # (the campaign stopped: the loop ends on the abort).
            self.queue.popleft()
            self.sent_once = True
            return True
        self.queue.popleft()
        self.sent_once = True
        return True

    async def _upload(self, account: Account, group: Group, media: Sequence[MediaItem]) -> bool | None:
        """The post's files uploaded before the send (``engine.uploads``): None when they are up, else
        whether the worker goes on. Nothing was sent either way, so no group is in doubt: a flood wait holds
        the 'upload' class (the groups wait for it or are left 'waiting'), a timeout leaves the session's
        groups 'skipped' (``upload_timeout``) for the next cycle, any other failure is the session's as
        before a send (a file gone from the disk: the post is invalid)."""
        cycle, rt = self.cycle, self.rt
        try:
            made = await self._retrying(lambda: prepare(rt.accounts, account, media, rt.config))
        except UploadTimeout as exc:
            logger.warning("session %d (customer %d): %s", self.sid, cycle.cid, exc)
            _log(cycle.cid, logging.WARNING, LogKey.SESSION_UNUSABLE, session=self.sid, kind=OutcomeKind.TRANSIENT,
                 error=UPLOAD_TIMEOUT)
            await cycle.leave(list(self.queue), self.sid, "skipped", UPLOAD_TIMEOUT)
            self.queue.clear()
            return False
        except Exception as exc:
            if unavailable(exc):
                raise
            outcome = classify(exc)
            if outcome.kind is not OutcomeKind.FLOOD_WAIT:
                return await self._session_failure(outcome, group, resolving=True)
            if outcome.error != "WaitPending":  # a real answer from Telegram (recorded by Accounts.guarded)
                await rt.ledger.run(lambda conn: stats.count_flood_wait(conn, cycle.cid))
            _log(cycle.cid, logging.WARNING, LogKey.FLOOD_WAIT, session=self.sid, seconds=outcome.seconds,
                 error=outcome.error)
            if self.waits.hold(self.sid, self._needed()) > rt.clock.now():
                return True  # ``run`` holds the head group until the wait ends, or leaves them 'waiting'
            await cycle.leave(list(self.queue), self.sid, "waiting", "flood_wait")
            self.queue.clear()
            return False
        if made:
            logger.info("session %d uploaded %d file(s) of customer %d's post", self.sid, made, cycle.cid)
        return None

    async def _album(self, account: Account, source: Peer, group: Group) -> Sequence[int] | bool:
        """The post's ids to forward (``engine.sources.post_ids``), or, when reading it failed (handled),
        whether the worker should go on (True: a wait of the read class, held by ``run``)."""
        post = self.cycle.post_for(group)
        msg_id = post.customer.post_msg_id
        assert msg_id is not None
        rt = self.rt
        try:
            return await self._retrying(lambda: post_ids(rt.accounts, account, source, msg_id, rt.config.send_timeout))
        except Exception as exc:
            if unavailable(exc):
                raise
            outcome = classify(exc, source_failed=True)
            post_peer = post.post_peer
            if outcome.stale_peer and post.private_source is None and post_peer is not None:
                # Our cached access hash of the public source may be outdated, not the post unusable: the
                # session resolves it afresh next cycle; nobody is blamed in this one.
                await rt.accounts.forget_peer(account, post_peer)
                outcome = dataclasses.replace(outcome, kind=OutcomeKind.TRANSIENT)
            return await self._session_failure(outcome, group, resolving=True)

    async def _retrying(self, make: Callable[[], Awaitable[T]]) -> T:
        """``make()`` with bounded retries (and backoff) of transient failures; the last one is raised."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return await make()
            except Exception as exc:
                if (attempts > self.rt.config.transient_retries or unavailable(exc)
                        or classify(exc).kind is not OutcomeKind.TRANSIENT):
                    raise
            await self.rt.clock.sleep(self.rt.config.transient_backoff * 2 ** (attempts - 1))

    async def _account(self) -> Account | bool:
        """The connected account, or whether the worker should go on (True: wait out a flood wait)."""
        if self.account is not None:
            return self.account
        try:
            self.account = await self._retrying(lambda: self.rt.accounts.get(self.sid))
            self.rt.accounts.hold(self.account, renew=True)  # this cycle's end decides whether it closes
            self.held.append(self.account)
            self.storage_pauses = 0
            await self._note_premium(self.account)
            return self.account
        except (NotFound, PoolError) as exc:
            logger.info("session %d cannot be opened: %s", self.sid, exc)
            _log(self.cycle.cid, logging.WARNING, LogKey.SESSION_UNAVAILABLE, session=self.sid)
            await self.cycle.leave(list(self.queue), self.sid, "skipped", "session_unavailable")
            self.queue.clear()
            return False
        except Exception as exc:
            if unavailable(exc):
                return await self._storage_pause(exc)
            return await self._session_failure(classify(exc), None, resolving=False)

    async def _note_premium(self, account: Account) -> None:
        """The account's Premium (custom emoji) as its self user said at connect, stored once per process and
        session (the customer is told at /post when their sessions cannot send custom emoji)."""
        premium = account.info.premium
        if premium is None or self.rt.premium.get(self.sid) == premium:
            return
        self.rt.premium[self.sid] = premium
        sid = self.sid

        async def op(conn: Connection) -> None:
            await premium_rows.record(conn, sid, premium)

        await self.rt.ledger.run(op)

    async def _storage_pause(self, exc: Exception) -> bool:
        """Opening the session met a database it cannot write (the pool seals a session's identity at its
        first use): nothing was sent, nobody is to blame; the worker tries again after a pause, then goes
        on where it was (True). One warning per spell."""
        if self.storage_pauses == 0:
            logger.warning("session %d (customer %d) waits for the database to open (%s)", self.sid, self.cycle.cid,
                           unavailable_reason(exc))
        config = self.rt.config
        await self.rt.clock.sleep(min(config.transient_backoff * 2 ** min(self.storage_pauses, 10), STORAGE_PAUSE_MAX))
        self.storage_pauses += 1
        return True

    async def _source(self, account: Account, post_peer: str) -> Peer | None:
        """The public source of a link post, resolved by its username once per session."""
        return await self.rt.accounts.peer(account, post_peer)

    def _post(self) -> CyclePost:
        """The post of the head group (the one whose waits are being weighed)."""
        return self.cycle.post_for(self.queue[0]) if self.queue else self.cycle.posts.default

    async def _session_failure(self, outcome: Outcome, group: Group | None, *, resolving: bool) -> bool:
        """A failure before any send (connect, resolve): what it means for the session and the cycle."""
        cycle, kind = self.cycle, outcome.kind
        if kind is OutcomeKind.FLOOD_WAIT:
            # Connecting or resolving: the port's wrapper (``engine.accounts``) recorded the wait as that
            # request's class; the session's sends do not wait for it unless they need that request.
            if outcome.error != "WaitPending":  # a real answer from Telegram, not our own hold
                await self.rt.ledger.run(lambda conn: stats.count_flood_wait(conn, cycle.cid))
            _log(cycle.cid, logging.WARNING, LogKey.SESSION_WAIT, session=self.sid, seconds=outcome.seconds,
                 doing="resolving" if resolving else "connecting", error=outcome.error)
            if self.waits.hold(self.sid, self._needed()) > self.rt.clock.now():
                return True
            # A wait without an end we could keep: nothing more from this session in this cycle.
            await cycle.leave(list(self.queue), self.sid, "waiting", "flood_wait")
            self.queue.clear()
            return False
        if kind in RETIREMENTS:
            await self._retire(outcome)
            return False
        if kind in (OutcomeKind.POST_INVALID, OutcomeKind.SOURCE_FAILED) and resolving and group is not None:
            self.queue.popleft()
            if kind is OutcomeKind.SOURCE_FAILED:
                await cycle.source_failed(group, self.sid, outcome.error)
            else:
                await cycle.post_invalid(group, self.sid, outcome.error)
            return True  # as after a send that met it (``step``)
        # Connection trouble that retries did not fix, or something unknown: nothing is sent from this
        # session in this cycle.
        _log(cycle.cid, logging.WARNING, LogKey.SESSION_UNUSABLE, session=self.sid, kind=kind, error=outcome.error)
        await cycle.leave(list(self.queue), self.sid, "skipped", outcome.error)
        self.queue.clear()
        return False

    async def _retire(self, outcome: Outcome) -> None:
        """Dead, limited or frozen: the pool retires the session (and finds a replacement for the next
        cycle); this session's remaining groups are skipped for this cycle, never handed to another session.
        A frozen one's app config is read for the admins (the appeal link) before its port closes."""
        cycle, rt = self.cycle, self.rt
        rest = list(self.queue)
        self.queue.clear()
        await cycle.leave(rest, self.sid, "skipped", outcome.error)
        self.account = None
        replacement = await rt.accounts.retire(self.sid, outcome)
        rt.notify()
        _log(cycle.cid, logging.WARNING, LogKey.SESSION_RETIRED, session=self.sid, state=RETIREMENTS[outcome.kind],
             error=outcome.error, replacement=replacement)

    async def group_failed(self, group: Group, outcome: Outcome, *, attempts: int) -> None:
        """The group refused the post or cannot be addressed (also ``engine.send``'s GROUP_FAILED and
        UNKNOWN): 'failed', and the group is paused after ``group_failure_limit`` in a row. A refusal
        that says this session is not in the chat or may not write there is the session's, not the
        group's: its row of the chat says so at once instead, and the next cycle places the group on
        another session that can reach it (or reports it unreachable)."""
        cycle = self.cycle
        now = self.rt.clock.now()
        chat = split_ref(group.ref)[0]
        if outcome.membership is not None:
            await self.rt.ledger.result(
                cycle.result(group, self.sid, "failed", error=outcome.error, attempts=attempts),
                then=_lose_membership(self.sid, chat, outcome.membership, now),
            )
            cycle.report.count("failed")
            key = LogKey.NOT_MEMBER if outcome.membership == "left" else LogKey.MAY_NOT_WRITE
            _log(cycle.cid, logging.WARNING, key, group=group.ref, session=self.sid, error=outcome.error)
            return
        paused = await self.rt.ledger.result(
            cycle.result(group, self.sid, "failed", error=outcome.error, attempts=attempts),
            then=_record_group_failure(cycle.cid, group, outcome.error, self.rt.config.group_failure_limit, now),
        )
        cycle.report.count("failed")
        _log(cycle.cid, logging.WARNING, LogKey.POST_FAILED, group=group.ref, kind=outcome.kind, error=outcome.error)
        if outcome.stale_peer:
            # The (id, access hash) may be outdated (the chat was re-created): the session's row of it goes
            # and its dialogs are read again before its next placement; a cached public source is
            # resolved afresh too (either peer of the request may be the stale one).
            await self.rt.ledger.run(_stale_row(self.sid, chat, now))
            post = cycle.post_for(group)
            if self.account is not None and post.post_peer is not None and post.private_source is None:
                await self.rt.accounts.forget_peer(self.account, post.post_peer)
        if paused:
            self.rt.notify()
            _log(cycle.cid, logging.WARNING, LogKey.GROUP_PAUSED, group=group.ref,
                 failures=self.rt.config.group_failure_limit, kind=outcome.kind, error=outcome.error)


def _lose_membership(session_id: int, chat: str, loss: MembershipLoss, now: float) -> Op:
    """A refusal said the session is not in the chat ("left") or may not write there ("blocked")."""

    async def op(conn: Connection) -> None:
        if loss == "left":
            await memberships.forget(conn, session_id, chat)
        else:
            await memberships.mark_blocked(conn, session_id, chat, "banned", now)

    return op


def _clear_cooldown(session_id: int, now: float) -> Op:
    async def op(conn: Connection) -> None:
        await session_rows.clear_cooldown(conn, session_id, now)

    return op


def _stale_row(session_id: int, chat: str, now: float) -> Op:
    async def op(conn: Connection) -> None:
        await memberships.forget(conn, session_id, chat)
        await memberships.set_scan_due(conn, session_id, now)

    return op


def _record_group_failure(customer_id: int, group: Group, error: str, limit: int, now: float) -> Op:
    async def op(conn: Connection) -> bool:
        reason = f"failures:{limit}:{error}"  # a key: ``core.texts.outcomes.reason_text`` words it
        paused = await groups.record_failure(conn, group.id, error, limit, reason, now)
        if paused:
            await events.add(conn, customer_id, EventKind.GROUP_PAUSED, now, group=group.ref, reason=reason,
                             error=error)
        return paused

    return op
