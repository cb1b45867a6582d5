"""core.join_targets: what an admin may join (public chats, invite links), what is refused and why, and
properties over arbitrary text (like tests/test_links.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import LinkError
from core.group_refs import parse_group_ref
from core.join_targets import JoinTarget, parse_join_target
from core.link_parts import RESERVED_PATHS

HASH = "AbCd-EF_123xyz"

ACCEPTED: list[tuple[str, JoinTarget]] = [
    ("@Cats_Market", JoinTarget(username="cats_market")),
    ("t.me/cats_market", JoinTarget(username="cats_market")),
    ("https://t.me/Cats_Market/", JoinTarget(username="cats_market")),
    ("https://telegram.me/cats_market", JoinTarget(username="cats_market")),
    ("tg://resolve?domain=cats_market", JoinTarget(username="cats_market")),
    ("https://t.me/cats_market/12", JoinTarget(username="cats_market")),  # a topic: the chat is joined
    ("@cats_market#5", JoinTarget(username="cats_market")),
    (f"https://t.me/+{HASH}", JoinTarget(invite_hash=HASH)),
    (f"t.me/+{HASH}?utm=x", JoinTarget(invite_hash=HASH)),
    (f"https://t.me/joinchat/{HASH}", JoinTarget(invite_hash=HASH)),
    (f"http://www.telegram.me/JoinChat/{HASH}/", JoinTarget(invite_hash=HASH)),
    (f"tg://join?invite={HASH}", JoinTarget(invite_hash=HASH)),
    (f"+{HASH}", JoinTarget(invite_hash=HASH)),
    (f"  <https://t.me/+{HASH}>\u200b\n", JoinTarget(invite_hash=HASH)),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted(text: str, expected: JoinTarget) -> None:
    target = parse_join_target(text)
    assert target == expected
    assert JoinTarget.from_ref(target.ref) == target
    assert parse_join_target(target.link) == target


def test_invite_hashes_keep_their_case_and_refs_say_which_kind() -> None:
    invite = parse_join_target("t.me/+AAAAAFFszQPyPEZ7wgxLtd")
    assert invite.invite_hash == "AAAAAFFszQPyPEZ7wgxLtd" and invite.is_invite
    assert invite.ref == "+AAAAAFFszQPyPEZ7wgxLtd" and invite.link == "https://t.me/+AAAAAFFszQPyPEZ7wgxLtd"
    public = parse_join_target("@Durov_Chat")
    assert public.ref == "@durov_chat" and not public.is_invite and public.link == "https://t.me/durov_chat"
    with pytest.raises(ValueError):
        JoinTarget()
    with pytest.raises(ValueError):
        JoinTarget(username="a_chat", invite_hash=HASH)
    for ref in ("-1001234567890", "+ab", "@1abc", "name"):
        with pytest.raises(ValueError):
            JoinTarget.from_ref(ref)


REFUSED: list[tuple[str, str]] = [
    ("-1001234567890", "by its @username or an invite link"),
    ("https://t.me/c/1234567890", "by its @username or an invite link"),
    ("https://t.me/+15551234567", "phone number link"),
    ("+15551234567", "phone number link"),
    ("https://t.me/+ab", "not a valid invite link"),
    ("https://t.me/joinchat/ab!cd", "not a valid invite link"),
    ("tg://join?invite=", "not a valid invite link"),
    ("https://t.me/joinchat", "not a group to join"),
    ("https://t.me/addlist/AbCdEf123456", "not a group to join"),
    ("tg://addlist?slug=AbCdEf123456", "not a group to join"),
    ("", "No group to join"),
    ("   ", "No group to join"),
    ("x" * 600, "too long"),
    ("https://example.com/cats", "not a Telegram link"),
    ("cats_market", "cats_market"),  # a bare word: core.group_refs's own hint
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(LinkError) as info:
        parse_join_target(text)
    assert reason in info.value.user_message


def test_non_text_is_a_link_error() -> None:
    for value in (None, 5, b"@cats_market"):
        with pytest.raises(LinkError):
            parse_join_target(value)  # type: ignore[arg-type]


def test_groups_never_accept_invites_but_joins_do() -> None:
    """core.group_refs keeps refusing invite links as a customer's groups: joining is the admin's alone."""
    with pytest.raises(LinkError):
        parse_group_ref(f"https://t.me/+{HASH}")
    assert parse_join_target(f"https://t.me/+{HASH}").is_invite


# --- properties ----------------------------------------------------------------------------------------

NEAR_MISSES = st.lists(
    st.sampled_from(
        ["https://", "t.me", "/", "+", "@", "joinchat", "addlist", "tg:", "//", "join", "?", "invite", "=",
         "resolve", "domain", "AbCdEf", "123456", "-", "_", "c", "#", "[", "%", " ", "\x00", "www."]
    ),
    max_size=12,
).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=200), st.text(st.characters(codec="ascii"), max_size=80), NEAR_MISSES)


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_only_ever_a_target_or_a_link_error(text: str) -> None:
    try:
        target = parse_join_target(text)
    except LinkError as exc:
        assert exc.user_message and len(exc.user_message) < 600
    else:
        assert (target.username is None) != (target.invite_hash is None)
        assert JoinTarget.from_ref(target.ref) == target


USERNAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{2,30}[A-Za-z0-9]", fullmatch=True).filter(
    lambda name: "__" not in name and name.lower() not in RESERVED_PATHS
)
HASHES = st.from_regex(r"[A-Za-z0-9_-]{6,64}", fullmatch=True).filter(lambda h: not h.isdigit())


@settings(max_examples=150, deadline=None)
@given(USERNAMES, st.sampled_from(["@{}", "t.me/{}", "https://t.me/{}", "https://telegram.dog/{}/", "tg://resolve?domain={}"]))
def test_public_round_trip(name: str, form: str) -> None:
    target = parse_join_target(form.format(name))
    assert target == JoinTarget(username=name.lower())


@settings(max_examples=150, deadline=None)
@given(HASHES, st.sampled_from(["+{}", "t.me/+{}", "https://t.me/joinchat/{}", "tg://join?invite={}"]))
def test_invite_round_trip(invite_hash: str, form: str) -> None:
    target = parse_join_target(form.format(invite_hash))
    assert target == JoinTarget(invite_hash=invite_hash)
    assert parse_join_target(target.link) == target
