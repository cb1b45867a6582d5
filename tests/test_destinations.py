"""What a group reference means once its chat is known: core.destinations' rules, the kinds storage knows
(storage.memberships.chat_kinds) and the report that lists what was kept and what was refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pool_support import seed_sessions

from core.destinations import Verdict, is_bot_username, judge, refusal
from core.group_refs import GroupRef, parse_group_ref
from core.ports import Dialog, DialogKind, Peer
from core.texts import groups as group_texts
from sandbox.botapi.html import parse_html
from sandbox.botapi.models import MAX_TEXT_LENGTH
from storage import memberships
from storage.db import Database

NOW = 1_800_000_000.0

KINDS: list[DialogKind | None] = [None, "group", "forum", "channel"]

# (reference as typed, what its chat is known to be, the verdict)
CASES: list[tuple[str, DialogKind | None, Verdict]] = [
    ("@cats_market", None, Verdict.OK),
    ("@cats_market", "group", Verdict.OK),
    ("@cats_market", "forum", Verdict.OK),
    ("@cats_market", "channel", Verdict.CHANNEL),
    ("@cats_market#15", None, Verdict.UNCHECKED_TOPIC),
    ("t.me/cats_market/15", None, Verdict.UNCHECKED_TOPIC),
    ("@cats_market#15", "forum", Verdict.OK),
    ("t.me/cats_market/15", "forum", Verdict.OK),
    ("@cats_market#15", "group", Verdict.MESSAGE_LINK),
    ("t.me/cats_market/15", "group", Verdict.MESSAGE_LINK),
    ("t.me/cats_market/15", "channel", Verdict.CHANNEL),
    ("https://t.me/c/1234567890/15", "group", Verdict.MESSAGE_LINK),
    ("-1001234567890#15", None, Verdict.UNCHECKED_TOPIC),
    ("-1001234567890", "channel", Verdict.CHANNEL),
    ("@price_bot", None, Verdict.BOT),
    ("t.me/PriceBot", None, Verdict.BOT),
    ("@robot_fans", None, Verdict.OK),
    ("@price_bot", "group", Verdict.OK),  # a session's dialogs hold it as a group: that settles it
    ("@price_bot", "channel", Verdict.CHANNEL),
    ("@price_bot#3", None, Verdict.BOT),
]


@pytest.mark.parametrize(("typed", "kind", "verdict"), CASES)
def test_what_a_reference_means_once_its_chat_is_known(typed: str, kind: DialogKind | None, verdict: Verdict) -> None:
    group = parse_group_ref(typed)
    assert judge(group, kind) is verdict
    reason = refusal(verdict, f'"{typed}"', group)
    assert (reason is None) == (verdict in (Verdict.OK, Verdict.UNCHECKED_TOPIC))


def test_each_refusal_says_why_and_what_to_send_instead() -> None:
    topic = parse_group_ref("t.me/cats_market/15")
    reason = refusal(Verdict.MESSAGE_LINK, '"t.me/cats_market/15"', topic)
    assert reason is not None
    assert reason.startswith('"t.me/cats_market/15": that is a message link, not a topic: @cats_market is not a forum')
    assert "15 is the number of a message" in reason and reason.endswith("send @cats_market")
    channel = refusal(Verdict.CHANNEL, '"@news_feed"', parse_group_ref("@news_feed"))
    assert channel == '"@news_feed": @news_feed is a channel, not a group: only its admins post there.'
    bot = refusal(Verdict.BOT, '"@price_bot"', parse_group_ref("@price_bot"))
    assert bot is not None and "@price_bot is a bot" in bot and 'end in "bot"' in bot


def test_bot_usernames_end_in_bot_whatever_the_case() -> None:
    assert is_bot_username("@price_bot") and is_bot_username("@PriceBot") and is_bot_username("@xbot")
    assert not is_bot_username("@robot_fans") and not is_bot_username("-1001234567890")
    assert not is_bot_username("@bot_news")


USERNAMES = st.from_regex(r"[a-z][a-z0-9_]{2,30}[a-z0-9]", fullmatch=True).filter(lambda n: "__" not in n)
GROUPS = st.builds(
    GroupRef,
    st.one_of(USERNAMES.map(lambda n: f"@{n}"), st.integers(1, 10**12 - 1).map(lambda c: str(-(10**12 + c)))),
    st.none() | st.integers(1, 2**31 - 1),
)


@settings(max_examples=200, deadline=None)
@given(GROUPS, st.sampled_from(KINDS))
def test_only_what_is_known_refuses(group: GroupRef, kind: DialogKind | None) -> None:
    verdict = judge(group, kind)
    if kind == "channel":
        assert verdict is Verdict.CHANNEL
    elif kind is None and group.peer.endswith("bot"):
        assert verdict is Verdict.BOT
    elif group.topic_id is None or kind == "forum":
        assert verdict is Verdict.OK
    else:
        assert verdict is (Verdict.UNCHECKED_TOPIC if kind is None else Verdict.MESSAGE_LINK)
    reason = refusal(verdict, f'"{group.ref}"', group)
    assert reason is None or (group.peer in reason and len(reason) < 600)


# --- the kinds storage knows -----------------------------------------------------------------------


async def test_any_sessions_dialogs_tell_a_chats_kind_the_newest_row_winning(db: Database, sdir: Path) -> None:
    s1, s2 = await seed_sessions(db, sdir, 2)
    async with db.tx() as conn:
        await memberships.replace_for_session(
            conn,
            s1,
            [
                Dialog(Peer("channel", 77, 555), "group", "Cats", "cats_market"),
                Dialog(Peer("channel", 88, 666), "channel", "News", "news_feed", can_write=False, why_not="broadcast"),
                Dialog(Peer("chat", 9), "group", "Old"),
            ],
            NOW,
        )
        # Read later by another session: the group became a forum meanwhile.
        await memberships.replace_for_session(
            conn, s2, [Dialog(Peer("channel", 77, 999), "forum", "Cats", "cats_market")], NOW + 60
        )
    refs = ["@cats_market#5", "-1000000000077", "@news_feed", "-1000000000088", "-9", "@unknown_chat", "-10", "junk"]
    async with db.read() as conn:
        kinds = await memberships.chat_kinds(conn, refs)
    assert kinds == {
        "@cats_market": "forum",
        "-1000000000077": "forum",
        "@news_feed": "channel",
        "-1000000000088": "channel",
        "-9": "group",
    }


async def test_chat_kinds_of_many_references_at_once(db: Database, sdir: Path) -> None:
    (s1,) = await seed_sessions(db, sdir, 1)
    dialogs = [Dialog(Peer("channel", 1000 + i, i), "group", f"g{i}", f"group_{i:04d}") for i in range(0, 1200, 3)]
    async with db.tx() as conn:
        await memberships.replace_for_session(conn, s1, dialogs, NOW)
    names = [f"@group_{i:04d}" for i in range(1200)]
    ids = [str(-(10**12 + 1000 + i)) for i in range(1200)]
    async with db.read() as conn:
        kinds = await memberships.chat_kinds(conn, names + ids)
    assert sorted(kinds) == sorted([f"@group_{i:04d}" for i in range(0, 1200, 3)] + ids[::3])
    assert set(kinds.values()) == {"group"}


# --- the report --------------------------------------------------------------------------------------


def test_report_marks_unchecked_topics_and_lists_refusals_apart() -> None:
    html = group_texts.groups_added(
        ["@cats_group", "@new_chat#15"],
        [],
        [("cats", '"cats" is ambiguous')],
        [],
        200,
        2,
        refused=[('"@news_feed"', "@news_feed is a channel, not a group: only its admins post there.")],
        unchecked_topics={"@new_chat#15": 15},
    )
    assert "<code>@new_chat#15</code> (topic #15, will be checked)" in html
    assert "<code>@cats_group</code>, " in html
    assert "❌ Not understood (1):\n• \"cats\" is ambiguous" in html
    assert "🚫 Cannot be posted to (1):\n• @news_feed is a channel, not a group: only its admins post there." in html
    assert "Nothing to add" not in group_texts.groups_added([], [], [], [], 200, 0, refused=[("x", "why")])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=45), max_size=120),
    st.lists(st.text(min_size=1, max_size=45), max_size=60),
    st.lists(st.tuples(st.text(max_size=70), st.text(min_size=1, max_size=320)), max_size=60),
    st.lists(st.text(min_size=1, max_size=45), max_size=60),
    st.lists(st.tuples(st.text(max_size=70), st.text(min_size=1, max_size=320)), max_size=60),
    st.integers(1, 2**31 - 1),
)
def test_report_with_refusals_and_topics_stays_valid_html_within_the_limit(
    added: list[str],
    existing: list[str],
    bad: list[tuple[str, str]],
    over: list[str],
    refused: list[tuple[str, str]],
    topic: int,
) -> None:
    html = group_texts.groups_added(
        added, existing, bad, over, 200, len(added), refused=refused, unchecked_topics={r: topic for r in added}
    )
    assert len(parse_html(html).text) <= MAX_TEXT_LENGTH
    if refused:
        assert f"Cannot be posted to ({len(refused)})" in html
