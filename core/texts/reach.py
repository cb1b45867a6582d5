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
    "source_not_member": (
        N_("your post comes from a private channel, and none of your sessions in this group is a member of it")
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
    "not_member": (
        N_("Ask the group's admins to add one of your sessions, or ask the service's admin to give you a "
        "session that is already in the group.")
    ),
    "forbidden": (
        N_("Check the group's permissions (members must be allowed to send messages) or ask its admins to "
        "let your sessions post.")
    ),
    "not_a_group": N_("Remove it with /delgroup: posts go to groups only."),
    "source_not_member": (
        N_("Post from a public channel instead, or ask the service's admin for a session that is in both the "
        "group and your post's channel.")
    ),
    "refused": (
        N_("Ask the group's admins to allow posts like yours (or reopen the topic), or remove it with /delgroup.")
    ),
}


_REFUSED_BECAUSE: dict[str, str] = {str(reason): words for reason, words in REFUSAL_TEXTS.items()}


def unreachable_reason(reason: str, detail: str | None = None) -> str:
    """The reason in words (HTML), with the sessions' own reasons when the service knows them (e.g.
    "not a member (they were removed from it)")."""
    words = tr(REASONS.get(reason, esc(reason)))
    if detail and reason in ("forbidden", "not_member", "refused"):
        said: Mapping[str, str] = _REFUSED_BECAUSE if reason == "refused" else BLOCKED_BECAUSE
        blocks = [tr(said.get(part, esc(part))) for part in detail.split(",") if part]
        if blocks:
            words += f" ({'; '.join(blocks)})"
    return words


def what_to_do(reason: str) -> str:
    """What the customer can do about a group unreachable for ``reason`` (HTML)."""
    return tr(WHAT_TO_DO.get(reason, WHAT_TO_DO["not_member"]))


def unreachable_event(group: str, reason: str, detail: str | None, *, admin: bool, whose: str = "") -> str:
    """GROUP_UNREACHABLE: told once when a group becomes unreachable (``whose``: the admin's "of customer
    N", HTML)."""
    if admin:
        return _(
            "🚫 Group <code>{group}</code>{whose} cannot be reached: {unreachable_reason}.",
            group=esc(group),
            whose=whose,
            unreachable_reason=unreachable_reason(reason, detail),
        )
    return (
        _(
            "🚫 Posts to <code>{group}</code> are on hold: {unreachable_reason}. {what_to_do} The other groups go on.",
            group=esc(group),
            unreachable_reason=unreachable_reason(reason, detail),
            what_to_do=what_to_do(reason),
        )
    )


def reachable_event(group: str, *, admin: bool, whose: str = "") -> str:
    """GROUP_REACHABLE: a group the customer was told about can be posted to again."""
    if admin:
        return _("✅ Group <code>{group}</code>{whose} can be reached again.", group=esc(group), whose=whose)
    return _(
        "✅ <code>{group}</code> can be reached again: your posts go there from the next cycle.",
        group=esc(group),
    )


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
    return tr(WRITE_BLOCKS.get(why, esc(why)))


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


def _slow_mode(seconds: int, until: float | None, now: float) -> str:
    text = _("🐢 slow mode {duration}", duration=fmt_duration(seconds)) if seconds else _("🐢 slow mode")
    if until is not None and until > now:
        text += _(", next post {when}", when=in_or_now(until, now))
    return text


def _reachable(reach: GroupReachView) -> str:
    via = len(reach.writers)
    return _(
        "✅ reachable ({via} of your {sessions} session{value})",
        via=via,
        sessions=reach.sessions,
        value='s' if reach.sessions != 1 else '',
    )


def _unreachable(reach: GroupReachView) -> str:
    if reach.reach == "no_sessions":
        return _("⏳ not checked yet: your sessions are given when you /run")
    if reach.reach == "checking":
        return _("⏳ checking: your sessions' chats are being read")
    if reach.reach == "forbidden":
        reasons = [write_block(b) for b in reach.blocks if b not in ("left", "kicked")]
        return _("🚫 no posting: ") + "; ".join(reasons)
    if reach.reach == "not_a_group":
        return _("🚫 no posting: ") + write_block("broadcast")
    if reach.reach in ("source_not_member", "refused"):
        return _("🚫 unreachable: ") + tr(REASONS[reach.reach])
    if reach.blocks:
        return _("🚫 unreachable: ") + "; ".join(write_block(b) for b in reach.blocks)
    return _("🚫 unreachable: none of your sessions is a member")


def group_state(
    paused_reason: str | None,
    slowmode_until: float | None,
    slowmode_seconds: int | None,
    now: float,
    reach: GroupReachView,
) -> str:
    """One group's line state on /groups: paused (the engine skips it), else whether the customer's
    sessions can post there and why not, with slow mode when known."""
    if paused_reason is not None:
        return _("⏸ paused: {reason_text}", reason_text=reason_text(paused_reason))
    if reach.reach != "reachable":
        return _unreachable(reach)
    seconds = max(reach.slow_mode, slowmode_seconds or 0)
    waiting = slowmode_until is not None and slowmode_until > now
    if seconds or waiting:
        return f"{_reachable(reach)}, {_slow_mode(seconds, slowmode_until, now)}"
    return _reachable(reach)


