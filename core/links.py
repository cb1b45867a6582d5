"""Parse what customers paste: the link of the post to forward and the groups to forward it to.

Every malformed input raises ``LinkError`` whose ``user_message`` says what was wrong and shows an
accepted example (the wording is ``core.texts.errors``). Nothing else escapes, whatever the text:
``urlsplit`` and ``int`` raise ``ValueError`` on odd input, so each public parser is wrapped as a whole.

Peers are strings the engine can resolve: ``'@name'`` (lower-cased; usernames are case-insensitive)
or a marked numeric id. A private channel's ``t.me/c/<id>`` maps to ``-(10**12 + id)``, which is the
familiar ``-100<id>`` for every real (10-digit) channel id; this is how Telethon's ``resolve_id``
reads marked ids too.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from core.errors import LinkError
from core.ports import PeerKind
from core.texts import links as link_texts

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_GROUP_REFS",
    "MAX_MESSAGE_ID",
    "RESERVED_PATHS",
    "GroupRef",
    "PostRef",
    "list_items",
    "parse_group_items",
    "parse_group_ref",
    "parse_group_refs",
    "parse_post_link",
    "random_id_for",
]

MAX_MESSAGE_ID = 2**31 - 1
MAX_GROUP_REFS = 500
# Marked ids: basic groups are -1..-(10**12 - 1), channels -(10**12 + 1)..-(2 * 10**12 - 1);
# anything past that is not a chat a customer can name (secret chats live beyond 2 * 10**12).
CHANNEL_BASE = 10**12
"""A channel's (or supergroup's) marked id is '-100' + its bare id: -(CHANNEL_BASE + id)."""
_MAX_CHANNEL_ID = 10**12 - 1

_MAX_INPUT_CHARS = 2048
_ECHO_CHARS = 64

# t.me paths that are Telegram features, not usernames: a link under them is never a post or group.
RESERVED_PATHS = frozenset(
    {
        "addemoji",
        "addlist",
        "addstickers",
        "addtheme",
        "auth",
        "bg",
        "boost",
        "confirmphone",
        "contact",
        "giftcode",
        "invoice",
        "iv",
        "joinchat",
        "login",
        "m",
        "msg",
        "nft",
        "premium_multigift",
        "premium_offer",
        "proxy",
        "setlanguage",
        "share",
        "socks",
    }
)
_INVITE_PATHS = frozenset({"joinchat", "addlist"})

_HOST_RE = re.compile(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)(?=[/?#]|$)", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_ID_RE = re.compile(r"[0-9]{1,19}")
_ITEM_RE = re.compile(r"[^\s,;]+")
_MARKED_ID_RE = re.compile(r"-?[0-9]{1,19}")
_USERNAME_CHARS_RE = re.compile(r"[A-Za-z0-9_]+")
# Characters that copy-paste drags along around a link: angle brackets and invisible marks.
_EDGE_CHARS = "<>\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"


@dataclass(frozen=True)
class PostRef:
    """The message to forward: ``link`` is its canonical https://t.me/... form."""

    peer: str
    msg_id: int
    thread_id: int | None
    link: str


@dataclass(frozen=True)
class GroupRef:
    """A destination chat, optionally one forum topic of it."""

    peer: str
    topic_id: int | None

    @property
    def ref(self) -> str:
        """The normalised unique key: ``'@name'``, ``'-100123'``, ``'@name#5'``, ``'-100123#5'``."""
        return self.peer if self.topic_id is None else f"{self.peer}#{self.topic_id}"


# --- public parsers ------------------------------------------------------------------------------


def parse_post_link(text: str) -> PostRef:
    """Parse one post link; raise ``LinkError`` with a user-facing reason if it is not one."""
    try:
        return _parse_post(text)
    except LinkError:
        raise
    except Exception as exc:
        logger.debug("post link parser failed unexpectedly", exc_info=True)
        raise LinkError(link_texts.post_unreadable(_echo(text))) from exc


def parse_group_ref(text: str, *, bare_names: bool = False) -> GroupRef:
    """Parse one group reference; raise ``LinkError`` with a user-facing reason if it is not one.

    ``bare_names``: a bare word that is a valid username (``cats_market``, ``cats_market#15``) is read
    as that username, the way people keep lists of groups; alone (a join target) it stays refused."""
    try:
        return _parse_group(text, bare_names=bare_names)
    except LinkError:
        raise
    except Exception as exc:
        logger.debug("group reference parser failed unexpectedly", exc_info=True)
        raise LinkError(link_texts.group_unreadable(_echo(text))) from exc


