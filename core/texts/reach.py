"""Reachability: whether a customer's sessions can post in each of their groups, in words.

Shared by the engine (the reasons a group is unreachable and the events that tell the customer) and the
views (the customer's /groups and the admins' reach screen, below ``# --- screens``). HTML unless a
text says it is plain (plain texts become ``AdbotError.user_message``, which the error handler escapes).
The screens read the services' results through the small read-only shapes below, so these texts stay
in the bottom layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from core.i18n import N_, _, n_
from core.texts.fmt import esc, fmt_duration, in_or_now, tr
from core.texts.outcomes import REFUSAL_TEXTS, reason_text
from core.texts.split import take_fitting, utf16_len

# Why no session of the customer can post to a group (``engine.reach.Reach`` values), completing
# "<group> cannot be reached: ...".
REASONS: dict[str, str] = {
    "checking": N_("your sessions' chats are still being checked"),
    "not_member": N_("none of your sessions is a member of it"),
    "forbidden": N_("your sessions that are in it may not post there"),
    "not_a_group": N_("it is a channel (only its admins post there), not a group"),
    "source_not_member": N_(
        "your post comes from a private channel, and none of your sessions in this group is a member of it"
    ),
    "refused": N_("it refused posts from your sessions that are in it"),
}

# Why the customer's sessions that the chat lists may not post there (``core.ports.WriteBlock``).
BLOCKED_BECAUSE: dict[str, str] = {
    "left": N_("they left it"),
    "kicked": N_("they were removed from it"),
    "banned": N_("they are restricted from posting there"),
    "read_only": N_("only its admins may post there"),
    "broadcast": N_("it is a broadcast channel"),
}

# What the customer can do, per reason.
WHAT_TO_DO: dict[str, str] = {
    "checking": N_("Nothing to do: it is posted to as soon as a session in it is found."),
    "not_member": N_(
        "Ask the group's admins to add one of your sessions, or ask the service's admin to give you a "
        "session that is already in the group."
    ),
    "forbidden": N_(
        "Check the group's permissions (members must be allowed to send messages) or ask its admins to "
        "let your sessions post."
    ),
    "not_a_group": N_("Remove it with /delgroup: posts go to groups only."),
    "source_not_member": N_(
        "Post from a public channel instead, or ask the service's admin for a session that is in both the "
        "group and your post's channel."
    ),
    "refused": N_(
        "Ask the group's admins to allow posts like yours (or reopen the topic), or remove it with /delgroup."
    ),
}


_REFUSED_BECAUSE: dict[str, str] = {str(reason): words for reason, words in REFUSAL_TEXTS.items()}


def _reason_words(reason: str) -> str:
    words = REASONS.get(reason)
    return tr(words) if words is not None else reason_text(reason)  # never a stored name as it is


def unreachable_reason(reason: str, detail: str | None = None) -> str:
    """The reason in words (HTML), with the sessions' own reasons when the service knows them (e.g.
    "not a member (they were removed from it)")."""
    words = _reason_words(reason)
    if detail and reason in ("forbidden", "not_member", "refused"):
        blocks = [_block_because(part, refused=reason == "refused") for part in detail.split(",") if part]
        if blocks:
            words = _("{reason} ({why})", reason=words, why="; ".join(blocks))
    return words


def _block_because(part: str, *, refused: bool) -> str:
    words = (_REFUSED_BECAUSE if refused else BLOCKED_BECAUSE).get(part)
    return tr(words) if words is not None else reason_text(part)


def what_to_do(reason: str) -> str:
    """What the customer can do about a group unreachable for ``reason`` (HTML)."""
    return tr(WHAT_TO_DO.get(reason, WHAT_TO_DO["not_member"]))


def unreachable_event(group: str, reason: str, detail: str | None, *, admin: bool, whose: str = "") -> str:
    """GROUP_UNREACHABLE: told once when a group becomes unreachable (``whose``: the admin's "of customer
    N", HTML)."""
    if admin:
        return _(
            "🚫 Group <code>{group}</code>{whose} cannot be reached: {reason}.",
            group=esc(group),
            whose=whose,
            reason=unreachable_reason(reason, detail),
        )
    return _(
        "🚫 Posts to <code>{group}</code> are on hold: {reason}. {what_to_do} The other groups go on.",
        group=esc(group),
        reason=unreachable_reason(reason, detail),
        what_to_do=what_to_do(reason),
    )


def reachable_event(group: str, *, admin: bool, whose: str = "") -> str:
    """GROUP_REACHABLE: a group the customer was told about can be posted to again."""
    if admin:
        return _("✅ Group <code>{group}</code>{whose} can be reached again.", group=esc(group), whose=whose)
    return _("✅ <code>{group}</code> can be reached again: your posts go there from the next cycle.", group=esc(group))


# --- screens ---------------------------------------------------------------------------------------

# Why a member session may not post, in plain words (``core.ports.WriteBlock``).
WRITE_BLOCKS: dict[str, str] = {
    "left": N_("your sessions left it"),
    "kicked": N_("your sessions were removed"),
    "banned": N_("banned from writing"),
    "read_only": N_("read-only (admins only)"),
    "broadcast": N_("a broadcast channel, not a group"),
}


def write_block(why: str) -> str:
    words = WRITE_BLOCKS.get(why)
    return tr(words) if words is not None else reason_text(why)


class GroupReachView(Protocol):
    """One group's reach (``control_bot.services.reach.GroupReach``)."""

    @property
    def reach(self) -> str: ...
    @property
    def writers(self) -> Sequence[int]: ...
    @property
    def sessions(self) -> int: ...
    @property
    def blocks(self) -> Sequence[str]: ...
    @property
    def slow_mode(self) -> int: ...
    @property
    def checked(self) -> bool: ...


def _slow_mode(seconds: int, until: float | None, now: float) -> str:
    text = _("🐢 slow mode {every}", every=fmt_duration(seconds)) if seconds else _("🐢 slow mode")
    if until is not None and until > now:
        text = _("{slow_mode}, next post {when}", slow_mode=text, when=in_or_now(until, now))
    return text


def _reachable(reach: GroupReachView) -> str:
    return n_(
        "✅ reachable ({writers} of your {n} session)",
        "✅ reachable ({writers} of your {n} sessions)",
        reach.sessions,
        writers=len(reach.writers),
    )


def _unreachable(reach: GroupReachView) -> str:
    if not reach.checked and reach.reach == "not_member":
        # Nothing confirmed what the chat is: neither Telegram (when it was added) nor a session's chats.
        return _("🚫 not checked: Telegram did not show this chat, and none of your sessions is in it")
    if reach.reach == "no_sessions":
        return _("⏳ not checked yet: your sessions are given when you /run")
    if reach.reach == "checking":
        return _("⏳ checking: your sessions' chats are being read")
    if reach.reach == "forbidden":
        reasons = [write_block(b) for b in reach.blocks if b not in ("left", "kicked")]
        return _("🚫 no posting: {why}", why="; ".join(reasons) or _reason_words("forbidden"))
    if reach.reach == "not_a_group":
        return _("🚫 no posting: {why}", why=write_block("broadcast"))
    if reach.reach in ("source_not_member", "refused"):
        return _("🚫 unreachable: {why}", why=_reason_words(reach.reach))
    if reach.blocks:
        return _("🚫 unreachable: {why}", why="; ".join(write_block(b) for b in reach.blocks))
    return _("🚫 unreachable: none of your sessions is a member")


def group_state(
    paused_reason: str | None,
    slowmode_until: float | None,
    slowmode_seconds: int | None,
    now: float,
    reach: GroupReachView,
) -> str:
    """One group's line state on /groups: paused (the engine skips it), else whether the customer's
    sessions can post there and why not, with slow mode when known. A group nothing has checked yet is
    said to be so, never shown as fine."""
    if paused_reason is not None:
        return _("⏸ paused: {reason}", reason=reason_text(paused_reason))
    if reach.reach != "reachable":
        return _unreachable(reach)
    seconds = max(reach.slow_mode, slowmode_seconds or 0)
    waiting = slowmode_until is not None and slowmode_until > now
    if seconds or waiting:
        return _(
            "{reachable}, {slow_mode}", reachable=_reachable(reach), slow_mode=_slow_mode(seconds, slowmode_until, now)
        )
    return _reachable(reach)


def groups_reach_summary(reachable: int, unreachable: int, checking: int) -> str:
    """The line under the /groups head; empty when there are no groups."""
    if not reachable + unreachable + checking:
        return ""
    parts = [_("✅ {count} reachable", count=reachable)]
    if unreachable:
        parts.append(_("🚫 {count} unreachable", count=unreachable))
    if checking:
        parts.append(_("⏳ {count} not checked yet", count=checking))
    line = " · ".join(parts)
    if unreachable:
        line += "\n" + _(
            "No post goes to an unreachable group. The admin can give you sessions that are members there; or "
            "remove it with /delgroup."
        )
    return line


# Admin: the reach screen of one customer.


def BTN_ADMIN_REACH() -> str:
    return _("📡 Reach")


def BTN_REACH_REFRESH() -> str:
    return _("🔄 Refresh")


USAGE_REACH = "/reach <user_id>"  # how to call it (``admin.usage`` says "Usage: ")


def btn_reach_customer(user_id: int, running: bool) -> str:
    return f"{'▶' if running else '⏹'} {user_id}"


def btn_swap(take_id: int, give_id: int, groups: int) -> str:
    return n_(
        "⇄ #{take} in, #{give} out (+{n} group)",
        "⇄ #{take} in, #{give} out (+{n} groups)",
        groups,
        take=take_id,
        give=give_id,
    )


def btn_join(ref: str) -> str:
    """Queue a join of ``ref`` by the customer's sessions (paced like /join)."""
    return _("🤝 Join {group}", group=ref)


def GROUP_GONE() -> str:
    return _("That group is not on the customer's list any more (or is not a public group): nothing was queued.")


class PickerLine(Protocol):
    @property
    def user_id(self) -> int: ...
    @property
    def running(self) -> bool: ...


def reach_picker(lines: Sequence[PickerLine], shown: int) -> str:
    if not lines:
        return _("📡 <b>Reach</b>: no customer has an active plan.")
    if shown < len(lines):
        head = _(
            "📡 <b>Reach</b>: pick a customer (the first {shown} of {total}), or send /reach <code>user_id</code>.",
            shown=shown,
            total=len(lines),
        )
    else:
        head = _("📡 <b>Reach</b>: pick a customer, or send /reach <code>user_id</code>.")
    return head + "\n" + _("Their unreachable groups are listed with the pool sessions that are members there.")


class MemberView(Protocol):
    """A pool session in an unreachable group."""

    @property
    def session_id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def can_write(self) -> bool: ...
    @property
    def why_not(self) -> str | None: ...


class UnreachableView(Protocol):
    @property
    def ref(self) -> str: ...
    @property
    def reach(self) -> GroupReachView: ...
    @property
    def paused(self) -> bool: ...
    @property
    def own(self) -> Sequence[MemberView]: ...
    @property
    def free(self) -> Sequence[int]: ...
    @property
    def others(self) -> int: ...


class ReachReportView(Protocol):
    @property
    def customer_id(self) -> int: ...
    @property
    def plan_active(self) -> bool: ...
    @property
    def session_ids(self) -> Sequence[int]: ...
    @property
    def unchecked(self) -> Sequence[int]: ...
    @property
    def groups(self) -> int: ...
    @property
    def reachable(self) -> int: ...
    @property
    def unreachable(self) -> Sequence[UnreachableView]: ...
    @property
    def give_back(self) -> int | None: ...


_ADMIN_REACH: Mapping[str, str] = {
    "no_sessions": N_("no session yet (given at /run)"),
    "checking": N_("their sessions' chats not read yet"),
    "forbidden": N_("members, may not write"),
    "not_member": N_("none of their sessions is a member"),
    "not_a_group": N_("a broadcast channel, not a group"),
    "source_not_member": N_("their sessions in it are not in the post's private channel"),
}


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


# The same reasons, short, for the admins.
_ADMIN_BLOCKS: Mapping[str, str] = {
    "left": N_("left"),
    "kicked": N_("removed"),
    "banned": N_("banned"),
    "read_only": N_("read-only"),
    "broadcast": N_("broadcast channel"),
}


def _admin_block(why: str | None) -> str:
    words = _ADMIN_BLOCKS.get(why or "")
    if words is not None:
        return tr(words)
    return reason_text(why) if why else _("may not write")


def _own_member(member: MemberView) -> str:
    return f"#{member.session_id}" + ("" if member.can_write else f" ({_admin_block(member.why_not)})")


def _unreachable_line(group: UnreachableView) -> str:
    words = _ADMIN_REACH.get(group.reach.reach)
    state = tr(words) if words is not None else reason_text(group.reach.reach)
    if group.reach.reach == "forbidden" and group.reach.blocks:
        state += ": " + ", ".join(_admin_block(b) for b in group.reach.blocks)
    line = f"• <code>{esc(group.ref)}</code>{' ⏸' if group.paused else ''}: {state}"
    details = []
    if group.own:
        details.append(_("theirs: {sessions}", sessions=", ".join(_own_member(m) for m in group.own)))
    details.append(_("free members: {sessions}", sessions=_ids(group.free)) if group.free else _("no free member"))
    if group.others:
        details.append(n_("{n} other session in it", "{n} other sessions in it", group.others))
    return line + "\n   " + " · ".join(details)


def reach_report(report: ReachReportView, budget: int = 3600) -> str:
    """The admins' reach screen of one customer (one message: the list is cut to ``budget`` units)."""
    title = (
        _("📡 <b>Reach of customer</b> <code>{customer}</code>", customer=report.customer_id)
        if report.plan_active
        else _("📡 <b>Reach of customer</b> <code>{customer}</code> (plan ended)", customer=report.customer_id)
    )
    sessions = _ids(report.session_ids) or _("none")
    if report.unchecked:
        sessions_line = _(
            "Sessions: {sessions}; never read: {unread}", sessions=sessions, unread=_ids(report.unchecked)
        )
    else:
        sessions_line = _("Sessions: {sessions}", sessions=sessions)
    head = [
        title,
        sessions_line,
        _(
            "Groups: {groups}, {reachable} reachable, {unreachable} not",
            groups=report.groups,
            reachable=report.reachable,
            unreachable=len(report.unreachable),
        ),
    ]
    if not report.unreachable:
        return "\n".join([*head, "", _("✅ Every group is reachable.")])
    tail = []
    if report.give_back is None:
        tail.append(_("No swap possible: the customer holds no session to give back."))
    else:
        tail.append(
            _(
                "A swap gives #{session} back to the pool (it reaches the fewest groups no other session of "
                "theirs does) and takes a free member in its place.",
                session=report.give_back,
            )
        )
    lines = [_unreachable_line(g) for g in report.unreachable]
    room = budget - utf16_len("\n".join(head + tail)) - 40
    shown = take_fitting(lines, room)
    if len(shown) < len(lines):
        shown.append(_("… and {count} more", count=len(lines) - len(shown)))
    return "\n".join([*head, "", *shown, "", *tail])


def swapped(take_id: int, give_id: int) -> str:
    """A toast (plain text)."""
    return _("Done: #{take} is theirs now, #{give} is back in the pool.", take=take_id, give=give_id)


# Refusals (plain text: NotFound / InputError.user_message).


def SWAP_BUSY() -> str:
    return _("A cycle of this campaign is running now; swap once it has ended.")


def not_their_session(session_id: int, customer_id: int) -> str:
    return _(
        "Session #{session} is not customer {customer}'s (any more): nothing was changed.",
        session=session_id,
        customer=customer_id,
    )


def session_not_free(session_id: int) -> str:
    return _("Session #{session} is not free in the pool (any more): nothing was changed.", session=session_id)
