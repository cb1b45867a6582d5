"""Granting and revoking customers' plans (/grant, /revoke): usage lines, refused numbers, the admin's reports.

HTML unless a text says it is plain (usage lines and refused numbers become ``InputError.user_message``).
"""

from __future__ import annotations

from typing import Protocol

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


USAGE_GRANT = "Usage: /grant <user_id> <sessions> <days>, e.g. /grant 123456789 3 30"


USAGE_REVOKE = "Usage: /revoke <user_id>"


SESSIONS_COUNT = "The number of sessions"


DAYS_COUNT = "The number of days"


def plan_granted(result: Granted, now: float) -> str:
    c = result.customer
    verb = "created" if result.created else "extended"
    return (
        f"✅ Plan {verb} for <code>{c.user_id}</code>: {c.plan_sessions} session(s) until "
        f"{fmt_time(c.plan_expires_at)} ({relative(c.plan_expires_at, now)}; +{result.days} day(s)).\n"
        "The customer is being told."
    )


def plan_revoked(result: Revoked) -> str:
    stopped = "campaign stopped, " if result.was_running else ""
    return (
        f"✅ Plan of <code>{result.user_id}</code> ended: {stopped}"
        f"{result.sessions_returned} session(s) back in the pool.\nThe customer is being told."
    )
