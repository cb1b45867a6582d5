"""The notifications of ``core.states.EventKind``: one renderer per kind, for the customer the event is
about or, for an event without a customer, for the admins.

The engine, the pool and the admin services write an event with a payload; ``control_bot.notify`` sends
``event_text(...)``. Payload keys are those the writers use; every payload value is escaped (HTML). An
admin event speaks about the customer in the third person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.i18n import _
from core.states import EventKind
from core.texts.fmt import esc, fmt_time
from core.texts.outcomes import reason_text
from core.texts.reach import reachable_event, unreachable_event


def _p(payload: Mapping[str, Any], key: str, default: str = "?") -> str:
    value = payload.get(key)
    return esc(default if value is None else value)


def _reason(payload: Mapping[str, Any], default: str) -> str:
    value = payload.get("reason")
    return esc(default) if value is None else reason_text(str(value))


def _whose(p: Mapping[str, Any]) -> str:
    owner = p.get("owner_id", p.get("customer_id"))
    return "" if owner is None else _(" of customer <code>{owner}</code>", owner=esc(owner))


def _ev_session_dead(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        phone = f" ({_p(p, 'phone')})" if p.get("phone") else ""
        return _(
            "☠ Session #{session_id}{phone}{whose} is dead: {reason}.",
            session_id=_p(p, 'session_id'),
            phone=phone,
            whose=_whose(p),
            reason=_reason(p, 'unknown'),
        )
    # i18n: words inside an f-string value are not translated yet
    return _("⚠ One of your sessions stopped working ({reason}).", reason=_reason(p, 'account no longer usable'))


def _ev_session_limited(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        phone = f" ({_p(p, 'phone')})" if p.get("phone") else ""
        until = p.get("quarantine_until")
        rest = (
            _(" Quarantined until at least {until}.", until=fmt_time(float(until)))
            if isinstance(until, int | float)
            else ""
        )
        return _(
            "⚠ Session #{session_id}{phone}{whose} is limited: {reason}.{rest}",
            session_id=_p(p, "session_id"),
            phone=phone,
            whose=_whose(p),
            reason=_reason(p, "unknown"),
            rest=rest,
        )
    # i18n: words inside an f-string value are not translated yet
    return _(
        "⚠ One of your sessions is limited by Telegram ({reason}) and was set aside.",
        reason=_reason(p, "spam limit"),
    )


def _ev_session_frozen(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        phone = f" ({_p(p, 'phone')})" if p.get("phone") else ""
        until = p.get("frozen_until")
        deadline = (
            _(" Telegram deletes it after {until} unless an appeal succeeds.", until=fmt_time(float(until)))
            if isinstance(until, int | float)
            else ""
        )
        appeal = _(" Appeal: {appeal_url}", appeal_url=_p(p, "appeal_url")) if p.get("appeal_url") else ""
        return _(
            "🧊 Session #{session_id}{phone}{whose} was frozen by Telegram ({reason}) and is out of "
            "use.{deadline}{appeal}",
            session_id=_p(p, "session_id"),
            phone=phone,
            whose=_whose(p),
            reason=_reason(p, "frozen"),
            deadline=deadline,
            appeal=appeal,
        )
    return _("🧊 One of your sessions was frozen by Telegram and was set aside.")


def _ev_session_replaced(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _(
            "🔁 Session #{old_session_id}{whose} was replaced by #{new_session_id}.",
            old_session_id=_p(p, "old_session_id"),
            whose=_whose(p),
            new_session_id=_p(p, "new_session_id"),
        )
    return _("🔁 A session of yours was replaced by a fresh one from the pool. Your campaign goes on.")


def _ev_no_replacement(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        # i18n: words inside an f-string value are not translated yet
        return _(
            "⚠ No replacement for session #{session_id}{whose}: {reason}. Add sessions to the pool.",
            session_id=_p(p, "session_id"),
            whose=_whose(p),
            reason=_reason(p, "pool empty"),
        )
    return _(
        "⚠ A session of yours stopped working and there is no free session to replace it right now. "
        "Your campaign goes on with the others; the admin has been told."
    )


def _ev_group_paused(p: Mapping[str, Any], admin: bool) -> str:
    group = esc(next((p[k] for k in ("group", "ref", "group_ref") if p.get(k) is not None), "?"))
    if admin:
        # i18n: words inside an f-string value are not translated yet
        return _(
            "⏸ Group <code>{group}</code>{whose} paused: {reason}.",
            group=group,
            whose=_whose(p),
            reason=_reason(p, "it kept failing"),
        )
    # i18n: words inside an f-string value are not translated yet
    return _(
        "⏸ Group <code>{group}</code> was paused: {reason}. Resume it in /groups once fixed.",
        group=group,
        reason=_reason(p, "it kept failing"),
    )


def _group(p: Mapping[str, Any]) -> str:
    return str(next((p[k] for k in ("group", "ref", "group_ref") if p.get(k) is not None), "?"))


def _ev_group_unreachable(p: Mapping[str, Any], admin: bool) -> str:
    detail = p.get("detail")
    return unreachable_event(
        _group(p),
        str(p.get("reason") or "not_member"),
        None if detail is None else str(detail),
        admin=admin,
        whose=_whose(p),
    )


def _ev_group_reachable(p: Mapping[str, Any], admin: bool) -> str:
    return reachable_event(_group(p), admin=admin, whose=_whose(p))


def _why_post(p: Mapping[str, Any]) -> str:
    error = p.get("error")
    return reason_text(str(error)) if error else _("the message is not reachable")


def _ev_post_invalid(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _("❌ The post{whose} can no longer be sent: {why_post}.", whose=_whose(p), why_post=_why_post(p))
    return _(
        "❌ Your post{value} can no longer be sent ({why_post}). Set a new one with /post, then /run.",
        value=" " + _p(p, "link") if p.get("link") else "",
        why_post=_why_post(p),
    )


def _ev_campaign_stopped(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        # i18n: words inside an f-string value are not translated yet
        return _("⏹ Campaign{whose} stopped: {reason}.", whose=_whose(p), reason=_reason(p, "by the service"))
    # i18n: words inside an f-string value are not translated yet
    return _("⏹ Your campaign was stopped: {reason}. /run starts it again.", reason=_reason(p, "by the service"))


def _ev_campaign_resumed(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _("▶ Campaign{whose} resumed after a restart.", whose=_whose(p))
    return _("▶ Your campaign was resumed after a restart of the service.")


def _ev_plan_granted(p: Mapping[str, Any], admin: bool) -> str:
    expires = p.get("expires_at")
    until = _(" until {expires}", expires=fmt_time(float(expires))) if isinstance(expires, int | float) else ""
    if admin:
        # i18n: a "(s)" plural left for the owner (n_ with whole sentences)
        return _(
            "🎉 Plan{whose}: {sessions} session(s){until}.",
            whose=_whose(p),
            sessions=_p(p, "sessions"),
            until=until,
        )
    verb = _("was extended") if p.get("extended") else _("is ready")
    # i18n: a "(s)" plural left for the owner (n_ with whole sentences)
    return _(
        "🎉 Your plan {verb}: {sessions} session(s){until}. Type /start to set up your campaign.",
        verb=verb,
        sessions=_p(p, "sessions"),
        until=until,
    )


def _ev_plan_revoked(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _("Plan{whose} revoked.", whose=_whose(p))
    return _("Your plan was ended by the admin and your campaign is stopped. Contact the admin to renew it.")


def _ev_plan_expired(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _("⌛ Plan{whose} expired; the campaign was stopped.", whose=_whose(p))
    return _("⌛ Your plan has expired, so your campaign is stopped. Ask the admin to renew it.")


def _ev_pool_low(p: Mapping[str, Any], admin: bool) -> str:
    # i18n: a "(s)" plural left for the owner (n_ with whole sentences)
    return _(
        "⚠ The session pool is low: {free} free session(s) left (threshold {threshold}). Upload more sessions.",
        free=_p(p, "free"),
        threshold=_p(p, "threshold"),
    )


def _ev_pair_full(p: Mapping[str, Any], admin: bool) -> str:
    return _(
        "⚠ API pair {api_id} is full ({capacity} sessions). Add another API pair so more sessions can be used.",
        api_id=_p(p, "api_id"),
        capacity=_p(p, "capacity"),
    )


_EVENT_TEXTS: dict[EventKind, Callable[[Mapping[str, Any], bool], str]] = {
    EventKind.SESSION_DEAD: _ev_session_dead,
    EventKind.SESSION_LIMITED: _ev_session_limited,
    EventKind.SESSION_FROZEN: _ev_session_frozen,
    EventKind.SESSION_REPLACED: _ev_session_replaced,
    EventKind.NO_REPLACEMENT: _ev_no_replacement,
    EventKind.GROUP_PAUSED: _ev_group_paused,
    EventKind.GROUP_UNREACHABLE: _ev_group_unreachable,
    EventKind.GROUP_REACHABLE: _ev_group_reachable,
    EventKind.POST_INVALID: _ev_post_invalid,
    EventKind.CAMPAIGN_STOPPED: _ev_campaign_stopped,
    EventKind.CAMPAIGN_RESUMED: _ev_campaign_resumed,
    EventKind.PLAN_GRANTED: _ev_plan_granted,
    EventKind.PLAN_REVOKED: _ev_plan_revoked,
    EventKind.PLAN_EXPIRED: _ev_plan_expired,
    EventKind.POOL_LOW: _ev_pool_low,
    EventKind.PAIR_FULL: _ev_pair_full,
}


def event_text(kind: EventKind, payload: Mapping[str, Any], *, for_admin: bool) -> str:
    """The notification for one outbox event (HTML; payload values escaped)."""
    render = _EVENT_TEXTS.get(kind)
    if render is None:
        return f"ℹ {esc(kind)}"
    return render(payload, for_admin)
