"""Chat ids and the pieces both reference parsers share (``core.links`` for posts, ``core.group_refs``
for groups): Telegram's bounds, the t.me paths that are features, URL and ``tg://`` splitting, usernames,
numbers, and the refusals both raise.

Peers are strings the engine can resolve: ``'@name'`` (lower-cased; usernames are case-insensitive)
or a marked numeric id. A private channel's ``t.me/c/<id>`` maps to ``-(10**12 + id)``, which is the
familiar ``-100<id>`` for every real (10-digit) channel id; this is how Telethon's ``resolve_id``
reads marked ids too. A refusal quotes what was typed through ``echo``: shortened, invisible
characters shown as ``?``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from core.errors import LinkError
from core.ports import PeerKind
from core.texts import links as link_texts

MAX_MESSAGE_ID = 2**31 - 1
# Marked ids: basic groups are -1..-(10**12 - 1), channels -(10**12 + 1)..-(2 * 10**12 - 1);
# anything past that is not a chat a customer can name (secret chats live beyond 2 * 10**12).
CHANNEL_BASE = 10**12
"""A channel's (or supergroup's) marked id is '-100' + its bare id: -(CHANNEL_BASE + id)."""
MAX_CHANNEL_ID = 10**12 - 1

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
INVITE_PATHS = frozenset({"joinchat", "addlist"})

HOST_RE = re.compile(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)(?=[/?#]|$)", re.IGNORECASE)
SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
ID_RE = re.compile(r"[0-9]{1,19}")
USERNAME_CHARS_RE = re.compile(r"[A-Za-z0-9_]+")
# Characters that copy-paste drags along around a link: angle brackets and invisible marks.
_EDGE_CHARS = "<>\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"


def marked_id(kind: PeerKind, bare_id: int) -> str:
    """How a chat is stored and typed: ``'-100<id>'`` for a channel or supergroup, ``'-<id>'`` for a
    basic group."""
    return str(-(CHANNEL_BASE + bare_id)) if kind == "channel" else str(-bare_id)


def unmark(marked: int) -> tuple[PeerKind, int]:
    """The kind and bare id a marked id stands for (``marked_id`` backwards)."""
    if marked <= -CHANNEL_BASE:
        return "channel", -marked - CHANNEL_BASE
    return "chat", -marked


# --- shared pieces -------------------------------------------------------------------------------


def clean(text: object, what: str) -> str:
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


def split_url(s: str) -> UrlParts:
    url = s if SCHEME_RE.match(s) else f"https://{s}"
    parts = urlsplit(url)
    return UrlParts(parts.path, parts.query, parts.fragment)


@dataclass(frozen=True)
class UrlParts:
    path: str
    query: str
    fragment: str


def segments(path: str, s: str) -> list[str]:
    path = path.removeprefix("/").removesuffix("/")
    if not path:
        return []
    segs = path.split("/")
    if any(not seg for seg in segs):
        raise LinkError(link_texts.empty_part(echo(s)))
    return segs


def query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True, max_num_fields=50)


def split_tg(s: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(s)
    action = (parts.netloc or parts.path).lower()
    if parts.netloc and parts.path not in ("", "/"):
        action = f"{action}{parts.path}"
    params: dict[str, str] = {}
    for key, value in query_pairs(parts.query):
        key = key.lower()
        if key in params and params[key] != value:
            raise LinkError(link_texts.parameter_twice(echo(s), shorten(key)))
        params[key] = value
    return action, params


def username_peer(name: str, s: str) -> str:
    problem = username_problem(name)
    if problem is not None:
        raise LinkError(link_texts.bad_username(echo(s), echo(name), problem))
    return f"@{name.lower()}"


def username_problem(name: str) -> str | None:
    """Why ``name`` breaks Telegram's username rules, or None if it is fine."""
    if not name:
        return link_texts.USERNAME_EMPTY()
    if not USERNAME_CHARS_RE.fullmatch(name):
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
    if not ID_RE.fullmatch(raw):
        raise LinkError(link_texts.not_a_number(echo(s), what, echo(raw)))
    value = int(raw)
    if not 1 <= value <= highest:
        raise LinkError(link_texts.number_out_of_range(echo(s), what))
    return value


def message_id(raw: str, s: str) -> int:
    return _parse_positive(raw, s, link_texts.MESSAGE_NUMBER, MAX_MESSAGE_ID)


def topic_id(raw: str, s: str) -> int:
    return _parse_positive(raw, s, link_texts.TOPIC_NUMBER, MAX_MESSAGE_ID)


def channel_id(raw: str, s: str) -> int:
    return _parse_positive(raw, s, link_texts.CHANNEL_NUMBER, MAX_CHANNEL_ID)


def channel_peer(channel_id: int) -> str:
    return marked_id("channel", channel_id)


def shorten(text: str) -> str:
    """``text`` made safe to display: control/invisible characters replaced, cut to ~64 chars."""
    cut = text[:_ECHO_CHARS]
    shown = "".join("?" if _is_unprintable(ch) else ch for ch in cut)
    return shown + "…" if len(text) > _ECHO_CHARS else shown


def _is_unprintable(ch: str) -> bool:
    # Covers control, format (bidi overrides, zero-width), surrogate, private-use and unassigned.
    return not ch.isprintable() and ch != " "


def echo(text: object) -> str:
    return link_texts.echo(shorten(text) if isinstance(text, str) else None)


def needs_message_number(s: str) -> LinkError:
    return LinkError(link_texts.needs_message_number(echo(s)))


def post_invite_error(s: str) -> LinkError:
    return LinkError(link_texts.post_invite(echo(s)))


def never_joins_error(s: str) -> LinkError:
    return LinkError(link_texts.never_joins(echo(s)))


def post_as_group_error(s: str) -> LinkError:
    return LinkError(link_texts.post_as_group(echo(s)))


def service_link_error(s: str, head: str, *, post: bool) -> LinkError:
    return LinkError(link_texts.service_link(echo(s), shorten(head), post=post))


def too_many_parts(s: str) -> LinkError:
    return LinkError(link_texts.too_many_parts(echo(s)))
