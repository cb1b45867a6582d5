"""References that work, through the real bot: what the customer is told at /post and /addgroups from
what the sessions' stored dialogs say (membership rows written through storage in the set-up)."""

from __future__ import annotations

from pathlib import Path

from botkit import Harness, bot_harness

from core.ports import Dialog, DialogKind, Peer, WriteBlock
from core.texts import post as post_texts
from pool.assign import assign
from storage import groups, memberships

ALICE = 1001
BOB = 1002
PRIVATE = 1234567890  # the bare id of the private channel the post is in
PRIVATE_POST = f"https://t.me/c/{PRIVATE}/55"


def channel(
    bare_id: int, kind: DialogKind = "channel", username: str | None = None, *, why_not: WriteBlock | None = None
) -> Dialog:
    """A supergroup, forum or channel as a session's dialogs list it (a hash of that session's own)."""
    peer = Peer("channel", bare_id, bare_id * 7)
    return Dialog(peer, kind, f"chat {bare_id}", username, can_write=why_not is None, why_not=why_not)


async def sessions_for(h: Harness, customer: int, n: int) -> list[int]:
    """``n`` pool sessions given to the customer the pool's way (their dialogs not read yet)."""
    await h.fill_pool(n)
    return await assign(h.db, h.settings.paths.sessions_dir, customer, n, h.clock.now())


async def read_dialogs(h: Harness, session_id: int, *dialogs: Dialog) -> None:
    """What a full read of the session's dialogs would have stored."""
    async with h.db.tx() as conn:
        await memberships.replace_for_session(conn, session_id, dialogs, h.clock.now())


async def customer_refs(h: Harness, customer: int) -> list[str]:
    async with h.db.read() as conn:
        return [g.ref for g in await groups.list_for(conn, customer)]


# --- /post: a private channel's post ---------------------------------------------------------------


async def test_private_post_that_no_session_is_in_is_saved_and_the_customer_told(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE, sessions=2)
        await h.grant(BOB)
        alice = h.user(ALICE, "Alice")

        # No session yet: nobody can say, so the customer hears what it takes.
        reply = await alice.ask(f"/post {PRIVATE_POST}")
        assert "Post set: the bot will forward https://t.me/c/1234567890/55" in reply.text
        assert (
            post_texts.POST_SOURCE_UNCHECKED() in reply.text and post_texts.POST_SOURCE_NOT_MEMBER() not in reply.text
        )

        first, second = await sessions_for(h, ALICE, 2)
        (bobs,) = await sessions_for(h, BOB, 1)
        await read_dialogs(h, first, channel(99, "group", "other_group"))
        reply = await alice.ask(f"/post {PRIVATE_POST}")
        assert post_texts.POST_SOURCE_UNCHECKED() in reply.text  # the second session's dialogs were never read

        # Both read, neither in the channel (another customer's session is: it does not count; one of
        # Alice's left it): told plainly, and the post is saved all the same.
        await read_dialogs(h, bobs, channel(PRIVATE))
        await read_dialogs(h, second, channel(PRIVATE, why_not="left"))
        reply = await alice.ask(f"/post {PRIVATE_POST}")
        assert post_texts.POST_SOURCE_NOT_MEMBER() in reply.text
        assert "none of your sessions is in" in reply.text and "The admin can help" in reply.text
        c = await h.customer(ALICE)
        assert (c.post_kind, c.post_peer, c.post_msg_id) == ("link", f"-100{PRIVATE}", 55)

        # As the answer to the question, too.
        await alice.ask("/post")
        reply = await alice.ask(f"https://t.me/c/{PRIVATE}/56")
        assert post_texts.POST_SOURCE_NOT_MEMBER() in reply.text
        assert (await h.customer(ALICE)).post_msg_id == 56


async def test_private_post_a_session_is_in_and_public_posts_need_nothing_said(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE, sessions=2)
        alice = h.user(ALICE, "Alice")
        first, second = await sessions_for(h, ALICE, 2)
        await read_dialogs(h, first)
        # A subscriber of a broadcast channel may not write there, but it reads it: that is enough.
        await read_dialogs(h, second, channel(PRIVATE, why_not="broadcast"))

        reply = await alice.ask(f"/post {PRIVATE_POST}")
        assert reply.text == post_texts.post_saved_link(PRIVATE_POST, False) + "\n\n" + post_texts.header_line(False)
        assert "private channel" not in reply.text

        # A public channel's post: anyone can read it, no membership needed.
        await read_dialogs(h, second)
        reply = await alice.ask("/post https://t.me/adschannel/3")
        assert reply.text == (
            post_texts.post_saved_link("https://t.me/adschannel/3", False) + "\n\n" + post_texts.header_line(False)
        )


# --- /addgroups: forum topics and message links ----------------------------------------------------


