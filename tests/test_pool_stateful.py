"""Property test: random add / assign / ensure_plan / revoke / kill / release sequences keep the pool's
invariants after every step (one owner per session, pair capacity, every file exactly once and in the
folder its state says) and change only what each operation may change. Sessions learn random
memberships of the customers' groups on the way, so grants choose by cover: a grant reaches a group the
customer did not reach whenever a free session could."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from pool_support import NOW, assert_pool_consistent

from core.errors import NoPairCapacity, NotEnoughSessions
from core.ports import Dialog, Peer
from pool import lifecycle
from pool.assign import assign, ensure_plan, revoke
from pool.intake import import_files
from sandbox.sessionfiles import make_session_bytes, make_sidecar
from storage import customers, groups, memberships
from storage import pairs as pair_rows
from storage import sessions as session_rows
from storage.db import Database

CUSTOMERS = (101, 102, 103)
GROUPS = ("@g0", "@g1", "@g2", "@g3", "@g4")
Snapshot = dict[int, tuple[str, int | None]]


class PoolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="adbot-pool-prop-"))
        self.sdir = self.tmp / "sessions"
        self.loop = asyncio.new_event_loop()
        self.db: Database = self.run(Database.open(self.tmp / "db.sqlite3"))
        self.ever_dead: set[int] = set()
        self.uploads = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def snapshot(self) -> Snapshot:
        async def read() -> Snapshot:
            async with self.db.read() as conn:
                return {r.id: (r.state, r.owner_id) for r in await session_rows.list_all(conn)}

        result: Snapshot = self.run(read())
        return result

    @initialize(
        capacity=st.integers(1, 7),
        n_pairs=st.integers(0, 3),
        plans=st.lists(st.integers(0, 4), min_size=3, max_size=3),
        plain=st.integers(0, 6),
        with_app=st.integers(0, 3),
        dialogs=st.lists(st.sets(st.sampled_from(GROUPS), max_size=3), max_size=9),
    )
    def setup(
        self, capacity: int, n_pairs: int, plans: list[int], plain: int, with_app: int, dialogs: list[set[str]]
    ) -> None:
        async def go() -> None:
            async with self.db.tx() as conn:
                for cid, plan in zip(CUSTOMERS, plans, strict=True):
                    await customers.grant(conn, cid, plan, 30, NOW, default_interval=300)
                    await groups.add_many(conn, cid, GROUPS[cid % 3 : cid % 3 + 3], NOW)
                for i in range(n_pairs):
                    await pair_rows.add(conn, 5000 + i, f"{i:032x}", capacity, NOW)

        self.run(go())
        if plain:
            self._add(plain, False)
        if with_app:
            self._add(with_app, True)
        for pick, chats in enumerate(dialogs):
            self.learn_dialogs(pick, chats, True)

    def check_changes(self, before: Snapshot, after: Snapshot, *, allowed: set[int], takes_for: int | None,
                      max_taken: int) -> None:
        """Only ``allowed`` sessions changed, plus up to ``max_taken`` unused ones given to ``takes_for``."""
        taken = 0
        for sid, was in before.items():
            now = after[sid]
            if now == was or sid in allowed:
                continue
            assert was[0] == "unused" and now[1] == takes_for and takes_for is not None, (sid, was, now)
            taken += 1
        assert taken <= max_taken
        assert set(after) >= set(before)

    # --- rules ------------------------------------------------------------------------------------------

    @rule(count=st.integers(1, 3), with_app=st.booleans())
    def add_sessions(self, count: int, with_app: bool) -> None:
        self._add(count, with_app)

    def _add(self, count: int, with_app: bool) -> None:
        files: list[tuple[str, bytes]] = []
        for _ in range(count):
            self.uploads += 1
            files.append((f"u{self.uploads}.session", make_session_bytes()))
            if with_app:
                files.append((f"u{self.uploads}.json", json.dumps(make_sidecar(api_id=self.uploads)).encode()))
        before = self.snapshot()
        results = self.run(import_files(self.db, self.sdir, files, max_bytes=1 << 20, now=NOW))
        assert all(r.accepted for r in results), results
        after = self.snapshot()
        assert len(after) == len(before) + count and all(after[s] == v for s, v in before.items())

    def reached(self, cid: int, state: str = "owned") -> set[memberships.ChatKey]:
        """The customer's group chats that its sessions (or the free ones: ``state='unused'``, those with an
        identity: one waiting for an API pair is never handed out) may write to."""

        async def read() -> set[memberships.ChatKey]:
            async with self.db.read() as conn:
                wanted = [memberships.chat_key(g.ref) for g in await groups.list_for(conn, cid)]
                if state == "unused":
                    free = [r.id for r in await session_rows.list_by_state(conn, ["unused"]) if r.has_identity]
                    found = await memberships.writers_among(conn, free, wanted)
                else:
                    owned = [r.id for r in await session_rows.list_for_owner(conn, cid)]
                    found = await memberships.writers_among(conn, owned, wanted)
            return set().union(*found.values())

        result: set[memberships.ChatKey] = self.run(read())
        return result

    @rule(pick=st.integers(0, 10_000), chats=st.sets(st.sampled_from(GROUPS)), can_write=st.booleans())
    def learn_dialogs(self, pick: int, chats: set[str], can_write: bool) -> None:
        before = self.snapshot()
        if not before:
            return
        sid = sorted(before)[pick % len(before)]
        dialogs = [
            Dialog(Peer("channel", 900 + GROUPS.index(ref), 1), "group", ref, ref[1:], can_write=can_write,
                   why_not=None if can_write else "banned")
            for ref in sorted(chats)
        ]

        async def store() -> None:
            async with self.db.tx() as conn:
                await memberships.replace_for_session(conn, sid, dialogs, NOW)

        self.run(store())
        assert self.snapshot() == before

    @rule(cid=st.sampled_from(CUSTOMERS), n=st.integers(0, 4))
    def assign_some(self, cid: int, n: int) -> None:
        before = self.snapshot()
        reached, free_reach = self.reached(cid), self.reached(cid, "unused")
        try:
            got = self.run(assign(self.db, self.sdir, cid, n, NOW))
        except (NotEnoughSessions, NoPairCapacity):
            assert self.snapshot() == before  # all or nothing
            return
        assert len(got) == n
        after = self.snapshot()
        self.check_changes(before, after, allowed=set(), takes_for=cid, max_taken=n)
        assert all(before[s][0] == "unused" and after[s][1] == cid for s in got)
        if n and free_reach - reached:
            assert self.reached(cid) > reached  # the first pick reaches a group not reached before

    @rule(cid=st.sampled_from(CUSTOMERS))
    def top_up(self, cid: int) -> None:
        before = self.snapshot()
        try:
            self.run(ensure_plan(self.db, self.sdir, cid, NOW))
        except (NotEnoughSessions, NoPairCapacity):
            assert self.snapshot() == before
            return
        self.check_changes(before, self.snapshot(), allowed=set(), takes_for=cid, max_taken=4)

    @rule(pick=st.integers(0, 10_000))
    def revoke_all(self, pick: int) -> None:
        before = self.snapshot()
        owners = sorted({owner for _state, owner in before.values() if owner is not None}) or list(CUSTOMERS)
        cid = owners[pick % len(owners)]
        self.run(revoke(self.db, self.sdir, cid, NOW))
        after = self.snapshot()
        mine = {s for s, (state, owner) in before.items() if owner == cid}
        self.check_changes(before, after, allowed=mine, takes_for=None, max_taken=0)
        assert all(after[s] == ("unused", None) for s in mine)

    @rule(pick=st.integers(0, 10_000), dead=st.booleans(), owned_first=st.booleans())
    def kill(self, pick: int, dead: bool, owned_first: bool) -> None:
        before = self.snapshot()
        owned = sorted(s for s, (_state, owner) in before.items() if owner is not None)
        candidates = owned if owned_first and owned else sorted(before)
        if not candidates:
            return
        sid = candidates[pick % len(candidates)]
        owner = before[sid][1]
        mark = lifecycle.mark_dead if dead else lifecycle.mark_limited
        replacement = self.run(mark(self.db, self.sdir, sid, "test", NOW))
        after = self.snapshot()
        self.check_changes(before, after, allowed={sid}, takes_for=owner, max_taken=1)
        if before[sid][0] == "dead":
            assert after[sid] == before[sid]
        else:
            assert after[sid] == ("dead" if dead else "limited", None)
        if replacement is not None:
            assert owner is not None and after[replacement][1] == owner and before[replacement][0] == "unused"
        if after[sid][0] == "dead":
            self.ever_dead.add(sid)

    @rule(pick=st.integers(0, 10_000))
    def release(self, pick: int) -> None:
        before = self.snapshot()
        limited = sorted(s for s, (state, _) in before.items() if state == "limited")
        if not limited:
            return
        sid = limited[pick % len(limited)]
        # Never before its quarantine is over (every 'kill' happens at NOW; none lasts beyond 7 days).
        assert self.run(lifecycle.release_limited(self.db, self.sdir, sid, NOW)) is False
        assert self.snapshot() == before
        assert self.run(lifecycle.release_limited(self.db, self.sdir, sid, NOW + 7 * 86_400)) is True
        after = self.snapshot()
        self.check_changes(before, after, allowed={sid}, takes_for=None, max_taken=0)
        assert after[sid] == ("unused", None)

    # --- invariants -------------------------------------------------------------------------------------

    @invariant()
    def pool_consistent(self) -> None:
        self.run(assert_pool_consistent(self.db, self.sdir))

    @invariant()
    def dead_stays_dead(self) -> None:
        snap = self.snapshot()
        assert all(snap[s] == ("dead", None) for s in self.ever_dead)

    @invariant()
    def owned_within_pair_capacity(self) -> None:
        async def read() -> list[pair_rows.ApiPair]:
            async with self.db.read() as conn:
                return await pair_rows.list_all(conn)

        assert all(p.used <= min(p.capacity, 7) for p in self.run(read()))


def test_pool_state_machine() -> None:
    run_state_machine_as_test(
        PoolMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
