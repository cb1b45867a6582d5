"""Parse the groups customers send: one reference (``parse_group_ref``) or a list as people keep one
(``parse_group_items``, ``list_items``: a message or a ``.txt`` file).

Every malformed input raises ``LinkError`` whose ``user_message`` says what was wrong and shows an
accepted example (the wording is ``core.texts.links``). Nothing else escapes, whatever the text: each
public parser is wrapped as a whole. A group is ``'@name'`` or a marked id, with a forum topic or not
(``GroupRef.ref``: ``'@name#5'``); the pieces shared with post links are ``core.link_parts``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.errors import LinkError
from core.link_parts import (
    CHANNEL_BASE,
    HOST_RE,
    INVITE_PATHS,
    MAX_CHANNEL_ID,
    RESERVED_PATHS,
    SCHEME_RE,
    channel_id,
    channel_peer,
    clean,
    echo,
    never_joins_error,
    post_as_group_error,
    query_pairs,
    segments,
    service_link_error,
    shorten,
    split_tg,
    split_url,
    topic_id,
    username_peer,
    username_problem,
)
from core.texts import links as link_texts

logger = logging.getLogger(__name__)

__all__ = ["MAX_GROUP_REFS", "GroupRef", "list_items", "parse_group_items", "parse_group_ref", "parse_group_refs"]

MAX_GROUP_REFS = 500
_ITEM_RE = re.compile(r"[^\s,;]+")
_MARKED_ID_RE = re.compile(r"-?[0-9]{1,19}")


@dataclass(frozen=True)
class GroupRef:
    """A destination chat, optionally one forum topic of it."""

    peer: str
    topic_id: int | None

    @property
    def ref(self) -> str:
        """The normalised unique key: ``'@name'``, ``'-100123'``, ``'@name#5'``, ``'-100123#5'``."""
        return self.peer if self.topic_id is None else f"{self.peer}#{self.topic_id}"


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
        raise LinkError(link_texts.group_unreadable(echo(text))) from exc


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
                shown = shorten(item)
                if shown not in seen_bad:
                    seen_bad.add(shown)
                    bad.append((shown, parsed.user_message))
            elif parsed.ref not in seen:
                seen.add(parsed.ref)
                good.append((link_texts.echo(shorten(item)), parsed))
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


# --- groups --------------------------------------------------------------------------------------


def _parse_group(text: str, *, bare_names: bool = False) -> GroupRef:
    s = clean(text, link_texts.A_GROUP)
    if any(ch.isspace() for ch in s):
        raise LinkError(link_texts.group_has_spaces(echo(s)))
    if s.lower().startswith("tg:"):
        return _group_from_tg(s)
    if HOST_RE.match(s):
        return _group_from_url(s)
    if SCHEME_RE.match(s):
        raise LinkError(link_texts.group_not_telegram(echo(s)))
    if s.startswith("+"):
        raise never_joins_error(s)
    if s.startswith("@"):
        name, sep, topic = s[1:].partition("#")
        return GroupRef(username_peer(name, s), topic_id(topic, s) if sep else None)
    if s[0] == "-" or s[0].isdigit():
        number, sep, topic = s.partition("#")
        return GroupRef(_marked_group_peer(number, s), topic_id(topic, s) if sep else None)
    name, sep, topic = s.partition("#")
    if username_problem(name) is None:
        if bare_names:
            return GroupRef(f"@{name.lower()}", topic_id(topic, s) if sep else None)
        raise LinkError(link_texts.bare_word(echo(s), shorten(s)))
    raise LinkError(link_texts.not_a_group(echo(s)))


def _group_from_url(s: str) -> GroupRef:
    parts = split_url(s)
    query_keys = {key.lower() for key, _ in query_pairs(parts.query)}
    segs = segments(parts.path, s)
    if not segs:
        raise LinkError(link_texts.group_no_name(echo(s)))
    head = segs[0].lower()
    if head.startswith("+") or head in INVITE_PATHS:
        raise never_joins_error(s)
    if query_keys & {"thread", "topic", "comment", "single"}:
        raise post_as_group_error(s)
    if parts.fragment:
        raise LinkError(link_texts.group_fragment(echo(s)))
    if head == "c":
        if len(segs) == 1:
            raise LinkError(link_texts.group_needs_number(echo(s)))
        if len(segs) > 3:
            raise post_as_group_error(s)
        peer = channel_peer(channel_id(segs[1], s))
        return GroupRef(peer, topic_id(segs[2], s) if len(segs) == 3 else None)
    if head == "s":
        if len(segs) == 1:
            raise LinkError(link_texts.group_no_name_after_s(echo(s)))
        if len(segs) > 2:
            raise post_as_group_error(s)
        return GroupRef(username_peer(segs[1], s), None)
    if head in RESERVED_PATHS:
        raise service_link_error(s, head, post=False)
    peer = username_peer(segs[0], s)
    if len(segs) > 2:
        raise post_as_group_error(s)
    return GroupRef(peer, topic_id(segs[1], s) if len(segs) == 2 else None)


def _group_from_tg(s: str) -> GroupRef:
    action, params = split_tg(s)
    if action in {"join", "addlist"}:
        raise never_joins_error(s)
    if action == "privatepost" or (action == "resolve" and "post" in params):
        raise post_as_group_error(s)
    if action != "resolve" or "domain" not in params:
        raise LinkError(link_texts.app_link_not_group(echo(s)))
    topic = params.get("thread", params.get("topic"))
    return GroupRef(username_peer(params["domain"], s), None if topic is None else topic_id(topic, s))


def _marked_group_peer(number: str, s: str) -> str:
    if not _MARKED_ID_RE.fullmatch(number):
        raise LinkError(link_texts.group_id_not_digits(echo(s)))
    value = int(number)
    if value >= 0:
        raise LinkError(link_texts.group_id_positive(echo(s)))
    magnitude = -value
    if magnitude == CHANNEL_BASE or magnitude > CHANNEL_BASE + MAX_CHANNEL_ID:
        raise LinkError(link_texts.group_id_out_of_range(echo(s)))
    return str(value)
