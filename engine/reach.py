"""Which of a campaign's sessions can post to each of its groups, and why none can.

A session can reach a group when its own dialogs (``storage.memberships``, read by
``engine.discovery``) hold the group's chat with ``can_write``; when the post is forwarded from a
private chat (a ``t.me/c/…`` link), it must also be in that chat, since it addresses the source with its
own access hash too. A group no session of the customer can reach is *unreachable*, for one reason:

    checking           some of the customer's sessions have never had their dialogs read: it may come
    not_member         no session of the customer is in the group (``detail``: "left", "kicked" when
                       their dialogs still list it)
    forbidden          sessions are in it, but none may write there (``detail``: their reasons)
    not_a_group        the chat is a broadcast channel the sessions do not administer
    source_not_member  sessions may write there, but none of them is in the post's private source
    refused            sessions may write there as their dialogs say, but the chat (or the group's topic)
                       refused their posts for good (``storage.refusals``; ``detail``: the reasons)

With several posts in rotation a group's stored state is judged against every post it may carry (reachable
when one of them can go there): a cycle whose post cannot go there leaves it out quietly (``engine.cycle``).
Each group's state is stored on it (``storage.groups.set_reach``), and the customer is told once when a
group becomes unreachable (GROUP_UNREACHABLE, with the reason: not for "checking", which passes by
itself) and once when a group they were told about can be reached again (GROUP_REACHABLE).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from core.link_parts import unmark
from core.ports import NOT_IN_CHAT
from core.states import EventKind
from storage import events, groups, memberships, refusals
from storage.customers import Customer
from storage.db import Connection
from storage.groups import Group
from storage.memberships import ChatRow, ScanTimes
from storage.refusals import Refusal

__all__ = [
    "Assessment",
    "Memberships",
    "Reach",
    "Verdict",
    "assess",
    "needs_recording",
    "private_source",
    "record_reach",
]


class Reach(StrEnum):
    """Why no session of the customer can post to a group (stored as the value)."""

    CHECKING = "checking"
    NOT_MEMBER = "not_member"
    FORBIDDEN = "forbidden"
    NOT_A_GROUP = "not_a_group"
    SOURCE_NOT_MEMBER = "source_not_member"
    REFUSED = "refused"


@dataclass(frozen=True)
class Verdict:
    """Whether a group can be reached: ``reach`` None with the sessions that can post there, or why not."""

    reach: Reach | None
    detail: str | None = None
    writers: tuple[int, ...] = ()


def private_source(customer: Customer) -> str | None:
    """The post's source when it is a private chat ('-100<id>' from a t.me/c link): each session needs
    its own row for it. None for a text post or a public source (resolved by username)."""
    if customer.post_kind != "link" or customer.post_peer is None or customer.post_peer.startswith("@"):
        return None
    return customer.post_peer


_NONE: Mapping[int, ChatRow] = {}


class Memberships:
    """The rows of one campaign's sessions for its chats, found by '@name' or by marked id."""

    def __init__(
        self,
        rows: Iterable[ChatRow],
        session_ids: Sequence[int],
        unread: Iterable[int],
        refused: Iterable[Refusal] = (),
    ) -> None:
        self.session_ids = tuple(session_ids)
        # (peer type, chat id) -> session -> topic (0: the whole chat) -> why it refused that session
        self._refused: dict[tuple[str, int], dict[int, dict[int, str]]] = {}
        for item in refused:
            chat = self._refused.setdefault((item.peer_type, item.chat_id), {})
            chat.setdefault(item.session_id, {})[item.topic_id] = item.reason
        self.unread = frozenset(unread) & frozenset(session_ids)  # dialogs never read
        self._by_id: dict[tuple[str, int], dict[int, ChatRow]] = {}
        # A username names a chat (its id): a session's row of that chat counts even when it was stored
        # without the username (another session's row says which chat the name is).
        self._by_name: dict[str, tuple[str, int]] = {}
        for row in rows:
            key = (row.peer_type, row.chat_id)
            found = self._by_id.get(key)
            if found is None:
                found = self._by_id[key] = {}
            found[row.session_id] = row
            if row.username:
                self._by_name[row.username] = key

    def _key(self, peer: str) -> tuple[str, int] | None:
        if peer.startswith("@"):
            return self._by_name.get(peer[1:].lower())
        try:
            return unmark(int(peer))
        except ValueError:
            return None

    def members(self, peer: str) -> Mapping[int, ChatRow]:
        """Each session's row for the chat ('@name', '-100<id>', '-<id>'; no topic)."""
        key = self._key(peer)
        return _NONE if key is None else self._by_id.get(key, _NONE)

    def refusal(self, session_id: int, ref: str) -> str | None:
        """Why the group ``ref`` (its chat, or its topic) refused this session's posts for good, if it did."""
        peer, _, topic = ref.partition("#")
        key = self._key(peer) if self._refused else None
        if key is None:
            return None
        topics = self._refused.get(key, {}).get(session_id)
        if not topics:
            return None
        return topics.get(0) or (topics.get(int(topic)) if topic.isdigit() else None)

    def row(self, session_id: int, peer: str) -> ChatRow | None:
        """The session's row for the chat: its own peer (access hash) to address it with."""
        return self.members(peer).get(session_id)

    def verdict(self, ref: str, source: str | None = None) -> Verdict:
        """Whether the group ``ref`` can be reached, and by which sessions (in ``session_ids`` order)."""
        members = self.members(ref.partition("#")[0])
        writers = [sid for sid in self.session_ids if sid in members and members[sid].can_write]
        refusals = {sid: refused for sid in writers if (refused := self.refusal(sid, ref)) is not None}
        writers = [sid for sid in writers if sid not in refusals]
        usable = writers
        if source is not None:
            in_source = self.members(source)
            usable = [sid for sid in writers if sid in in_source]
        if usable:
            return Verdict(None, writers=tuple(usable))
        if self.unread:
            return Verdict(Reach.CHECKING)
        if writers:
            return Verdict(Reach.SOURCE_NOT_MEMBER)
        if refusals:
            return Verdict(Reach.REFUSED, ",".join(sorted(set(refusals.values()))))
        rows = [members[sid] for sid in self.session_ids if sid in members]
        present = [r for r in rows if r.why_not not in NOT_IN_CHAT]
        if not present:  # a row that says it left or was removed is no membership
            return Verdict(Reach.NOT_MEMBER, ",".join(sorted({str(r.why_not) for r in rows})) or None)
        why = sorted({r.why_not or "read_only" for r in present})
        if why == ["broadcast"]:
            return Verdict(Reach.NOT_A_GROUP, "broadcast")
        return Verdict(Reach.FORBIDDEN, ",".join(why))

    def verdict_any(self, ref: str, sources: Collection[str | None]) -> Verdict:
        """Whether the group ``ref`` can be reached with at least one of the posts whose (private) sources
        are ``sources``: the sessions that can carry any of them there, or why none can (a reason that is
        not the source's is the same whichever post)."""
        found = [self.verdict(ref, source) for source in sorted(sources, key=lambda s: (s is not None, s or ""))]
        if not found:
            return self.verdict(ref)
        usable = {sid for v in found if v.reach is None for sid in v.writers}
        if usable:
            return Verdict(None, writers=tuple(sid for sid in self.session_ids if sid in usable))
        return found[0]


