"""The notifications of ``core.states.EventKind``: one renderer per kind, for the customer the event is
about or, for an event without a customer, for the admins.

The engine, the pool and the admin services write an event with a payload; ``control_bot.notify`` sends
``event_text(...)``. Payload keys are those the writers use; every payload value is escaped (HTML). An
admin event speaks about the customer in the third person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.i18n import _, n_, num
from core.states import EventKind
from core.texts.api import campaign_started
from core.texts.fmt import esc, fmt_time
from core.texts.outcomes import REFUSAL_TEXTS, STOP_REASON_CUSTOMER, reason_text
from core.texts.reach import BLOCKED_BECAUSE, REASONS, reachable_event, unreachable_event


def _p(payload: Mapping[str, Any], key: str, default: str = "?") -> str:
    value = payload.get(key)
    return esc(default if value is None else value)


def _reason(payload: Mapping[str, Any], default: str) -> str:
    """The payload's stored reason in words (HTML); ``default`` (already in the reader's words) without one."""
    value = payload.get("reason")
    return esc(default) if value is None else reason_text(str(value))


def _owner(p: Mapping[str, Any]) -> object | None:
    owner: object | None = p.get("owner_id", p.get("customer_id"))
    return owner


def _for_customer(p: Mapping[str, Any], text: str) -> str:
    """An admin event about a customer starts with who it is (a label, then the sentence)."""
    owner = _owner(p)
    if owner is None:
        return text
    return _("Customer <code>{customer}</code>:", customer=esc(owner)) + " " + text


def _session(p: Mapping[str, Any], key: str = "session_id") -> str:
    """``#5`` or ``#5 (+1 555…)``: a session as admins know it (no words)."""
    phone = f" ({_p(p, 'phone')})" if p.get("phone") else ""
    return f"#{_p(p, key)}{phone}"


def _when(p: Mapping[str, Any], key: str) -> str | None:
    value = p.get(key)
    return fmt_time(float(value)) if isinstance(value, int | float) else None


