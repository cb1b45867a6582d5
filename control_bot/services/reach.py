"""Which of a customer's groups their sessions can reach, as the views show it.

Whether a group can be reached, and why not, is the engine's verdict (``engine.reach.Memberships``: the
one definition, which placement acts on); this module adds what the screens show with it: which of the
customer's sessions may write there, why the members that may not cannot, the slow mode, and the
sessions whose dialogs were never read. A group is, for its customer:

* ``reachable``: at least one of their sessions can post there (``writers`` says which);
* ``no_sessions``: they hold no session yet (a plan's sessions are given at /run), so nothing is known;
* otherwise the engine's reason: ``checking``, ``not_member``, ``forbidden``, ``not_a_group``,
  ``source_not_member`` (``engine.reach.Reach``).

``group_reach`` is pure (what was read from storage goes in, the answer comes out); ``customer_reach``
reads what it needs in one read transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from core.link_parts import unmark
from core.ports import WriteBlock
from engine.reach import Memberships, Verdict, private_source
from engine.reach import Reach as EngineReach
from storage import customers, memberships, refusals
from storage import groups as group_rows
from storage import sessions as session_rows
from storage.db import Connection
from storage.groups import Group
from storage.memberships import ChatRow, Membership
from storage.refusals import Refusal


class Reach(StrEnum):
    """``engine.reach.Reach`` and the two states only the views have."""

    REACHABLE = "reachable"
    NO_SESSIONS = "no_sessions"
    CHECKING = EngineReach.CHECKING.value
    FORBIDDEN = EngineReach.FORBIDDEN.value
    NOT_MEMBER = EngineReach.NOT_MEMBER.value
    NOT_A_GROUP = EngineReach.NOT_A_GROUP.value
    SOURCE_NOT_MEMBER = EngineReach.SOURCE_NOT_MEMBER.value
    REFUSED = EngineReach.REFUSED.value


@dataclass(frozen=True)
class GroupReach:
    ref: str
    reach: Reach
    writers: tuple[int, ...]  # the customer's sessions that may write there
    sessions: int  # how many sessions the customer holds
    blocks: tuple[WriteBlock, ...]  # why the members that may not write may not (distinct, sorted)
    slow_mode: int  # seconds between two posts of a member, as the writers' dialogs say (0: none known)
    unchecked: tuple[int, ...]  # the customer's sessions whose dialogs were never read
    # Whether what the chat is was ever confirmed: the sessions' dialogs hold it, or it was checked when
    # added (``storage.groups.Group.checked_at``). A group never checked is shown as such, never as fine.
    checked: bool = True

    @property
    def reachable(self) -> bool:
        return self.reach is Reach.REACHABLE


ChatId = tuple[str, int]  # ('channel' | 'chat', bare id)


class ChatIndex:
    """Memberships found by the way groups name their chats: '@name' or a marked id."""

    def __init__(self, rows: Iterable[Membership]) -> None:
        self._by_chat: dict[ChatId, list[Membership]] = defaultdict(list)
        self._by_name: dict[str, set[ChatId]] = defaultdict(set)
        for row in rows:
            chat = (row.peer.kind, row.peer.id)
            self._by_chat[chat].append(row)
            if row.username:
                self._by_name[row.username.lower()].add(chat)

    def rows_for(self, ref: str) -> list[Membership]:
        """Every row of the chat ``ref`` names (its ``#topic`` ignored); none for a ref that is no chat."""
        peer = ref.partition("#")[0]
        if peer.startswith("@"):
            chats = sorted(self._by_name.get(peer[1:].lower(), ()))
        else:
            try:
                marked = int(peer)
            except ValueError:
                return []
            if marked >= 0:
                return []
            chats = [unmark(marked)]
        return [row for chat in chats for row in self._by_chat.get(chat, ())]


def _chat_row(m: Membership) -> ChatRow:
    return ChatRow(m.session_id, m.peer.kind, m.peer.id, m.peer.access_hash, m.username, int(m.can_write), m.why_not)


def group_reach(
    ref: str,
    session_ids: Sequence[int],
    checked: Mapping[int, bool],
    index: ChatIndex,
    verdict: Verdict,
) -> GroupReach:
    """The view of one group over the customer's sessions ``session_ids``; ``checked``: whether each
    session's dialogs were ever read; ``index``: those sessions' memberships (others' are ignored);
    ``verdict``: the engine's word on it."""
    own = set(session_ids)
    rows = [r for r in index.rows_for(ref) if r.session_id in own]
    writers = tuple(sorted({r.session_id for r in rows if r.can_write}))
    blocks = tuple(sorted({r.why_not for r in rows if not r.can_write and r.why_not is not None}))
    slow_mode = max((r.slow_mode for r in rows if r.can_write), default=0)
    unchecked = tuple(sorted(s for s in own if not checked.get(s, False)))
    if verdict.reach is None:
        reach = Reach.REACHABLE
        writers = tuple(sorted(verdict.writers))
    elif not own:
        reach = Reach.NO_SESSIONS
    else:
        reach = Reach(verdict.reach.value)
    known = bool(rows) or reach is Reach.REACHABLE
    return GroupReach(ref, reach, writers, len(own), blocks, slow_mode, unchecked, known)


def reach_of(
    refs: Iterable[str],
    session_ids: Sequence[int],
    checked: Mapping[int, bool],
    rows: Iterable[Membership],
    source: str | None = None,
    refused: Iterable[Refusal] = (),
) -> dict[str, GroupReach]:
    """``group_reach`` for each of ``refs``, by ref; ``source``: the post's private source, if any
    (``engine.reach.private_source``)."""
    rows = list(rows)
    index = ChatIndex(rows)
    unread = [s for s in session_ids if not checked.get(s, False)]
    own = set(session_ids)
    known = Memberships([_chat_row(m) for m in rows if m.session_id in own], session_ids, unread, refused)
    return {ref: group_reach(ref, session_ids, checked, index, known.verdict(ref, source)) for ref in refs}


@dataclass(frozen=True)
class CustomerReach:
    groups: list[Group]
    reach: dict[str, GroupReach]  # by group ref
    session_ids: list[int]  # the customer's sessions (assigned and cooling), by id
    unchecked: list[int]  # those whose dialogs were never read
    rows: list[Membership]  # their memberships

    def count(self, reach: Reach) -> int:
        return sum(1 for r in self.reach.values() if r.reach is reach)


async def customer_reach(conn: Connection, customer_id: int) -> CustomerReach:
    """Read the customer's groups, sessions and those sessions' memberships, and say each group's reach."""
    own_groups = await group_rows.list_for(conn, customer_id)
    session_ids = [s.id for s in await session_rows.list_for_owner(conn, customer_id)]
    checked = {sid: at is not None for sid, at in (await memberships.checked_times(conn, session_ids)).items()}
    rows = await memberships.for_sessions(conn, session_ids)
    customer = await customers.get(conn, customer_id)
    source = private_source(customer) if customer is not None else None
    refused = await refusals.for_sessions(conn, session_ids)
    reach = reach_of([g.ref for g in own_groups], session_ids, checked, rows, source, refused)
    for group in own_groups:
        if group.checked_at is not None and not reach[group.ref].checked:
            reach[group.ref] = replace(reach[group.ref], checked=True)
    unchecked = [sid for sid in session_ids if not checked.get(sid, False)]
    return CustomerReach(own_groups, reach, session_ids, unchecked, rows)
