"""Which session sends to which group in a cycle.

Only a session that can reach a group (its own dialogs hold the chat and it may write there:
``engine.reach``) is ever given it; among those, groups are spread by rendezvous hashing with bounded
loads: a group stays on its session and moves only when the sessions (or their memberships) change,
and no session gets more than its share (a cycle lasts as long as its busiest session). A group no
session can reach is not placed at all. A session near its daily send cap (``engine.daily_cap``) gets
no more groups than it may still send while another session that may write there has room.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from storage.groups import Group

__all__ = ["Plans", "assign_groups"]


def _score(session_id: int, ref: str) -> int:
    digest = hashlib.blake2b(f"{session_id}\x00{ref}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assign_groups(
    groups: Sequence[Group],
    session_ids: Sequence[int],
    writers: Mapping[str, Sequence[int]] | None = None,
    limits: Mapping[int, int] | None = None,
) -> dict[int, list[Group]]:
    """Each group goes to one of the sessions that may post there (``writers[ref]``; None: every
    session may), by rendezvous hashing with bounded loads: the one with the highest score for it that
    still has room (at most ceil(groups / sessions that can take any) each), so the load is even and
    adding or removing a session moves few groups. Groups with the fewest choices are placed first, so
    one that a single session can reach finds room there; when none of its sessions has room left it
    goes to the least loaded of them (ties: the higher score). A group without a writer is left out.
    ``limits`` (the daily cap's room per session; None: no limit) bound a session's groups: one at its
    limit is chosen only when none of the group's sessions is below its own (its worker then stops at
    the cap). Each session's groups keep their list order."""
    plan: dict[int, list[Group]] = {sid: [] for sid in session_ids}
    if not session_ids:
        return plan
    choices: list[tuple[int, Group, Sequence[int]]] = []
    for index, group in enumerate(groups):
        allowed = session_ids if writers is None else [sid for sid in writers.get(group.ref, ()) if sid in plan]
        if allowed:
            choices.append((index, group, allowed))
    if not choices:
        return plan
    takers = len({sid for _, _, allowed in choices for sid in allowed})
    room = -(-len(choices) // takers)
    choices.sort(key=lambda item: len(item[2]))  # stable: list order among groups with as many choices
    placed: dict[int, list[tuple[int, Group]]] = {sid: [] for sid in session_ids}
    def fits(sid: int) -> bool:
        return limits is None or len(placed[sid]) < limits.get(sid, len(choices))

    for index, group, allowed in choices:
        ranked = sorted(allowed, key=lambda sid: _score(sid, group.ref), reverse=True)
        best = next((sid for sid in ranked if len(placed[sid]) < room and fits(sid)), None)
        if best is None:
            best = min([sid for sid in ranked if fits(sid)] or ranked, key=lambda sid: len(placed[sid]))
        placed[best].append((index, group))
    for sid, items in placed.items():
        items.sort(key=lambda item: item[0])
        plan[sid] = [group for _, group in items]
    return plan


class Plans:
    """``assign_groups``, remembered per campaign while its sessions, groups and who may write where stay
    the same (hashing every group against every session each cycle costs more than the rest of setting
    a cycle up)."""

    def __init__(self) -> None:
        self._plans: dict[int, tuple[tuple[object, ...], dict[int, list[str]]]] = {}

    def plan(
        self,
        customer_id: int,
        todo: Sequence[Group],
        session_ids: Sequence[int],
        writers: Mapping[str, Sequence[int]] | None = None,
        limits: Mapping[int, int] | None = None,
    ) -> dict[int, list[Group]]:
        """The remembered plan; when it gives a session more groups than its ``limits`` allows, a plan
        within the limits for this cycle only (the remembered one comes back once the caps have room)."""
        plan = self._plan(customer_id, todo, session_ids, writers)
        if limits is not None and any(len(gs) > limits.get(sid, len(gs)) for sid, gs in plan.items()):
            return assign_groups(todo, session_ids, writers, limits)
        return plan

    def _plan(
        self,
        customer_id: int,
        todo: Sequence[Group],
        session_ids: Sequence[int],
        writers: Mapping[str, Sequence[int]] | None,
    ) -> dict[int, list[Group]]:
        refs = tuple(g.ref for g in todo)
        key = (tuple(session_ids), refs, None if writers is None else tuple(tuple(writers.get(r, ())) for r in refs))
        cached = self._plans.get(customer_id)
        if cached is not None and cached[0] == key:
            by_ref = {g.ref: g for g in todo}
            return {sid: [by_ref[r] for r in refs] for sid, refs in cached[1].items()}
        plan = assign_groups(todo, session_ids, writers)
        self._plans[customer_id] = (key, {sid: [g.ref for g in gs] for sid, gs in plan.items()})
        return plan

    def busiest(self) -> int:
        """The most groups one session has in any remembered plan (what bounds a cycle's length)."""
        return max((len(refs) for _, plan in self._plans.values() for refs in plan.values()), default=0)