def parse_group_refs(text: str, *, max_items: int = MAX_GROUP_REFS) -> tuple[list[GroupRef], list[tuple[str, str]]]:
    """Parse many references, one per line or separated by spaces, commas or semicolons.

    Returns the good ones (deduplicated by ``ref``, in input order) and ``(item, reason)`` for each
    bad one (``item`` shortened for display). Raises ``LinkError`` only when there is nothing to
    parse or more than ``max_items`` items, so that one typo does not lose a long list.
    """
    good, bad = parse_group_items(text, max_items=max_items)
    return [group for _, group in good], bad


def parse_group_items(
    text: str, *, max_items: int = MAX_GROUP_REFS
) -> tuple[list[tuple[str, GroupRef]], list[tuple[str, str]]]:
    """``parse_group_refs`` keeping, with each good reference, the item as the user wrote it, quoted the
    way the link texts quote input (``core.texts.errors.echo``): what a refusal on what is known of the
    chat quotes (a ``t.me/name/15`` that turns out to be a message link, ``core.destinations``).

    The text is read as people keep lists (``list_items``): blank lines and ``#`` comments are skipped,
    and a bare ``name`` on a line of groups is the username ``@name``."""
    if not isinstance(text, str):
        raise LinkError(link_texts.GROUPS_NOT_TEXT())
    lines: list[list[str]] = []
    count = 0
    for line in _list_lines(text):
        count += len(line)
        if count > max_items:
            raise LinkError(link_texts.too_many_groups(max_items))
        lines.append(line)
    if not count:
        raise LinkError(link_texts.NO_GROUPS_FOUND())

    good: list[tuple[str, GroupRef]] = []
    seen: set[str] = set()
    bad: list[tuple[str, str]] = []
    seen_bad: set[str] = set()
    for line in lines:
        for item, parsed in _parse_line(line):
            if isinstance(parsed, LinkError):
                shown = _shorten(item)
                if shown not in seen_bad:
                    seen_bad.add(shown)
                    bad.append((shown, parsed.user_message))
            elif parsed.ref not in seen:
                seen.add(parsed.ref)
                good.append((link_texts.echo(_shorten(item)), parsed))
    return good, bad


def _parse_line(line: list[str]) -> list[tuple[str, GroupRef | LinkError]]:
    """Each item of one line, parsed. A bare word is a username only on a line of groups (every item on
    it reads as one): on a line with anything else it is prose, refused as ambiguous with the hint."""
    results: list[tuple[str, GroupRef | LinkError]] = []
    for bare_names in (True, False):
        results = []
        for item in line:
            try:
                results.append((item, parse_group_ref(item, bare_names=bare_names)))
            except LinkError as exc:
                results.append((item, exc))
        if not any(isinstance(parsed, LinkError) for _, parsed in results):
            break
    return results


def list_items(text: str) -> Iterator[str]:
    """The items of a list of groups as people write one (a message or a ``.txt`` file): one per line or
    several separated by spaces, commas or semicolons; a blank line is nothing and a ``#`` starts a
    comment that runs to the end of its line (``# my chats``, ``@cats_market  # the big one``). A ``#``
    inside an item is its topic (``@name#15``), not a comment."""
    for line in _list_lines(text):
        yield from line


def _list_lines(text: str) -> Iterator[list[str]]:
    """``list_items`` line by line (lines with no item left out)."""
    for line in text.splitlines():
        items: list[str] = []
        for match in _ITEM_RE.finditer(line):
            item = match.group()
            if item.startswith("#"):
                break
            items.append(item)
        if items:
            yield items


def marked_id(kind: PeerKind, bare_id: int) -> str:
    """How a chat is stored and typed: ``'-100<id>'`` for a channel or supergroup, ``'-<id>'`` for a
    basic group."""
    return str(-(CHANNEL_BASE + bare_id)) if kind == "channel" else str(-bare_id)


def unmark(marked: int) -> tuple[PeerKind, int]:
    """The kind and bare id a marked id stands for (``marked_id`` backwards)."""
    if marked <= -CHANNEL_BASE:
        return "channel", -marked - CHANNEL_BASE
    return "chat", -marked


def random_id_for(campaign_id: int, cycle_no: int, group_ref: str) -> int:
    """A stable non-zero signed 64-bit ``random_id`` for one forward of one cycle to one group.

    Telegram drops a repeated send that reuses a random_id, so a retry after a lost answer cannot
    post twice. ``group_ref`` goes last, so the ``:`` separators keep the three parts apart.
    """
    material = f"adbot-forward-v1:{campaign_id}:{cycle_no}:{group_ref}".encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(material).digest()
    for start in range(0, len(digest), 8):
        value = int.from_bytes(digest[start : start + 8], "big", signed=True)
        if value != 0:
            return value
    return 1  # all 256 bits zero: not going to happen, but the contract says non-zero


