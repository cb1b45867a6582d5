"""What joins say: the admin's ``/join`` and ``/joins``, ``adbot pool join`` / ``joins``, and refused
join targets (``core.join_targets``).

HTML for the bot's screens. Plain text: the refused targets (``LinkError.user_message``), the usage line
and refused arguments (``InputError`` / ``NotFound`` / ``PoolError``), which the error handler escapes,
and the ``cli_*`` texts and ``HELP_*`` lines (a terminal; argparse %-formats help: no literal percent).

The screens read the pool's results through the small read-only shapes below (``pool.joins``,
``storage.joins``, ``core.ports.InvitePreview`` fit them), so the texts stay in the bottom layer.
Reasons are stored as names (Telegram's error names, a few of our own): ``reason_text`` words them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from core.i18n import N_, _, n_
from core.texts.fmt import esc, fmt_duration, fmt_time, in_or_now, relative, tr

# --- what the screens read ---------------------------------------------------------------------------------


class Preview(Protocol):
    """``core.ports.InvitePreview``."""

    @property
    def title(self) -> str: ...
    @property
    def broadcast(self) -> bool: ...
    @property
    def request_needed(self) -> bool: ...
    @property
    def already_member(self) -> bool: ...
    @property
    def participants(self) -> int: ...


class Queued(Protocol):
    """``pool.joins.QueuedJoin``."""

    @property
    def session_id(self) -> int: ...
    @property
    def join_id(self) -> int | None: ...
    @property
    def due_at(self) -> float | None: ...
    @property
    def skipped(self) -> str | None: ...


class Join(Protocol):
    """``storage.joins.JoinRow``."""

    @property
    def id(self) -> int: ...
    @property
    def session_id(self) -> int: ...
    @property
    def target(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def due_at(self) -> float: ...
    @property
    def done_at(self) -> float | None: ...


# --- refused join targets (plain text) ---------------------------------------------------------------------


JOIN_EXAMPLES = "@name, t.me/name, t.me/+AbCdEf123456 or t.me/joinchat/AbCdEf123456"


def JOIN_TARGET_NOT_TEXT() -> str:
    return _("Send the group to join as text.")


def NO_JOIN_TARGET() -> str:
    return _("No group to join: send one of {join_examples}", join_examples=JOIN_EXAMPLES)


def join_target_too_long(chars: int) -> str:
    return _("That is too long ({chars} characters) to be a group to join.", chars=chars)


def join_target_unreadable(shown: str) -> str:
    """``shown``: the input quoted (``core.texts.errors.echo``)."""
    return _(
        "{shown} could not be read as a group to join. Send one of {join_examples}",
        shown=shown,
        join_examples=JOIN_EXAMPLES,
    )


def join_by_id(shown: str) -> str:
    return (
        _(
            "{shown} names a chat by its number: a chat can only be joined by its @username or an invite "
            "link ({join_examples})",
            shown=shown,
            join_examples=JOIN_EXAMPLES,
        )
    )


def not_joinable(shown: str) -> str:
    return _(
        "{shown} is not a group to join (a folder link, or joinchat without its code). Send one of {join_examples}",
        shown=shown,
        join_examples=JOIN_EXAMPLES,
    )


def phone_link(shown: str) -> str:
    return _("{shown} is a phone number link (a person), not a group to join.", shown=shown)


def bad_invite(shown: str) -> str:
    return (
        _(
            "{shown} is not a valid invite link: the code after + or joinchat/ is 6 to 64 letters, digits, - "
            "or _. Copy the link again.",
            shown=shown,
        )
    )


# --- /join's arguments (plain text) ------------------------------------------------------------------------


def USAGE_JOIN() -> str:
    return _(
        "/join <sessions> <group>. Sessions: ids like 3,5,7, or c<customer id> for all of a customer's "
        "sessions. Group: @name, t.me/name or an invite link (t.me/+...)",
    )


def SESSION_ID() -> str:
    return _("A session id")


def bad_session_list(shown: str) -> str:
    return _(
        "“{shown}” is not a list of sessions: give ids like 3,5,7, or c123456789 for a customer's sessions.",
        shown=shown,
    )


def too_many_sessions(count: int, most: int) -> str:
    return _("{count} sessions at once is too many: at most {most} per /join.", count=count, most=most)


def customer_has_no_sessions(customer_id: int) -> str:
    return _("Customer {customer_id} holds no session to join with.", customer_id=customer_id)


def NO_SESSION_TO_PREVIEW() -> str:
    return _(
        "None of these sessions can open the invite link now (dead, limited, unknown, or a customer's "
        "session while the engine is not running): nothing was queued.",
    )


def preview_failed(session_id: int, reason: str) -> str:
    """The preview request failed; ``reason``: the classified error name."""
    return _(
        "Session #{session_id} could not preview the invite link ({reason}): nothing was queued. Try again later.",
        session_id=session_id,
        reason=reason,
    )


# --- statuses and reasons ----------------------------------------------------------------------------------


_REASONS: Mapping[str, str] = {
    "INVITE_REQUEST_SENT": N_("the chat's admins approve new members: the request waits for them"),
    "CHANNELS_TOO_MUCH": N_("the account is in as many channels and groups as Telegram allows"),
    "INVITE_HASH_EXPIRED": N_("the invite link has expired"),
    "INVITE_HASH_INVALID": N_("the invite link is not valid"),
    "INVITE_HASH_EMPTY": N_("the invite link has no code"),
    "USERNAME_NOT_OCCUPIED": N_("no chat has that username"),
    "USERNAME_INVALID": N_("that is not a valid username"),
    "NOT_A_CHAT": N_("that username is a person or a bot, not a group"),
    "USER_ALREADY_PARTICIPANT": N_("the account was already a member"),
    "FLOOD_WAIT": N_("Telegram asked this session to wait before joining again"),
    "SESSION_DEAD": N_("the session is dead"),
    "SESSION_LIMITED": N_("the session is limited (quarantined)"),
    "SESSION_FROZEN": N_("the session is frozen by Telegram"),
    "ChannelPrivateError": N_("the chat is private, or the account was banned from it"),
    "UsersTooMuchError": N_("the group is full"),
}


def reason_text(reason: str | None) -> str:
    """A stored reason in words (an unknown one as it is)."""
    if not reason:
        return ""
    return tr(_REASONS.get(reason, reason))


_SKIPPED: Mapping[str, str] = {
    "no_session": N_("no such session"),
    "dead": N_("the session is dead"),
    "limited": N_("the session is limited (quarantined)"),
    "frozen": N_("the session is frozen by Telegram"),
    "no_pair": N_("the session waits for an API pair (add one with /addpair)"),
    "queued": N_("already queued or waiting for approval"),
    "member": N_("already a member"),
}


def skipped_text(skipped: str) -> str:
    return tr(_SKIPPED.get(skipped, skipped))


def _status(row: Join, now: float, waits: Mapping[int, float]) -> str:
    reason = reason_text(row.reason)
    if row.status == "queued":
        due = max(row.due_at, waits.get(row.session_id, 0.0))
        waiting = f" ({esc(reason)})" if reason else ""
        return _("⏳ queued, runs {when}{waiting}", when=in_or_now(due, now), waiting=waiting)
    done = f" {relative(row.done_at, now)}" if row.done_at is not None else ""
    if row.status == "joined":
        return _("✅ joined{done}", done=done)
    if row.status == "already":
        return _("☑️ already a member{done}", done=done)
    if row.status == "pending":
        # i18n: words inside an f-string value are not translated yet
        return _("🕓 pending: {value} (asked{done})", value=esc(reason or 'waiting for approval'), done=done)
    icon = _("⛔ refused") if row.status == "refused" else _("❌ failed")
    return f"{icon}{done}: {esc(reason)}" if reason else f"{icon}{done}"


def _target(ref: str, title: str | None) -> str:
    shown = f"t.me/{ref}" if ref.startswith("+") else ref
    return f"{esc(shown)} ({esc(title)})" if title else esc(shown)


# --- screens (HTML) ----------------------------------------------------------------------------------------


def BTN_QUEUE_JOINS() -> str:
    return _("✅ Queue the joins")


def BTN_CANCEL_JOINS() -> str:
    return _("✖ Cancel")


def BTN_ADMIN_JOINS() -> str:
    return _("🤝 Joins")


def DRAFT_GONE() -> str:
    return _("This preview has expired: send /join again.")


def JOINS_CANCELLED() -> str:
    return _("Nothing was queued.")


def _sessions(ids: Sequence[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


def invite_preview(preview: Preview, link: str, session_ids: Sequence[int], previewer: int) -> str:
    """An invite link, seen by session ``previewer`` before anything is queued."""
    kind = _("a group")
    if preview.broadcast:
        kind = _("a channel (only its admins post: a session in it cannot advertise there)")
    lines = [
        _("🔗 <b>Invite link</b> ") + esc(link),
        n_(
            "<b>{value}</b>: {kind}, {n} member.",
            "<b>{value}</b>: {kind}, {n} members.",
            preview.participants,
            value=esc(preview.title or '?'),
            kind=kind,
        ),
    ]
    if preview.request_needed:
        lines.append(
            _("⚠️ Its admins approve new members: each join is a request that stays <b>pending</b> until they"
            " accept it (adbot never does anything else about it).")
        )
    if preview.already_member:
        lines.append(_("Session #{previewer} is already a member (recorded; it is not queued).", previewer=previewer))
    lines.append(_("Queue joins for {sessions}?", sessions=_sessions(session_ids)))
    return "\n".join(lines)


def invite_invalid(link: str, reason: str | None) -> str:
    # i18n: words inside an f-string value are not translated yet
    return _(
        "🔗 {link}: {value}. Nothing was queued.",
        link=esc(link),
        value=esc(reason_text(reason) or 'the invite link is not valid'),
    )


def joins_queued(
    target: str, title: str | None, queued: Sequence[Queued], *, gap_minutes: int, daily_cap: int, now: float
) -> str:
    """What an admin's request queued (each with when it runs) and what it skipped (and why)."""
    lines = [_("🤝 <b>Joins of {target}</b>", target=_target(target, title))]
    for item in queued:
        if item.join_id is not None and item.due_at is not None:
            lines.append(_(
                "• session #{session_id}: {due_at} ({when})",
                session_id=item.session_id,
                due_at=fmt_time(item.due_at),
                when=in_or_now(item.due_at, now),
            ))
        else:
            lines.append(_(
                "• session #{session_id}: not queued, {skipped_text}",
                session_id=item.session_id,
                skipped_text=esc(skipped_text(item.skipped or '')),
            ))
    lines.append(
        _(
            "\n"
            "Each session joins at most once every {gap_minutes} min and {daily_cap} times in 24 hours; a "
            "flood wait pauses that session's joins until it ends. See /joins for the outcome.",
            gap_minutes=gap_minutes,
            daily_cap=daily_cap,
        )
    )
    return "\n".join(lines)


