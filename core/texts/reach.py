"""Whether a customer's sessions can reach a group: each reason in plain words, and what the customer can
do about it (``engine.reach`` stores the reasons as these keys; the views list them with their groups).

HTML: every value that came from a user or from Telegram is escaped here.
"""

from __future__ import annotations

from core.texts.fmt import esc

# Why no session of the customer can post to a group (``engine.reach.Reach`` values), completing
# "<group> cannot be reached: ...".
REASONS: dict[str, str] = {
    "checking": "your sessions' chats are still being checked",
    "not_member": "none of your sessions is a member of it",
    "forbidden": "your sessions that are in it may not post there",
    "not_a_group": "it is a channel (only its admins post there), not a group",
    "source_not_member": (
        "your post comes from a private channel, and none of your sessions in this group is a member of it"
    ),
}

# Why the customer's sessions that the chat lists may not post there (``core.ports.WriteBlock``).
BLOCKED_BECAUSE: dict[str, str] = {
    "left": "they left it",
    "kicked": "they were removed from it",
    "banned": "they are restricted from posting there",
    "read_only": "only its admins may post there",
    "broadcast": "it is a broadcast channel",
}

# What the customer can do, per reason.
WHAT_TO_DO: dict[str, str] = {
    "checking": "Nothing to do: it is posted to as soon as a session in it is found.",
    "not_member": (
        "Ask the group's admins to add one of your sessions, or ask the service's admin to give you a "
        "session that is already in the group."
    ),
    "forbidden": (
        "Check the group's permissions (members must be allowed to send messages) or ask its admins to "
        "let your sessions post."
    ),
    "not_a_group": "Remove it with /delgroup: posts go to groups only.",
    "source_not_member": (
        "Post from a public channel instead, or ask the service's admin for a session that is in both the "
        "group and your post's channel."
    ),
}


def unreachable_reason(reason: str, detail: str | None = None) -> str:
    """The reason in words (HTML), with the sessions' own reasons when the service knows them (e.g.
    "not a member (they were removed from it)")."""
    words = REASONS.get(reason, esc(reason))
    if detail and reason in ("forbidden", "not_member"):
        blocks = [BLOCKED_BECAUSE.get(part, esc(part)) for part in detail.split(",") if part]
        if blocks:
            words += f" ({'; '.join(blocks)})"
    return words


def what_to_do(reason: str) -> str:
    """What the customer can do about a group unreachable for ``reason`` (HTML)."""
    return WHAT_TO_DO.get(reason, WHAT_TO_DO["not_member"])


def unreachable_event(group: str, reason: str, detail: str | None, *, admin: bool, whose: str = "") -> str:
    """GROUP_UNREACHABLE: told once when a group becomes unreachable (``whose``: the admin's "of customer
    N", HTML)."""
    if admin:
        return f"🚫 Group <code>{esc(group)}</code>{whose} cannot be reached: {unreachable_reason(reason, detail)}."
    return (
        f"🚫 Posts to <code>{esc(group)}</code> are on hold: {unreachable_reason(reason, detail)}. "
        f"{what_to_do(reason)} The other groups go on."
    )


def reachable_event(group: str, *, admin: bool, whose: str = "") -> str:
    """GROUP_REACHABLE: a group the customer was told about can be posted to again."""
    if admin:
        return f"✅ Group <code>{esc(group)}</code>{whose} can be reached again."
    return f"✅ <code>{esc(group)}</code> can be reached again: your posts go there from the next cycle."


# --- screens