# --- posts ---------------------------------------------------------------------------------------


def _parse_post(text: str) -> PostRef:
    s = _clean(text, link_texts.A_POST_LINK)
    if any(ch.isspace() for ch in s):
        raise LinkError(link_texts.post_has_spaces(_echo(s)))
    if s.lower().startswith("tg:"):
        return _post_from_tg(s)
    if _HOST_RE.match(s):
        return _post_from_url(s)
    if _SCHEME_RE.match(s):
        raise LinkError(link_texts.post_not_telegram(_echo(s)))
    if s.startswith("+"):
        raise _post_invite_error(s)
    name = s[1:] if s.startswith("@") else s
    if s.startswith("@") or _username_problem(name) is None:
        raise _needs_message_number(s)
    if _ID_RE.fullmatch(s):
        raise LinkError(link_texts.post_only_number(_echo(s)))
    raise LinkError(link_texts.not_a_post_link(_echo(s)))


def _post_from_url(s: str) -> PostRef:
    parts = _split_url(s)
    segs = _segments(parts.path, s)
    if not segs:
        raise _needs_message_number(s)
    head = segs[0].lower()
    if head.startswith("+") or head in _INVITE_PATHS:
        raise _post_invite_error(s)
    if head == "c":
        channel = _channel_id(segs[1], s) if len(segs) > 1 else None
        if channel is None or len(segs) == 2:
            raise LinkError(link_texts.private_post_needs_numbers(_echo(s)))
        if len(segs) > 4:
            raise _too_many_parts(s)
        return _make_post(
            _channel_peer(channel),
            _message_id(segs[-1], s),
            _topic_id(segs[2], s) if len(segs) == 4 else None,
        )
    if head == "s":
        # /s/ is the web preview of a public channel; it has no topic form.
        if len(segs) < 3:
            raise _needs_message_number(s)
        if len(segs) > 3:
            raise _too_many_parts(s)
        return _make_post(_username_peer(segs[1], s), _message_id(segs[2], s), None)
    if head in RESERVED_PATHS:
        raise _service_link_error(s, head, post=True)
    peer = _username_peer(segs[0], s)
    if len(segs) == 1:
        raise _needs_message_number(s)
    if len(segs) > 3:
        raise _too_many_parts(s)
    return _make_post(
        peer,
        _message_id(segs[-1], s),
        _topic_id(segs[1], s) if len(segs) == 3 else None,
    )


def _post_from_tg(s: str) -> PostRef:
    action, params = _split_tg(s)
    if action in {"join", "addlist"}:
        raise _post_invite_error(s)
    if action == "resolve":
        domain = params.get("domain")
        if domain is None:
            raise LinkError(link_texts.app_link_no_chat(_echo(s)))
        peer = _username_peer(domain, s)
    elif action == "privatepost":
        channel = params.get("channel")
        if channel is None:
            raise LinkError(link_texts.app_link_no_channel(_echo(s)))
        peer = _channel_peer(_channel_id(channel, s))
    else:
        raise LinkError(link_texts.app_link_not_post(_echo(s)))
    post = params.get("post")
    if post is None:
        raise _needs_message_number(s)
    thread = params.get("thread")
    return _make_post(
        peer,
        _message_id(post, s),
        None if thread is None else _topic_id(thread, s),
    )


def _make_post(peer: str, msg_id: int, thread_id: int | None) -> PostRef:
    chat = peer[1:] if peer.startswith("@") else f"c/{-int(peer) - CHANNEL_BASE}"
    topic = "" if thread_id is None else f"/{thread_id}"
    return PostRef(peer=peer, msg_id=msg_id, thread_id=thread_id, link=f"https://t.me/{chat}{topic}/{msg_id}")


def post_from_origin(chat_id: int, username: str | None, msg_id: int) -> PostRef | None:
    """The post a message forwarded from a channel points to (Bot API ``MessageOriginChannel``: the
    channel's marked id, its username when public, the post's id): '@name' for a public channel, the
    marked id for a private one, as a pasted link would give. None when the values are not a channel
    post's (Telegram sends none such; a forged update could)."""
    if not 1 <= msg_id <= MAX_MESSAGE_ID or not -CHANNEL_BASE - _MAX_CHANNEL_ID <= chat_id < -CHANNEL_BASE:
        return None
    if username and _USERNAME_CHARS_RE.fullmatch(username) and 4 <= len(username) <= 32:
        return _make_post(f"@{username.lower()}", msg_id, None)
    return _make_post(str(chat_id), msg_id, None)


