"""The one definition of a group's reach for a customer (control_bot/services/reach.py), its wording, and
the pool's swap of a customer's session for a free one (pool/assign.py swap)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from botkit import in_locale
from pool_support import add_customer, add_pair, assert_pool_consistent, files_on_disk, seed_sessions

from control_bot.keyboards import GROUPS_PAGE
from control_bot.services.reach import GroupReach, Reach, customer_reach, reach_of
from core.errors import NotFound
from core.ports import Dialog, DialogKind, Peer, WriteBlock
from core.texts import groups as group_texts
from core.texts import reach as rt
from core.texts.split import TELEGRAM_LIMIT, utf16_len
from pool import assign
from storage import memberships
from storage import sessions as session_rows
from storage.db import Database
from storage.memberships import Membership

NOW = 1_700_000_000.0
CATS = Peer("channel", 77, 555)


def row(session_id: int, peer: Peer = CATS, username: str | None = "cats", *, why_not: WriteBlock | None = None,
        slow_mode: int = 0, kind: DialogKind = "group") -> Membership:
    return Membership(session_id, peer, kind, username, "t", why_not is None, why_not, slow_mode, False, NOW)


def reach(ref: str, sessions: list[int], rows: list[Membership], unchecked: tuple[int, ...] = ()) -> GroupReach:
    checked = {s: s not in unchecked for s in sessions}
    return reach_of([ref], sessions, checked, rows)[ref]


def test_reachable_via_the_writers_by_username_or_marked_id() -> None:
    rows = [row(1, slow_mode=30), row(2, username=None), row(3, why_not="banned")]
    by_name = reach("@Cats#12", [1, 2, 3], rows)
    assert by_name.reach is Reach.REACHABLE and by_name.writers == (1, 2)  # #2's row has no username: same chat
    assert by_name.slow_mode == 30 and by_name.blocks == ("banned",)
    assert reach("-1000000000077", [1, 2, 3], rows).writers == (1, 2)
    assert reach("-77", [1], rows).reach is Reach.NOT_MEMBER  # a basic group with the same bare id: another chat
    # Another customer's session in the chat is no way in for this one.
    assert reach("@cats", [4], [*rows, row(9)]).reach is Reach.NOT_MEMBER


def test_why_a_group_is_not_reachable() -> None:
    assert reach("@cats", [], [row(1)]).reach is Reach.NO_SESSIONS
    # A session never read might be a member: checking, even when another says banned.
    checking = reach("@cats", [1, 2], [row(1, why_not="banned")], unchecked=(2,))
    assert checking.reach is Reach.CHECKING and checking.unchecked == (2,)
    forbidden = reach("@cats", [1, 2], [row(1, why_not="banned"), row(2, why_not="read_only")])
    assert forbidden.reach is Reach.FORBIDDEN and forbidden.blocks == ("banned", "read_only")
    channel = reach("@cats", [1], [row(1, why_not="broadcast", kind="channel")])
    assert channel.reach is Reach.NOT_A_GROUP and channel.blocks == ("broadcast",)  # as the engine says
    gone = reach("@cats", [1, 2], [row(1, why_not="left"), row(2, why_not="kicked")])
    assert gone.reach is Reach.NOT_MEMBER and gone.blocks == ("kicked", "left")
    assert reach("@dogs", [1], [row(1)]).reach is Reach.NOT_MEMBER
    assert reach("not a ref", [1], [row(1)]).reach is Reach.NOT_MEMBER


def test_each_state_in_plain_words() -> None:
    def state(r: GroupReach) -> str:
        return rt.group_state(None, None, None, NOW, r)

    def of(kind: Reach, blocks: tuple[WriteBlock, ...] = ()) -> GroupReach:
        return GroupReach("@g", kind, (), 2, blocks, 0, ())

    assert state(of(Reach.NOT_MEMBER)) == "🚫 unreachable: none of your sessions is a member"
    assert state(of(Reach.NOT_MEMBER, ("left",))) == "🚫 unreachable: your sessions left it"
    assert state(of(Reach.FORBIDDEN, ("banned", "left"))) == "🚫 no posting: banned from writing"
    assert state(of(Reach.FORBIDDEN, ("read_only",))) == "🚫 no posting: read-only (admins only)"
    assert state(of(Reach.FORBIDDEN, ("broadcast",))) == "🚫 no posting: a broadcast channel, not a group"
    assert state(of(Reach.CHECKING)).startswith("⏳ checking")
    assert "/run" in state(of(Reach.NO_SESSIONS))
    for kind in Reach:
        assert "_" not in state(of(kind)), kind  # no internal names


def test_a_full_page_of_the_longest_lines_fits_one_message() -> None:
    slow = GroupReach("@g", Reach.REACHABLE, (1,), 100, (), 86_399, ())
    forbidden = GroupReach("@g", Reach.FORBIDDEN, (), 100, ("banned", "broadcast", "read_only"), 0, ())
    longest = max((rt.group_state(None, NOW + 86_000, 86_399, NOW, slow),
                   rt.group_state(None, None, None, NOW, forbidden)), key=utf16_len)
    # A page of GROUPS_PAGE groups, each with the longest title Telegram allows (128 characters, emoji).
    title = "🐈" * 128
    rows = [("@" + "n" * 32, title, longest), ("-1009999999999#2147483647", title, longest)] * (GROUPS_PAGE // 2)
    assert len(rows) == GROUPS_PAGE
    summary = rt.groups_reach_summary(10, 10, 5)
    for lang in ("en", "ru"):
        with in_locale(lang):
            text = group_texts.groups_list(
                rows, first=191, total=200, active=190, paused=10, page=19, pages=20, limit=200, summary=summary
            )
        assert utf16_len(text) < TELEGRAM_LIMIT


async def test_customer_reach_reads_their_sessions_and_when_they_were_read(db: Database, sdir: Path) -> None:
    await add_pair(db, 1)
    s1, s2, s3 = await seed_sessions(db, sdir, 3)
    await add_customer(db, 1001, plan=2)
    await assign.assign(db, sdir, 1001, 2, NOW)  # s1, s2
    async with db.tx() as conn:
        from storage import groups

        await groups.add_many(conn, 1001, ["@cats", "@dogs"], NOW)
        await memberships.replace_for_session(conn, s1, [Dialog(CATS, "group", "Cats", "cats")], NOW)
        await memberships.replace_for_session(conn, s3, [Dialog(Peer("channel", 88, 1), "group", "D", "dogs")], NOW)
    async with db.read() as conn:
        view = await customer_reach(conn, 1001)
        assert view.session_ids == [s1, s2]
        assert view.reach["@cats"].reach is Reach.REACHABLE and view.reach["@cats"].unchecked == (s2,)
        assert view.reach["@dogs"].reach is Reach.CHECKING  # s2 was never read; s3 is not theirs
        assert await memberships.checked_times(conn, [s1, s2, s3]) == {s1: NOW, s2: None, s3: NOW}
        members = await memberships.members_of_chats(conn, ["@dogs", "-1000000000077", "bad"])
        assert [(m.membership.session_id, m.state, m.owner_id) for m in members] == [
            (s1, "assigned", 1001), (s3, "unused", None)]
    async with db.tx() as conn:
        await memberships.replace_for_session(conn, s2, [], NOW)
    async with db.read() as conn:
        assert (await customer_reach(conn, 1001)).reach["@dogs"].reach is Reach.NOT_MEMBER


async def test_swap_gives_one_back_and_takes_a_named_free_one(db: Database, sdir: Path) -> None:
    await add_pair(db, 1, capacity=4)
    s1, s2, s3, s4, waiting = await seed_sessions(db, sdir, 5)  # the pair has room for 4: the 5th waits
    await add_customer(db, 1001, plan=2)
    await add_customer(db, 1002, plan=1)
    assert await assign.assign(db, sdir, 1001, 2, NOW) == [s1, s2]
    assert await assign.assign(db, sdir, 1002, 1, NOW) == [s3]
    async with db.read() as conn:
        before = {r.id: r for r in await session_rows.list_all(conn)}

    # Refusals change nothing: not theirs, not free, the same session, no such customer.
    for give, take in ((s3, s4), (s1, s3), (s1, s1), (999, s4), (s1, 999), (s1, waiting)):
        with pytest.raises(NotFound):
            await assign.swap(db, sdir, 1001, give, take, NOW + 1)
    with pytest.raises(NotFound):
        await assign.swap(db, sdir, 5555, s1, s4, NOW + 1)
    async with db.read() as conn:
        assert {r.id: r for r in await session_rows.list_all(conn)} == before

    # Each keeps its own pair (its identity) through the swap: nothing is lent or given back.
    await assign.swap(db, sdir, 1001, s2, s4, NOW + 2)
    async with db.read() as conn:
        rows = {r.id: r for r in await session_rows.list_all(conn)}
    assert rows[s2].state == "unused" and rows[s2].owner_id is None and rows[s2].pair_id == before[s2].pair_id
    assert rows[s4].state == "assigned" and rows[s4].owner_id == 1001
    assert rows[s4].pair_id == before[s4].pair_id is not None
    assert (rows[s1], rows[s3]) == (before[s1], before[s3])
    on_disk = {name: folder for folder, name in files_on_disk(sdir)}
    assert on_disk[rows[s4].file_name] == "assigned/1001" and on_disk[rows[s2].file_name] == "unused"
    for folder in ("assigned/1001", "unused"):
        assert stat.S_IMODE((sdir / folder).stat().st_mode) == 0o700
    for name, folder in on_disk.items():
        assert stat.S_IMODE((sdir / folder / name).stat().st_mode) == 0o600
    await assert_pool_consistent(db, sdir)

    # The same press again is stale.
    with pytest.raises(NotFound, match="not customer 1001's"):
        await assign.swap(db, sdir, 1001, s2, s4, NOW + 3)
