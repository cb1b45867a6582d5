"""The simulated Telegram: its rules, its faults (real telethon errors) and its delivery log."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from telethon import errors

from core.clock import FakeClock
from core.outcomes import OutcomeKind
from core.ports import Peer, SessionCredentials
from engine.outcomes import classify
from sandbox.sessionfiles import make_session_file
from sandbox.world import World
from sandbox.world.faults import Fault
from sandbox.world.model import account_key_for_file
from sandbox.world.port import SimPort

T0 = 1_800_000_000.0


def creds(path: Path, session_id: int = 1) -> SessionCredentials:
    return SessionCredentials(session_id=session_id, path=path, api_id=1, api_hash="0" * 32)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


async def connected(world: World, key: str, session_id: int = 1) -> SimPort:
    port = SimPort(world, key, session_id)
    await port.connect()
    return port


async def forward(port: SimPort, src: Peer, dest: Peer, random_id: int, msg_id: int = 1,
                  topic_id: int | None = None) -> int:
    return await port.forward(source=src, msg_id=msg_id, dest=dest, topic_id=topic_id, random_id=random_id,
                              drop_author=False)


async def test_account_key_comes_from_the_session_files_auth_key(tmp_path: Path) -> None:
    path = tmp_path / "a.session"
    key = make_session_file(path)
    assert account_key_for_file(path) == hashlib.sha256(key).hexdigest()
    assert account_key_for_file(tmp_path / "missing.session") is None
    (tmp_path / "junk.session").write_bytes(b"not sqlite at all" * 10)
    assert account_key_for_file(tmp_path / "junk.session") is None


async def test_open_matches_the_account_added_for_the_file(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "x.session"
    key = make_session_file(path)
    world = World(clock)
    world.add_account(hashlib.sha256(key).hexdigest(), username="seller")
    info = await world.open(creds(path)).connect()
    assert info.username == "seller"
    # Strict world: an account it does not know is an unregistered key.
    with pytest.raises(errors.AuthKeyUnregisteredError):
        await world.open(creds(tmp_path / "other.session", 2)).connect()


async def test_forward_delivers_and_counts_requests(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads", posts=[1, 2])
    world.add_group("cats")
    port = await connected(world, "a")
    src = await port.resolve("@ads")
    dest = await port.resolve("@CATS")
    msg = await forward(port, src, dest, 111)
    assert msg == 1
    [d] = world.deliveries_to("@cats")
    assert (d.account, d.source_msg, d.random_id, d.at) == ("a", 1, 111, T0)
    assert world.request_count("a", "resolve") == 2
    assert world.request_count("a", "forward") == 1
    assert world.request_count(method="connect") == 1
    assert world.violations == []


async def test_same_random_id_is_delivered_once_per_account_and_chat(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_group("cats")
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    first = await forward(port, src, dest, 7)
    again = await forward(port, src, dest, 7)
    assert first == again
    assert len(world.deliveries) == 1 and world.duplicates_suppressed == 1
    strict = World(clock, dedupe=False)
    strict.add_account("a")
    strict.add_channel("ads")
    strict.add_group("cats")
    port2 = await connected(strict, "a")
    s2, d2 = await port2.resolve("@ads"), await port2.resolve("@cats")
    await forward(port2, s2, d2, 7)
    await forward(port2, s2, d2, 7)
    assert len(strict.duplicates()) == 1


async def test_access_hashes_are_per_account(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_account("b")
    world.add_channel("ads")
    world.add_group("cats")
    pa, pb = await connected(world, "a", 1), await connected(world, "b", 2)
    dest_a = await pa.resolve("@cats")
    src_b = await pb.resolve("@ads")
    with pytest.raises(errors.ChannelInvalidError):
        await forward(pb, src_b, dest_a, 1)


async def test_flood_wait_is_remembered_and_breaches_recorded(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_group("cats")
    world.add_fault(kind="flood_wait", account="a", after=1, seconds=3600)
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    await forward(port, src, dest, 1)
    with pytest.raises(errors.FloodWaitError) as info:
        await forward(port, src, dest, 2)
    assert info.value.seconds == 3600
    assert classify(info.value).kind is OutcomeKind.FLOOD_WAIT
    assert world.violations == []
    await clock.advance(100)
    with pytest.raises(errors.FloodWaitError) as again:
        await forward(port, src, dest, 3)
    assert again.value.seconds == 3500
    assert [v.kind for v in world.violations] == ["flood_wait"]
    await clock.advance(3500)
    await forward(port, src, dest, 4)
    assert len(world.deliveries) == 2


async def test_slow_mode_window_per_account_and_group(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_account("b")
    world.add_channel("ads")
    world.add_group("slow", slow_mode=60)
    pa, pb = await connected(world, "a", 1), await connected(world, "b", 2)
    sa, da = await pa.resolve("@ads"), await pa.resolve("@slow")
    sb, db_ = await pb.resolve("@ads"), await pb.resolve("@slow")
    await forward(pa, sa, da, 1)
    await forward(pb, sb, db_, 2)  # another account has its own window
    await clock.advance(30)
    with pytest.raises(errors.SlowModeWaitError) as info:
        await forward(pa, sa, da, 3)
    assert info.value.seconds == 30
    assert classify(info.value).kind is OutcomeKind.SLOW_MODE
    assert world.violations == []  # the first refusal is how a client learns the window
    await clock.advance(10)
    with pytest.raises(errors.SlowModeWaitError):
        await forward(pa, sa, da, 4)  # asking again inside a window it was told about
    assert [v.kind for v in world.violations] == ["slow_mode"]
    await clock.advance(20)
    await forward(pa, sa, da, 5)
    assert [v.kind for v in world.violations] == ["slow_mode"]


async def test_membership_and_write_rules(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_channel("locked", noforwards=True)
    world.add_group("public_nonmember", members=["someone-else"])
    world.add_group(None, chat_id=4242, members=["someone-else"])  # private group
    world.add_group("readonly", read_only=True)
    world.add_group("forum", topics=[5])
    port = await connected(world, "a")
    src = await port.resolve("@ads")
    dest = await port.resolve("@public_nonmember")
    with pytest.raises(errors.ChatWriteForbiddenError):
        await forward(port, src, dest, 1)
    with pytest.raises(errors.ChannelInvalidError):  # a private group's id, its hash never given to "a"
        await port.resolve(str(-(10**12 + 4242)))
    with pytest.raises(errors.ChatWriteForbiddenError):
        await forward(port, src, await port.resolve("@readonly"), 2)
    forum = await port.resolve("@forum")
    with pytest.raises(errors.TopicDeletedError):
        await forward(port, src, forum, 3, topic_id=6)
    assert await forward(port, src, forum, 4, topic_id=5) == 1
    with pytest.raises(errors.MessageIdInvalidError):
        await forward(port, src, forum, 5, msg_id=99)
    with pytest.raises(errors.ChatForwardsRestrictedError):
        await forward(port, await port.resolve("@locked"), forum, 6)
    with pytest.raises(errors.UsernameNotOccupiedError):
        await port.resolve("@nobody_here")
    with pytest.raises(errors.ChatAdminRequiredError):
        await forward(port, src, await port.resolve("@ads"), 7)
    # Nobody was ever joined to anything.
    assert world.chat("@public_nonmember") is not None
    assert "a" not in world.chat("@public_nonmember").members  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "error", "stays"),
    [
        ("peer_flood", errors.PeerFloodError, True),
        ("banned_in_channel", errors.UserBannedInChannelError, True),
        ("dead", errors.AuthKeyUnregisteredError, True),
        ("transient", ConnectionError, False),
    ],
)
async def test_account_faults(clock: FakeClock, kind: str, error: type[BaseException], stays: bool) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_group("cats")
    world.add_fault(Fault(kind=kind, account="a", after=1))  # type: ignore[arg-type]
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    await forward(port, src, dest, 1)
    with pytest.raises(error):
        await forward(port, src, dest, 2)
    if stays:
        with pytest.raises(error):
            await forward(port, src, dest, 3)
    else:
        await forward(port, src, dest, 3)


async def test_lost_answer_delivers_then_fails(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_group("cats")
    world.add_fault(kind="transient", account="a", deliver=True)
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    with pytest.raises(ConnectionError):
        await forward(port, src, dest, 9)
    assert len(world.deliveries) == 1
    await forward(port, src, dest, 9)  # the retry with the same random_id
    assert len(world.deliveries) == 1


async def test_timeout_fault_hangs_until_cancelled(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_group("cats")
    world.add_fault(kind="timeout", account="a")
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    task = asyncio.create_task(forward(port, src, dest, 1))
    await asyncio.sleep(0.01)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    timed = World(clock)
    timed.add_account("a")
    timed.add_channel("ads")
    timed.add_group("cats")
    timed.add_fault(kind="timeout", account="a", seconds=50)
    p2 = await connected(timed, "a")
    s2, d2 = await p2.resolve("@ads"), await p2.resolve("@cats")
    with pytest.raises(TimeoutError):
        await forward(p2, s2, d2, 1)
    assert clock.now() == T0 + 50


async def test_error_fault_raises_the_named_telethon_error(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_group("cats")
    world.add_fault(kind="error", error="ChatAdminRequiredError", group="@cats")
    world.add_fault(kind="error", error="FloodPremiumWaitError", seconds=12, group="@cats")
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    with pytest.raises(errors.ChatAdminRequiredError):
        await forward(port, src, dest, 1)
    with pytest.raises(errors.FloodPremiumWaitError) as info:
        await forward(port, src, dest, 2)
    assert info.value.seconds == 12


async def test_latency_goes_through_the_clock(clock: FakeClock) -> None:
    world = World(clock, latency=0.25)
    world.add_account("a", latency=2.0)
    world.add_channel("ads")
    world.add_group("cats")
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    await forward(port, src, dest, 1)
    assert clock.now() == T0 + 2.0 * 4  # connect, two resolves, one forward


async def test_lenient_world_accepts_any_group_and_post(clock: FakeClock) -> None:
    world = World(clock, lenient=True)
    port = SimPort(world, "anybody", 1)
    await port.connect()
    src = await port.resolve("@some_channel")
    for ref in ("@group_one", "-1001234567890", "-4242"):
        dest = await port.resolve(ref)
        await forward(port, src, dest, hash(ref), msg_id=777)
    await port.send_text(dest=await port.resolve("@group_one"), topic_id=3, text="hi", entities=[], random_id=5)
    assert len(world.deliveries) == 4
    assert world.deliveries[-1].text == "hi" and world.deliveries[-1].topic_id == 3
    assert world.chat("-1001234567890") is not None


async def test_delivery_log_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    log = tmp_path / "world" / "deliveries.jsonl"
    world = World(clock, lenient=True, log_path=log)
    port = SimPort(world, "k", 1)
    await port.connect()
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    await forward(port, src, dest, 1)
    await forward(port, src, dest, 2)
    world.close()
    with log.open("a", encoding="utf-8") as fh:
        fh.write('{"chat_id": 1, "torn')  # a write cut short by SIGKILL
    again = World(clock, lenient=True, log_path=log)
    assert [d.random_id for d in again.deliveries] == [1, 2]
    port2 = SimPort(again, "k", 1)
    await port2.connect()
    s2, d2 = await port2.resolve("@ads"), await port2.resolve("@cats")
    assert await forward(port2, s2, d2, 2) == 2  # still de-duplicated after the restart
    assert await forward(port2, s2, d2, 3) == 3  # message ids continue
    again.close()


async def test_second_live_port_for_one_account_is_a_violation(clock: FakeClock) -> None:
    world = World(clock, lenient=True)
    first = await connected(world, "k")
    await connected(world, "k")
    assert [v.kind for v in world.violations] == ["two_live_ports"]
    await first.close()
    world.reset_connections()
    assert world.live_ports() == 0


async def test_world_from_json_file(tmp_path: Path, clock: FakeClock) -> None:
    spec = {
        "latency": 0,
        "accounts": [{"key": "k1", "username": "one"}],
        "channels": [{"username": "ads", "posts": [3]}],
        "groups": [{"username": "cats", "slow_mode": 30, "topics": [2]}, {"username": "ro", "read_only": True}],
        "faults": [{"kind": "flood_wait", "account": "k1", "after": 1, "seconds": 10}],
    }
    path = tmp_path / "world.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    world = World.from_file(path, clock)
    port = await connected(world, "k1")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    await forward(port, src, dest, 1, msg_id=3, topic_id=2)
    with pytest.raises(errors.FloodWaitError):
        await forward(port, src, dest, 2, msg_id=3, topic_id=2)
    assert world.chat("@cats").slow_mode == 30  # type: ignore[union-attr]


async def test_fake_clock_runs_long_sleeps_instantly(clock: FakeClock) -> None:
    order: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        order.append((name, clock.now() - T0))

    await asyncio.gather(sleeper("hour", 3600), sleeper("minute", 60), sleeper("zero", 0))
    assert order == [("zero", 0), ("minute", 60), ("hour", 3600)]
    manual = FakeClock(T0, auto=False)
    done: list[float] = []

    async def nap() -> None:
        await manual.sleep(10)
        done.append(manual.now())

    task = asyncio.create_task(nap())
    await asyncio.sleep(0)  # let it start sleeping
    await manual.advance(5)
    assert done == []
    await manual.advance(5)
    await task
    assert done == [T0 + 10]


async def test_faults_can_target_an_engine_session_id(clock: FakeClock) -> None:
    world = World(clock, lenient=True)
    world.add_fault(kind="flood_wait", session=2, seconds=40)
    one, two = await connected(world, "k1", 1), await connected(world, "k2", 2)
    src, dest = await one.resolve("@ads"), await one.resolve("@cats")
    await forward(one, src, dest, 1)
    src2, dest2 = await two.resolve("@ads"), await two.resolve("@cats")
    with pytest.raises(errors.FloodWaitError):
        await forward(two, src2, dest2, 2)


# --- posts: reads, albums, answers without a new message, refusals (issue 16 part E) -------------------


async def test_read_post_is_one_read_request_and_knows_albums(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    ads = world.add_channel("ads", posts=[1, 2, 3, 4])
    ads.albums.update({2: 9, 3: 9, 4: 9})
    port = await connected(world, "a")
    src = await port.resolve("@ads")
    assert list((await port.read_post(src, 1)).ids) == [1]
    assert list((await port.read_post(src, 3)).ids) == [2, 3, 4]
    assert world.request_count("a", "read") == 2
    with pytest.raises(errors.MessageIdInvalidError):
        await port.read_post(src, 5)  # no such post
    world.ban("@ads", "a")
    with pytest.raises(errors.ChannelPrivateError):
        await port.read_post(src, 1)


async def test_an_album_forward_is_one_request_and_a_partial_one_is_flagged(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    ads = world.add_channel("ads", posts=[1, 2, 3])
    ads.albums.update({1: 4, 2: 4, 3: 4})
    world.add_group("cats")
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    before = world.request_count("a", "forward")
    msg = await port.forward(source=src, msg_id=2, dest=dest, topic_id=None, random_id=5, drop_author=True,
                             album=[1, 2, 3])
    assert msg is not None and world.request_count("a", "forward") == before + 1
    assert world.violations == []
    await forward(port, src, dest, 6, msg_id=2)  # one item of the album only
    assert [(v.kind, v.account) for v in world.violations] == [("partial_album", "a")]


async def test_a_dropped_send_answers_no_new_message_and_delivers_nothing(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_group("cats", read_only=True)
    world.add_group("dogs")
    world.add_fault(kind="dropped", group="@dogs", times=0)
    port = await connected(world, "a")
    src = await port.resolve("@ads")
    assert await forward(port, src, await port.resolve("@dogs"), 1) is None
    assert world.deliveries_to("@dogs") == []
    # the rules hold before a drop: a refused send is refused, not dropped
    world.add_fault(kind="dropped", group="@cats")
    with pytest.raises(errors.ChatWriteForbiddenError):
        await forward(port, src, await port.resolve("@cats"), 2)


async def test_permanent_refusals_of_each_kind_classify_as_refused(clock: FakeClock) -> None:
    world = World(clock)
    world.add_account("a")
    world.add_channel("ads")
    world.add_group("forum", topics=[5, 6])
    world.chat("@forum").closed_topics.add(5)  # type: ignore[union-attr]
    world.add_group("plain", plain_forbidden=True)
    world.add_group("guests")
    world.add_fault(kind="error", error="ChatGuestSendForbiddenError", group="@guests")
    port = await connected(world, "a")
    src = await port.resolve("@ads")
    forum = await port.resolve("@forum")
    with pytest.raises(errors.BadRequestError) as closed:
        await forward(port, src, forum, 1, topic_id=5)
    with pytest.raises(errors.TopicDeletedError) as deleted:
        await forward(port, src, forum, 2, topic_id=7)
    with pytest.raises(errors.ChatSendPlainForbiddenError) as plain:
        await port.send_text(dest=await port.resolve("@plain"), topic_id=None, text="t", entities=[], random_id=3)
    with pytest.raises(errors.ChatGuestSendForbiddenError) as guest:
        await forward(port, src, await port.resolve("@guests"), 4)
    refusals = [classify(e.value).refusal for e in (closed, deleted, plain, guest)]
    assert refusals == ["topic_closed", "topic_deleted", "plain_forbidden", "guest_forbidden"]
    assert all(classify(e.value).kind is OutcomeKind.REFUSED for e in (closed, deleted, plain, guest))
    assert await forward(port, src, forum, 5, topic_id=6) is not None  # an open topic of it takes posts