def _ev_session_dead(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _for_customer(p, _("☠ Session {session} is dead: {reason}.", session=_session(p),
                                  reason=_reason(p, _("unknown"))))
    return _("⚠ One of your sessions stopped working ({reason}).", reason=_reason(p, _("account no longer usable")))


def _ev_session_limited(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        text = _("⚠ Session {session} is limited: {reason}.", session=_session(p), reason=_reason(p, _("unknown")))
        until = _when(p, "quarantine_until")
        if until is not None:
            text += " " + _("Quarantined until at least {until}.", until=until)
        return _for_customer(p, text)
    return _("⚠ One of your sessions is limited by Telegram ({reason}) and was set aside.",
             reason=_reason(p, _("spam limit")))


def _ev_session_frozen(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        text = _("🧊 Session {session} was frozen by Telegram ({reason}) and is out of use.", session=_session(p),
                 reason=_reason(p, _("frozen")))
        until = _when(p, "frozen_until")
        if until is not None:
            text += " " + _("Telegram deletes it after {until} unless an appeal succeeds.", until=until)
        if p.get("appeal_url"):
            text += " " + _("Appeal: {url}", url=_p(p, "appeal_url"))
        return _for_customer(p, text)
    return _("🧊 One of your sessions was frozen by Telegram and was set aside.")


def _ev_session_replaced(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _for_customer(p, _("🔁 Session #{old} was replaced by #{new}.", old=_p(p, "old_session_id"),
                                  new=_p(p, "new_session_id")))
    return _("🔁 A session of yours was replaced by a fresh one from the pool. Your campaign goes on.")


NO_ADMINS = "_no_admins"
"""A payload flag ``event_text`` adds when no admin is configured: a text never says they were told."""


def _ev_no_replacement(p: Mapping[str, Any], admin: bool) -> str:
    # ``reason``: a key of ``pool.assign.take_one_or_none`` (``no_sessions`` / ``no_pair``), said in words.
    if admin:
        if p.get("reason") == "no_pair":
            return _for_customer(p, _("⚠ No replacement for session #{session}: {reason}. Add an API pair with "
                                      "/addpair.", session=_p(p, "session_id"), reason=_reason(p, "")))
        return _for_customer(p, _("⚠ No replacement for session #{session}: {reason}. Add sessions to the pool.",
                                  session=_p(p, "session_id"), reason=_reason(p, _("pool empty"))))
    if p.get(NO_ADMINS):
        return _(
            "⚠ A session of yours stopped working and there is no free session to replace it right now. "
            "Your campaign goes on with the others."
        )
    return _(
        "⚠ A session of yours stopped working and there is no free session to replace it right now. "
        "Your campaign goes on with the others; the admin has been told."
    )


def _group(p: Mapping[str, Any]) -> str:
    return str(next((p[k] for k in ("group", "ref", "group_ref") if p.get(k) is not None), "?"))


def _ev_group_paused(p: Mapping[str, Any], admin: bool) -> str:
    group = esc(_group(p))
    if admin:
        return _for_customer(p, _("⏸ Group <code>{group}</code> paused: {reason}.", group=group,
                                  reason=_reason(p, _("it kept failing"))))
    return _("⏸ Group <code>{group}</code> was paused: {reason}. Resume it in /groups once fixed.", group=group,
             reason=_reason(p, _("it kept failing")))


def _ev_group_unreachable(p: Mapping[str, Any], admin: bool) -> str:
    # Only reasons and details the reach texts word are passed on: anything else (an error's name stored
    # by mistake) is never shown.
    reason = str(p.get("reason") or "not_member")
    if reason not in REASONS:
        reason = "not_member"
    detail = p.get("detail")
    parts = [] if detail is None else [x for x in str(detail).split(",") if x in BLOCKED_BECAUSE or x in REFUSAL_TEXTS]
    text = unreachable_event(_group(p), reason, ",".join(parts) or None, admin=admin)
    return _for_customer(p, text) if admin else text


def _ev_group_reachable(p: Mapping[str, Any], admin: bool) -> str:
    text = reachable_event(_group(p), admin=admin)
    return _for_customer(p, text) if admin else text


def _why_post(p: Mapping[str, Any]) -> str:
    error = p.get("error")
    return reason_text(str(error)) if error else esc(_("the message is not reachable"))


def _ev_post_invalid(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _for_customer(p, _("❌ The post can no longer be sent: {why}.", why=_why_post(p)))
    if p.get("link"):
        return _("❌ Your post {link} can no longer be sent ({why}). Set a new one with /post, then /run.",
                 link=_p(p, "link"), why=_why_post(p))
    return _("❌ Your post can no longer be sent ({why}). Set a new one with /post, then /run.", why=_why_post(p))


def _ev_post_unusable(p: Mapping[str, Any], admin: bool) -> str:
    number = _count(p, "number")
    if admin:
        return _for_customer(p, _("⚠ Post {number} can no longer be sent ({why}); the other posts go on.",
                                  number=num(number), why=_why_post(p)))
    return _("⚠ Your post {number} can no longer be sent ({why}). Your other posts go on without it; replace it "
             "on /posts.", number=num(number), why=_why_post(p))


def _ev_campaign_stopped(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _for_customer(p, _("⏹ Campaign stopped: {reason}.", reason=_reason(p, _("by the service"))))
    return _("⏹ Your campaign was stopped: {reason}. /run starts it again.", reason=_reason(p, _("by the service")))


def _ev_campaign_resumed(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _for_customer(p, _("▶ Campaign resumed after a restart."))
    return _("▶ Your campaign was resumed after a restart of the service.")


def _ev_plan_granted(p: Mapping[str, Any], admin: bool) -> str:
    sessions = _count(p, "sessions")
    until = _when(p, "expires_at") or "?"
    if admin:
        return _for_customer(p, n_("🎉 Plan: {n} session until {until}.", "🎉 Plan: {n} sessions until {until}.",
                                   sessions, until=until))
    if p.get("extended"):
        return n_(
            "🎉 Your plan was extended: {n} session until {until}. Type /start to set up your campaign.",
            "🎉 Your plan was extended: {n} sessions until {until}. Type /start to set up your campaign.",
            sessions, until=until,
        )
    return n_(
        "🎉 Your plan is ready: {n} session until {until}. Type /start to set up your campaign.",
        "🎉 Your plan is ready: {n} sessions until {until}. Type /start to set up your campaign.",
        sessions, until=until,
    )


def _ev_plan_revoked(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _for_customer(p, _("Plan revoked."))
    return _("Your plan was ended by the admin and your campaign is stopped. Contact the admin to renew it.")


def _ev_plan_expired(p: Mapping[str, Any], admin: bool) -> str:
    if admin:
        return _for_customer(p, _("⌛ Plan expired; the campaign was stopped."))
    return _("⌛ Your plan has expired, so your campaign is stopped. Ask the admin to renew it.")


def _ev_pool_low(p: Mapping[str, Any], admin: bool) -> str:
    return n_(
        "⚠ The session pool is low: {n} free session left (threshold {threshold}). Upload more sessions.",
        "⚠ The session pool is low: {n} free sessions left (threshold {threshold}). Upload more sessions.",
        _count(p, "free"), threshold=num(_count(p, "threshold")),
    )


def _ev_pair_full(p: Mapping[str, Any], admin: bool) -> str:
    return n_(
        "⚠ API pair {api_id} is full ({n} session). Add another API pair so more sessions can be used.",
        "⚠ API pair {api_id} is full ({n} sessions). Add another API pair so more sessions can be used.",
        _count(p, "capacity"), api_id=_p(p, "api_id"),
    )


# --- issue 18 part G: the cycle summary, reminders, sessions short -----------------------------------


def BTN_DETAILS() -> str:
    return _("📜 Details")


def BTN_STOP_CAMPAIGN() -> str:
    return _("⏹ Stop")


def BTN_FIX_GROUPS() -> str:
    return _("🛠 Fix groups")


def _count(p: Mapping[str, Any], key: str) -> int:
    value = p.get(key)
    return int(value) if isinstance(value, int | float) else 0


def summary_problems(p: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The events a cycle summary folded (each ``{"kind": ..., **payload}``), those of a kind we know."""
    found = p.get("problems")
    if not isinstance(found, list):
        return []
    known = {str(k) for k in _EVENT_TEXTS}
    return [e for e in found if isinstance(e, dict) and str(e.get("kind")) in known]


def summary_needs_reader(p: Mapping[str, Any]) -> bool:
    """Whether a cycle summary says something that needs the customer: a problem folded into it, a failed
    post, a stop. Routine success (unconfirmed posts, slow mode and flood waits included: nothing to do
    about them) is said only to who asked for everything."""
    stopped = p.get("stopped")
    return bool(summary_problems(p)) or _count(p, "failed") > 0 or bool(stopped and stopped != STOP_REASON_CUSTOMER)


def _ev_cycle_summary(p: Mapping[str, Any], admin: bool) -> str:
    total, sent = _count(p, "total"), _count(p, "sent")
    head = n_(
        "📋 Cycle {cycle}: the post reached {sent} of {n} group.",
        "📋 Cycle {cycle}: the post reached {sent} of {n} groups.",
        total, cycle=num(_count(p, "cycle_no")), sent=num(sent),
    )
    if admin:
        head = _for_customer(p, head)
    lines = [head]
    failed, in_doubt = _count(p, "failed"), _count(p, "in_doubt")
    if failed:
        lines.append(n_("{n} post failed.", "{n} posts failed.", failed))
        for failure in p.get("failures") or []:
            if isinstance(failure, dict):
                lines.append(_("• <code>{group}</code>: {why}", group=_p(failure, "group"),
                               why=reason_text(str(failure.get("error") or ""))))
    if in_doubt:
        lines.append(n_("{n} post got no clear answer from Telegram and is not repeated.",
                        "{n} posts got no clear answer from Telegram and are not repeated.", in_doubt))
    parts = ["\n".join(lines)]
    for problem in summary_problems(p):
        told = {NO_ADMINS: True} if p.get(NO_ADMINS) else {}
        parts.append(_EVENT_TEXTS[EventKind(str(problem["kind"]))]({**problem, **told}, admin))
    if p.get("stopped") and p.get("stopped") != STOP_REASON_CUSTOMER and not any(
        str(e.get("kind")) in (EventKind.CAMPAIGN_STOPPED, EventKind.POST_INVALID) for e in summary_problems(p)
    ):
        parts.append(_("⏹ Your campaign was stopped: {reason}. /run starts it again.",
                       reason=reason_text(str(p["stopped"]))))
    next_at = p.get("next_at")
    if isinstance(next_at, int | float) and not p.get("stopped"):
        parts.append(_("Next cycle: {when}.", when=fmt_time(float(next_at))))
    return "\n\n".join(parts)


def _ev_plan_expiring(p: Mapping[str, Any], admin: bool) -> str:
    expires = p.get("expires_at")
    when = fmt_time(float(expires)) if isinstance(expires, int | float) else "?"
    days = max(1, _count(p, "days_left"))
    if admin:
        return n_("⏳ The plan of customer <code>{customer}</code> ends in {n} day ({when}).",
                  "⏳ The plan of customer <code>{customer}</code> ends in {n} days ({when}).",
                  days, customer=_p(p, "customer_id"), when=when)
    return n_(
        "⏳ Your plan ends in {n} day, on {when}. Ask the admin to extend it so your campaign keeps running.",
        "⏳ Your plan ends in {n} days, on {when}. Ask the admin to extend it so your campaign keeps running.",
        days, when=when,
    )


def _ev_expiring_plans(p: Mapping[str, Any], admin: bool) -> str:
    plans = [x for x in p.get("plans") or [] if isinstance(x, dict)]
    head = n_("⏳ {n} plan ends within 3 days:", "⏳ {n} plans end within 3 days:", len(plans))
    rows = []
    for plan in plans:
        expires = plan.get("expires_at")
        rows.append(n_(
            "• customer <code>{customer}</code>: {n} session, until {when}",
            "• customer <code>{customer}</code>: {n} sessions, until {when}",
            _count(plan, "sessions"), customer=_p(plan, "customer_id"),
            when=fmt_time(float(expires)) if isinstance(expires, int | float) else "?",
        ))
    return "\n".join([head, *rows])


def _ev_sessions_short(p: Mapping[str, Any], admin: bool) -> str:
    if p.get("reason") == "no_pair":
        return _("⚠ Customer <code>{customer}</code> needs {wanted} sessions, but no API pair has room for more. "
                 "Add one with /addpair.", customer=_p(p, "customer_id"), wanted=num(_count(p, "wanted")))
    return _("⚠ Customer <code>{customer}</code> needs {wanted} sessions and the pool has {free} free. "
             "Upload more sessions.", customer=_p(p, "customer_id"), wanted=num(_count(p, "wanted")),
             free=num(_count(p, "free")))


def _ev_backup_failed(p: Mapping[str, Any], admin: bool) -> str:
    return _("⚠ Today's backup failed: <code>{error}</code>\nadbot health and adbot.log say more; "
             "the next one runs tomorrow.", error=_p(p, "problem"))


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
    EventKind.POST_UNUSABLE: _ev_post_unusable,
    EventKind.CAMPAIGN_STOPPED: _ev_campaign_stopped,
    EventKind.CAMPAIGN_RESUMED: _ev_campaign_resumed,
    EventKind.CAMPAIGN_STARTED: campaign_started,  # issue 20 part C
    EventKind.PLAN_GRANTED: _ev_plan_granted,
    EventKind.PLAN_REVOKED: _ev_plan_revoked,
    EventKind.PLAN_EXPIRED: _ev_plan_expired,
    EventKind.POOL_LOW: _ev_pool_low,
    EventKind.PAIR_FULL: _ev_pair_full,
    EventKind.CYCLE_SUMMARY: _ev_cycle_summary,
    EventKind.PLAN_EXPIRING: _ev_plan_expiring,
    EventKind.EXPIRING_PLANS: _ev_expiring_plans,
    EventKind.SESSIONS_SHORT: _ev_sessions_short,
    EventKind.BACKUP_FAILED: _ev_backup_failed,
}


def event_text(kind: EventKind, payload: Mapping[str, Any], *, for_admin: bool, admins_told: bool = True) -> str:
    """The notification for one outbox event (HTML; payload values escaped), in the reader's language.
    ``admins_told``: False when no admin is configured (``[bot] admins`` empty): the admins' event of the
    same change went to nobody, so the customer's text does not say the admin was told."""
    render = _EVENT_TEXTS.get(kind)
    if render is None:
        return _("ℹ Something changed in the service.")
    return render(payload if admins_told else {**payload, NO_ADMINS: True}, for_admin)
