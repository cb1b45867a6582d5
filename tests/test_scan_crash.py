"""Kills during dialogs scans, in process: a crash injected at every await point of a scan.

Dialogs scans learn each session's chats from its own dialogs (``engine.discovery`` for the sessions a
campaign owns, ``pool.discovery`` for idle ones; rows in ``storage.memberships``). Here a crash is
injected at the k-th await point of a scan, for every k the scan has: every database transaction
(before BEGIN and after COMMIT) and every request to the world (when it leaves, when it is answered,
right after a post arrived). "raise" mode is a process death: from that moment nothing reaches the
world or the database any more. Then a new engine (or pool scanner) on a new connection to the same
database carries on, against the same strict world (each chat names its members; a send by a
non-member is refused and counted; a request inside a flood wait Telegram told about is recorded as a
violation), which outlives the "process" like Telegram does.

The scans are long on purpose: every account is in 135 chats, so its dialogs are three getDialogs
pages (two of the main list, one of the archive), each answered after 0.5 s, and one account's second
page meets a 600 s FloodWait: a scan can be cut before its first page, between pages, after the last
page before its rows are written, inside the wait, or between the wait's answer and its commit.

What must hold, right after the crash and after the restart:

* memberships are never half-written: a session's rows are either exactly the chats its dialogs list
  (with ``dialogs_checked_at`` set) or, for a session never read in full, none at all (with
  ``dialogs_checked_at`` unset: its groups are "checking", never reported unreachable);
* no group is ever stored or reported unreachable although a session of the customer can write there;
* no post ever goes to a chat the sending account is not in (the world's ``non_member_sends``);
* the dialogs class's flood wait holds across the restart: no getDialogs inside it (the world's
  violations), except in the one window the reliability doc names (the wait's answer arrived and the
  process died before its commit), where the world answers with the wait again and it is recorded;
* the next start completes the scans: every session's rows equal its dialogs, every reachable group
  is posted to, each exactly once per cycle.

"cancel" mode is a graceful stop instead (the cycle or the pool's round cancelled at the k-th point,
the engine shut down as SIGTERM does): the same checks, and no client may be left connected. It found
a port the engine connected for a session's first use and cut (by the stop, or by a database error)
while reading the session's cached peers, before registering it: left connected, never closed, and a
second client at the next use (``test_a_connect_cut_after_its_app_config_read_closes_the_port``).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from core.clock import FakeClock
from core.config import EngineSettings
from core.errors import StorageBusy
from core.states import EventKind
from engine.outcomes import classify
from pool.discovery import PoolDiscovery
from sandbox.world import World
from sandbox.world.dialogs import dialog_of, folders
from storage import memberships
from storage import peers as peer_rows
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database
from tests.engine_support import CID, Setup, fast_config, make_setup, running
from tests.pool_support import NOW, add_pair, seed_sessions
from tests.test_engine_crash import Crash, Crasher, CrashingDatabase

GROUPS = [f"@scan_g{i}" for i in range(6)]
FILLERS = 134  # chats besides the campaign's: with one archived chat, three getDialogs pages per account
FLOOD = 600.0  # the FloodWait one account's second dialogs page meets
LATENCY = 0.5

Chat = tuple[str, int, bool]  # (peer type, bare chat id, may write there)
Mode = Literal["raise", "cancel"]  # a process death, or a graceful stop (the cycle or the scan cancelled)


def truth(world: World, key: str) -> set[Chat]:
    """The chats ``key``'s dialogs list (main list and archive), as a full read stores them."""
    main, archive = folders(world.chats.values(), key)
    found: set[Chat] = set()
    for chat in [*main, *archive]:
        dialog = dialog_of(chat, key, world._peer_for(chat, key), archived=chat in archive)
        found.add((chat.kind, chat.id, dialog.can_write))
    return found