# --- groups --------------------------------------------------------------------------------------


def _parse_group(text: str, *, bare_names: bool = False) -> GroupRef:
    s = _clean(text, link_texts.A_GROUP)
    if any(ch.isspace() for ch in s):
        raise LinkError(link_texts.group_has_spaces(_echo(s)))
    if s.lower().startswith("tg:"):
        return _group_from_tg(s)
    if _HOST_RE.match(s):
        return _group_from_url(s)
    if _SCHEME_RE.match(s):
        raise LinkError(link_texts.group_not_telegram(_echo(s)))
    if s.startswith("+"):
        raise _never_joins_error(s)
    if s.startswith("@"):
        name, sep, topic = s[1:].partition("#")
        return GroupRef(_username_peer(name, s), _topic_id(topic, s) if sep else None)
    if s[0] == "-" or s[0].isdigit():
        number, sep, topic = s.partition("#")
        return GroupRef(_marked_group_peer(number, s), _topic_id(topic, s) if sep else None)
    name, sep, topic = s.partition("#")
    if _username_problem(name) is None:
        if bare_names:
            return GroupRef(f"@{name.lower()}", _topic_id(topic, s) if sep else None)
        raise LinkError(link_texts.bare_word(_echo(s), _shorten(s)))
    raise LinkError(link_texts.not_a_group(_echo(s)))


def _group_from_url(s: str) -> GroupRef:
    parts = _split_url(s)
    query_keys = {key.lower() for key, _ in _query_pairs(parts.query)}
    segs = _segments(parts.path, s)
    if not segs:
        raise LinkError(link_texts.group_no_name(_echo(s)))
    head = segs[0].lower()
    if head.startswith("+") or head in _INVITE_PATHS:
        raise _never_joins_error(s)
    if query_keys & {"thread", "topic", "comment", "single"}:
        raise _post_as_group_error(s)
    if parts.fragment:
        raise LinkError(link_texts.group_fragment(_echo(s)))
    if head == "c":
        if len(segs) == 1:
            raise LinkError(link_texts.group_needs_number(_echo(s)))
        if len(segs) > 3:
            raise _post_as_group_error(s)
        peer = _channel_peer(_channel_id(segs[1], s))
        return GroupRef(peer, _topic_id(segs[2], s) if len(segs) == 3 else None)
    if head == "s":
        if len(segs) == 1:
            raise LinkError(link_texts.group_no_name_after_s(_echo(s)))
        if len(segs) > 2:
            raise _post_as_group_error(s)
        return GroupRef(_username_peer(segs[1], s), None)
    if head in RESERVED_PATHS:
        raise _service_link_error(s, head, post=False)
    peer = _username_peer(segs[0], s)
    if len(segs) > 2:
        raise _post_as_group_error(s)
    return GroupRef(peer, _topic_id(segs[1], s) if len(segs) == 2 else None)


def _group_from_tg(s: str) -> GroupRef:
    action, params = _split_tg(s)
    if action in {"join", "addlist"}:
        raise _never_joins_error(s)
    if action == "privatepost" or (action == "resolve" and "post" in params):
        raise _post_as_group_error(s)
    if action != "resolve" or "domain" not in params:
        raise LinkError(link_texts.app_link_not_group(_echo(s)))
    topic = params.get("thread", params.get("topic"))
    return GroupRef(_username_peer(params["domain"], s), None if topic is None else _topic_id(topic, s))


def _marked_group_peer(number: str, s: str) -> str:
    if not _MARKED_ID_RE.fullmatch(number):
        raise LinkError(link_texts.group_id_not_digits(_echo(s)))
    value = int(number)
    if value >= 0:
        raise LinkError(link_texts.group_id_positive(_echo(s)))
    magnitude = -value
    if magnitude == CHANNEL_BASE or magnitude > CHANNEL_BASE + _MAX_CHANNEL_ID:
        raise LinkError(link_texts.group_id_out_of_range(_echo(s)))
    return str(value)


# --- shared pieces -------------------------------------------------------------------------------


