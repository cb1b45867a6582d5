"""Issue 18 part F: what a group is, checked on add without a session's resolveUsername: the sessions'
dialogs first, then the bot's own getChat (core.destinations.check_groups, control_bot.services.
chat_lookup over the emulator's public chats)."""

from __future__ import annotations

from pathlib import Path

import pytest
from botkit import in_locale
from pool_support import add_customer, add_pair, seed_sessions

from control_bot.services.chat_lookup import BotChatLookup
from control_bot.services.reach import Reach, customer_reach
from core.destinations import ChatFacts, Checked, Verdict, check_groups, kind_of_chat
from core.group_refs import GroupRef, parse_group_items
from core.texts import reach as rt
from pool import assign
from sandbox.botuser import BotApiEmulator, create_bot
from storage import customers, groups, memberships
from storage.db import Database

TOKEN = "123456789:AAE_sandbox-token-for-group-checks_xx"
NOW = 1_800_000_000.0


class FakeLookup:
    """What getChat would say, by peer; records what it was asked."""

    def __init__(self, facts: dict[str, ChatFacts]) -> None:
        self.facts = facts
        self.asked: list[str] = []

    async def __call__(self, peer: str) -> ChatFacts | None:
        self.asked.append(peer)
        return self.facts.get(peer)


def items(text: str) -> list[tuple[str, GroupRef]]:
    good, bad = parse_group_items(text)
    assert bad == []
    return good


def by_ref(checked: list[Checked]) -> dict[str, Checked]:
    return {c.group.ref: c for c in checked}


@pytest.mark.parametrize(
    ("chat_type", "is_forum", "kind"),
    [
        ("group", False, "group"),
        ("supergroup", False, "group"),
        ("supergroup", True, "forum"),
        ("channel", False, "channel"),
        ("private", False, "user"),
    ],
)
def test_bot_api_chat_types_as_kinds(chat_type: str, is_forum: bool, kind: str) -> None:
    assert kind_of_chat(chat_type, is_forum) == kind


async def test_the_bot_api_settles_topics_channels_and_people() -> None:
    lookup = FakeLookup(
        {
            "@cats_market": ChatFacts(-1001, "group", "Cats market", "cats_market"),
            "@forum_chat": ChatFacts(-1002, "forum", "Forum", "forum_chat"),
            "@news_feed": ChatFacts(-1003, "channel", "News", "news_feed"),
            "@some_person": ChatFacts(77, "user", None, "some_person"),
        }
    )
    checked = by_ref(
        await check_groups(
            items("@cats_market#15 forum_chat#15 @news_feed @some_person @ghost_chat @ghost_chat#3"),
            {},
            lookup,
        )
    )
    assert checked["@cats_market#15"].verdict is Verdict.MESSAGE_LINK
    assert "that is a message link, not a topic" in (checked["@cats_market#15"].refusal or "")
    assert checked["@forum_chat#15"].verdict is Verdict.OK and checked["@forum_chat#15"].title == "Forum"
    assert checked["@news_feed"].verdict is Verdict.CHANNEL and checked["@news_feed"].refusal
    assert checked["@some_person"].verdict is Verdict.USER and checked["@some_person"].refusal
    # Telegram did not say: kept, unchecked (a topic stays a topic to be checked).
    assert checked["@ghost_chat"].verdict is Verdict.OK and not checked["@ghost_chat"].checked
    assert checked["@ghost_chat#3"].verdict is Verdict.UNCHECKED_TOPIC
    assert checked["@forum_chat#15"].checked and checked["@cats_market#15"].checked
    # One request per chat, however many references name it.
    assert sorted(lookup.asked) == ["@cats_market", "@forum_chat", "@ghost_chat", "@news_feed", "@some_person"]


async def test_sessions_dialogs_come_first_and_cost_no_request() -> None:
    lookup = FakeLookup({"@cats_market": ChatFacts(-1001, "channel", "stale", "cats_market")})
    checked = await check_groups(items("@cats_market#4 -1001234567890"), {"@cats_market": "forum"}, lookup)
    assert [c.verdict for c in checked] == [Verdict.OK, Verdict.OK]
    assert checked[0].checked and checked[0].kind == "forum"
    assert lookup.asked == ["-1001234567890"]
    assert not checked[1].checked


async def test_lookups_are_capped_and_none_means_unchecked() -> None:
    lookup = FakeLookup({})
    text = "\n".join(f"@group_{i:04d}" for i in range(120))
    checked = await check_groups(items(text), {}, lookup, max_lookups=10)
    assert len(lookup.asked) == 10
    assert all(c.verdict is Verdict.OK and not c.checked for c in checked)
    assert all(not c.checked for c in await check_groups(items("@cats_market"), {}, None))