async def stored(db: Database, session_ids: Iterable[int]) -> dict[int, tuple[set[Chat], float | None]]:
    """Each session's membership rows and when its dialogs were last read in full."""
    ids = list(session_ids)
    out: dict[int, tuple[set[Chat], float | None]] = {}
    async with db.read() as conn:
        rows = await memberships.for_sessions(conn, ids)
        for sid in ids:
            out[sid] = (
                {(m.peer.kind, m.peer.id, m.can_write) for m in rows if m.session_id == sid},
                await memberships.checked_at(conn, sid),
            )
    return out


def check_whole(
    world: World,
    keys: dict[int, str],
    found: dict[int, tuple[set[Chat], float | None]],
    before: dict[int, tuple[set[Chat], float | None]] | None = None,
) -> None:
    """Never half-written: a session's rows are all of its dialogs now, with the time of that read, or
    exactly what they were before the scan began (``before``; for a first read: nothing and no time)."""
    for sid, (rows, checked) in found.items():
        old = (set(), None) if before is None else before[sid]
        if (rows, checked) == old:
            continue
        want = truth(world, keys[sid])
        assert checked is not None and checked != old[1], f"session {sid}: {len(rows)} row(s) without a full read"
        assert rows == want, f"session {sid}: {len(rows)} row(s), its dialogs list {len(want)}"


def fill(world: World, key: str, tag: str) -> None:
    """``FILLERS`` chats only ``key`` is in, and one more in its archive folder."""
    for i in range(FILLERS):
        world.add_group(f"fill_{tag}_{i:03d}", members={key})
    world.add_group(f"arch_{tag}", members={key}).archived.add(key)


@dataclass
class Lost:
    """What the crash left of the flood wait: told by the world, and committed or not."""

    told: bool
    committed: bool

    @property
    def lost(self) -> bool:
        return self.told and not self.committed


async def flood_state(world: World, db: Database, key: str, sid: int, now: float) -> Lost:
    told = world.accounts[key].flood_until.get("dialogs", 0.0) > now
    async with db.read() as conn:
        committed = (await wait_rows.for_session(conn, sid, now)).get("dialogs", 0.0) > now
    return Lost(told, committed)


def check_violations(world: World, key: str, lost: Lost) -> None:
    """No request inside a wait the database knew of; a lost wait's one repeat is the documented limit."""
    if not lost.lost:
        assert world.violations == [], world.violations
        return
    assert all(v.kind == "flood_wait" and v.account == key and (v.detail or "").startswith("dialogs")
               for v in world.violations), world.violations
    assert len(world.violations) <= 1, world.violations


async def die(db: Database, world: World, crasher: Crasher) -> None:
    """The process is gone: whatever it still had running dies without another write or request."""
    me = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t is not me]
    for t in leftovers:
        t.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
    crasher.active = False
    world.step_hook = None
    world.reset_connections()
    await db.close()


# --- the engine's scans of a campaign's sessions ------------------------------------------------------


def engine_world(s: Setup, owned: list[int]) -> None:
    """Session a in g0, g1 (archived), g2; b in g2, g3, g4; nobody in g5."""
    a, b = (s.account_of(sid) for sid in owned)
    who = {0: {a}, 1: {a}, 2: {a, b}, 3: {b}, 4: {b}, 5: set()}
    for i, keys in who.items():
        chat = s.world.chat(GROUPS[i])
        assert chat is not None
        chat.everyone = False
        chat.members = set(keys)
    s.world.chat(GROUPS[1]).archived.add(a)  # type: ignore[union-attr]
    fill(s.world, a, "a")
    fill(s.world, b, "b")
    s.world.latency = LATENCY


