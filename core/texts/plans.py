"""Granting and revoking customers' plans (/grant, /revoke; issue 18 part H): who (id, @username, picked),
before -> after and its confirmation, refused input, the admin's reports.

HTML unless a text says it is plain (usage lines and refused input become ``InputError.user_message``,
which the error handler escapes).
"""

from __future__ import annotations

from typing import Protocol

from core.i18n import _, n_
from core.texts.admin import Plan
from core.texts.fmt import esc, fmt_time, relative


class Granted(Protocol):
    """``services.admin.GrantResult`` (also printed by ``adbot customers grant``)."""

    @property
    def customer(self) -> Plan: ...
    @property
    def created(self) -> bool: ...
    @property
    def days(self) -> int: ...


class Revoked(Protocol):
    """``services.admin.RevokeResult``."""

    @property
    def user_id(self) -> int: ...
    @property
    def was_running(self) -> bool: ...
    @property
    def sessions_returned(self) -> int: ...


def SESSIONS_COUNT() -> str:
    """Completes "... must be a whole number from 1 to 100" (plain text)."""
    return _("The number of sessions")


def DAYS_COUNT() -> str:
    return _("The number of days")


# --- who, before -> after, confirm (``control_bot.services.plans``) ------------------------------------


class PersonLike(Protocol):
    @property
    def user_id(self) -> int: ...
    @property
    def username(self) -> str | None: ...
    @property
    def first_name(self) -> str | None: ...


class PlanStateLike(Protocol):
    @property
    def sessions(self) -> int: ...
    @property
    def expires_at(self) -> float: ...
    @property
    def active(self) -> bool: ...


class PlanChangeLike(Protocol):
    """``services.plans.PlanChange``."""

    @property
    def person(self) -> PersonLike: ...
    @property
    def kind(self) -> str: ...
    @property
    def before(self) -> PlanStateLike | None: ...
    @property
    def after(self) -> PlanStateLike: ...
    @property
    def days(self) -> int: ...
    @property
    def returned(self) -> int: ...
    @property
    def running(self) -> bool: ...
    @property
    def now(self) -> float: ...
    @property
    def fewer_sessions(self) -> bool: ...
    @property
    def pool_short(self) -> int: ...
    @property
    def free(self) -> int: ...


class AppliedLike(Protocol):
    """``services.plans.Applied``."""

    @property
    def change(self) -> PlanChangeLike: ...
    @property
    def returned(self) -> int: ...
    @property
    def created(self) -> bool: ...


def person(who: PersonLike) -> str:
    """Someone as an admin recognises them: name, @username and id (HTML)."""
    name = esc(who.first_name) if who.first_name else ""
    handle = f"@{esc(who.username)}" if who.username else ""
    ident = f"<code>{who.user_id}</code>"
    if name and handle:
        return _("{name} ({handle}, id {id})", name=name, handle=handle, id=ident)
    if name or handle:
        return _("{name} (id {id})", name=name or handle, id=ident)
    return ident


def USAGE_GRANT() -> str:
    return _(
        "Usage: /grant <user id or @username> <sessions> <days>, e.g. /grant @alice 3 30.\n"
        "Only people who have started the bot can be found by @username. "
        "Or tap “👤 Pick a person” below."
    )


def USAGE_REVOKE() -> str:
    return _("Usage: /revoke <user id or @username>")


def BTN_PICK_PERSON() -> str:
    return _("👤 Pick a person")


def BTN_CONFIRM() -> str:
    return _("✅ Confirm")


def BTN_CANCEL() -> str:
    return _("✖ Cancel")


def BTN_PLAN_PRESET(sessions: int, days: int) -> str:
    """A plan button: sessions and days, short (at most 24 characters)."""
    return _(
        "{sessions} · {days}",
        sessions=n_("{n} session", "{n} sessions", sessions),
        days=n_("{n} day", "{n} days", days),
    )


def PICK_PROMPT() -> str:
    return _("Tap “👤 Pick a person” below and choose whom the plan is for.")


def not_a_person(shown: str) -> str:
    """Plain text: neither a user id nor an @username."""
    return _("“{shown}” is not a user id or an @username.", shown=shown)


def never_started(username: str) -> str:
    """Plain text: nobody with this username has written to the bot."""
    return _(
        "@{username} has not started the bot yet, so I do not know who that is. "
        "Ask them to send /start to the bot, or use their numeric id.",
        username=username,
    )


def not_a_customer(user_id: int) -> str:
    """Plain text: a revoke of someone with no plan."""
    return _("{user_id} has no plan: nothing to end.", user_id=user_id)