async def test_get_chat_by_username_over_the_emulator() -> None:
    async with BotApiEmulator(TOKEN) as emu:
        emu.public_chat("Cats_Market", title="Cats market")
        emu.public_chat("forum_chat", title="Forum", is_forum=True)
        emu.public_chat("news_feed", title="News", chat_type="channel")
        member_of = emu.group_chat(title="A group the bot is in")
        bot = create_bot(emu)
        try:
            lookup = BotChatLookup(bot)
            cats = await lookup("@cats_market")
            assert cats is not None
            assert (cats.kind, cats.title, cats.username) == ("group", "Cats market", "Cats_Market")
            assert str(cats.chat_id).startswith("-100")
            forum = await lookup("@forum_chat")
            assert forum is not None and forum.kind == "forum"
            news = await lookup("@news_feed")
            assert news is not None and news.kind == "channel"
            assert await lookup("@nobody_here") is None  # "chat not found"
            assert await lookup("-1009999999999") is None  # by id: only chats the bot is in
            inside = await lookup(str(member_of.id))
            assert inside is not None and inside.kind == "group" and inside.title == "A group the bot is in"
            emu.inject_retry_after("getChat", 3600)  # longer than FloodControl would wait: not said
            assert await lookup("@cats_market") is None
        finally:
            await bot.session.close()
    assert [c.method for c in emu.calls_of("getChat")][:1] == ["getChat"]


# --- storage: checked state, removal by id and by number ---------------------------------------------


async def test_groups_are_unchecked_until_a_check_and_go_by_number_or_id(db: Database) -> None:
    async with db.tx() as conn:
        await customers.grant(conn, 501, 1, 30, NOW, 300)
        await customers.grant(conn, 502, 1, 30, NOW, 300)
        await groups.add_many(conn, 501, ["@one_chat", "@two_chat", "@three_chat"], NOW)
        await groups.add_many(conn, 502, ["@one_chat"], NOW)
    async with db.read() as conn:
        rows = await groups.list_for(conn, 501)
    assert [(g.checked_at, g.chat_kind, g.title) for g in rows] == [(None, None, None)] * 3
    async with db.tx() as conn:
        assert await groups.record_check(conn, 501, "@two_chat", "forum", "Two", NOW + 1)
        assert await groups.record_check(conn, 501, "@two_chat", "forum", None, NOW + 2)  # the title stays
        assert not await groups.record_check(conn, 501, "@not_listed", "group", None, NOW)
        assert await groups.ref_at(conn, 501, 3) == "@three_chat"
        assert await groups.ref_at(conn, 501, 4) is None and await groups.ref_at(conn, 501, 0) is None
        other = (await groups.list_for(conn, 502))[0]
        assert await groups.remove_by_id(conn, 501, other.id) is None  # another customer's group
        assert await groups.remove_by_id(conn, 501, rows[0].id) == "@one_chat"
        assert await groups.ref_at(conn, 501, 1) == "@two_chat"
    async with db.read() as conn:
        two = await groups.get(conn, 501, "@two_chat")
        assert await groups.count_for(conn, 502) == 1
    assert two is not None and (two.checked_at, two.chat_kind, two.title) == (NOW + 2, "forum", "Two")


# --- the /groups state of a group nothing checked ----------------------------------------------------


async def test_a_group_nothing_checked_is_said_so_not_called_unreachable_or_fine(db: Database, sdir: Path) -> None:
    """Sessions read, none holds @ghost_chat, and Telegram did not show it on add: "not checked", never a
    plain "unreachable" (which would say the chat exists) and never "reachable"; once something checked
    it, the usual reason."""
    await add_pair(db, 1)
    (s1,) = await seed_sessions(db, sdir, 1)
    await add_customer(db, 1001, plan=1)
    await assign.assign(db, sdir, 1001, 1, NOW)
    async with db.tx() as conn:
        await groups.add_many(conn, 1001, ["@ghost_chat", "@known_chat"], NOW)
        await groups.record_check(conn, 1001, "@known_chat", "group", "Known", NOW)
        await memberships.replace_for_session(conn, s1, [], NOW)
    async with db.read() as conn:
        view = await customer_reach(conn, 1001)
    ghost, known = view.reach["@ghost_chat"], view.reach["@known_chat"]
    assert (ghost.reach, ghost.checked) == (Reach.NOT_MEMBER, False)
    assert (known.reach, known.checked) == (Reach.NOT_MEMBER, True)
    for lang in ("en", "ru"):
        with in_locale(lang):
            ghost_line = rt.group_state(None, None, None, NOW, ghost)
            known_line = rt.group_state(None, None, None, NOW, known)
        assert "✅" not in ghost_line and ghost_line != known_line
        if lang == "en":
            assert ghost_line == "🚫 not checked: Telegram did not show this chat, and none of your sessions is in it"
            assert known_line == "🚫 unreachable: none of your sessions is a member"
        else:
            assert ghost_line.startswith("🚫 не проверена: Telegram не показал этот чат")


async def test_get_chat_by_username_finds_a_group_the_emulator_holds() -> None:
    async with BotApiEmulator(TOKEN) as emu:
        chat = emu.group_chat(-1001000000555, title="Pet lovers")
        chat.username = "Pet_Lovers"
        bot = create_bot(emu)
        try:
            found = await BotChatLookup(bot)("@pet_lovers")
        finally:
            await bot.session.close()
    assert found is not None and (found.chat_id, found.kind, found.title) == (-1001000000555, "group", "Pet lovers")