async def reach_is_never_wrong(s: Setup, reachable: set[str], told_before: set[str]) -> None:
    """A group a session can write in (as the stored, whole rows say) is never stored unreachable, and
    nobody is told of a group they could reach (``checking`` passes by itself and tells nobody)."""
    for ref, group in (await s.groups()).items():
        if ref in reachable:
            assert group.reach in (None, "checking"), (ref, group.reach, group.reach_detail)
    told = [e.payload["group"] for e in await s.events() if e.kind is EventKind.GROUP_UNREACHABLE]
    assert set(told) <= (set(GROUPS) - reachable) | told_before, told


async def engine_scenario(tmp: Path, at: int | None, rescan: bool, mode: Mode = "raise") -> Crasher:
    """``rescan``: the crash hits the second read of both sessions, 16 h after a first cycle, while a
    has left g2 and joined g5 meanwhile (its stored rows are stale until the read completes); else the
    first read, before any cycle."""
    path = tmp / "data" / "adbot.sqlite3"
    db = await CrashingDatabase.open(path)
    assert isinstance(db, CrashingDatabase)
    clock = FakeClock(NOW)
    s = await make_setup(db, tmp, groups=GROUPS, plan=2, pool=2, clock=clock, world=World(clock, dedupe=False))
    owned = list(s.session_ids)
    a, b = (s.account_of(sid) for sid in owned)
    engine_world(s, owned)
    config = fast_config(on_restart="resume", send_spacing=1.0)
    engine = s.engine(config)
    await running(s, engine)
    assert sorted(r.id for r in await s.owned()) == owned
    reachable = set(GROUPS[:5])
    told_before: set[str] = set()
    if rescan:
        first = await engine.run_cycle(CID)
        assert (first.sent, first.unreachable) == (5, 1), first
        told_before = {GROUPS[5]}
        s.world.remove_member(GROUPS[2], a)
        s.world.add_member(GROUPS[5], a)
        reachable = set(GROUPS)  # g2 through b now, g5 through a once a's dialogs are read again
        clock.set(NOW + 16 * 3600)  # both reads due (12 h x 1.25 at most)
    before = await stored(db, owned)
    s.world.add_fault(kind="flood_wait", method="dialogs", account=b, after=1, times=1, seconds=FLOOD)
    crasher = Crasher(at, mode)
    db.crasher = crasher
    s.world.step_hook = lambda point, _account: crasher.hit(point)
    task: asyncio.Task[object] = asyncio.create_task(engine.run_cycle(CID))  # reads dialogs first, then posts
    crasher.victim = task
    try:
        await task
    except (Crash, asyncio.CancelledError):
        pass
    if mode == "cancel":
        await engine.shutdown()  # a graceful stop in the middle: every port it opened is closed
    left_open = s.world.live_ports()
    await die(db, s.world, crasher)  # (first: a failing test must not leave the database's thread running)
    assert left_open == 0 or mode == "raise", "a graceful stop during a scan left a client connected"

    db2 = await Database.open(path)
    try:
        s.db = db2
        # What the dead process left: whole rows (old or new), reach derived from them, no wrong word.
        check_whole(s.world, s.keys, await stored(db2, owned), before)
        await reach_is_never_wrong(s, set(GROUPS[:5]), told_before)
        lost = await flood_state(s.world, db2, b, owned[1], clock.now())
        # The next start carries on, cycle after cycle, through the flood wait and past it.
        again = s.engine(config)
        await again.start()
        await again.run_cycle(CID)
        for _ in range(4):
            await reach_is_never_wrong(s, set(GROUPS[:5]), told_before)
            clock.set(clock.now() + 300)
            await again.run_cycle(CID)
        await again.shutdown()
        found = await stored(db2, owned)
        for sid, (rows, checked) in found.items():
            assert rows == truth(s.world, s.keys[sid]), f"session {sid}: the next start did not complete its read"
            assert checked is not None and checked != before[sid][1], f"session {sid}: never read again"
        check_violations(s.world, b, lost)
        assert s.world.non_member_sends == 0  # no request ever went to a chat its account was not in
        assert s.world.duplicates() == []
        customer = await s.customer()
        assert not customer.cycle_in_progress
        last = await s.rows(customer.cycle_no)
        assert {ref for ref, row in last.items() if row.outcome == "sent"} == reachable, last
        groups = await s.groups()
        assert all(groups[ref].reach is None for ref in reachable)
        told = [e.payload["group"] for e in await s.events() if e.kind is EventKind.GROUP_UNREACHABLE]
        if rescan:
            assert told == [GROUPS[5]]  # told once, in the first cycle, when nobody was in it
            back = [e.payload["group"] for e in await s.events() if e.kind is EventKind.GROUP_REACHABLE]
            assert back == [GROUPS[5]]
        else:
            assert groups[GROUPS[5]].reach == "not_member" and told == [GROUPS[5]]
    finally:
        await db2.close()
    return crasher


