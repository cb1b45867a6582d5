"""core.links, core.group_refs and core.link_parts: every accepted and refused form, and properties over
arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import LinkError
from core.group_refs import MAX_GROUP_REFS, GroupRef, parse_group_items, parse_group_ref, parse_group_refs
from core.link_parts import MAX_MESSAGE_ID, RESERVED_PATHS
from core.links import PostRef, parse_post_link, random_id_for

CH = "-1001234567890"  # the marked id of private channel 1234567890


def post(peer: str, msg_id: int, thread_id: int | None, link: str) -> PostRef:
    return PostRef(peer=peer, msg_id=msg_id, thread_id=thread_id, link=link)


# --- posts: accepted -----------------------------------------------------------------------------

ACCEPTED_POSTS: list[tuple[str, PostRef]] = [
    ("https://t.me/durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("http://t.me/durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("t.me/durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("HTTPS://T.ME/Durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://www.t.me/durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://telegram.me/durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("telegram.dog/durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("www.telegram.me/durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://t.me/durov/123/", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://t.me/s/durov/123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://t.me/durov/123?single", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://t.me/durov/123?comment=5", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://t.me/durov/123?thread=9", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://t.me/durov/123#frag", post("@durov", 123, None, "https://t.me/durov/123")),
    ("  <https://t.me/durov/123>\n", post("@durov", 123, None, "https://t.me/durov/123")),
    ("\u200bhttps://t.me/durov/123\u200e", post("@durov", 123, None, "https://t.me/durov/123")),
    ("https://t.me/Some_Bot/7", post("@some_bot", 7, None, "https://t.me/some_bot/7")),
    ("https://t.me/abcd/1", post("@abcd", 1, None, "https://t.me/abcd/1")),
    (
        f"https://t.me/{'a' * 32}/{MAX_MESSAGE_ID}",
        post(f"@{'a' * 32}", MAX_MESSAGE_ID, None, f"https://t.me/{'a' * 32}/{MAX_MESSAGE_ID}"),
    ),
    ("https://t.me/c/1234567890/55", post(CH, 55, None, "https://t.me/c/1234567890/55")),
    ("t.me/c/1234567890/55?single", post(CH, 55, None, "https://t.me/c/1234567890/55")),
    ("https://t.me/c/123/55", post("-1000000000123", 55, None, "https://t.me/c/123/55")),
    ("https://t.me/durov/10/123", post("@durov", 123, 10, "https://t.me/durov/10/123")),
    ("https://t.me/c/1234567890/10/55", post(CH, 55, 10, "https://t.me/c/1234567890/10/55")),
    ("tg://resolve?domain=Durov&post=123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("tg:resolve?domain=durov&post=123", post("@durov", 123, None, "https://t.me/durov/123")),
    ("tg://resolve?domain=durov&post=123&thread=10", post("@durov", 123, 10, "https://t.me/durov/10/123")),
    ("tg://resolve?post=123&domain=durov&single", post("@durov", 123, None, "https://t.me/durov/123")),
    ("tg://privatepost?channel=1234567890&post=55", post(CH, 55, None, "https://t.me/c/1234567890/55")),
    (
        "TG://privatepost?channel=1234567890&post=55&thread=10",
        post(CH, 55, 10, "https://t.me/c/1234567890/10/55"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED_POSTS)
def test_post_link_accepted(text: str, expected: PostRef) -> None:
    assert parse_post_link(text) == expected


# --- posts: refused, each with its reason --------------------------------------------------------

REFUSED_POSTS: list[tuple[str, str]] = [
    ("", "empty"),
    ("   \n\t", "empty"),
    ("<>", "empty"),
    ("x" * 5000, "too long"),
    ("https://t.me/+AbCdEf123", "invite link, not a post link"),
    ("t.me/joinchat/AbCdEf123", "invite link, not a post link"),
    ("https://t.me/addlist/AbCdEf", "invite link, not a post link"),
    ("+AbCdEf123", "invite link, not a post link"),
    ("tg://join?invite=AbCdEf", "invite link, not a post link"),
    ("@durov", "needs the message number at the end, like https://t.me/name/123"),
    ("durov", "needs the message number at the end"),
    ("https://t.me/durov", "needs the message number at the end"),
    ("https://t.me/durov/", "needs the message number at the end"),
    ("https://t.me/s/durov", "needs the message number at the end"),
    ("https://t.me", "needs the message number at the end"),
    ("tg://resolve?domain=durov", "needs the message number at the end"),
    ("https://t.me/c/1234567890", "needs the channel number and the message number"),
    ("https://t.me/c", "needs the channel number and the message number"),
    ("https://t.me/addstickers/Animals", "t.me/addstickers link, not a post link"),
    ("https://t.me/share/url?url=x", "t.me/share link, not a post link"),
    ("https://t.me/proxy?server=1.2.3.4&port=443&secret=x", "t.me/proxy link"),
    ("https://t.me/socks?server=1.2.3.4&port=1080", "t.me/socks link"),
    ("https://t.me/login/12345", "t.me/login link"),
    ("https://t.me/iv?url=x&rhash=y", "t.me/iv link"),
    ("https://t.me/setlanguage/de", "t.me/setlanguage link"),
    ("https://t.me/addemoji/Pack", "t.me/addemoji link"),
    ("https://t.me/bg/abc", "t.me/bg link"),
    ("https://t.me/addtheme/abc", "t.me/addtheme link"),
    ("https://t.me/boost/durov", "t.me/boost link"),
    ("https://t.me/m/AbCd", "t.me/m link"),
    ("https://t.me/nft/Thing-1", "t.me/nft link"),
    ("https://t.me/durov/0", "not a message number Telegram uses"),
    (f"https://t.me/durov/{MAX_MESSAGE_ID + 1}", "not a message number Telegram uses"),
    ("https://t.me/durov/" + "9" * 30, "must be a number"),
    ("https://t.me/durov/12a", "must be a number"),
    ("https://t.me/durov/-5", "must be a number"),
    ("https://t.me/durov/\u0661\u0662", "must be a number"),
    ("https://t.me/durov/0/5", "not a topic number Telegram uses"),
    ("https://t.me/c/0/5", "the number after /c/ is not one of a channel Telegram knows"),
    ("https://t.me/c/abc/5", "channel number after /c/ must be a number"),
    ("https://t.me/c/1234567890/1/2/3", "too many parts"),
    ("https://t.me/durov/1/2/3", "too many parts"),
    ("https://t.me/s/durov/1/2", "too many parts"),
    ("https://t.me//durov/1", "empty part"),
    ("https://t.me/abc/1", "4 to 32 characters"),
    (f"https://t.me/{'a' * 33}/1", "4 to 32 characters"),
    ("https://t.me/1abcd/1", "must start with a letter"),
    ("https://t.me/_abcd/1", "must start with a letter"),
    ("https://t.me/abcd_/1", "cannot end with _"),
    ("https://t.me/ab__cd/1", "cannot contain __"),
    ("https://t.me/ab-cd/1", "only letters a-z, digits and _"),
    ("https://t.me/d%C3%BCrov/1", "only letters a-z, digits and _"),
    ("https://example.com/durov/123", "not a Telegram link"),
    ("ftp://t.me/durov/123", "not a Telegram link"),
    ("https://t.me.evil.com/durov/123", "not a Telegram link"),
    ("https://t.me@evil.com/durov/123", "not a Telegram link"),
    ("javascript:alert(1)", "not a Telegram link"),
    ("http://[", "not a Telegram link"),
    ("https://t.me/durov/123 and more", "has spaces in it"),
    ("123", "only a number"),
    ("durov/123", "not a Telegram post link"),
    ("tg://resolve?post=5", "does not name a channel or group"),
    ("tg://privatepost?post=5", "has no channel number"),
    ("tg://resolve?domain=durov&post=5&post=6", "twice with different values"),
    ("tg://settings", "Telegram app link, not a post link"),
    ("tg://[", "could not be read as a post link"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED_POSTS)
def test_post_link_refused(text: str, reason: str) -> None:
    with pytest.raises(LinkError) as info:
        parse_post_link(text)
    assert reason in info.value.user_message


def test_post_errors_show_an_example_and_stay_short() -> None:
    for text, _ in REFUSED_POSTS:
        with pytest.raises(LinkError) as info:
            parse_post_link(text)
        message = info.value.user_message
        assert len(message) < 400, message
        assert "t.me/" in message or "empty" in message or "too long" in message, message


def test_echoed_input_is_truncated_and_sanitised() -> None:
    text = "https://example.com/" + "\x00\u202e" + "z" * 500
    with pytest.raises(LinkError) as info:
        parse_post_link(text)
    message = info.value.user_message
    assert "z" * 70 not in message
    assert "…" in message
    assert "\x00" not in message and "\u202e" not in message


def test_non_string_input_is_a_link_error() -> None:
    with pytest.raises(LinkError):
        parse_post_link(None)  # type: ignore[arg-type]
    with pytest.raises(LinkError):
        parse_group_ref(b"@name")  # type: ignore[arg-type]
    with pytest.raises(LinkError):
        parse_group_refs(42)  # type: ignore[arg-type]


# --- groups: accepted ----------------------------------------------------------------------------

ACCEPTED_GROUPS: list[tuple[str, GroupRef, str]] = [
    ("@Ads_Chat", GroupRef("@ads_chat", None), "@ads_chat"),
    ("@ads_chat#5", GroupRef("@ads_chat", 5), "@ads_chat#5"),
    ("t.me/ads_chat", GroupRef("@ads_chat", None), "@ads_chat"),
    ("https://t.me/Ads_Chat", GroupRef("@ads_chat", None), "@ads_chat"),
    ("https://t.me/ads_chat/", GroupRef("@ads_chat", None), "@ads_chat"),
    ("http://www.telegram.me/ads_chat", GroupRef("@ads_chat", None), "@ads_chat"),
    ("telegram.dog/ads_chat", GroupRef("@ads_chat", None), "@ads_chat"),
    ("https://t.me/ads_chat?start=x", GroupRef("@ads_chat", None), "@ads_chat"),
    ("https://t.me/s/ads_chat", GroupRef("@ads_chat", None), "@ads_chat"),
    ("https://t.me/ads_chat/5", GroupRef("@ads_chat", 5), "@ads_chat#5"),
    ("<https://t.me/ads_chat/5>", GroupRef("@ads_chat", 5), "@ads_chat#5"),
    (CH, GroupRef(CH, None), CH),
    (f"{CH}#7", GroupRef(CH, 7), f"{CH}#7"),
    ("-100123", GroupRef("-100123", None), "-100123"),
    ("-100123#5", GroupRef("-100123", 5), "-100123#5"),
    ("-123456", GroupRef("-123456", None), "-123456"),
    ("-999999999999", GroupRef("-999999999999", None), "-999999999999"),
    ("-1999999999999", GroupRef("-1999999999999", None), "-1999999999999"),
    ("https://t.me/c/1234567890", GroupRef(CH, None), CH),
    ("https://t.me/c/1234567890/5", GroupRef(CH, 5), f"{CH}#5"),
    ("tg://resolve?domain=ads_chat", GroupRef("@ads_chat", None), "@ads_chat"),
    ("tg://resolve?domain=ads_chat&thread=5", GroupRef("@ads_chat", 5), "@ads_chat#5"),
]


@pytest.mark.parametrize(("text", "expected", "ref"), ACCEPTED_GROUPS)
def test_group_ref_accepted(text: str, expected: GroupRef, ref: str) -> None:
    group = parse_group_ref(text)
    assert group == expected
    assert group.ref == ref
    assert parse_group_ref(group.ref) == group


# --- groups: refused -----------------------------------------------------------------------------

NEVER_JOINS = "is an invite link, not a group: adbot does not join groups by itself. Ask the admin to have one"

REFUSED_GROUPS: list[tuple[str, str]] = [
    ("", "empty"),
    ("ads_chat", "ambiguous"),
    ("ads_chat#5", "like @ads_chat#5"),
    ("https://t.me/+AbCdEf123", NEVER_JOINS),
    ("t.me/joinchat/AbCdEf123", NEVER_JOINS),
    ("https://t.me/addlist/AbCdEf", NEVER_JOINS),
    ("+AbCdEf123", NEVER_JOINS),
    ("tg://join?invite=AbCdEf", NEVER_JOINS),
    ("https://t.me/ads_chat/123/456", "link to a post, not to a group"),
    ("https://t.me/c/1234567890/123/456", "link to a post, not to a group"),
    ("https://t.me/s/ads_chat/123", "link to a post, not to a group"),
    ("https://t.me/ads_chat/123?single", "link to a post, not to a group"),
    ("https://t.me/ads_chat/123?thread=5", "link to a post, not to a group"),
    ("https://t.me/ads_chat/123?comment=5", "link to a post, not to a group"),
    ("tg://resolve?domain=ads_chat&post=5", "link to a post, not to a group"),
    ("tg://privatepost?channel=1234567890&post=5", "link to a post, not to a group"),
    ("https://t.me/ads_chat#5", "#part that adbot does not read"),
    ("https://t.me", "no group name after t.me/"),
    ("https://t.me/c", "needs the group number after /c/"),
    ("https://t.me/s", "no name after /s/"),
    ("https://t.me/share/url", "t.me/share link, not a group"),
    ("https://t.me/proxy?server=x", "t.me/proxy link, not a group"),
    ("https://t.me/boost/ads_chat", "t.me/boost link, not a group"),
    ("@abc", "4 to 32 characters"),
    ("@ads__chat", "cannot contain __"),
    ("@ads_chat_", "cannot end with _"),
    ("@9ads", "must start with a letter"),
    ("@", "it is empty"),
    ("@ads_chat#", "topic number must be a number"),
    ("@ads_chat#0", "not a topic number Telegram uses"),
    ("@ads_chat#x", "topic number must be a number"),
    ("https://t.me/ads_chat/0", "not a topic number Telegram uses"),
    ("1001234567890", "group ids are negative"),
    ("0", "group ids are negative"),
    ("-0", "group ids are negative"),
    ("-1000000000000", "out of range"),
    ("-2000000000000", "out of range"),
    ("-99999999999999999999999", "not a group id"),
    ("-12a", "not a group id"),
    ("--100", "not a group id"),
    ("-", "not a group id"),
    ("@ads_chat @other_chat", "has spaces in it"),
    ("https://example.com/ads_chat", "not a Telegram link"),
    ("mailto:ads@chat.org", "not a Telegram link"),
    ("tg://settings", "Telegram app link, not a group"),
    ("tg://resolve?domain=ads_chat&thread=0", "not a topic number Telegram uses"),
    ("http://[", "not a Telegram link"),
    ("tg://[", "could not be read as a group"),
    ("ads/chat", "is not a group"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED_GROUPS)
def test_group_ref_refused(text: str, reason: str) -> None:
    with pytest.raises(LinkError) as info:
        parse_group_ref(text)
    assert reason in info.value.user_message


# --- many groups ---------------------------------------------------------------------------------


def test_group_refs_split_dedupe_and_report_bad_items() -> None:
    text = (
        "@one_chat\n"
        "t.me/two_chat, -1001234567890;@ONE_CHAT\n"
        "  https://t.me/one_chat  \n"
        "two_chat\t@one_chat#5 https://t.me/+invite -1001234567890#5\n"
        "two_chat\n"
    )
    good, bad = parse_group_refs(text)
    # A bare name on a line of groups is the username (issue 18): the last "two_chat" is @two_chat, already
    # listed; on a line with something that is no group (the invite link) it stays ambiguous.
    assert [g.ref for g in good] == ["@one_chat", "@two_chat", CH, "@one_chat#5", f"{CH}#5"]
    assert [item for item, _ in bad] == ["two_chat", "https://t.me/+invite"]
    assert "ambiguous" in bad[0][1]
    assert "not a group: adbot does not join groups by itself" in bad[1][1]


def test_group_items_keep_each_item_as_typed_quoted() -> None:
    items, bad = parse_group_items("t.me/Cats_Market/15, @cats_market#15 @other_chat\n-1001234567890#5 two_chat")
    assert items == [
        ('"t.me/Cats_Market/15"', GroupRef("@cats_market", 15)),  # the first of the same ref
        ('"@other_chat"', GroupRef("@other_chat", None)),
        (f'"{CH}#5"', GroupRef(CH, 5)),
        ('"two_chat"', GroupRef("@two_chat", None)),  # a bare name on a line of groups: a username
    ]
    assert bad == []
    # Shown the way refusals quote input: invisible characters replaced, shortened.
    items, _ = parse_group_items("\u200b@cats_market\u200e https://t.me/" + "a" * 32 + "/" + "9" * 9)
    assert [shown for shown, _ in items] == ['"?@cats_market?"', '"https://t.me/' + "a" * 32 + "/" + "9" * 9 + '"']
    items, _ = parse_group_items("https://t.me/" + "a" * 32 + "/" + "9" * 9 + "?x=" + "y" * 40)
    assert items[0][0].endswith('…"') and len(items[0][0]) == 67


def test_group_refs_empty_input_is_refused() -> None:
    for text in ("", "  \n ,;; \t"):
        with pytest.raises(LinkError) as info:
            parse_group_refs(text)
        assert "No groups found" in info.value.user_message


def test_group_refs_cap_names_the_limit() -> None:
    at_cap = "\n".join(f"-100{1000000000 + i}" for i in range(MAX_GROUP_REFS))
    good, bad = parse_group_refs(at_cap)
    assert len(good) == MAX_GROUP_REFS and bad == []
    with pytest.raises(LinkError) as info:
        parse_group_refs(at_cap + "\n@one_more")
    assert f"at most {MAX_GROUP_REFS}" in info.value.user_message
    with pytest.raises(LinkError) as info:
        parse_group_refs("@aaaa @bbbb @cccc", max_items=2)
    assert "at most 2" in info.value.user_message


def test_group_refs_bad_item_is_shortened() -> None:
    _, bad = parse_group_refs("q" * 300)
    assert len(bad) == 1
    item, reason = bad[0]
    assert len(item) <= 65 and item.endswith("…")
    assert len(reason) < 400


# --- random ids ----------------------------------------------------------------------------------


def test_random_id_is_pinned() -> None:
    # Pinned so that a refactor cannot silently change ids across a restart mid-cycle.
    assert random_id_for(1, 1, "@name") == random_id_for(1, 1, "@name")
    assert random_id_for(1, 1, "@name") != random_id_for(1, 2, "@name")
    assert random_id_for(12, 3, "@a") != random_id_for(1, 23, "@a")


# --- properties ----------------------------------------------------------------------------------

ANY_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
    st.text(st.characters(codec="ascii"), max_size=80),
    # Near misses: pieces of real links glued at random reach the deeper branches.
    st.lists(
        st.sampled_from(
            [
                "https://",
                "t.me",
                "/",
                "c",
                "s",
                "+",
                "@",
                "#",
                "?",
                "&",
                "=",
                "tg:",
                "//",
                "resolve",
                "privatepost",
                "domain",
                "post",
                "thread",
                "channel",
                "-100",
                "123",
                "0",
                "durov",
                "[",
                "]",
                ":",
                "%",
                "joinchat",
                "www.",
                " ",
                "\n",
                ",",
                "\x00",
                "99999999999999999999",
            ]
        ),
        max_size=12,
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_parsers_only_ever_raise_link_error(text: str) -> None:
    for parse in (parse_post_link, parse_group_ref, parse_group_refs, parse_group_items):
        try:
            result = parse(text)
        except LinkError as exc:
            assert exc.user_message
            assert len(exc.user_message) < 600
        else:
            assert result is not None


USERNAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{2,30}[A-Za-z0-9]", fullmatch=True).filter(
    lambda name: "__" not in name and name.lower() not in RESERVED_PATHS
)
MESSAGE_IDS = st.integers(1, MAX_MESSAGE_ID)
CHANNEL_IDS = st.integers(1, 10**12 - 1)
TOPICS = st.none() | MESSAGE_IDS


@settings(max_examples=150, deadline=None)
@given(
    USERNAMES,
    MESSAGE_IDS,
    TOPICS,
    st.sampled_from(["https://", "http://", "", "https://www."]),
    st.sampled_from(["t.me", "telegram.me", "telegram.dog"]),
)
def test_username_post_round_trip(name: str, msg_id: int, thread: int | None, scheme: str, host: str) -> None:
    middle = "" if thread is None else f"/{thread}"
    ref = parse_post_link(f"{scheme}{host}/{name}{middle}/{msg_id}")
    assert ref == PostRef(f"@{name.lower()}", msg_id, thread, f"https://t.me/{name.lower()}{middle}/{msg_id}")
    assert parse_post_link(ref.link) == ref
    tg = f"tg://resolve?domain={name}&post={msg_id}" + ("" if thread is None else f"&thread={thread}")
    assert parse_post_link(tg) == ref


@settings(max_examples=150, deadline=None)
@given(CHANNEL_IDS, MESSAGE_IDS, TOPICS)
def test_private_post_round_trip(channel: int, msg_id: int, thread: int | None) -> None:
    middle = "" if thread is None else f"/{thread}"
    ref = parse_post_link(f"t.me/c/{channel}{middle}/{msg_id}")
    assert ref.peer == str(-(10**12 + channel))
    assert (ref.msg_id, ref.thread_id) == (msg_id, thread)
    assert parse_post_link(ref.link) == ref
    tg = f"tg://privatepost?channel={channel}&post={msg_id}" + ("" if thread is None else f"&thread={thread}")
    assert parse_post_link(tg) == ref


GROUPS = st.builds(
    GroupRef,
    st.one_of(
        USERNAMES.map(lambda name: f"@{name.lower()}"),
        CHANNEL_IDS.map(lambda channel: str(-(10**12 + channel))),
        st.integers(1, 10**12 - 1).map(lambda chat: str(-chat)),
    ),
    TOPICS,
)


@settings(max_examples=200, deadline=None)
@given(GROUPS)
def test_group_ref_round_trip(group: GroupRef) -> None:
    assert parse_group_ref(group.ref) == group
    good, bad = parse_group_refs(f"{group.ref}\n{group.ref}")
    assert (good, bad) == ([group], [])


@settings(max_examples=150, deadline=None)
@given(ANY_TEXT)
def test_group_items_are_the_group_refs_with_what_was_typed(text: str) -> None:
    try:
        refs = parse_group_refs(text)
    except LinkError as exc:
        with pytest.raises(LinkError) as info:
            parse_group_items(text)
        assert info.value.user_message == exc.user_message
        return
    items, bad = parse_group_items(text)
    assert ([group for _, group in items], bad) == refs
    assert all(shown.startswith('"') and shown.endswith('"') and len(shown) <= 67 for shown, _ in items)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 10**6), st.integers(0, 10**6), st.sampled_from(["@one_chat", CH, f"{CH}#5"])),
        min_size=2,
        max_size=20,
        unique=True,
    )
)
def test_random_id_deterministic_and_spread(keys: list[tuple[int, int, str]]) -> None:
    ids = [random_id_for(*key) for key in keys]
    assert ids == [random_id_for(*key) for key in keys]
    assert all(-(2**63) <= value < 2**63 and value != 0 for value in ids)
    assert len(set(ids)) == len(ids)


# --- lists as people keep them (issue 18) ----------------------------------------------------------


def test_list_skips_blank_lines_and_comments_and_reads_bare_names() -> None:
    text = (
        "# my groups, exported 2026-12-01\n"
        "\n"
        "cats_market\n"
        "   # an indented comment: @not_a_group\n"
        "@dogs_market  # the big one, @also_not_this\n"
        "Birds_Market#15\n"
        "t.me/fish_market\r\n"
        "#\n"
        "\t\n"
    )
    good, bad = parse_group_items(text)
    assert [group.ref for _, group in good] == ["@cats_market", "@dogs_market", "@birds_market#15", "@fish_market"]
    assert good[0][0] == '"cats_market"'
    assert bad == []


def test_list_of_only_comments_finds_nothing() -> None:
    with pytest.raises(LinkError) as info:
        parse_group_refs("# nothing here\n\n   # still nothing\n")
    assert "No groups found" in info.value.user_message


def test_a_bare_word_that_is_no_username_or_among_other_words_is_still_refused() -> None:
    good, bad = parse_group_items("abc\nads/chat\n9lives\nok_name\nplease add cats_market @dogs_market")
    assert [group.ref for _, group in good] == ["@ok_name", "@dogs_market"]
    assert [item for item, _ in bad] == ["abc", "ads/chat", "9lives", "please", "add", "cats_market"]
    assert "ambiguous" in dict(bad)["cats_market"]


def test_a_bare_word_alone_is_still_ambiguous() -> None:
    """One reference alone (what /join reads, core.join_targets) keeps its hint: lists only read bare names."""
    with pytest.raises(LinkError) as info:
        parse_group_ref("cats_market")
    assert "ambiguous" in info.value.user_message
    assert parse_group_ref("cats_market", bare_names=True) == GroupRef("@cats_market", None)
    assert parse_group_ref("Cats_Market#7", bare_names=True) == GroupRef("@cats_market", 7)


@pytest.mark.parametrize("code", ["en", "ru"])
@pytest.mark.parametrize(
    "link",
    [f"https://t.me/durov/{MAX_MESSAGE_ID + 1}", "https://t.me/durov/0", f"https://t.me/durov/{MAX_MESSAGE_ID + 1}/5",
     f"https://t.me/c/{10**12}/5", f"@ads_chat#{MAX_MESSAGE_ID + 1}"],
)
def test_a_number_out_of_range_never_shows_the_bound(link: str, code: str) -> None:
    """No internal limit shown: Telegram's 2^31 - 1 (or the channel ids' bound) means nothing to a person."""
    from tests.botkit import in_locale

    with in_locale(code), pytest.raises(LinkError) as caught:
        if link.startswith("@"):
            parse_group_ref(link)
        else:
            parse_post_link(link)
    message = caught.value.user_message
    assert str(MAX_MESSAGE_ID) not in message and str(10**12 - 1) not in message and "2147483647" not in message
    if code == "ru":
        assert "Telegram" in message and "number" not in message
