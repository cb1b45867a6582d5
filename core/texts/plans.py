"""Granting and revoking customers' plans (/grant, /revoke): usage lines, refused numbers, the admin's reports.

HTML unless a text says it is plain (usage lines and refused numbers become ``InputError.user_message``).
"""

from __future__ import annotations

from typing import Protocol

from core.i18n import _, n_
from core.texts.admin import Plan
from core.texts.fmt import fmt_time, relative


class Granted(Protocol):
    @property
    def customer(self) -> Plan: ...
    @property
    def created(self) -> bool: ...
    @property
    def days(self) -> int: ...


class Revoked(Protocol):
    @property
    def user_id(self) -> int: ...
    @property
    def was_running(self) -> bool: ...
    @property
    def sessions_returned(self) -> int: ...


def USAGE_GRANT() -> str:
    return _("Usage: /grant <user_id> <sessions> <days>, e.g. /grant 123456789 3 30")


def USAGE_REVOKE() -> str:
    return _("Usage: /revoke <user_id>")


def SESSIONS_COUNT() -> str:
    return _("The number of sessions")


def DAYS_COUNT() -> str:
    return _("The number of days")


def plan_granted(result: Granted, now: float) -> str:
    c = result.customer
    verb = _("created") if result.created else _("extended")
    # i18n: a "(s)" plural left for the owner (n_ with whole sentences)
    return (
        _(
            "✅ Plan {verb} for <code>{user_id}</code>: {plan_sessions} session(s) until {plan_expires_at} "
            "({when}; +{days} day(s)).\n"
            "The customer is being told.",
            verb=verb,
            user_id=c.user_id,
            plan_sessions=c.plan_sessions,
            plan_expires_at=fmt_time(c.plan_expires_at),
            when=relative(c.plan_expires_at, now),
            days=result.days,
        )
    )


def plan_revoked(result: Revoked) -> str:
    stopped = _("campaign stopped, ") if result.was_running else ""
    return (
        n_(
            "✅ Plan of <code>{user_id}</code> ended: {stopped}{n} session back in the pool.\n"
            "The customer is being told.",
            "✅ Plan of <code>{user_id}</code> ended: {stopped}{n} sessions back in the pool.\n"
            "The customer is being told.",
            result.sessions_returned,
            user_id=result.user_id,
            stopped=stopped,
        )
    )