def groups_reach_summary(reachable: int, unreachable: int, checking: int) -> str:
    """The line under the /groups head; empty when there are no groups."""
    if not reachable + unreachable + checking:
        return ""
    parts = [_("✅ {reachable} reachable", reachable=reachable)]
    if unreachable:
        parts.append(_("🚫 {unreachable} unreachable", unreachable=unreachable))
    if checking:
        parts.append(_("⏳ {checking} not checked yet", checking=checking))
    line = " · ".join(parts)
    if unreachable:
        line += (
            _("\nNo post goes to an unreachable group. The admin can give you sessions that are members"
            " there; or remove it with /delgroup.")
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
    return _(
        "⇄ #{take_id} in, #{give_id} out (+{groups} group{value})",
        take_id=take_id,
        give_id=give_id,
        groups=groups,
        value='s' if groups != 1 else '',
    )


def btn_join(ref: str) -> str:
    """Queue a join of ``ref`` by the customer's sessions (paced like /join)."""
    return _("🤝 Join {ref}", ref=ref)


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
    more = _(" (the first {shown} of {count})", shown=shown, count=len(lines)) if shown < len(lines) else ""
    return (
        _(
            "📡 <b>Reach</b>: pick a customer{more}, or send /reach <code>user_id</code>.\n"
            "Their unreachable groups are listed with the pool sessions that are members there.",
            more=more,
        )
    )


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


_ADMIN_REACH = {
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
_ADMIN_BLOCKS = {"left": N_("left"), "kicked": N_("removed"), "banned": N_("banned"), "read_only": N_("read-only"),
                 "broadcast": N_("broadcast channel")}


def _admin_block(why: str | None) -> str:
    return tr(_ADMIN_BLOCKS.get(why or "", esc(why or _("may not write"))))


def _own_member(member: MemberView) -> str:
    return f"#{member.session_id}" + ("" if member.can_write else f" ({_admin_block(member.why_not)})")


def _unreachable_line(group: UnreachableView) -> str:
    state = tr(_ADMIN_REACH.get(group.reach.reach, esc(group.reach.reach)))
    if group.reach.reach == "forbidden" and group.reach.blocks:
        state += ": " + ", ".join(_admin_block(b) for b in group.reach.blocks)
    line = f"• <code>{esc(group.ref)}</code>{' ⏸' if group.paused else ''}: {state}"
    details = []
    if group.own:
        details.append(_("theirs: ") + ", ".join(_own_member(m) for m in group.own))
    details.append(_("free members: {ids}", ids=_ids(group.free)) if group.free else _("no free member"))
    if group.others:
        details.append(n_("{n} other session in it", "{n} other sessions in it", group.others))
    return line + "\n   " + " · ".join(details)


def reach_report(report: ReachReportView, budget: int = 3600) -> str:
    """The admins' reach screen of one customer (one message: the list is cut to ``budget`` units)."""
    head = [
        _("📡 <b>Reach of customer</b> <code>{customer_id}</code>", customer_id=report.customer_id)
        + ("" if report.plan_active else _(" (plan ended)")),
        _("Sessions: {value}", value=_ids(report.session_ids) or 'none')
        + (_("; never read: {ids}", ids=_ids(report.unchecked)) if report.unchecked else ""),
        _(
            "Groups: {groups}, {reachable} reachable, {count} not",
            groups=report.groups,
            reachable=report.reachable,
            count=len(report.unreachable),
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
                "A swap gives #{give_back} back to the pool (it reaches the fewest groups no other session "
                "of theirs does) and takes a free member in its place.",
                give_back=report.give_back,
            )
        )
    lines = [_unreachable_line(g) for g in report.unreachable]
    room = budget - utf16_len("\n".join(head + tail)) - 40
    shown = take_fitting(lines, room)
    if len(shown) < len(lines):
        shown.append(_("… and {value} more", value=len(lines) - len(shown)))
    return "\n".join([*head, "", *shown, "", *tail])


def swapped(take_id: int, give_id: int) -> str:
    """A toast (plain text)."""
    return _("Done: #{take_id} is theirs now, #{give_id} is back in the pool.", take_id=take_id, give_id=give_id)


# Refusals (plain text: NotFound / InputError.user_message).


def SWAP_BUSY() -> str:
    return _("A cycle of this campaign is running now; swap once it has ended.")


def not_their_session(session_id: int, customer_id: int) -> str:
    return _(
        "Session #{session_id} is not customer {customer_id}'s (any more): nothing was changed.",
        session_id=session_id,
        customer_id=customer_id,
    )


def session_not_free(session_id: int) -> str:
    return _("Session #{session_id} is not free in the pool (any more): nothing was changed.", session_id=session_id)