def _clean(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise LinkError(link_texts.send_as_text(what))
    s = text
    while True:
        stripped = s.strip().strip(_EDGE_CHARS)
        if stripped == s:
            break
        s = stripped
    if not s:
        raise LinkError(link_texts.empty_input(what))
    if len(s) > _MAX_INPUT_CHARS:
        raise LinkError(link_texts.input_too_long(len(s), what))
    return s


def _split_url(s: str) -> _UrlParts:
    url = s if _SCHEME_RE.match(s) else f"https://{s}"
    parts = urlsplit(url)
    return _UrlParts(parts.path, parts.query, parts.fragment)


@dataclass(frozen=True)
class _UrlParts:
    path: str
    query: str
    fragment: str


def _segments(path: str, s: str) -> list[str]:
    path = path.removeprefix("/").removesuffix("/")
    if not path:
        return []
    segs = path.split("/")
    if any(not seg for seg in segs):
        raise LinkError(link_texts.empty_part(_echo(s)))
    return segs


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True, max_num_fields=50)


def _split_tg(s: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(s)
    action = (parts.netloc or parts.path).lower()
    if parts.netloc and parts.path not in ("", "/"):
        action = f"{action}{parts.path}"
    params: dict[str, str] = {}
    for key, value in _query_pairs(parts.query):
        key = key.lower()
        if key in params and params[key] != value:
            raise LinkError(link_texts.parameter_twice(_echo(s), _shorten(key)))
        params[key] = value
    return action, params


def _username_peer(name: str, s: str) -> str:
    problem = _username_problem(name)
    if problem is not None:
        raise LinkError(link_texts.bad_username(_echo(s), _echo(name), problem))
    return f"@{name.lower()}"


def _username_problem(name: str) -> str | None:
    """Why ``name`` breaks Telegram's username rules, or None if it is fine."""
    if not name:
        return link_texts.USERNAME_EMPTY()
    if not _USERNAME_CHARS_RE.fullmatch(name):
        return link_texts.USERNAME_CHARS()
    if not 4 <= len(name) <= 32:
        return link_texts.USERNAME_LENGTH()
    if not name[0].isalpha():
        return link_texts.USERNAME_FIRST()
    if name.endswith("_"):
        return link_texts.USERNAME_TRAILING_UNDERSCORE()
    if "__" in name:
        return link_texts.USERNAME_DOUBLE_UNDERSCORE()
    return None


def _parse_positive(raw: str, s: str, what: str, highest: int) -> int:
    if not _ID_RE.fullmatch(raw):
        raise LinkError(link_texts.not_a_number(_echo(s), what, _echo(raw)))
    value = int(raw)
    if not 1 <= value <= highest:
        raise LinkError(link_texts.number_out_of_range(_echo(s), what))
    return value


def _message_id(raw: str, s: str) -> int:
    return _parse_positive(raw, s, link_texts.MESSAGE_NUMBER, MAX_MESSAGE_ID)


def _topic_id(raw: str, s: str) -> int:
    return _parse_positive(raw, s, link_texts.TOPIC_NUMBER, MAX_MESSAGE_ID)


def _channel_id(raw: str, s: str) -> int:
    return _parse_positive(raw, s, link_texts.CHANNEL_NUMBER, _MAX_CHANNEL_ID)


def _channel_peer(channel_id: int) -> str:
    return marked_id("channel", channel_id)


def _shorten(text: str) -> str:
    """``text`` made safe to display: control/invisible characters replaced, cut to ~64 chars."""
    cut = text[:_ECHO_CHARS]
    shown = "".join("?" if _is_unprintable(ch) else ch for ch in cut)
    return shown + "…" if len(text) > _ECHO_CHARS else shown


def _is_unprintable(ch: str) -> bool:
    # Covers control, format (bidi overrides, zero-width), surrogate, private-use and unassigned.
    return not ch.isprintable() and ch != " "


def _echo(text: object) -> str:
    return link_texts.echo(_shorten(text) if isinstance(text, str) else None)


def _needs_message_number(s: str) -> LinkError:
    return LinkError(link_texts.needs_message_number(_echo(s)))


def _post_invite_error(s: str) -> LinkError:
    return LinkError(link_texts.post_invite(_echo(s)))


def _never_joins_error(s: str) -> LinkError:
    return LinkError(link_texts.never_joins(_echo(s)))


def _post_as_group_error(s: str) -> LinkError:
    return LinkError(link_texts.post_as_group(_echo(s)))


def _service_link_error(s: str, head: str, *, post: bool) -> LinkError:
    return LinkError(link_texts.service_link(_echo(s), _shorten(head), post=post))


def _too_many_parts(s: str) -> LinkError:
    return LinkError(link_texts.too_many_parts(_echo(s)))