def joins_list(rows: Sequence[Join], waits: Mapping[int, float], now: float) -> str:
    """The newest joins with their outcome, and the sessions whose joins wait out a flood wait."""
    if not rows:
        return _("🤝 <b>Joins</b>\nNo joins yet. Ask for one with /join &lt;sessions&gt; &lt;group&gt;.")
    lines = [_("🤝 <b>Joins</b> (newest first)")]
    for row in rows:
        target = _target(row.target, row.title)
        lines.append(_(
            "#{id} session #{session_id} → {target}: {status}",
            id=row.id,
            session_id=row.session_id,
            target=target,
            status=_status(row, now, waits),
        ))
    for session_id, until in sorted(waits.items()):
        lines.append(_(
            "⏸ session #{session_id}: joins wait until {until} ({duration})",
            session_id=session_id,
            until=fmt_time(until),
            duration=fmt_duration(until - now),
        ))
    return "\n".join(lines)


# --- the command line (plain text) -------------------------------------------------------------------------


HELP_POOL_JOIN = "queue joins of a group or invite link for sessions (paced; run by the bot's process)"
HELP_POOL_JOIN_SESSIONS = "session ids like 3,5,7, or c<customer id> for all of a customer's sessions"
HELP_POOL_JOIN_TARGET = "@name, t.me/name or an invite link (t.me/+...)"
HELP_POOL_JOIN_ADMIN = "the admin user id recorded as asking (default 0: the command line)"
HELP_POOL_JOINS = "recent joins and their outcome"
CLI_NO_JOINS = "no joins yet"


def cli_queued(item: Queued, now: float) -> str:
    if item.join_id is not None and item.due_at is not None:
        when = f"{fmt_time(item.due_at)} ({in_or_now(item.due_at, now)})"
        return _(
            "session {session_id}: join #{join_id} at {when}",
            session_id=item.session_id,
            join_id=item.join_id,
            when=when,
        )
    return _(
        "session {session_id}: not queued, {skipped_text}",
        session_id=item.session_id,
        skipped_text=skipped_text(item.skipped or ''),
    )


def cli_join(row: Join, now: float) -> str:
    when = in_or_now(row.due_at, now) if row.status == "queued" else (relative(row.done_at, now) if row.done_at else "")
    reason = reason_text(row.reason)
    return _(
        "#{id} session {session_id} {target}: {status} {when}",
        id=row.id,
        session_id=row.session_id,
        target=row.target,
        status=row.status,
        when=when,
    ) + (f" ({reason})" if reason else "")
