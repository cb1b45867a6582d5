"""The states the layers agree on: of a session, a campaign, a send, and the kinds of events for people.

They are stored as their string values (``storage``), acted on by the engine and the pool, and worded by
``core.texts``; keeping them here lets every layer name them without importing another's code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

SessionState = Literal["unused", "assigned", "cooling", "limited", "dead", "frozen"]
STATES: tuple[SessionState, ...] = ("unused", "assigned", "cooling", "limited", "dead", "frozen")
"""``limited``: spam-limited, in quarantine (may come back after its minimum and a probe); ``frozen``: Telegram
froze the account (FROZEN_METHOD_INVALID, or ``freeze_since_date`` in its app config): never sent from, out
until Telegram lifts it; ``dead``: gone for good."""
OWNED_STATES: tuple[SessionState, ...] = ("assigned", "cooling")

CampaignStatus = Literal["stopped", "running"]

SendOutcome = Literal["pending", "sent", "failed", "waiting", "skipped", "in_doubt"]


class EventKind(StrEnum):
    """Something that needs a person: recorded with the change that caused it, delivered by the bot."""

    SESSION_DEAD = "session_dead"
    SESSION_LIMITED = "session_limited"
    SESSION_FROZEN = "session_frozen"  # payload: session_id, reason, appeal_url, frozen_until (admins: owner, phone)
    SESSION_REPLACED = "session_replaced"
    NO_REPLACEMENT = "no_replacement"
    GROUP_PAUSED = "group_paused"
    GROUP_UNREACHABLE = "group_unreachable"  # no session of the customer can post there (payload: reason)
    GROUP_REACHABLE = "group_reachable"  # one told unreachable can be posted to again
    POST_INVALID = "post_invalid"
    POST_UNUSABLE = "post_unusable"  # one of several posts left out (payload: number, link, reason, error, left)
    CAMPAIGN_STOPPED = "campaign_stopped"
    CAMPAIGN_RESUMED = "campaign_resumed"
    CAMPAIGN_STARTED = "campaign_started"  # issue 20 part C: started through the integration API (control_bot.api)
    PLAN_GRANTED = "plan_granted"
    PLAN_REVOKED = "plan_revoked"
    PLAN_EXPIRED = "plan_expired"
    POOL_LOW = "pool_low"
    PAIR_FULL = "pair_full"
    # issue 18 (rendered by core.texts.events, part G; payloads keep keys and numbers, never words):
    CYCLE_SUMMARY = "cycle_summary"  # customer: cycle_no, sent, total, failed, problems (list of {kind, ...})
    PLAN_EXPIRING = "plan_expiring"  # customer: expires_at, days_left (3 or 1), sessions
    EXPIRING_PLANS = "expiring_plans"  # admins, daily: plans (list of {customer_id, expires_at, sessions})
    SESSIONS_SHORT = "sessions_short"  # admins: customer_id, wanted, free, reason ('no_sessions' | 'no_pair')
    BACKUP_FAILED = "backup_failed"  # admins (review 20 F6): the daily backup failed; problem (operator's words)


class NotifyLevel(StrEnum):
    """How much a customer hears (``users.notify_level``, chosen in /settings; part G gives it meaning)."""

    ALL = "all"  # everything, routine success included (one summary per cycle)
    PROBLEMS = "problems"  # the default: only what needs them (failures, stops, plan changes)
    OFF = "off"  # only what they must know: plan granted, revoked, expiring, expired


DEFAULT_NOTIFY_LEVEL = NotifyLevel.PROBLEMS