@dataclass(frozen=True)
class Assessment:
    """A campaign's groups against its sessions' dialogs: the rows, each group's verdict, and when each
    session's dialogs were read."""

    memberships: Memberships
    verdicts: dict[str, Verdict]
    times: dict[int, ScanTimes]
    # Each group's stored reach: against every post it may carry (``assess``'s ``any_of``), so rotation
    # between posts of different sources does not flip it; ``verdicts`` when there is no such choice.
    stored: dict[str, Verdict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.stored:
            self.stored.update(self.verdicts)

    def unreached_since(self, groups: Iterable[Group]) -> float | None:
        """When the newest group no session can reach was added (None: every group is reachable)."""
        return max((g.added_at for g in groups if self.stored[g.ref].reach is not None), default=None)


async def assess(
    conn: Connection, session_ids: Sequence[int], groups: Sequence[Group], source: str | None,
    *, per_group: Mapping[str, str | None] | None = None, any_of: Mapping[str, Collection[str | None]] | None = None,
) -> Assessment:
    """Read what the sessions' dialogs say about the groups (and the private source), in one read.
    ``per_group``: each group's own private source (several posts in rotation), instead of ``source``.
    ``any_of``: the sources of every post each group may carry, for its stored reach (``Assessment.stored``)."""
    sources = {source} if per_group is None else set(per_group.values())
    if any_of is not None:
        sources |= {s for found in any_of.values() for s in found}
    chats = {g.ref.partition("#")[0] for g in groups} | {s for s in sources if s is not None}
    rows, times = await memberships.for_placement(conn, session_ids, chats)
    unread = [sid for sid in session_ids if sid not in times or times[sid].checked_at is None]
    known = Memberships(rows, session_ids, unread, await refusals.for_sessions(conn, session_ids))
    verdicts = {
        g.ref: known.verdict(g.ref, source if per_group is None else per_group.get(g.ref)) for g in groups
    }
    stored = {} if any_of is None else {
        g.ref: known.verdict_any(g.ref, any_of.get(g.ref, ())) if g.ref in any_of else verdicts[g.ref]
        for g in groups
    }
    return Assessment(known, verdicts, times, stored)


def _changed(group: Group, verdict: Verdict) -> bool:
    reach = verdict.reach.value if verdict.reach is not None else None
    if (group.reach, group.reach_detail) != (reach, verdict.detail):
        return True
    # Told about it while it was unreachable, and not yet told it is back (or the other way round).
    return _event_for(group, verdict) is not None


def _event_for(group: Group, verdict: Verdict) -> EventKind | None:
    if verdict.reach is None:
        return EventKind.GROUP_REACHABLE if group.reach_told_at is not None else None
    if verdict.reach is Reach.CHECKING or group.reach_told_at is not None:
        return None
    return EventKind.GROUP_UNREACHABLE


def record_reach(
    customer_id: int, verdicts: Mapping[str, Verdict], now: float
) -> Callable[[Connection], Awaitable[int]]:
    """Store each group's reach where it changed and tell the customer what they must know; the op
    returns how many events it wrote. It reads the groups again inside its transaction, so two
    evaluations at once (a cycle and a refresh the bot asked for) never tell the customer twice."""

    async def op(conn: Connection) -> int:
        told = 0
        for group in await groups.list_for(conn, customer_id):
            verdict = verdicts.get(group.ref)
            if verdict is None or not _changed(group, verdict):
                continue
            reach = verdict.reach.value if verdict.reach is not None else None
            await groups.set_reach(conn, group.id, reach, verdict.detail, now)
            kind = _event_for(group, verdict)
            if kind is EventKind.GROUP_UNREACHABLE:
                await events.add(conn, customer_id, kind, now, group=group.ref, reason=reach, detail=verdict.detail)
                await groups.set_reach_told(conn, group.id, now)
                told += 1
            elif kind is EventKind.GROUP_REACHABLE:
                await events.add(conn, customer_id, kind, now, group=group.ref)
                told += 1
        return told

    return op


def needs_recording(known: Sequence[Group], verdicts: Mapping[str, Verdict]) -> bool:
    """Whether any group's stored reach differs from its verdict (the steady state writes nothing)."""
    return any(g.ref in verdicts and _changed(g, verdicts[g.ref]) for g in known)
