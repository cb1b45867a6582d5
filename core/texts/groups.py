"""What a customer reads about their groups: /groups, adding (many at once, a .txt file, the group
picker), removing (by number, by name, by button), resuming.

HTML; anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.i18n import _, n_
from core.texts.fmt import esc
from core.texts.split import take_fitting, utf16_len


def GROUPS_ASK() -> str:
    return _(
        "Send the groups to add, one per line or separated by spaces or commas, like:\n"
        "@mygroup\nmygroup (a bare name is read as @mygroup)\nhttps://t.me/othergroup\n"
        "-1001234567890 (an id works for a group one of your sessions is in)\n"
        "@forumgroup#15 or https://t.me/forumgroup/15 (topic 15 of a forum)\n"
        "Blank lines and lines starting with # are skipped. An invite link (t.me/+…) is not a group: ask "
        "the admin to have one of your sessions join it.\n"
        "A .txt file with one group per line works too, or /pickgroups to choose groups you are in. "
        "/cancel to stop."
    )


def DEL_GROUP_ASK() -> str:
    return _("Send the number of the group in /groups (like 3), or the group itself. /cancel to stop.")


def GROUPS_FILE_NOT_TXT() -> str:
    return _("Send the groups as a .txt file (one group per line) or as text.")


def NO_DEFAULT_GROUPS() -> str:
    return _("The admin has not set any default groups yet.")


def groups_file_too_big(limit_kb: int) -> str:
    return _("That file is too big: a list of groups fits in {limit} KB.", limit=limit_kb)


# A title is cut to this many characters on /groups (Telegram allows 128): a page must fit one message.
_TITLE_CHARS = 40


def groups_list(
    rows: Sequence[tuple[str, str | None, str]],
    *,
    first: int,
    total: int,
    active: int,
    paused: int,
    page: int,
    pages: int,
    limit: int,
    summary: str = "",
) -> str:
    """``rows``: (ref, title as Telegram showed it or None, rendered state) for the groups on this page;
    ``summary``: a line (or two) under the head (``core.texts.reach.groups_reach_summary``)."""
    if not total:
        return _(
            "<b>Your groups</b>: none yet.\n"
            "Add some with /addgroups or the buttons below: @name or t.me/name for a public group, a -100… "
            "id for a group one of your sessions is in, or pick groups you are in."
        )
    head = _(
        "<b>Your groups</b>: {total} of at most {limit}, {active} active, {paused} paused",
        total=total,
        limit=limit,
        active=active,
        paused=paused,
    )
    if pages > 1:
        head += " " + _("(page {page} of {pages})", page=page + 1, pages=pages)
    if summary:
        head += "\n" + summary
    lines = []
    for i, (ref, title, state) in enumerate(rows, start=first):
        name = f"<code>{esc(ref)}</code>"
        if title:
            shown = title if len(title) <= _TITLE_CHARS else title[: _TITLE_CHARS - 1] + "…"
            name = _("{group} “{title}”", group=name, title=esc(shown))
        lines.append(f"{i}. {name} {state}")
    foot = _("Remove one with its 🗑 button below or /delgroup and its number, like /delgroup {n}.", n=first)
    return head + "\n\n" + "\n".join(lines) + "\n\n" + foot


def topic_unchecked(topic_id: int) -> str:
    """After a group added with a topic while nothing is known of its chat (plain text)."""
    return " " + _("(topic #{topic}, will be checked)", topic=topic_id)


# Telegram refuses a message over 4096 UTF-16 units of parsed text: each list of a groups report gets
# a share of that (in units as shown, before HTML escaping; 2 for each ", " separator), whatever the
# customer sent.
_ADDED_BUDGET, _LIST_BUDGET, _BAD_BUDGET = 1500, 500, 1200


def groups_added(
    added: list[str],
    existing: list[str],
    bad: list[tuple[str, str]],
    over_limit: list[str],
    limit: int,
    total: int,
    *,
    refused: Sequence[tuple[str, str]] = (),
    unchecked_topics: Mapping[str, int] | None = None,
    unchecked: Sequence[str] = (),
) -> str:
    """``bad``: (item, reason) not understood; ``refused``: (item, reason) understood but not a group one
    can post to (a channel, a person, a bot, a message link); ``unchecked_topics``: ref -> topic of the
    added refs whose '#topic' is a topic only if the chat turns out to be a forum (nothing is known of it
    yet); ``unchecked``: the added refs whose chat nothing confirmed yet (Telegram did not show it)."""
    parts: list[str] = []
    if added:
        topics = unchecked_topics or {}
        labels = [(ref, topic_unchecked(topics[ref]) if ref in topics else "") for ref in added[:50]]
        fitting = take_fitting([ref + note for ref, note in labels], _ADDED_BUDGET, sep_units=2)
        shown = labels[: len(fitting)]
        added_list = ", ".join(f"<code>{esc(r)}</code>{esc(n)}" for r, n in shown)
        if len(added) > len(shown):
            parts.append(
                n_(
                    "✅ Added {n} group: {groups} and {more} more",
                    "✅ Added {n} groups: {groups} and {more} more",
                    len(added),
                    groups=added_list,
                    more=len(added) - len(shown),
                )
            )
        else:
            parts.append(
                n_("✅ Added {n} group: {groups}", "✅ Added {n} groups: {groups}", len(added), groups=added_list)
            )
    if unchecked:
        listed_unchecked = take_fitting(list(unchecked[:20]), _LIST_BUDGET, sep_units=2)
        more = " …" if len(unchecked) > len(listed_unchecked) else ""
        parts.append(
            _(
                "⏳ Not checked yet ({count}): Telegram did not show me these chats, so your sessions check "
                "them when they read their chats: {groups}",
                count=len(unchecked),
                groups=", ".join(esc(r) for r in listed_unchecked) + more,
            )
        )
    if existing:
        listed = take_fitting(existing[:20], _LIST_BUDGET, sep_units=2)
        more = " …" if len(existing) > len(listed) else ""
        parts.append(
            _(
                "Already in your list ({count}): {groups}",
                count=len(existing),
                groups=", ".join(esc(r) for r in listed) + more,
            )
        )
    if over_limit:
        listed = take_fitting(over_limit[:20], _LIST_BUDGET, sep_units=2)
        more = " …" if len(over_limit) > len(listed) else ""
        parts.append(
            _(
                "⚠ Not added, you reached the limit of {limit} groups ({count}): {groups}",
                limit=limit,
                count=len(over_limit),
                groups=", ".join(esc(r) for r in listed) + more,
            )
        )
    # Both lists of reasons share one budget; the refusals keep a third of it when there are both.
    used = 0
    if bad:
        share = _BAD_BUDGET * 2 // 3 if refused else _BAD_BUDGET
        reasons = take_fitting([reason for _item, reason in bad[:20]], share, sep_units=2)
        used = sum(utf16_len(reason) + 2 for reason in reasons)
        parts.append(_reasons(_("❌ Not understood ({count}):", count=len(bad)), reasons, len(bad)))
    if refused:
        reasons = take_fitting([reason for _item, reason in refused[:20]], _BAD_BUDGET - used, sep_units=2)
        parts.append(_reasons(_("🚫 Cannot be posted to ({count}):", count=len(refused)), reasons, len(refused)))
    if not added and not existing and not over_limit and not bad and not refused:
        parts.append(_("Nothing to add."))
    parts.append(
        n_(
            "You now have {n} group. /groups to see it.",
            "You now have {n} groups. /groups to see them.",
            total,
        )
    )
    return "\n\n".join(parts)


def _reasons(head: str, reasons: list[str], count: int) -> str:
    lines = "\n".join(f"• {esc(reason)}" for reason in reasons)
    more = "\n" + _("… and {count} more", count=count - len(reasons)) if count > len(reasons) else ""
    return f"{head}\n{lines}{more}"


def group_removed(ref: str, total: int) -> str:
    return n_(
        "🗑 Removed <code>{ref}</code>. You now have {n} group.",
        "🗑 Removed <code>{ref}</code>. You now have {n} groups.",
        total,
        ref=esc(ref),
    )


def group_removed_toast(ref: str) -> str:
    """Plain text (a button's toast)."""
    return _("🗑 Removed {group}.", group=ref)


def group_not_yours(ref: str) -> str:
    """Plain text (a NotFound message)."""
    return _("{group} is not in your groups. /groups shows the list.", group=ref)


def no_group_number(number: int, total: int) -> str:
    """Plain text: /delgroup with a number past the end of the list."""
    if not total:
        return _("You have no groups, so there is no number {number} to remove.", number=number)
    return n_(
        "There is no group number {number}: you have {n} group. /groups shows the numbers.",
        "There is no group number {number}: you have {n} groups. /groups shows the numbers.",
        total,
        number=number,
    )


def GROUP_NOT_FOUND() -> str:
    return _("That group is not in your list (any more). Open /groups again.")


def group_resumed(ref: str) -> str:
    return _("▶ {group} is active again.", group=ref)


def group_not_paused(ref: str) -> str:
    return _("{group} is not paused.", group=ref)


# --- the group picker (a reply keyboard with Telegram's chat-request button) ------------------------


def BTN_PICK_GROUPS() -> str:
    return _("👥 Pick groups")


def BTN_PICK_DONE() -> str:
    return _("✅ Done")


def PICK_GROUPS_ASK() -> str:
    return _(
        "Tap “👥 Pick groups” below and choose a group you are in: I add each group you pick. Pick as many "
        "as you like, one at a time, then tap “✅ Done”."
    )


def PICK_DONE() -> str:
    return _("Done picking groups. /groups shows your list.")


def btn_remove(number: int) -> str:
    """A per-group remove button on /groups: the group's number in the list."""
    return _("🗑 {number}", number=number)