# --- the pool's scans of idle sessions ----------------------------------------------------------------


async def pool_scenario(tmp: Path, at: int | None, mode: Mode = "raise") -> Crasher:
    path = tmp / "data" / "adbot.sqlite3"
    sdir = tmp / "sessions"
    db = await CrashingDatabase.open(path)
    assert isinstance(db, CrashingDatabase)
    clock = FakeClock(NOW)
    await add_pair(db, 1001)
    ids = await seed_sessions(db, sdir, 3)
    world = World(clock)  # strict
    async with db.read() as conn:
        keys = {sid: row.auth_key_sha for sid in ids if (row := await session_rows.get(conn, sid)) is not None}
    for key in keys.values():
        world.add_account(key)
    k0, k1, k2 = (keys[sid] for sid in ids)
    world.add_group("shared", members={k0, k1, k2})
    world.add_group("only_0", members={k0}, read_only=True)
    world.add_group("only_2", members={k2}).archived.add(k2)
    for tag, key in zip("abc", (k0, k1, k2), strict=True):
        fill(world, key, tag)
    world.latency = LATENCY
    world.add_fault(kind="flood_wait", method="dialogs", account=k1, after=1, times=1, seconds=FLOOD)
    settings = EngineSettings(dialogs_scan_concurrency=2)

    def scanner(database: Database) -> PoolDiscovery:
        return PoolDiscovery(database, sdir, world, classify, clock, settings, rng=random.Random(7))

    crasher = Crasher(at, mode)
    db.crasher = crasher
    world.step_hook = lambda point, _account: crasher.hit(point)
    task: asyncio.Task[object] = asyncio.create_task(scanner(db).run_due())
    crasher.victim = task
    try:
        await task
    except (Crash, asyncio.CancelledError):
        pass
    left_open = world.live_ports()  # the app stopping discovery ("cancel"): the scans close their ports
    await die(db, world, crasher)
    assert left_open == 0 or mode == "raise", "a scan cancelled mid-way left a client connected"

    db2 = await Database.open(path)
    try:
        check_whole(world, keys, await stored(db2, ids))
        lost = await flood_state(world, db2, k1, ids[1], clock.now())
        again = scanner(db2)
        await again.run_due()
        for _ in range(3):
            clock.set(clock.now() + 300)
            await again.run_due()
        found = await stored(db2, ids)
        check_whole(world, keys, found)
        assert all(checked is not None for _rows, checked in found.values()), "a scan never completed"
        check_violations(world, k1, lost)
        assert world.live_ports() == 0
        if lost.committed:
            # The wait the dead process committed was honoured: k1's dialogs read after it, not before.
            read_at = found[ids[1]][1]
            assert read_at is not None and read_at >= NOW + FLOOD, read_at
    finally:
        await db2.close()
    return crasher


def _run(scenario: str, at: int | None, mode: Mode = "raise") -> Crasher:
    with tempfile.TemporaryDirectory() as tmp:
        if scenario == "pool":
            run = pool_scenario(Path(tmp), at, mode)
        else:
            run = engine_scenario(Path(tmp), at, rescan=scenario == "engine-rescan", mode=mode)
        try:
            return asyncio.run(run)
        except AssertionError as exc:
            raise AssertionError(f"{scenario} scan, {mode} at step {at}: {exc}") from None