async def test_a_number_after_a_group_is_a_topic_only_in_a_forum(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        await h.fill_pool(1)
        (pool_session,) = [r["id"] for r in await h.rows("SELECT id FROM sessions")]
        # Any session's dialogs tell what a chat is, even a free pool session's.
        known = (channel(77, "group", "cats_market"), channel(78, "forum", "cats_forum"), channel(79, "group"))
        await read_dialogs(h, pool_session, *known)

        before = await h.snapshot()
        reply = await alice.ask("/addgroups t.me/cats_market/15")
        assert await h.snapshot() == before
        assert "Cannot be posted to (1)" in reply.text
        assert (
            "that is a message link, not a topic: @cats_market is not a forum, so 15 is the number of a message"
            in reply.text
        )
        assert '"t.me/cats_market/15"' in reply.text and "send @cats_market" in reply.text
        assert "Added" not in reply.text

        reply = await alice.ask("/addgroups @cats_market#15 -1000000000079#4")
        assert "Cannot be posted to (2)" in reply.text
        assert '"@cats_market#15": that is a message link, not a topic: @cats_market is not a forum' in reply.text
        assert '"-1000000000079#4": that is a message link, not a topic: -1000000000079 is not a forum' in reply.text

        # In a forum it is a topic; a chat nobody knows yet keeps today's reading, said as such.
        reply = await alice.ask("/addgroups https://t.me/cats_forum/15 @new_chat#15 t.me/fresh_chat/7 @cats_market")
        assert "Added 4 groups" in reply.text
        assert reply.text.count("will be checked") == 2
        assert "@new_chat#15 (topic #15, will be checked)" in reply.text
        assert "@fresh_chat#7 (topic #7, will be checked)" in reply.text
        assert "@cats_forum#15 (topic" not in reply.text
        assert "Cannot be posted to" not in reply.text
        assert await customer_refs(h, ALICE) == ["@cats_forum#15", "@new_chat#15", "@fresh_chat#7", "@cats_market"]


# --- /addgroups: channels and bots are not groups ---------------------------------------------------


async def test_channels_and_bots_are_refused_with_the_reason(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        await h.fill_pool(1)
        (pool_session,) = [r["id"] for r in await h.rows("SELECT id FROM sessions")]
        await read_dialogs(
            h,
            pool_session,
            channel(88, "channel", "news_feed", why_not="broadcast"),
            channel(89, "group", "chat_robot"),  # a group after all: the dialogs settle it
        )

        reply = await alice.ask(
            "/addgroups @news_feed\n-1000000000088\nt.me/price_bot\n@HelperBot\n@chat_robot\n@real_group\nno/such/group"
        )
        assert "Added 2 groups" in reply.text
        assert await customer_refs(h, ALICE) == ["@chat_robot", "@real_group"]
        assert "Cannot be posted to (4)" in reply.text
        assert '"@news_feed": @news_feed is a channel, not a group: only its admins post there.' in reply.text
        assert '"-1000000000088": -1000000000088 is a channel, not a group' in reply.text
        assert '"t.me/price_bot": @price_bot is a bot' in reply.text
        assert '"@HelperBot": @helperbot is a bot' in reply.text
        assert "Not understood (1)" in reply.text and "no/such/group" in reply.text

        # Default groups copied from the admin's list are judged the same way.
        async with h.db.tx() as conn:
            await groups.add_defaults(conn, ["@news_feed", "@default_one"], h.clock.now())
        reply = await alice.ask("/usedefaults")
        assert "Added 1 group" in reply.text and "@news_feed is a channel, not a group" in reply.text
        assert await customer_refs(h, ALICE) == ["@chat_robot", "@real_group", "@default_one"]


# --- what the bot suggests ----------------------------------------------------------------------------


async def test_the_bot_only_suggests_forms_that_can_work_and_says_when(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        help_ = await alice.ask("/help")
        assert "a -100… id for a group one of your sessions is in" in help_.text
        assert "an invite link is not a group: ask the admin to have a session join it" in help_.text
        assert "t.me/c/…, only by a session of yours that is in that channel" in help_.text

        ask = await alice.ask("/addgroups")
        assert "-1001234567890 (an id works for a group one of your sessions is in)" in ask.text
        assert "topic 15 of a forum" in ask.text and "ask the admin to have one of your sessions join it" in ask.text
        await alice.ask("/cancel")

        empty = await alice.ask("/groups")
        assert "@name or t.me/name for a public group, a -100… id for a group one of your sessions is in" in empty.text

        post = await alice.ask("/post")
        assert "t.me/c/…, only by a session of yours that is in it" in post.text
        await alice.ask("/cancel")

        invite = await alice.ask("/addgroups t.me/+AbCdEf")
        assert "is an invite link, not a group" in invite.text
        assert "Ask the admin to have one of your sessions join it" in invite.text
        positive = await alice.ask("/addgroups 1001234567890")
        assert "an id works for a group one of your sessions is in" in positive.text
        no_number = await alice.ask("/addgroups https://t.me/c")
        assert "it works for a group one of your sessions is in" in no_number.text