def PROPOSAL_GONE() -> str:
    return _(
        "This confirmation is no longer valid (used, cancelled or too old). Nothing was changed: "
        "send /grant again."
    )


def plan_changed_meanwhile(user_id: int) -> str:
    return _(
        "The plan of {user_id} changed after this was shown. Nothing was changed: send /grant again to "
        "see it as it is now.",
        user_id=user_id,
    )


def CYCLE_RUNNING() -> str:
    return _(
        "A cycle of this customer's campaign is running and its sessions are in use. Nothing was changed: "
        "tap Confirm again in a minute."
    )


def PLAN_CANCELLED() -> str:
    return _("Cancelled: the plan was not changed.")


def choose_plan(who: PersonLike) -> str:
    """After picking a person (or /grant with only a name): the preset buttons follow."""
    return _(
        "📝 Plan for {who}: tap a plan below, or send /grant {user_id} &lt;sessions&gt; &lt;days&gt;.",
        who=person(who),
        user_id=who.user_id,
    )


def _state(state: PlanStateLike | None, now: float) -> str:
    if state is None:
        return _("no plan")
    if not state.active:
        return _("ended {when}", when=fmt_time(state.expires_at))
    return n_(
        "{n} session until {until}",
        "{n} sessions until {until}",
        state.sessions,
        until=fmt_time(state.expires_at),
    )


def plan_change(change: PlanChangeLike) -> str:
    """Before -> after of a grant or a revoke, with what it costs; Confirm / Cancel follow (HTML)."""
    now = change.now
    if change.kind == "revoke":
        lines = [
            _("🛑 <b>End the plan</b> of {who}", who=person(change.person)),
            _("Before: {state}", state=_state(change.before, now)),
            _("After: no plan from now on."),
        ]
        if change.running:
            lines.append(_("⚠ Their campaign is running: it stops."))
        if change.returned:
            lines.append(
                n_(
                    "⚠ {n} session goes back to the pool.",
                    "⚠ {n} sessions go back to the pool.",
                    change.returned,
                )
            )
        lines.append(_("Confirm?"))
        return "\n".join(lines)
    lines = [
        _("📝 <b>Plan</b> for {who}", who=person(change.person)),
        _("Before: {state}", state=_state(change.before, now)),
        _("After: {state} (+{days})", state=_state(change.after, now), days=n_("{n} day", "{n} days", change.days)),
    ]
    if change.fewer_sessions:
        lines.append(
            n_(
                "⚠ Fewer sessions: {n} would be returned to the pool.",
                "⚠ Fewer sessions: {n} would be returned to the pool.",
                change.returned,
            )
            if change.returned
            else _("⚠ Fewer sessions (they hold no more than the new plan: none goes back to the pool).")
        )
    if change.pool_short and not change.free:
        lines.append(_("⚠ The pool has no free session now: the campaign runs short until some are added."))
    elif change.pool_short:
        lines.append(
            n_(
                "⚠ The pool has only {n} free session now: the campaign runs short until more are added.",
                "⚠ The pool has only {n} free sessions now: the campaign runs short until more are added.",
                change.free,
            )
        )
    lines.append(_("Confirm?"))
    return "\n".join(lines)


def plan_applied(applied: AppliedLike) -> str:
    """After Confirm, or at once for a new plan (HTML)."""
    change = applied.change
    who = person(change.person)
    if change.kind == "revoke":
        lines = [
            _("✅ Plan of {who} ended: their campaign was stopped.", who=who)
            if change.running
            else _("✅ Plan of {who} ended.", who=who)
        ]
    else:
        after = change.after
        until, left = fmt_time(after.expires_at), relative(after.expires_at, change.now)
        days = n_("{n} day", "{n} days", change.days)
        lines = [
            n_(
                "✅ Plan created for {who}: {n} session until {until} ({left}; +{days}).",
                "✅ Plan created for {who}: {n} sessions until {until} ({left}; +{days}).",
                after.sessions,
                who=who,
                until=until,
                left=left,
                days=days,
            )
            if applied.created
            else n_(
                "✅ Plan extended for {who}: {n} session until {until} ({left}; +{days}).",
                "✅ Plan extended for {who}: {n} sessions until {until} ({left}; +{days}).",
                after.sessions,
                who=who,
                until=until,
                left=left,
                days=days,
            )
        ]
    if applied.returned:
        lines.append(
            n_("{n} session went back to the pool.", "{n} sessions went back to the pool.", applied.returned)
        )
    lines.append(_("The customer is being told."))
    return "\n".join(lines)
