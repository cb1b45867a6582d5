"""Which session sends to which group in a cycle.

The groups are spread over the campaign's sessions by rendezvous hashing with bounded loads: a group
stays on its session and moves only when the sessions change, and no session gets more than its share
(a cycle lasts as long as its busiest session).
"""

from __future__ import annotations

import hashlib

from storage.groups import Group

__all__ = ["Plans", "assign_groups"]


def _score(session_id: int, ref: str) -> int:
    digest = hashlib.blake2b(f"{session_id}\x00{ref}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assign_groups(groups: list[Group], session_ids: list[int]) -> dict[int, list[Group]]:
    """Rendezvous hashing with bounded loads: each group goes to the session with the highest score for
    it that still has room (at most ceil(groups / sessions) each), so the load is even (a cycle lasts as
    long as its busiest session) and adding or removing a session moves few groups. Groups keep their
    list order."""
    plan: dict[int, list[Group]] = {sid: [] for sid in session_ids}
    if not session_ids:
        return plan
    room = -(-len(groups) // len(session_ids))
    for group in groups:
        ranked = sorted(session_ids, key=lambda sid: _score(sid, group.ref), reverse=True)
        best = next(sid for sid in ranked if len(plan[sid]) < room)
        plan[best].append(group)
    return plan


class Plans:
    """``assign_groups``, remembered per campaign while its sessions and groups stay the same (hashing
    every group against every session each cycle costs more than the rest of setting a cycle up)."""

    def __init__(self) -> None:
        self._plans: dict[int, tuple[tuple[int, ...], tuple[str, ...], dict[int, list[str]]]] = {}

    def plan(self, customer_id: int, todo: list[Group], session_ids: list[int]) -> dict[int, list[Group]]:
        key = (tuple(session_ids), tuple(g.ref for g in todo))
        cached = self._plans.get(customer_id)
        if cached is not None and cached[0] == key[0] and cached[1] == key[1]:
            by_ref = {g.ref: g for g in todo}
            return {sid: [by_ref[r] for r in refs] for sid, refs in cached[2].items()}
        plan = assign_groups(todo, session_ids)
        self._plans[customer_id] = (key[0], key[1], {sid: [g.ref for g in gs] for sid, gs in plan.items()})
        return plan

    def busiest(self) -> int:
        """The most groups one session has in any remembered plan (what bounds a cycle's length)."""
        return max((len(refs) for *_, plan in self._plans.values() for refs in plan.values()), default=0)
