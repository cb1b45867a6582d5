"""Which free sessions to give a customer: those that reach the most of their groups (greedy set cover).

A session reaches a group when its stored dialogs say it may write to the group's chat
(``storage.memberships.writers_among``). Groups the customer's own sessions already reach count for
nothing; each pick is the free session that reaches the most groups still unreached, ties going to the
session the pool prefers anyway (``storage.sessions.free_by_preference``: own app, no flood wait, oldest).
Greedy cover is within a factor ln(groups) of the best cover, and it is what an operator would do by hand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from storage import memberships
from storage import sessions as session_rows
from storage.db import Connection
from storage.memberships import ChatKey


def greedy_cover(
    n: int, wanted: Mapping[ChatKey, int], reach: Mapping[int, Collection[ChatKey]], order: Sequence[int]
) -> list[int]:
    """Up to ``n`` of the sessions in ``order``, each the one reaching the most ``wanted`` weight (groups)
    not yet covered by those picked before it; the first in ``order`` wins a tie. Stops when no session
    adds anything (the rest of the picks are the caller's: any free session will do)."""
    uncovered = dict(wanted)
    left = {sid: set(reach.get(sid, ())) & uncovered.keys() for sid in order}
    chosen: list[int] = []
    while len(chosen) < n and uncovered:
        best, gain = None, 0
        for sid in order:  # in preference order: a later session must do strictly better to win
            keys = left.get(sid)
            if not keys:
                continue
            score = sum(uncovered.get(key, 0) for key in keys)
            if score > gain:
                best, gain = sid, score
        if best is None:
            break
        chosen.append(best)
        for key in left.pop(best):
            uncovered.pop(key, None)
    return chosen


def group_chats(refs: Sequence[str]) -> Counter[ChatKey]:
    """How many of the customer's groups are in each chat (topics of one forum share it)."""
    wanted: Counter[ChatKey] = Counter()
    for ref in refs:
        try:
            wanted[memberships.chat_key(ref)] += 1
        except ValueError:
            continue  # not a chat reference (never stored as a group; nothing to cover)
    return wanted


async def choose_free(
    conn: Connection,
    n: int,
    now: float,
    *,
    group_refs: Sequence[str],
    owned: Sequence[int],
    held: Collection[int] = (),
) -> list[int]:
    """``n`` free session ids for a customer with ``group_refs`` who already holds ``owned``: members of
    their unreached groups first (greedy cover), then any free ones in the pool's order. Never one in
    ``held`` (open for a scan right now). Fewer than ``n`` when the pool has fewer."""
    wanted = group_chats(group_refs)
    if wanted and owned:
        for reached in (await memberships.writers_among(conn, owned, list(wanted))).values():
            for key in reached:
                wanted.pop(key, None)
    chosen: list[int] = []
    if wanted:
        reach = await memberships.writers_among(conn, "unused", list(wanted))
        for sid in held:
            reach.pop(sid, None)
        if reach:
            order = await session_rows.free_by_preference(conn, now, among=sorted(reach))
            chosen = greedy_cover(n, wanted, reach, order)
    if len(chosen) < n:
        chosen += await session_rows.free_by_preference(
            conn, now, exclude=sorted({*held, *chosen}), limit=n - len(chosen)
        )
    return chosen
