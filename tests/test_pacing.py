"""Safe pacing: the defaults, the daily send cap and its warm-up in cycles on the strict world (virtual
clock), how the cap is counted, and what /health, ``adbot health`` and ``adbot check-config`` say."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from botkit import ADMIN_ID, bot_harness

from control_bot.cli import main
from control_bot.services.admin import health_report
from core.config import EngineSettings, load_settings, settings_from_dict
from core.errors import ConfigError
from core.pacing import DAY, cap_today, unsafe_values
from core.states import SendOutcome
from engine.daily_cap import DAILY_CAP
from engine.placement import assign_groups
from storage import groups as group_rows
from storage import ledger as ledger_rows
from storage import post_counts
from storage.db import Database
from tests.engine_support import CID, fast_config, make_setup, running
from tests.pool_support import NOW

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
CUSTOMER = 4242


# --- the defaults and the ramp -------------------------------------------------------------------------


def test_the_defaults_are_the_safe_pacing_and_the_example_config_keeps_them() -> None:
    e = EngineSettings()
    assert (e.cycle_interval, e.min_cycle_interval, e.daily_send_cap, e.warmup_days) == (300, 300, 100, 3)
    # 10 to 20 s between two posts of one session
    assert 10.0 <= e.send_spacing * (1 - e.spacing_jitter) < e.send_spacing * (1 + e.spacing_jitter) <= 20.0
    assert unsafe_values(e) == []
    example = load_settings(EXAMPLE, env={}).engine
    for key in ("cycle_interval", "min_cycle_interval", "send_spacing", "spacing_jitter", "daily_send_cap",
                "warmup_days"):
        assert getattr(example, key) == getattr(e, key), key


@pytest.mark.parametrize(
    ("cap", "warmup", "age", "expected"),
    [
        (100, 3, 0.0, 25),  # first day: a quarter
        (100, 3, DAY - 1, 25),
        (100, 3, DAY, 50),
        (100, 3, 2 * DAY + 5, 75),
        (100, 3, 3 * DAY, 100),  # warm-up over
        (100, 3, 40 * DAY, 100),
        (100, 0, 0.0, 100),  # no warm-up: the whole cap at once
        (2, 3, 0.0, 1),  # never 0 while the cap is on
        (8, 1, 0.0, 4),
        (10, 3, -50.0, 2),  # a clock behind added_at counts as the first day
        (0, 3, 0.0, None),  # no cap (and so no warm-up)
    ],
)
def test_warmup_ramp(cap: int, warmup: int, age: float, expected: int | None) -> None:
    assert cap_today(cap, warmup, NOW, NOW + age) == expected


def test_lower_values_stay_allowed_and_negative_ones_are_refused(tmp_path: Path) -> None:
    fast = {"cycle_interval": 1, "min_cycle_interval": 1, "send_spacing": 0, "spacing_jitter": 0,
            "daily_send_cap": 0, "warmup_days": 0}
    engine = settings_from_dict({"engine": dict(fast)}, tmp_path).engine
    assert [u.key for u in unsafe_values(engine)] == ["cycle_interval", "min_cycle_interval", "send_spacing",
                                                     "daily_send_cap"]
    for key in ("daily_send_cap", "warmup_days"):
        with pytest.raises(ConfigError, match=f"engine.{key}"):
            settings_from_dict({"engine": {key: -1}}, tmp_path)


# --- check-config -------------------------------------------------------------------------------------

BOT = '[bot]\ntoken = "1:x"\nadmins = [5]\n'  # a token and an admin: no check-config finding (issue 20)


def test_check_config_warns_about_each_value_below_the_safe_default_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The example is the safe pacing: no warning; its placeholder token and admin are findings (issue 20).
    assert main(["check-config", "--config", str(EXAMPLE)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err] == ["finding", "finding", "2 finding(s)"]

    path = tmp_path / "c.toml"
    path.write_text(
        BOT + "[engine]\ncycle_interval = 60\nmin_cycle_interval = 30\nsend_spacing = 5.0\ndaily_send_cap = 0\n",
        encoding="utf-8",
    )
    assert main(["check-config", "--config", str(path)]) == 0
    captured = capsys.readouterr()
    warnings = captured.err.splitlines()
    assert len(warnings) == 4 and all(w.startswith("warning: engine.") for w in warnings)
    assert "engine.cycle_interval = 60 is below the safe default (the safe default is 300" in warnings[0]
    assert "engine.min_cycle_interval = 30 is below" in warnings[1]
    assert "engine.send_spacing = 5 is below the safe default (the safe default is 15" in warnings[2]
    assert "engine.daily_send_cap = 0: no daily send cap (the safe default is 100" in warnings[3]
    out = captured.out
    assert out.startswith("config OK")
    effective = json.loads(out[out.index("{"):])  # stdout stays the effective settings
    assert effective["engine"]["daily_send_cap"] == 0

    path.write_text(BOT + "[engine]\ndaily_send_cap = 500\nwarmup_days = 0\nspacing_jitter = 0.5\n", encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 0
    warnings = capsys.readouterr().err.splitlines()
    assert [w.split()[1] for w in warnings] == ["engine.spacing_jitter", "engine.daily_send_cap", "engine.warmup_days"]
    assert "lets two posts come closer than 10 s" in warnings[0]
    assert "= 500 is above the safe default" in warnings[1]
    assert "= 0: no warm-up" in warnings[2]


# --- the cap in cycles ----------------------------------------------------------------------------------


async def test_a_session_at_its_cap_sends_no_more_until_its_posts_age_out(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1)  # ten groups
    engine = s.engine(fast_config(daily_send_cap=4, warmup_days=0))
    await running(s, engine)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.skipped, report.failed, report.waiting) == (4, 6, 0, 0)
    assert s.world.request_count(method="forward") == 4  # never a request beyond the cap
    rows = await s.rows(1)
    assert Counter((r.outcome, r.error) for r in rows.values()) == {("sent", None): 4, ("skipped", DAILY_CAP): 6}
    # The same day: nothing, not one request; the groups are not blamed for it.
    s.clock.set(NOW + 300)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.skipped) == (0, 10)
    assert s.world.request_count(method="forward") == 4
    assert all(g.consecutive_failures == 0 and g.active for g in (await s.groups()).values())
    # A day after the first posts they no longer count: four more.
    s.clock.set(NOW + DAY + 60)
    report = await engine.run_cycle(CID)
    assert (report.sent, report.skipped) == (4, 6)
    assert s.world.request_count(method="forward") == 8
    assert s.world.violations == []
    await engine.shutdown()


async def test_placement_prefers_a_session_with_room(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=2, pool=2)
    engine = s.engine(fast_config(daily_send_cap=6, warmup_days=0))
    await running(s, engine)
    full, free = (await s.owned())[0].id, (await s.owned())[1].id
    # Six posts of the first session an hour ago (another campaign's cycle): it is at its cap.
    async with db.tx() as conn:
        await ledger_rows.apply_results(conn, [
            ledger_rows.Result(CID, 0, f"@earlier_{i}", full, "sent", 1000 + i, NOW - 3600, message_id=i, attempts=1)
            for i in range(6)
        ])
    report = await engine.run_cycle(CID)
    # Every group could go to either; the one with room takes as many as its cap allows, the rest wait
    # for the next cycle on the full one, which sends nothing.
    assert (report.sent, report.skipped) == (6, 4)
    assert {d.account for d in s.world.deliveries} == {s.account_of(free)}
    rows = await s.rows(1)
    assert {r.session_id for r in rows.values() if r.outcome == "sent"} == {free}
    assert {(r.session_id, r.error) for r in rows.values() if r.outcome == "skipped"} == {(full, DAILY_CAP)}
    assert s.world.violations == []
    await engine.shutdown()


def test_assignment_within_limits_keeps_every_group_and_falls_back_to_the_least_loaded() -> None:
    groups = [group_rows.Group(i, CID, f"@g{i}", NOW, 0, None, None, None, None, None) for i in range(10)]
    plan = assign_groups(groups, [1, 2, 3], limits={1: 0, 2: 2, 3: 5})
    assert sorted(g.ref for gs in plan.values() for g in gs) == sorted(g.ref for g in groups)
    assert (len(plan[2]), len(plan[3])) == (2, 5)  # the sessions with room first, up to it
    assert len(plan[1]) == 3  # what none can take goes to the least loaded (its worker skips it)
    assert assign_groups(groups, [1, 2, 3]) == assign_groups(groups, [1, 2, 3], limits=None)


async def test_warmup_ramps_a_new_sessions_cap_day_by_day(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1)  # the session joined the pool at NOW
    engine = s.engine(fast_config(daily_send_cap=8, warmup_days=3))
    await running(s, engine)
    sent = []
    for day in range(5):
        s.clock.set(NOW + day * (DAY + 60))
        sent.append((await engine.run_cycle(CID)).sent)
    assert sent == [2, 4, 6, 8, 8]  # 8 x 1/4, 2/4, 3/4, then the whole cap
    assert s.world.request_count(method="forward") == sum(sent)
    await engine.shutdown()


@pytest.mark.parametrize(("cap", "warmup", "per_cycle"), [(0, 3, [10, 10, 10]), (10, 0, [10, 0, 0])])
async def test_zero_turns_the_cap_or_the_warmup_off(
    db: Database, tmp_path: Path, cap: int, warmup: int, per_cycle: list[int]
) -> None:
    s = await make_setup(db, tmp_path, plan=1, pool=1)
    engine = s.engine(fast_config(daily_send_cap=cap, warmup_days=warmup))
    await running(s, engine)
    sent = []
    for cycle in range(3):
        s.clock.set(NOW + cycle * 300)
        sent.append((await engine.run_cycle(CID)).sent)
    assert sent == per_cycle
    await engine.shutdown()


async def test_the_cap_counts_every_post_request_of_the_session(db: Database, tmp_path: Path) -> None:
    s = await make_setup(db, tmp_path, plan=2, pool=3)
    a, b, c = s.session_ids
    t = NOW + 5000

    def result(ref: str, sid: int, outcome: SendOutcome, attempts: int, at: float = t) -> ledger_rows.Result:
        return ledger_rows.Result(CID, 1, ref, sid, outcome, len(ref), at, attempts=attempts)

    async with db.tx() as conn:
        await ledger_rows.insert_intents(conn, [
            ledger_rows.Intent(CID, 1, "@in_flight", a, 1, t), ledger_rows.Intent(CID, 1, "@lost", a, 2, t)
        ])
        await ledger_rows.pending_to_in_doubt(conn, CID, 1, t)  # a resume: both 'in_doubt', no attempt counted
        await ledger_rows.insert_intents(conn, [ledger_rows.Intent(CID, 2, "@in_flight", a, 3, t)])
        await ledger_rows.apply_results(conn, [
            result("@sent", a, "sent", 1),
            result("@refused", a, "failed", 1),  # a refusal was still a request
            result("@flood", a, "waiting", 1),  # so was one answered with a flood wait
            result("@slow", a, "skipped", 0),  # never tried: not a request
            result("@capped", a, "skipped", 0),
            result("@yesterday", a, "sent", 1, at=t - DAY - 1),
            result("@other", b, "sent", 1),
        ])
    async with db.read() as conn:
        assert await post_counts.posts_since(conn, [a, b, c], t - DAY) == {a: 6, b: 1, c: 0}
        assert await post_counts.posts_since(conn, [], t - DAY) == {}


# --- what the admins see ---------------------------------------------------------------------------------


async def test_health_shows_the_limits_and_each_sessions_posts_today(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, daily_send_cap=2, warmup_days=0) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")
        await h.fill_pool(3)
        await h.grant(CUSTOMER, sessions=2)
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats @dogs @birds @fish @frogs")
        await alice.ask("/run")
        await h.cycle(CUSTOMER)

        reply = (await admin.ask("/health")).text
        rows = await h.rows("SELECT session_id, COUNT(*) AS n FROM sends WHERE outcome = 'sent' GROUP BY session_id")
        posts = {int(r["session_id"]): int(r["n"]) for r in rows}
        assert sorted(posts.values()) == [2, 2]  # 5 groups, 2 sessions at 2 each: one group waits
        assert "Pacing: cycles every 5 min by default (customers may choose 1 min..1 d); 0 s between two posts" in reply
        assert "Daily send cap: 2 posts per session in any 24 h; no warm-up" in reply
        assert "Joins: 10 min apart, at most 5 per session in any 24 h" in reply
        assert "Customers' sessions: 2, 2 at their cap, 0 in warm-up" in reply
        for sid in posts:
            assert f"#{sid} 2/2" in reply
        # What ``adbot health --json`` prints: every customer's session, its posts and its cap.
        report = (await health_report(h.db, None, h.clock.now(), h.settings)).as_dict()
        assert [(p["session_id"], p["posts"], p["cap"], p["warmup_until"]) for p in report["limits"]["sessions"]] \
            == [(sid, 2, 2, None) for sid in sorted(posts)]


async def test_health_shows_sessions_in_warmup(tmp_path: Path) -> None:
    async with bot_harness(tmp_path, daily_send_cap=100, warmup_days=3) as h:
        admin = h.user(ADMIN_ID, "Admin")
        alice = h.user(CUSTOMER, "Alice")
        await h.fill_pool(2)
        await h.grant(CUSTOMER, sessions=1)
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats")
        await alice.ask("/run")  # the session is the customer's now, fresh from the pool
        reply = (await admin.ask("/health")).text
        assert "Daily send cap: 100 posts per session in any 24 h; warm-up 3 d for new sessions (25, 50, 75)" in reply
        assert "Customers' sessions: 1, 0 at their cap, 1 in warm-up" in reply
        assert "0/25 (warm-up until " in reply


def test_adbot_health_shows_the_configured_limits(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--json", "--config", config]) == 2  # down: no adbot run holds the data dir
    limits = json.loads(capsys.readouterr().out)["limits"]
    assert (limits["cycle_interval"], limits["daily_send_cap"], limits["warmup_days"]) == (600, 100, 3)
    assert limits["warmup_caps"] == [25, 50, 75]
    assert limits["sessions"] == []
    assert main(["health", "--config", config]) == 2
    out = capsys.readouterr().out
    assert "Daily send cap: 100 posts per session in any 24 h; warm-up 3 d for new sessions (25, 50, 75)" in out
    assert "Pacing: cycles every 10 min by default (customers may choose 5 min..1 d); 10.05–19.95 s between" in out