def _every_point(scenario: str, mode: Mode = "raise", every: int = 1) -> tuple[int, int, list[str]]:
    """Crash the scenario at each of its await points in turn (or each ``every``-th); (points, crashes
    that fired, the points)."""
    counting = _run(scenario, None)
    total = counting.steps
    fired = 0
    for at in range(1, total + 1, every):
        crasher = _run(scenario, at, mode)
        # Group commits batch as timing allows, so a run may take a transaction fewer than the counting
        # run: a crash point past its end is simply not there (the run checked out whole).
        assert crasher.fired or crasher.steps < at, crasher
        fired += crasher.fired
    return total, fired, counting.points


def test_a_crash_at_any_await_point_of_a_first_dialogs_scan_leaves_no_half_truth() -> None:
    total, fired, points = _every_point("engine")
    assert points.count("request:dialogs") == 3 + 2  # three pages of a, two of b (its second met the wait)
    assert total > 40 and fired >= total - 2, (total, fired)


def test_a_crash_at_any_await_point_of_a_dialogs_rescan_after_memberships_changed_leaves_no_half_truth() -> None:
    total, fired, points = _every_point("engine-rescan")
    assert points.count("request:dialogs") == 3 + 2
    assert total > 40 and fired >= total - 2, (total, fired)


def test_a_crash_at_any_await_point_of_an_idle_pool_scan_leaves_no_half_truth() -> None:
    total, fired, points = _every_point("pool")
    assert points.count("request:dialogs") == 3 + 2 + 3  # the second account's scan stopped at its wait
    assert total > 30 and fired >= total - 2, (total, fired)


def test_a_graceful_stop_at_every_other_await_point_of_a_scan_closes_every_client_and_loses_nothing() -> None:
    """"cancel" mode: the cycle (or the pool's round) is cancelled at the k-th point and the engine shut
    down gracefully, as SIGTERM does; the same checks, and no client left connected."""
    for scenario in ("engine", "pool"):
        total, fired, _points = _every_point(scenario, "cancel", every=2)
        assert fired >= total // 2 - 1, (scenario, total, fired)


# --- found by the graceful-stop sweep: a port opened for a read, cut before it was registered ----------


async def test_a_connect_cut_after_its_app_config_read_closes_the_port(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine opens a session's port on first use (a dialogs read, a send): connect, the app-config
    read, then the session's cached peers and albums from the database, and only then is the port its
    open account (closed at shutdown, reused by the next use). A stop (the cycle cancelled) or a database
    error in that last step left the port connected and unregistered: never closed, and the next use of
    the session opened a second live client beside it."""
    s = await make_setup(db, tmp_path, groups=GROUPS[:1], plan=1, pool=1)
    [sid] = s.session_ids
    engine = s.engine()
    await running(s, engine)
    async def stopped(*args: object) -> object:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # the engine stops (the cycle is cancelled) while the peers are read
        await asyncio.sleep(0)
        raise AssertionError("not cancelled")

    async def busy(*args: object) -> object:
        raise StorageBusy()

    for cut, error in ((stopped, asyncio.CancelledError), (busy, StorageBusy)):
        with monkeypatch.context() as patched:
            patched.setattr(peer_rows, "load", cut)
            with pytest.raises(error):
                await asyncio.create_task(engine.accounts.get(sid))
        assert s.world.live_ports() == 0, f"connected and cut by {error.__name__}: the client stayed connected"
    account = await engine.accounts.get(sid)  # the next use: one client, no second one beside a lost one
    assert account.session_id == sid and s.world.live_ports() == 1
    await engine.shutdown()
    assert s.world.live_ports() == 0
    assert s.world.violations == []
