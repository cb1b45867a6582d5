"""What a customer reads about their groups: /groups, adding (many at once or a .txt file), removing, resuming.

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
        "@mygroup\n"
        "https://t.me/othergroup\n"
        "-1001234567890 (an id works for a group one of your sessions is in)\n"
        "@forumgroup#15 or https://t.me/forumgroup/15 (topic 15 of a forum)\n"
        "An invite link (t.me/+…) is not a group: ask the admin to have one of your sessions join it.\n"
        "A .txt file with one group per line works too. /cancel to stop.",
    )


def DEL_GROUP_ASK() -> str:
    return _("Send the group to remove (as shown in /groups). /cancel to stop.")


def GROUPS_FILE_NOT_TXT() -> str:
    return _("Send the groups as a .txt file (one group per line) or as text.")


def NO_DEFAULT_GROUPS() -> str:
    return _("The admin has not set any default groups yet.")


def groups_file_too_big(limit_kb: int) -> str:
    return _("That file is too big: a list of groups fits in {limit_kb} KB.", limit_kb=limit_kb)


def groups_list(
    rows: list[tuple[str, str]],
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
    """``rows``: (ref, rendered state) for the groups on this page; ``summary``: a line (or two) under the
    head (``core.texts.reach.groups_reach_summary``)."""
    if not total:
        return (
            _("<b>Your groups</b>: none yet.\n"
            "Add some with /addgroups (or the button below), one per line: @name or t.me/name for a public "
            "group, a -100… id for a group one of your sessions is in.")
        )
    head = _(
        "<b>Your groups</b>: {total} of at most {limit}, {active} active, {paused} paused",
        total=total,
        limit=limit,
        active=active,
        paused=paused,
    )
    if pages > 1:
        head += _(" (page {value} of {pages})", value=page + 1, pages=pages)
    if summary:
        head += "\n" + summary
    lines = [f"{i}. <code>{esc(ref)}</code> {state}" for i, (ref, state) in enumerate(rows, start=first)]
    return head + "\n\n" + "\n".join(lines)


def topic_unchecked(topic_id: int) -> str:
    """After a group added with a topic while nothing is known of its chat (plain text)."""
    return _(" (topic #{topic_id}, will be checked)", topic_id=topic_id)


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
) -> str:
    """``bad``: (item, reason) not understood; ``refused``: (item, reason) understood but not a group one
    can post to (a channel, a bot, a message link); ``unchecked_topics``: ref -> topic of the added refs
    whose '#topic' is a topic only if the chat turns out to be a forum (nothing is known of it yet)."""
    parts: list[str] = []
    if added:
        unchecked = unchecked_topics or {}
        labels = [(ref, topic_unchecked(unchecked[ref]) if ref in unchecked else "") for ref in added[:50]]
        fitting = take_fitting([ref + note for ref, note in labels], _ADDED_BUDGET, sep_units=2)
        shown = labels[: len(fitting)]
        parts.append(
            n_("✅ Added {n} group: ", "✅ Added {n} groups: ", len(added))
            + ", ".join(f"<code>{esc(r)}</code>{esc(n)}" for r, n in shown)
        )
        if len(added) > len(shown):
            parts[-1] += _(" and {value} more", value=len(added) - len(shown))
    if existing:
        listed = take_fitting(existing[:20], _LIST_BUDGET, sep_units=2)
        more = " …" if len(existing) > len(listed) else ""
        parts.append(
            _("Already in your list ({count}): ", count=len(existing)) + ", ".join(esc(r) for r in listed) + more
        )
    if over_limit:
        listed = take_fitting(over_limit[:20], _LIST_BUDGET, sep_units=2)
        parts.append(
            _(
                "⚠ Not added, you reached the limit of {limit} groups ({count}): ",
                limit=limit,
                count=len(over_limit),
            )
            + ", ".join(esc(r) for r in listed)
            + (" …" if len(over_limit) > len(listed) else "")
        )
    # Both lists of reasons share one budget; the refusals keep a third of it when there are both.
    used = 0
    if bad:
        share = _BAD_BUDGET * 2 // 3 if refused else _BAD_BUDGET
        reasons = take_fitting([reason for _skipped, reason in bad[:20]], share, sep_units=2)
        used = sum(utf16_len(reason) + 2 for reason in reasons)
        parts.append(_reasons(_("❌ Not understood ({count}):", count=len(bad)), reasons, len(bad)))
    if refused:
        reasons = take_fitting([reason for _skipped, reason in refused[:20]], _BAD_BUDGET - used, sep_units=2)
        parts.append(_reasons(_("🚫 Cannot be posted to ({count}):", count=len(refused)), reasons, len(refused)))
    if not added and not existing and not over_limit and not bad and not refused:
        parts.append(_("Nothing to add."))
    parts.append(
        n_("You now have {n} group. /groups to see them.", "You now have {n} groups. /groups to see them.", total)
    )
    return "\n\n".join(parts)


def _reasons(head: str, reasons: list[str], count: int) -> str:
    lines = "\n".join(f"• {esc(reason)}" for reason in reasons)
    more = _("\n… and {value} more", value=count - len(reasons)) if count > len(reasons) else ""
    return f"{head}\n{lines}{more}"


def group_removed(ref: str, total: int) -> str:
    return n_(
        "🗑 Removed <code>{ref}</code>. You now have {n} group.",
        "🗑 Removed <code>{ref}</code>. You now have {n} groups.",
        total,
        ref=esc(ref),
    )


def group_not_yours(ref: str) -> str:
    """Plain text (a NotFound message)."""
    return _("{ref} is not in your groups. /groups shows the list.", ref=ref)


def GROUP_NOT_FOUND() -> str:
    return _("That group is not in your list (any more). Open /groups again.")


def group_resumed(ref: str) -> str:
    return _("▶ {ref} is active again.", ref=ref)


def group_not_paused(ref: str) -> str:
    return _("{ref} is not paused.", ref=ref)
