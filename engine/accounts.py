"""The engine's Telegram accounts: one long-lived port per session, and the peers it has resolved.

A port is opened through the factory with the session's credentials, connected once and reused by
every cycle; it is closed when the session leaves its customer (dead, limited, revoked) or at
shutdown. A per-session lock makes "never two live ports for one session" hold even when two
coroutines ask for the same session at once.

Whether Telegram froze the account is read from its app config (``AccountPort.account_status``) when
connecting and again once ``status_check_interval`` has passed (daily by default): a frozen account
raises ``AccountFrozenError`` from ``get`` (classified ACCOUNT_FROZEN), so nothing is ever sent from it.
When it was read is kept across the session's ports and stored (``sessions.status_checked_at``), so a
port opened again (after an idle close, or a restart) within the interval does not read it again.

Connecting is cheap and spread (issue 22): a connect costs Telegram's init request and, at most, that
app-config read; who the account is comes from the pool's row (``SessionCredentials.self_user``), and
when the row does not say yet, the port's one ``users.getUsers`` answer is stored here for every later
connect. That read never shares a connection with the app-config read: when both are due the frozen check
goes first and the self user stays unknown (``UNKNOWN_SELF``, premium unknown) until a later connection.
New connections wait for their slot of ``[engine] connects_per_second`` (``core.connect_rate``)
before their ``connect_timeout`` starts, so a restart never opens every session at once. ``close_idle``
closes ports whose sessions have nothing to send soon (the engine calls it after a cycle).

Peers are cached per session (access hashes are per account) in memory and in ``peer_cache``, so a
session resolves each group and the post's source channel once in its life, and a steady-state cycle
makes one request per post.

Both requests made here honour their class's flood wait (``engine.waits``): no connect inside the
session's 'connect' wait, no resolve inside its 'resolve' wait (``WaitPending`` is raised instead, and
nothing is sent); a FloodWait either request meets is recorded as its class's wait before it is raised.
``guarded`` does the same for any other request of a session (a 'read', say).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar, cast

from core.clock import Clock, wait_with_timeout
from core.connect_rate import ConnectRate
from core.errors import AdbotError
from core.outcomes import RETIREMENTS, Outcome, OutcomeKind
from core.ports import (
    UNKNOWN_SELF,
    AccountFactory,
    AccountInfo,
    AccountPort,
    AccountStatus,
    Peer,
    PeerKind,
    SessionSupply,
)
from core.waits import MethodClass, WaitPending
from engine.ledger import Ledger
from engine.outcomes import AccountFrozenError, classify
from engine.waits import WaitBook
from storage import albums as album_rows
from storage import peers as peer_rows
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database

logger = logging.getLogger(__name__)

__all__ = ["Account", "Accounts"]

T = TypeVar("T")


@dataclass
class Account:
    """One connected session."""

    session_id: int
    port: AccountPort
    info: AccountInfo
    peers: dict[str, Peer] = field(default_factory=dict)
    albums: dict[tuple[Peer, int], tuple[int, ...]] = field(default_factory=dict)  # engine.sources.post_ids
    status_checked_at: float = 0.0  # when its app config last said it is not frozen
    prepared: set[str] = field(default_factory=set)  # media files (sha256) its port uploaded: engine.uploads
    uses: int = 0  # work holding the port now (``Accounts.hold``/``lease``): an idle close waits for it
    close_when_free: bool = False  # an idle close found it in use: closed when the last use ends


class Accounts:
    """Every open port of the engine, by session id."""

    def __init__(
        self,
        db: Database,
        factory: AccountFactory,
        supply: SessionSupply,
        ledger: Ledger,
        clock: Clock,
        *,
        connect_timeout: float = 30.0,
        resolve_timeout: float = 30.0,
        waits: WaitBook | None = None,
        status_check_interval: float = 86_400.0,
        connect_rate: ConnectRate | None = None,
    ) -> None:
        self.db = db
        self.factory = factory
        self.supply = supply
        self.ledger = ledger
        self.clock = clock
        self.connect_timeout = connect_timeout
        self.resolve_timeout = resolve_timeout
        self.waits = waits if waits is not None else WaitBook()
        self.status_check_interval = status_check_interval
        self.connect_rate = connect_rate  # None: connects are not paced (tests that do not ask for it)
        self.connects = 0  # ports connected (each a new connection to Telegram)
        self._open: dict[int, Account] = {}
        # When each session's app config was last read, kept across its ports (an idle close, a reopen).
        self._status_checked: dict[int, float] = {}
        self._writes: set[asyncio.Future[None]] = set()  # status-check times being stored
        # Sessions retired through ``retire`` (dead, limited, frozen) while a worker of a cycle may still
        # hold their account: it stops at its next group. Cleared when the session is opened again (it
        # came back and was given to a customer).
        self.retired: set[int] = set()
        self._frozen: dict[int, AccountStatus] = {}  # what the app config said of a session found frozen
        self._locks: dict[int, asyncio.Lock] = {}

    def __contains__(self, session_id: int) -> bool:
        return session_id in self._open

    @property
    def open_sessions(self) -> list[int]:
        return sorted(self._open)

    def _lock(self, session_id: int) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        return lock

    async def get(self, session_id: int) -> Account:
        """The session's connected account, opening and connecting it on first use.

        Raises what opening or connecting raised (Telethon errors, TimeoutError, NotFound for a
        missing file), and ``AccountFrozenError`` when the account's app config says it is frozen (read
        at connect, then again when ``status_check_interval`` passed); the caller classifies it. A port
        that failed to connect is closed again."""
        account = self._open.get(session_id)
        if account is not None and not self._status_due(account):
            return account
        async with self._lock(session_id):
            account = self._open.get(session_id)
            if account is not None:
                if self._status_due(account) and await self._check_status(session_id, account.port):
                    account.status_checked_at = self._status_read(session_id)
                return account
            async with self.db.read() as conn:  # what the pool recorded while the session was idle, too
                self.waits.merge({session_id: await wait_rows.for_session(conn, session_id, self.clock.now())})
                row = await session_rows.get(conn, session_id)
            if row is not None and row.status_checked_at is not None:
                known = self._status_checked.get(session_id, row.status_checked_at)
                self._status_checked[session_id] = max(known, row.status_checked_at)
            self._check_wait(session_id, "connect")
            credentials = await self.supply.credentials(session_id)
            last = self._status_checked.get(session_id)
            status_due = last is None or self.clock.now() - last >= self.status_check_interval
            if credentials.self_user is None and status_due:
                # Both due: the init and one more request per connection, and the frozen check (safety) is
                # that one. Who the account is waits for a later connection of the session.
                credentials = dataclasses.replace(credentials, self_user=UNKNOWN_SELF)
            if self.connect_rate is not None:
                await self.connect_rate.turn()  # before the timeout: it bounds the network, not the queue
                self._check_wait(session_id, "connect")  # a wait recorded while this one queued
            port = self.factory.open(credentials)
            try:
                info = await wait_with_timeout(self.clock, port.connect(), self.connect_timeout)
            except BaseException as exc:
                await self._close_port(session_id, port)
                await self._record_flood(session_id, "connect", exc)
                raise
            self.connects += 1
            # Until the port is registered below (``close_all`` and the next ``get`` find it there), whatever
            # cuts this short (a frozen account, a stop cancelling the cycle, a database error reading the
            # peers) closes it here: a connected port nobody holds would be a second live client.
            try:
                if credentials.self_user is None:  # asked by this connect: stored, never asked again
                    now = self.clock.now()
                    await self.ledger.run(lambda conn: session_rows.record_self_user(conn, session_id, info, now))
                last = self._status_checked.get(session_id)
                if last is not None and self.clock.now() - last < self.status_check_interval:
                    checked_at = last  # read within the interval (by an earlier port of the session)
                elif await self._check_status(session_id, port):
                    checked_at = self._status_read(session_id)
                else:
                    # Not checked (a read wait): due again at once, so the next use after the wait checks it.
                    checked_at = self.clock.now() - self.status_check_interval
                async with self.db.read() as conn:
                    cached = await peer_rows.load(conn, session_id)
                    albums = await album_rows.for_session(conn, session_id)
            except BaseException:
                await self._close_port(session_id, port)
                raise
            peers = {ref: Peer(cast(PeerKind, p.kind), p.id, p.access_hash) for ref, p in cached.items()}
            account = Account(session_id, port, info, peers, status_checked_at=checked_at, albums=albums)
            self.retired.discard(session_id)
            self._open[session_id] = account
            logger.info("session %d connected as user %s (%d cached peers)", session_id,
                        "(not read yet)" if info == UNKNOWN_SELF else info.user_id, len(peers))
            return account

    def _status_due(self, account: Account) -> bool:
        return self.clock.now() - account.status_checked_at >= self.status_check_interval

    def _status_read(self, session_id: int) -> float:
        """The app config was just read (not frozen): remembered across the session's ports, and stored
        (in the next group commit; not awaited) so a restart within the interval does not read it again."""
        now = self.clock.now()
        self._status_checked[session_id] = now
        write = self.ledger.run(lambda conn: session_rows.set_status_checked(conn, session_id, now))
        task = asyncio.ensure_future(write)
        self._writes.add(task)
        task.add_done_callback(self._write_done)
        return now

    def _write_done(self, task: asyncio.Future[None]) -> None:
        """A stored status-check time that could not be written only costs a read after a restart."""
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.info("storing a status check failed: %s", type(task.exception()).__name__)

    async def _check_status(self, session_id: int, port: AccountPort) -> bool:
        """One ``help.getAppConfig`` (a 'read' class request): raises ``AccountFrozenError`` when it says
        the account is frozen; True when it was read. Inside a read wait, or meeting one (recorded as the
        class's by ``guarded``), it is not read (False) and the caller goes on: a wait holds only its own
        class, and a frozen account says so itself at its next send (FROZEN_METHOD_INVALID)."""
        if self.waits.until(session_id, "read") > self.clock.now():
            return False
        try:
            status = await self.guarded(
                session_id, "read", lambda: wait_with_timeout(self.clock, port.account_status(), self.connect_timeout)
            )
        except Exception as exc:
            if classify(exc).kind is OutcomeKind.FLOOD_WAIT:
                return False
            raise
        if status.frozen:
            self._frozen[session_id] = status
            logger.warning("session %d: its app config says the account is frozen", session_id)
            raise AccountFrozenError(status)
        return True

    async def freeze_status(self, session_id: int) -> AccountStatus | None:
        """What Telegram says of a frozen account (dates, appeal link), for the admins: as the check that
        found it said, or asked once now through its open port (a send answered FROZEN_METHOD_INVALID).
        None when it cannot be learned; never raises."""
        known = self._frozen.pop(session_id, None)
        if known is not None:
            return known
        account = self._open.get(session_id)
        if account is None:
            return None
        port = account.port
        try:
            return await self.guarded(
                session_id, "read", lambda: wait_with_timeout(self.clock, port.account_status(), self.connect_timeout)
            )
        except Exception as exc:  # only a detail for a message (a read wait included): retired either way
            logger.info("session %d: its freeze details could not be read: %s", session_id, type(exc).__name__)
            return None

    async def peer(self, account: Account, ref: str) -> Peer:
        """The peer for '@name' / '-100<id>' as this account sees it: cached, or resolved once and stored."""
        peer = account.peers.get(ref)
        if peer is not None:
            return peer
        peer = await self.guarded(
            account.session_id, "resolve",
            lambda: wait_with_timeout(self.clock, account.port.resolve(ref), self.resolve_timeout),
        )
        account.peers[ref] = peer
        now = self.clock.now()
        cached = peer_rows.CachedPeer(peer.kind, peer.id, peer.access_hash)
        await self.ledger.run(lambda conn: peer_rows.store(conn, account.session_id, ref, cached, now))
        return peer

    async def guarded(self, session_id: int, method: MethodClass, request: Callable[[], Awaitable[T]]) -> T:
        """``request()`` (one request of ``method``'s class through the session's port) unless the class
        must still wait (``WaitPending``, nothing sent); a FloodWait it meets is recorded as the class's
        wait, then raised. Every request the engine makes outside a send goes through here."""
        self._check_wait(session_id, method)
        try:
            return await request()
        except Exception as exc:
            await self._record_flood(session_id, method, exc)
            raise

    def _check_wait(self, session_id: int, method: MethodClass) -> None:
        """Raise ``WaitPending`` when the session's requests of the class must still wait."""
        now = self.clock.now()
        until = self.waits.until(session_id, method)
        if until > now:
            raise WaitPending(method, until, now)

    async def _record_flood(self, session_id: int, method: MethodClass, exc: BaseException) -> None:
        """A FloodWait the request met becomes the class's wait, noted and persisted."""
        if not isinstance(exc, Exception) or isinstance(exc, WaitPending):
            return
        outcome = classify(exc)
        if outcome.kind is not OutcomeKind.FLOOD_WAIT or outcome.seconds is None:
            return
        now = self.clock.now()
        until = now + outcome.seconds
        await self.ledger.run(self.waits.record(session_id, method, until, now))
        logger.warning("session %d: %s requests wait %d s (%s)", session_id, method, outcome.seconds, outcome.error)

    async def forget_peer(self, account: Account, ref: str) -> None:
        """Drop a cached peer that Telegram refused as invalid, so the next cycle resolves it again."""
        if account.peers.pop(ref, None) is not None:
            await self.ledger.run(lambda conn: peer_rows.forget(conn, account.session_id, ref))

    async def close(self, session_id: int) -> None:
        """Close the session's port (it left its customer or died)."""
        async with self._lock(session_id):
            account = self._open.pop(session_id, None)
            if account is not None:
                await self._close_port(session_id, account.port)
        self._locks.pop(session_id, None)

    async def retire(self, session_id: int, outcome: Outcome) -> int | None:
        """Dead, limited or frozen (``outcome``), found by whoever used the account (a send, a dialogs read,
        an admin's join): a frozen one's app config read for the admins (its appeal link), the port closed
        before the pool moves the file, the session marked retired (a worker still holding it stops), and
        the pool retires it; returns the customer's replacement, if any."""
        state = RETIREMENTS[outcome.kind]
        status = await self.freeze_status(session_id) if state == "frozen" else None
        await self.close(session_id)
        self.retired.add(session_id)
        try:
            return await self.supply.retire(session_id, state, outcome.error, self.clock.now(), status=status)
        except AdbotError as exc:
            logger.warning("retiring session %d failed: %s", session_id, exc.user_message)
            return None

    def hold(self, account: Account, *, renew: bool = False) -> None:
        """Someone uses ``account``'s port from now until ``release``: an idle close leaves it open meanwhile.
        ``renew`` (a cycle's worker): an idle close found earlier no longer holds, that cycle's end decides
        again."""
        account.uses += 1
        if renew:
            account.close_when_free = False

    async def release(self, account: Account) -> None:
        """One use of ``account`` ended: the last one closes it when an idle close found it in use."""
        account.uses -= 1
        if account.uses <= 0 and account.close_when_free and self._open.get(account.session_id) is account:
            await self._close_unused(account.session_id)

    @asynccontextmanager
    async def lease(self, session_id: int) -> AsyncIterator[Account]:
        """The session's account (``get``), held for the block (``hold``/``release``)."""
        account = await self.get(session_id)
        self.hold(account)  # no await since ``get`` returned: an idle close cannot come in between
        try:
            yield account
        finally:
            await self.release(account)

    async def close_idle(self, session_ids: set[int]) -> int:
        """Close the ports of these sessions (nothing to send soon: ``[engine] keep_connection_seconds``);
        the next ``get`` opens them again, paced, and reads nothing the session's earlier port read (its
        self user, its app config within the interval, its peers and albums from storage). A port in use
        (an admin's join, a dialogs read, a post check, a cycle's worker) stays open until its last use
        ends. Returns how many were closed now."""
        closed = 0
        for session_id in session_ids:
            if session_id in self._open and await self._close_unused(session_id):
                closed += 1
        if closed:
            logger.debug("closed %d idle connection(s)", closed)
        return closed

    async def _close_unused(self, session_id: int) -> bool:
        """Close the session's port unless it is in use (then it closes when the use ends); True if closed."""
        async with self._lock(session_id):
            account = self._open.get(session_id)
            if account is None:
                return False
            if account.uses > 0:
                account.close_when_free = True
                return False
            del self._open[session_id]
            await self._close_port(session_id, account.port)
        return True  # its lock is kept: the session comes back (a ``get`` may be waiting on it)

    async def close_all(self) -> None:
        for session_id in list(self._open):
            await self.close(session_id)

    async def retain(self, keep: set[int], among: set[int]) -> None:
        """Close the ports of sessions in ``among`` that are not in ``keep`` (they changed owner)."""
        for session_id in among - keep:
            if session_id in self._open:
                await self.close(session_id)

    @staticmethod
    async def _close_port(session_id: int, port: AccountPort) -> None:
        try:
            await port.close()
        except Exception:
            logger.warning("closing the port of session %d failed", session_id, exc_info=True)

