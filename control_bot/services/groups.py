"""The customer's groups: adding (many at once, a .txt file, a picked chat, the admin's defaults), listing,
removing (by name, by number, by button), resuming.

Each group is checked when added (``core.destinations.check_groups``): what the chat is comes from the
sessions' dialogs, else from the bot's own ``getChat`` (``ChatLookup``), never from a session's
resolveUsername; a chat nothing confirmed is kept unchecked, and the customer is told so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from control_bot.services.campaign import require_customer
from control_bot.services.reach import CustomerReach, customer_reach
from core.customer_log import LogKey
from core.destinations import ChatLookup, Checked, Verdict, check_groups
from core.errors import InputError, LinkError, NotFound
from core.group_refs import GroupRef, parse_group_items, parse_group_ref
from core.link_parts import marked_id, unmark
from core.ports import DialogKind
from core.texts import groups as group_texts
from core.texts import links as link_texts
from engine.customer_log import customer_log
from storage import groups, memberships
from storage.db import Database
from storage.groups import Group

logger = logging.getLogger(__name__)
customer_line = customer_log(logger)

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
    unchecked: list[str] = field(default_factory=list)  # added refs whose chat nothing confirmed yet


async def _add_refs(
    db: Database,
    user_id: int,
    items: Sequence[tuple[str, GroupRef]],
    bad: list[tuple[str, str]],
    now: float,
    limit: int,
    lookup: ChatLookup | None,
    *,
    known: dict[str, DialogKind] | None = None,
    titles: dict[str, str] | None = None,
) -> AddGroupsResult:
    """Add the references that can be groups; ``items``: (the item quoted as typed, its reference).

    What the sessions' dialogs say about each chat (any session's: a chat's kind is the same for all),
    else what the Bot API says (``lookup``), decides whether the reference can be posted to
    (``core.destinations``); a chat nothing said anything about is added unchecked. ``known``/``titles``:
    what the caller already knows (a chat the customer picked is a group, with its title)."""
    async with db.read() as conn:
        kinds = await memberships.chat_kinds(conn, [group.peer for _, group in items])
    kinds.update(known or {})
    # The Bot API is asked outside any transaction: a slow answer holds no lock.
    checks = await check_groups(items, kinds, lookup)
    kept: list[Checked] = []
    refused: list[tuple[str, str]] = []
    for check in checks:
        reason = check.refusal
        if reason is None:
            kept.append(check)
        else:
            refused.append((check.shown, reason))
    refs = [c.group.ref for c in kept]
    async with db.tx() as conn:
        have = {g.ref for g in await groups.list_for(conn, user_id)}
        new = [r for r in refs if r not in have]
        room = max(0, limit - len(have))
        added, existing = await groups.add_many(conn, user_id, new[:room], now)
        listed = set(added) | have
        for check in kept:
            if check.kind is not None and check.kind in ("group", "forum") and check.group.ref in listed:
                title = check.title or (titles or {}).get(check.group.peer)
                await groups.record_check(conn, user_id, check.group.ref, check.kind, title, now)
        total = len(have) + len(added)
    if added:
        customer_line(user_id, logging.INFO, LogKey.GROUPS_ADDED, n=len(added), groups=list(added[:20]))
    if refused:
        customer_line(user_id, logging.INFO, LogKey.GROUPS_REFUSED, n=len(refused))
    added_set = set(added)
    return AddGroupsResult(
        added=added,
        existing=[r for r in refs if r in have] + existing,
        bad=bad,
        over_limit=new[room:],
        limit=limit,
        total=total,
        refused=refused,
        unchecked_topics={
            c.group.ref: c.group.topic_id
            for c in kept
            if c.verdict is Verdict.UNCHECKED_TOPIC and c.group.topic_id is not None and c.group.ref in added_set
        },
        unchecked=[
            c.group.ref
            for c in kept
            if not c.checked and c.verdict is not Verdict.UNCHECKED_TOPIC and c.group.ref in added_set
        ],
    )


async def add_groups(
    db: Database,
    user_id: int,
    text: str,
    now: float,
    *,
    lookup: ChatLookup | None = None,
    limit: int = MAX_GROUPS_PER_CUSTOMER,
) -> AddGroupsResult:
    """Add every readable reference in ``text`` (a list as people keep one: ``core.group_refs.list_items``);
    the unreadable ones are named in the result."""
    await require_customer(db, user_id, now)
    good, bad = parse_group_items(text)
    return await _add_refs(db, user_id, good, bad, now, limit, lookup)


async def add_picked_group(
    db: Database,
    user_id: int,
    chat_id: int,
    title: str | None,
    username: str | None,
    now: float,
    *,
    limit: int = MAX_GROUPS_PER_CUSTOMER,
) -> AddGroupsResult:
    """Add the group the customer picked with the chat-request button (``chat_shared``). Telegram says it
    is a group (the button asks for no channel), with its title and, for a public one, its username: no
    check is needed. A public group is stored by '@name' (any session can find it); a private one by its
    id (a session in it finds it in its dialogs)."""
    await require_customer(db, user_id, now)
    if not -2 * 10**12 < chat_id < 0:
        raise InputError(link_texts.group_id_out_of_range(link_texts.echo(str(chat_id))))
    kind, bare = unmark(chat_id)
    group = parse_group_ref(f"@{username}" if username else marked_id(kind, bare))
    return await _add_refs(
        db,
        user_id,
        [(link_texts.echo(title or group.peer), group)],
        [],
        now,
        limit,
        None,
        known={group.peer: "group"},
        titles={group.peer: title} if title else None,
    )


def decode_groups_file(data: bytes) -> str:
    if len(data) > MAX_GROUPS_FILE_BYTES:
        raise InputError(group_texts.groups_file_too_big(MAX_GROUPS_FILE_BYTES // 1024))
    return data.decode("utf-8-sig", errors="replace")


async def add_default_groups(
    db: Database,
    user_id: int,
    now: float,
    *,
    lookup: ChatLookup | None = None,
    limit: int = MAX_GROUPS_PER_CUSTOMER,
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
    return await _add_refs(db, user_id, items, bad, now, limit, lookup)


async def has_default_groups(db: Database) -> bool:
    async with db.read() as conn:
        return await groups.has_defaults(conn)


async def list_groups(db: Database, user_id: int, now: float) -> CustomerReach:
    """The customer's groups, each with whether their sessions can post there (``services.reach``)."""
    await require_customer(db, user_id, now)
    async with db.read() as conn:
        return await customer_reach(conn, user_id)


