"""What an admin may make sessions join: a public chat by its username, or the chat of an invite link.

``core.group_refs`` refuses invite links as *groups* (a customer's group is one their sessions are already
in); joining is the one place they are read, and only for an admin (``pool.joins``). Accepted:

* public: ``@name``, ``t.me/name`` (any form ``core.group_refs.parse_group_ref`` reads as a username; a
  topic or message number after it is ignored: one joins the chat);
* invite: ``t.me/+<hash>``, ``t.me/joinchat/<hash>``, ``tg://join?invite=<hash>``, ``+<hash>``.

Refused with a reason (``LinkError``, worded in ``core.texts.joins``): numeric ids and ``t.me/c/``
links (a chat is joined by name or invite, never by id), phone-number links (``t.me/+<digits>``),
folder links, anything else. Invite hashes are case-sensitive and kept as typed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from core.errors import LinkError
from core.group_refs import parse_group_ref
from core.texts import joins as texts
from core.texts import links as link_texts

logger = logging.getLogger(__name__)

__all__ = ["JoinTarget", "parse_join_target"]

_MAX_INPUT_CHARS = 512
_ECHO_CHARS = 64
_EDGE_CHARS = "<>\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
_HOST_RE = re.compile(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/", re.IGNORECASE)
_HASH_RE = re.compile(r"[A-Za-z0-9_-]{6,64}")
_USERNAME_RE = re.compile(r"[a-z][a-z0-9_]{3,31}")


@dataclass(frozen=True)
class JoinTarget:
    """A public chat's username (lower case, no '@') or an invite's hash: exactly one of the two."""

    username: str | None = None
    invite_hash: str | None = None

    def __post_init__(self) -> None:
        if (self.username is None) == (self.invite_hash is None):
            raise ValueError("a join target is a username or an invite hash")

    @property
    def is_invite(self) -> bool:
        return self.invite_hash is not None

    @property
    def ref(self) -> str:
        """How the queue stores it and ``AccountPort.join`` takes it: '@name' or '+<hash>'."""
        return f"+{self.invite_hash}" if self.invite_hash is not None else f"@{self.username}"

    @property
    def link(self) -> str:
        """The t.me link an admin can open."""
        return f"https://t.me/{self.ref}" if self.is_invite else f"https://t.me/{self.username}"

    @classmethod
    def from_ref(cls, ref: str) -> JoinTarget:
        """``ref`` back to a target (a stored one; ValueError for anything else)."""
        if ref.startswith("+") and _HASH_RE.fullmatch(ref[1:]):
            return cls(invite_hash=ref[1:])
        if ref.startswith("@") and _USERNAME_RE.fullmatch(ref[1:]):
            return cls(username=ref[1:])
        raise ValueError(f"not a join target: {ref!r}")


def parse_join_target(text: str) -> JoinTarget:
    """Parse what an admin typed; raise ``LinkError`` with a reason (and the accepted forms) otherwise."""
    try:
        return _parse(text)
    except LinkError:
        raise
    except Exception as exc:
        logger.debug("join target parser failed unexpectedly", exc_info=True)
        raise LinkError(texts.join_target_unreadable(_echo(text))) from exc


def _parse(text: object) -> JoinTarget:
    if not isinstance(text, str):
        raise LinkError(texts.JOIN_TARGET_NOT_TEXT())
    s = text
    while (stripped := s.strip().strip(_EDGE_CHARS)) != s:
        s = stripped
    if not s:
        raise LinkError(texts.NO_JOIN_TARGET())
    if len(s) > _MAX_INPUT_CHARS:
        raise LinkError(texts.join_target_too_long(len(s)))
    invite = _invite_hash(s)
    if invite is not None:
        return JoinTarget(invite_hash=invite)
    group = parse_group_ref(s)  # its own reasons for what is no chat at all
    if not group.peer.startswith("@"):
        raise LinkError(texts.join_by_id(_echo(s)))
    return JoinTarget(username=group.peer[1:])


def _invite_hash(s: str) -> str | None:
    """The hash when ``s`` is written as an invite; None when it is no invite form at all."""
    host = _HOST_RE.match(s)
    if s.startswith("+"):
        raw = s[1:]
    elif host is not None:
        path = re.split(r"[?#]", s[host.end() :], maxsplit=1)[0].rstrip("/")
        if path.startswith("+"):
            raw = path[1:]
        elif path.lower().startswith("joinchat/"):
            raw = path[len("joinchat/") :]
        elif path.lower() == "joinchat" or path.lower().startswith("addlist"):
            raise LinkError(texts.not_joinable(_echo(s)))
        else:
            return None
    elif s.lower().startswith("tg:"):
        parts = urlsplit(s)
        action = (parts.netloc or parts.path).strip("/").lower()
        if action == "addlist":
            raise LinkError(texts.not_joinable(_echo(s)))
        if action != "join":
            return None
        raw = dict(parse_qsl(parts.query, keep_blank_values=True, max_num_fields=10)).get("invite", "")
    else:
        return None
    if raw.isdigit():
        raise LinkError(texts.phone_link(_echo(s)))
    if not _HASH_RE.fullmatch(raw):
        raise LinkError(texts.bad_invite(_echo(s)))
    return raw


def _echo(text: object) -> str:
    if not isinstance(text, str):
        return link_texts.echo(None)
    cut = text[:_ECHO_CHARS]
    shown = "".join(ch if ch.isprintable() or ch == " " else "?" for ch in cut)
    return link_texts.echo(shown + ("…" if len(text) > _ECHO_CHARS else ""))
