"""Cycles on the simulated world with a virtual clock: one post per group per cycle, one request per
post, and what each kind of failure does."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest

from core.errors import NotEnoughSessions
from core.ports import Dialog, Peer
from core.states import EventKind
from engine.placement import assign_groups
from engine.readiness import Missing
from sandbox.world.faults import Fault
from storage import customers, memberships
from storage import groups as group_rows
from storage import ledger as ledger_rows
from storage import sessions as session_rows
from storage import waits as wait_rows
from storage.db import Database
from tests.engine_support import CID, fast_config, make_setup, running
from tests.pool_support import NOW


async def test_each_group_gets_one_post_per_cycle_and_one_request_per_post(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.cycle_no, report.sent, report.failed) == (1, 10, 0)
    for ref in s.refs:
        [delivery] = s.world.deliveries_to(ref)
        assert delivery.random_id == s.random_id(1, ref)
        assert delivery.source_msg == 1
    first_cycle_requests = s.world.request_count()
    # connect once per session with its app config (is it frozen?), its dialogs once (each group is
    # addressed with its own row of them, no resolve), the source channel once per session: then the sends
    assert s.world.request_count(method="connect") == 3
    assert s.world.request_count(method="app_config") == 3
    assert engine.discovery.reads == 3
    assert s.world.request_count(method="resolve") == 3
    dialog_pages = s.world.request_count(method="dialogs")
    for cycle_no in (2, 3):
        s.clock.set(NOW + 300 * (cycle_no - 1))
        before = s.world.request_count()
        report = await engine.run_cycle(CID)
        assert (report.cycle_no, report.sent) == (cycle_no, 10)
        assert s.world.request_count() - before == 10
        assert s.world.request_count() - before == s.world.request_count(method="forward") - 10 * (cycle_no - 1)
    for ref in s.refs:
        assert len(s.world.deliveries_to(ref)) == 3
    assert first_cycle_requests == 3 + 3 + dialog_pages + 3 + 3 + 10
    assert s.world.violations == []
    async with db.read() as conn:
        stats = await ledger_rows.get_stats(conn, CID)
        per_group = await ledger_rows.group_stats(conn, CID)
    assert (stats.total_posts, stats.total_success, stats.total_messages_sent, stats.total_failures) == (30, 30, 30, 0)
    assert per_group == {ref: (3, 0) for ref in s.refs}
    assert all(r.outcome == "sent" and r.message_id for r in (await s.rows(3)).values())
    # A restarted engine reads the peers from the database: still one request per post.
    await engine.shutdown()
    again = s.engine()
    await again.start()
    s.clock.set(NOW + 900)
    counts_before = Counter(s.world.requests)
    await again.run_cycle(CID)
    spent = Counter(s.world.requests) - counts_before
    assert sum(v for (_, method), v in spent.items() if method not in ("connect", "app_config")) == 10
    by_method = Counter({m: 0 for m in ("connect", "app_config")})
    for (_, m), v in spent.items():
        by_method[m] += v
    # Each reconnect is Telegram's init alone: the app config read at the first connect is stored and not
    # read again before ``status_check_interval`` (a day) has passed, across the restart too.
    assert by_method["connect"] == 3 and by_method["app_config"] == 0
    assert s.world.request_count(method="resolve") == 3
    assert again.discovery.reads == 0  # read again only when due (hours later)
    assert s.world.request_count(method="dialogs") == dialog_pages
    await again.shutdown()


async def test_groups_stay_on_their_session(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    engine = s.engine()
    await running(s, engine)
    await engine.run_cycle(CID)
    s.clock.set(NOW + 300)
    await engine.run_cycle(CID)
    for ref in s.refs:
        assert len({d.account for d in s.world.deliveries_to(ref)}) == 1
    await engine.shutdown()


def test_group_assignment_is_even_and_moves_few_groups_when_sessions_change() -> None:
    groups = [
        group_rows.Group(i, CID, f"@g{i}", NOW, 0, None, None, None, None, None) for i in range(60)
    ]
    before = assign_groups(groups, [1, 2, 3])
    assert sorted(len(v) for v in before.values()) == [20, 20, 20]  # a cycle lasts as long as its busiest session
    assert sorted(g.ref for v in before.values() for g in v) == sorted(g.ref for g in groups)
    after = assign_groups(groups, [1, 3])
    assert sorted(len(v) for v in after.values()) == [30, 30]
    kept = sum(len({g.ref for g in before[sid]} & {g.ref for g in after[sid]}) for sid in (1, 3))
    assert kept >= 0.85 * 40  # the removed session's 20 groups move; the others almost all stay
    grown = assign_groups(groups, [1, 2, 3, 4])
    assert sorted(len(v) for v in grown.values()) == [15, 15, 15, 15]
    assert sum(len({g.ref for g in before[sid]} & {g.ref for g in grown[sid]}) for sid in (1, 2, 3)) >= 40


async def test_sends_are_spaced_per_session(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=[f"@group_{i:02d}" for i in range(5)])
    engine = s.engine(fast_config(send_spacing=10.0, spacing_jitter=0.2))
    await running(s, engine)
    await engine.run_cycle(CID)
    times = sorted(d.at for d in s.world.deliveries)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 4 and all(8.0 <= g <= 12.5 for g in gaps), gaps
    await engine.shutdown()


async def test_short_flood_wait_delays_the_sessions_groups_within_the_cycle(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=[f"@group_{i:02d}" for i in range(4)])
    key = s.account_of(s.session_ids[0])
    s.world.add_fault(kind="flood_wait", account=key, after=1, seconds=60)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert report.sent == 4 and report.waiting == 0
    assert s.world.violations == []
    second = s.world.deliveries_to("@group_01")[0]
    assert second.at >= NOW + 4 + 60  # sent after the wait (spacing 5 s +- 20%), by the same session
    assert {d.account for d in s.world.deliveries} == {key}
    rows = await s.rows(1)
    assert rows["@group_01"].outcome == "sent" and rows["@group_01"].flood_waits == 1
    assert rows["@group_01"].attempts == 2
    async with db.read() as conn:
        stats = await ledger_rows.get_stats(conn, CID)
    assert stats.total_flood_waits == 1
    await engine.shutdown()


async def test_flood_wait_while_resolving_holds_resolving_and_is_counted(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=[f"@group_{i:02d}" for i in range(3)])
    sid = s.session_ids[0]
    # The only resolve: the post's source channel (groups are addressed with the session's dialogs).
    s.world.add_fault(kind="flood_wait", session=sid, method="resolve", after=0, seconds=30)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert report.sent == 3 and s.world.violations == []
    async with db.read() as conn:
        stats = await ledger_rows.get_stats(conn, CID)
        session = await session_rows.get(conn, sid)
        resolve_wait = await wait_rows.until(conn, sid, "resolve")
    assert stats.total_flood_waits == 1
    # The wait was the resolve class's (recorded as such), honoured, and the session's sends never rested.
    assert resolve_wait == NOW + 30
    assert session is not None and session.state == "assigned" and session.cooldown_until is None
    assert min(d.at for d in s.world.deliveries_to("@group_01")) >= NOW + 30
    await engine.shutdown()


async def test_long_flood_wait_leaves_groups_waiting_and_survives_a_restart(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    victim = s.session_ids[0]
    key = s.account_of(victim)
    s.world.add_fault(kind="flood_wait", account=key, after=1, seconds=3600)
    engine = s.engine()
    await running(s, engine)
    plan = assign_groups(
        [g for g in (await s.groups()).values()], s.session_ids
    )
    victim_refs = [g.ref for g in plan[victim]]
    assert len(victim_refs) >= 2
    report = await engine.run_cycle(CID)
    assert report.waiting == len(victim_refs) - 1
    rows = await s.rows(1)
    assert [rows[r].outcome for r in victim_refs] == ["sent"] + ["waiting"] * (len(victim_refs) - 1)
    assert all(rows[r].outcome == "sent" for r in s.refs if r not in victim_refs)
    session = await s.session(victim)
    assert session.state == "cooling" and session.cooldown_until is not None
    assert session.cooldown_until >= NOW + 3600
    await engine.shutdown()

    # A new process: the persisted wait holds; no request from the session before it ends.
    requests_before = s.world.request_count(account=key)
    for cycle in (1, 2, 3):
        s.clock.set(NOW + 300 * cycle)
        engine = s.engine()
        await engine.start()
        report = await engine.run_cycle(CID)
        assert report.waiting == len(victim_refs)
        await engine.shutdown()
    assert s.world.request_count(account=key) == requests_before
    s.clock.set(NOW + 3700)
    engine = s.engine()
    await engine.start()
    report = await engine.run_cycle(CID)
    assert report.sent == 10
    assert s.world.violations == []
    assert (await s.session(victim)).state == "assigned"
    await engine.shutdown()


async def test_slow_mode_windows_are_learnt_and_never_entered(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@slow_group", "@fast_group"])
    s.world.chat("@slow_group").slow_mode = 600  # type: ignore[union-attr]
    engine = s.engine()
    await running(s, engine)
    for n in range(12):
        s.clock.set(NOW + 300 * n)
        await engine.run_cycle(CID)
    slow = s.world.deliveries_to("@slow_group")
    gaps = [b.at - a.at for a, b in itertools.pairwise(slow)]
    assert all(g >= 600 for g in gaps)
    assert len(slow) >= 5
    assert len(s.world.deliveries_to("@fast_group")) == 12
    # Telegram told us once (the engine could not know before, and that refusal is no breach); the
    # engine never asked again inside a window it knew about.
    assert [v for v in s.world.violations if v.kind == "slow_mode"] == []
    group = (await s.groups())["@slow_group"]
    assert group.slowmode_seconds is not None and group.slowmode_seconds >= 600
    await engine.shutdown()


async def test_known_slow_mode_is_skipped_without_a_request(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@slow_group"])
    async with db.tx() as conn:
        group = await group_rows.get(conn, CID, "@slow_group")
        assert group is not None
        await group_rows.set_slowmode(conn, group.id, 900, NOW + 100)
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert report.skipped == 1 and s.world.request_count(method="forward") == 0
    assert (await s.rows(1))["@slow_group"].error == "slow_mode"
    await engine.shutdown()


async def test_a_refusing_group_is_paused_after_the_failure_limit(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@open_group", "@closed_group"])
    # The session is a member that may write, as its dialogs say, yet the group fails every post (the chat
    # is restricted: not a refusal of this session, which REFUSED would be).
    s.world.add_fault(kind="error", error="ChatRestrictedError", group="@closed_group", times=0)
    engine = s.engine(fast_config(group_failure_limit=3))
    await running(s, engine)
    for n in range(5):
        s.clock.set(NOW + 300 * n)
        await engine.run_cycle(CID)
    key = s.account_of(s.session_ids[0])
    tries = [d for d in s.world.deliveries if d.chat_ref == "@closed_group"]
    assert tries == []
    assert s.world.request_count(key, "forward") == 5 + 3  # the open group 5 times, the closed one 3
    group = (await s.groups())["@closed_group"]
    assert group.paused_reason is not None and "ChatRestrictedError" in group.paused_reason
    paused = [e for e in await s.events() if e.kind is EventKind.GROUP_PAUSED]
    assert len(paused) == 1 and paused[0].payload["group"] == "@closed_group"
    assert s.notified.calls >= 1
    async with db.read() as conn:
        assert (await ledger_rows.group_stats(conn, CID))["@closed_group"] == (0, 3)
    await engine.shutdown()


async def test_a_group_nobody_may_write_in_gets_no_request_and_the_customer_is_told_once(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@open_group", "@closed_group"])
    s.world.chat("@closed_group").read_only = True  # type: ignore[union-attr]
    engine = s.engine(fast_config(group_failure_limit=3))
    await running(s, engine)
    for n in range(5):
        s.clock.set(NOW + 300 * n)
        report = await engine.run_cycle(CID)
        assert (report.sent, report.failed, report.unreachable) == (1, 0, 1)
    key = s.account_of(s.session_ids[0])
    assert s.world.request_count(key, "forward") == 5  # the open group only: its dialogs said read-only
    group = (await s.groups())["@closed_group"]
    assert group.active and (group.reach, group.reach_detail) == ("forbidden", "read_only")
    told = [e for e in await s.events() if e.kind is EventKind.GROUP_UNREACHABLE]
    assert [(e.payload["group"], e.payload["reason"]) for e in told] == [("@closed_group", "forbidden")]
    assert "@closed_group" not in await s.rows(5)  # no ledger row: left out of the cycle
    await engine.shutdown()


@pytest.mark.parametrize(("fault", "state", "event"), [
    ("dead", "dead", EventKind.SESSION_DEAD),
    ("key_not_found", "dead", EventKind.SESSION_DEAD),
    ("peer_flood", "limited", EventKind.SESSION_LIMITED),
    ("frozen", "frozen", EventKind.SESSION_FROZEN),
])
async def test_a_retired_session_is_replaced_from_the_next_cycle(
    db: Database, tmp_path: Path, fault: str, state: str, event: EventKind
) -> None:
    s = await make_setup(db, tmp_path, plan=3, pool=4)
    engine = s.engine()
    await running(s, engine)
    owned_before = {r.id for r in await s.owned()}
    assert len(owned_before) == 3
    victim = min(owned_before)
    key = s.account_of(victim)
    s.world.add_fault(Fault(kind=fault, account=key, after=1))  # type: ignore[arg-type]
    plan = assign_groups(list((await s.groups()).values()), sorted(owned_before))
    victim_refs = [g.ref for g in plan[victim]]
    report = await engine.run_cycle(CID)
    rows = await s.rows(1)
    assert rows[victim_refs[0]].outcome == "sent"
    assert all(rows[r].outcome == "skipped" for r in victim_refs[1:])
    assert report.skipped == len(victim_refs) - 1
    # Not retried by another session in this cycle.
    for ref in victim_refs[1:]:
        assert s.world.deliveries_to(ref) == []
    assert (await s.session(victim)).state == state
    owned_after = {r.id for r in await s.owned()}
    assert victim not in owned_after and len(owned_after) == 3
    replacement = (owned_after - owned_before).pop()
    kinds = [e.kind for e in await s.events()]
    assert event in kinds and EventKind.SESSION_REPLACED in kinds
    s.clock.set(NOW + 300)
    before_victim = s.world.request_count(account=key)
    report = await engine.run_cycle(CID)
    assert report.sent == 10
    assert s.world.request_count(account=key) == before_victim
    assert s.world.request_count(account=s.account_of(replacement), method="forward") >= 1
    assert victim not in engine.accounts
    assert s.world.violations == []  # nothing more was asked of the account once it answered
    await engine.shutdown()


async def test_a_deleted_post_stops_the_campaign_and_blames_no_group(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, post=("@ads", 99))
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert report.reason == "source_failed"
    customer = await s.customer()
    assert customer.status == "stopped" and customer.stop_reason == "source_failed"
    invalid = [e for e in await s.events() if e.kind is EventKind.POST_INVALID]
    assert len(invalid) == 1 and invalid[0].payload["error"] == "MessageIdInvalidError"
    assert s.world.deliveries == []
    # the read of the post (is it an album?) found it gone: no forward went out at all
    assert s.world.request_count(method="forward") == 0
    assert 1 <= s.world.request_count(method="read") <= 3  # at most one in flight per session
    rows = await s.rows(1)
    assert rows and all(r.outcome == "skipped" and r.error == "source_failed:MessageIdInvalidError"
                        for r in rows.values())
    async with db.read() as conn:
        stats = await ledger_rows.get_stats(conn, CID)
        assert all(failures == 0 for _, failures in (await ledger_rows.group_stats(conn, CID)).values())
    assert stats.total_failures == 0
    assert all(g.consecutive_failures == 0 for g in (await s.groups()).values())
    assert (await engine.run_cycle(CID)).reason == "not_running"
    await engine.shutdown()


async def test_unreachable_source_channel_is_a_source_failure(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, post=("@nosuchchannel", 5))
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert report.reason == "source_failed"
    assert [e.kind for e in await s.events()].count(EventKind.POST_INVALID) == 1
    await engine.shutdown()


async def test_transient_failure_is_retried_with_the_same_random_id(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@group_a", "@group_b"])
    s.world.add_fault(kind="transient", group="@group_a", deliver=True)  # delivered, answer lost
    s.world.add_fault(kind="transient", group="@group_b", times=0)  # never gets through
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.failed) == (1, 1)
    rows = await s.rows(1)
    assert rows["@group_a"].outcome == "sent" and rows["@group_a"].attempts == 2
    assert len(s.world.deliveries_to("@group_a")) == 1 and s.world.duplicates_suppressed == 1
    assert rows["@group_b"].outcome == "failed" and rows["@group_b"].attempts == 3
    assert (await s.groups())["@group_b"].consecutive_failures == 0  # not the group's fault
    await engine.shutdown()


async def test_unanswered_send_is_in_doubt_and_not_retried(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1, groups=["@group_a", "@group_b"])
    s.world.add_fault(kind="timeout", group="@group_a", deliver=True)
    engine = s.engine(fast_config(send_timeout=30))
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.in_doubt, report.sent) == (1, 1)
    row = (await s.rows(1))["@group_a"]
    assert (row.outcome, row.error, row.attempts) == ("in_doubt", "timeout", 1)
    assert s.world.request_count(method="forward") == 2
    assert len(s.world.deliveries_to("@group_a")) == 1
    s.clock.set(NOW + 300)
    assert (await engine.run_cycle(CID)).sent == 2
    await engine.shutdown()


async def test_expired_plan_stops_the_campaign_before_a_cycle(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path)
    engine = s.engine()
    await running(s, engine)
    s.clock.set(NOW + 31 * 86_400)
    report = await engine.run_cycle(CID)
    assert report.reason == "plan_expired" and not report.ran
    assert (await s.customer()).status == "stopped"
    assert [e.kind for e in await s.events()][-1] is EventKind.PLAN_EXPIRED
    assert s.world.request_count() == 0
    await engine.shutdown()


async def test_text_posts_and_forum_topics(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, post=None, text="hi there", groups=["@forum_group#5", "@plain_group"])
    engine = s.engine()
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert report.sent == 2
    [topic] = s.world.deliveries_to("@forum_group")
    assert (topic.topic_id, topic.text) == (5, "hi there")
    assert s.world.request_count(method="send_text") == 2
    await engine.shutdown()


async def test_a_stale_access_hash_is_forgotten_and_read_afresh(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, groups=["@group_a", "@group_b"], plan=1, pool=1)
    [sid] = s.session_ids
    key = s.account_of(sid)
    good_a, good_b = (s.world.peer_seen_by(key, ref) for ref in ("@group_a", "@group_b"))
    assert good_a.access_hash is not None
    stale = Peer(good_a.kind, good_a.id, good_a.access_hash + 1)  # e.g. the chat was re-created
    rows = [Dialog(stale, "group", username="group_a"), Dialog(good_b, "group", username="group_b")]
    async with db.tx() as conn:  # the session's dialogs, read before, not due again for hours
        await memberships.replace_for_session(conn, sid, rows, NOW - 60)
        await memberships.set_scan_due(conn, sid, NOW + 6 * 3600)
    engine = s.engine()
    await running(s, engine)
    first = await engine.run_cycle(CID)
    assert (first.sent, first.failed) == (1, 1)
    assert (await s.rows(1))["@group_a"].error == "ChannelInvalidError"
    async with db.read() as conn:
        assert await memberships.find(conn, sid, "@group_a") is None
    assert engine.discovery.reads == 0
    s.clock.set(NOW + 300)
    second = await engine.run_cycle(CID)
    assert (second.sent, second.failed) == (2, 0)
    assert engine.discovery.reads == 1  # read again at once: the fresh hash
    async with db.read() as conn:
        assert (await memberships.find(conn, sid, "@group_a")).peer == good_a  # type: ignore[union-attr]
    await engine.shutdown()


async def test_start_campaign_refuses_what_is_not_ready(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, post=None, groups=[])
    engine = s.engine()
    await engine.start()
    refused = await engine.start_campaign(CID)
    assert (refused.started, refused.missing) == (False, (Missing.POST, Missing.GROUPS))
    assert (await s.customer()).status == "stopped" and await s.owned() == []  # the pool was not asked
    async with db.tx() as conn:
        await customers.set_post_link(conn, CID, "https://t.me/ads/1", "@ads", 1, False, NOW)
    assert (await engine.start_campaign(CID)).missing == (Missing.GROUPS,)
    async with db.tx() as conn:
        await group_rows.add_many(conn, CID, ["@g_one"], NOW)
        await group_rows.pause(conn, (await group_rows.get(conn, CID, "@g_one")).id, "test", NOW)
    assert (await engine.start_campaign(CID)).missing == (Missing.ACTIVE_GROUPS,)
    async with db.tx() as conn:
        await group_rows.resume(conn, CID, "@g_one")
    s.world.add_group("g_one")
    started = await engine.start_campaign(CID)
    assert (started.started, started.missing, started.sessions, started.groups_active) == (True, (), 3, 1)
    assert (await s.customer()).status == "running"
    again = await engine.start_campaign(CID)  # already running: nothing changes
    assert (again.started, again.sessions) == (False, 3)
    assert (await engine.run_cycle(CID)).sent == 1
    await engine.stop_campaign(CID, "customer")
    assert (await s.customer()).stop_reason == "customer"
    assert (await engine.run_cycle(CID)).reason == "not_running"
    assert engine.accounts.open_sessions == []
    await engine.shutdown()


async def test_start_campaign_fills_the_plan_once_and_runs_short_rather_than_not_at_all(
    db: Database, tmp_path: Path
) -> None:
    s = await make_setup(db, tmp_path, plan=3, pool=1)
    engine = s.engine()
    await engine.start()
    started = await engine.start_campaign(CID)
    assert (started.started, started.sessions, started.sessions_short) == (True, 1, 2)
    assert isinstance(started.pool_error, NotEnoughSessions) and started.pool_error.free == 1
    assert [r.id for r in await s.owned()] == s.session_ids
    assert (await engine.run_cycle(CID)).sent == 10
    await engine.shutdown()


async def test_start_campaign_without_a_free_session_names_the_pool_shortage(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=2, pool=0)
    engine = s.engine()
    await engine.start()
    refused = await engine.start_campaign(CID)
    assert (refused.started, refused.missing) == (False, (Missing.SESSIONS,))
    assert isinstance(refused.pool_error, NotEnoughSessions)
    assert (refused.pool_error.wanted, refused.pool_error.free) == (2, 0)
    assert (await s.customer()).status == "stopped"
    await engine.shutdown()


async def test_stop_during_a_cycle_lets_the_in_flight_send_finish(db: Database, tmp_path: Path) -> None:
    import asyncio

    s = await make_setup(db, tmp_path, plan=1, pool=1)
    engine = s.engine()
    await running(s, engine)
    task = asyncio.create_task(engine.run_cycle(CID))
    while len(s.world.deliveries) < 2:
        await asyncio.sleep(0.001)
    await engine.stop_campaign(CID, "customer")
    report = await task
    assert report.sent in (2, 3) and report.reason == "customer"
    rows = await s.rows(1)
    assert all(r.outcome == "sent" for r in rows.values())
    assert len(rows) == len(s.world.deliveries)
    customer = await s.customer()
    assert customer.status == "stopped" and not customer.cycle_in_progress
    await engine.shutdown()


async def test_outbox_signal_wakes_the_sender_and_a_failing_callback_is_contained() -> None:
    import asyncio

    from engine.notifier import Notifier, OutboxSignal

    signal = OutboxSignal()
    assert await signal.wait(0.01) is False
    waiter = asyncio.create_task(signal.wait(5))
    await asyncio.sleep(0)
    Notifier(signal)()
    assert await waiter is True

    def broken() -> None:
        raise RuntimeError("bot is gone")

    notifier = Notifier(broken)
    notifier()  # logged, not raised
    assert notifier.calls == 1