async def remove_group(db: Database, user_id: int, text: str, now: float) -> tuple[str, int]:
    """Remove one group named as the customer wrote it, or by its number in /groups (``/delgroup 3``);
    returns (its ref, groups left)."""
    await require_customer(db, user_id, now)
    typed = text.strip()
    async with db.tx() as conn:
        if typed.isascii() and typed.isdigit() and len(typed) <= 6:
            number = int(typed)
            ref = await groups.ref_at(conn, user_id, number)
            if ref is None:
                raise NotFound(group_texts.no_group_number(number, await groups.count_for(conn, user_id)))
        else:
            ref = parse_group_ref(typed, bare_names=True).ref
        if not await groups.remove(conn, user_id, ref):
            raise NotFound(group_texts.group_not_yours(ref))
        left = await groups.count_for(conn, user_id)
    customer_line(user_id, logging.INFO, LogKey.GROUP_REMOVED, group=ref)
    return ref, left


async def remove_group_by_id(db: Database, user_id: int, group_id: int, now: float) -> tuple[str, int]:
    """Remove a group by its id (its 🗑 button); an id that is not the caller's own group is NotFound."""
    await require_customer(db, user_id, now)
    if not 0 < group_id <= MAX_ROW_ID:  # a forged button: SQLite cannot even bind a bigger integer
        raise NotFound(group_texts.GROUP_NOT_FOUND())
    async with db.tx() as conn:
        ref = await groups.remove_by_id(conn, user_id, group_id)
        if ref is None:
            raise NotFound(group_texts.GROUP_NOT_FOUND())
        left = await groups.count_for(conn, user_id)
    customer_line(user_id, logging.INFO, LogKey.GROUP_REMOVED, group=ref)
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
    customer_line(user_id, logging.INFO, LogKey.GROUP_RESUMED, group=ref)
    return group
