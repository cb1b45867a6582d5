"""The customer's groups: adding (many at once, a .txt file, the admin's defaults), listing, removing, resuming.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from control_bot.services.campaign import require_customer
from control_bot.services.reach import CustomerReach, customer_reach
from core.destinations import Verdict, judge, refusal
from core.errors import (
    InputError,
    LinkError,
    NotFound,
)
from core.links import GroupRef, parse_group_items, parse_group_ref
from core.texts import groups as group_texts
from storage import groups, memberships
from storage.db import Database
from storage.groups import Group

logger = logging.getLogger(__name__)



MAX_GROUPS_PER_CUSTOMER = 200


MAX_GROUPS_FILE_BYTES = 256 * 1024


MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer


@dataclass(frozen=True)
class AddGroupsResult:
    added: list[str]
    existing: list[str]
    bad: list[tuple[str, str]]
    over_limit: list[str]
    limit: int
    total: int
    refused: list[tuple[str, str]] = field(default_factory=list)  # (item, why it is not a group to post to)
    unchecked_topics: dict[str, int] = field(default_factory=dict)  # added ref -> topic, chat not known yet


async def _add_refs(
    db: Database,
    user_id: int,
    items: Sequence[tuple[str, GroupRef]],
    bad: list[tuple[str, str]],
    now: float,
    limit: int,
) -> AddGroupsResult:
    """Add the references that can be groups; ``items``: (the item quoted as typed, its reference).

    What sessions' dialogs say about each chat (any session's: a chat's kind is the same for all) decides
    whether the reference can be posted to (``core.destinations``); a chat none of them holds is added
    as it is, its topic to be checked."""
    async with db.tx() as conn:
        kinds = await memberships.chat_kinds(conn, [group.peer for _, group in items])
        refs: list[str] = []
        refused: list[tuple[str, str]] = []
        unchecked: dict[str, int] = {}
        for shown, group in items:
            verdict = judge(group, kinds.get(group.peer))
            reason = refusal(verdict, shown, group)
            if reason is not None:
                refused.append((shown, reason))
                continue
            refs.append(group.ref)
            if verdict is Verdict.UNCHECKED_TOPIC and group.topic_id is not None:
                unchecked[group.ref] = group.topic_id
        have = {g.ref for g in await groups.list_for(conn, user_id)}
        new = [r for r in refs if r not in have]
        room = max(0, limit - len(have))
        added, existing = await groups.add_many(conn, user_id, new[:room], now)
        total = len(have) + len(added)
    if added:
        logger.info("added %d group(s): %s", len(added), ", ".join(added[:20]), extra={"customer_id": user_id})
    if refused:
        logger.info("refused %d group(s) that cannot be posted to", len(refused), extra={"customer_id": user_id})
    return AddGroupsResult(
        added=added,
        existing=[r for r in refs if r in have] + existing,
        bad=bad,
        over_limit=new[room:],
        limit=limit,
        total=total,
        refused=refused,
        unchecked_topics={ref: topic for ref, topic in unchecked.items() if ref in added},
    )


async def add_groups(
    db: Database, user_id: int, text: str, now: float, *, limit: int = MAX_GROUPS_PER_CUSTOMER
) -> AddGroupsResult:
    """Add every readable reference in ``text``; the unreadable ones are named in the result."""
    await require_customer(db, user_id, now)
    good, bad = parse_group_items(text)
    return await _add_refs(db, user_id, good, bad, now, limit)


def decode_groups_file(data: bytes) -> str:
    if len(data) > MAX_GROUPS_FILE_BYTES:
        raise InputError(group_texts.groups_file_too_big(MAX_GROUPS_FILE_BYTES // 1024))
    return data.decode("utf-8-sig", errors="replace")


async def add_default_groups(
    db: Database, user_id: int, now: float, *, limit: int = MAX_GROUPS_PER_CUSTOMER
) -> AddGroupsResult:
    """Copy the admin's default groups into the customer's list."""
    await require_customer(db, user_id, now)
    async with db.read() as conn:
        defaults = await groups.list_defaults(conn)
    if not defaults:
        raise NotFound(group_texts.NO_DEFAULT_GROUPS())
    items: list[tuple[str, GroupRef]] = []
    bad: list[tuple[str, str]] = []
    for ref in defaults:  # stored normalised by the admin's parse: read back the same
        try:
            items.append((ref, parse_group_ref(ref)))
        except LinkError as exc:
            bad.append((ref, exc.user_message))
    return await _add_refs(db, user_id, items, bad, now, limit)


async def has_default_groups(db: Database) -> bool:
    async with db.read() as conn:
        return await groups.has_defaults(conn)


async def list_groups(db: Database, user_id: int, now: float) -> CustomerReach:
    """The customer's groups, each with whether their sessions can post there (``services.reach``)."""
    await require_customer(db, user_id, now)
    async with db.read() as conn:
        return await customer_reach(conn, user_id)


async def remove_group(db: Database, user_id: int, text: str, now: float) -> tuple[str, int]:
    """Remove one group named as the customer wrote it; returns (its ref, groups left)."""
    await require_customer(db, user_id, now)
    ref = parse_group_ref(text).ref
    async with db.tx() as conn:
        if not await groups.remove(conn, user_id, ref):
            raise NotFound(group_texts.group_not_yours(ref))
        left = await groups.count_for(conn, user_id)
    logger.info("removed group %s", ref, extra={"customer_id": user_id})
    return ref, left


async def resume_group(db: Database, user_id: int, group_id: int, now: float) -> Group:
    """Resume a paused group by id; an id that is not the caller's own group is NotFound."""
    await require_customer(db, user_id, now)
    if not 0 < group_id <= MAX_ROW_ID:  # a forged button: SQLite cannot even bind a bigger integer
        raise NotFound(group_texts.GROUP_NOT_FOUND())
    async with db.tx() as conn:
        ref = await groups.ref_of(conn, user_id, group_id)
        if ref is None:
            raise NotFound(group_texts.GROUP_NOT_FOUND())
        if not await groups.resume(conn, user_id, ref):
            raise InputError(group_texts.group_not_paused(ref))
        group = await groups.get(conn, user_id, ref)
    assert group is not None
    logger.info("group %s resumed", ref, extra={"customer_id": user_id})
    return group
