"""What one attempt to reach Telegram came to, in the engine's terms.

The classification from Telethon's exception classes lives with the adapter (``engine.outcomes``); the
kinds live here so that the pool (health checks), storage and the texts can name them without Telethon.
Each kind's human wording is ``core.texts.outcomes.OUTCOME_TEXTS[kind]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

MembershipLoss = Literal["left", "blocked"]
"""What a refusal says about the sending session's place in the chat: it is not (or no longer) a member
("left"), or it is one that may not write there ("blocked")."""

RefusalReason = Literal[
    "write_forbidden", "plain_forbidden", "media_forbidden", "guest_forbidden", "admin_required",
    "topic_closed", "topic_deleted",
]
"""Why a chat refuses posts from one session for good (a REFUSED outcome): it may not write there, not
plain text or media, must join a discussion group first, only admins post, or the topic is closed or
deleted. Stored per (session, chat) or (session, chat, topic) by ``storage.refusals``."""

TOPIC_REFUSALS: frozenset[RefusalReason] = frozenset({"topic_closed", "topic_deleted"})
"""Refusals of one topic of a forum, not of the whole chat."""


class OutcomeKind(StrEnum):
    SENT = "sent"
    ACCOUNT_DEAD = "account_dead"
    ACCOUNT_LIMITED = "account_limited"
    ACCOUNT_FROZEN = "account_frozen"
    FLOOD_WAIT = "flood_wait"
    SLOW_MODE = "slow_mode"
    GROUP_FAILED = "group_failed"
    POST_INVALID = "post_invalid"
    SOURCE_FAILED = "source_failed"  # the post's source: deleted, unreadable by the session, no forwards
    REFUSED = "refused"  # a permanent refusal of this (session, group): see RefusalReason
    TRANSIENT = "transient"
    UNKNOWN = "unknown"


Retirement = Literal["dead", "limited", "frozen"]
"""Why an account leaves its customer's hands (its session state afterwards)."""

RETIREMENTS: dict[OutcomeKind, Retirement] = {
    OutcomeKind.ACCOUNT_DEAD: "dead",
    OutcomeKind.ACCOUNT_LIMITED: "limited",
    OutcomeKind.ACCOUNT_FROZEN: "frozen",
}
"""The outcomes that retire the session, and the state each one leaves it in."""


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to. ``error`` is a short name for the ledger and logs, never a secret."""

    kind: OutcomeKind
    error: str
    seconds: int | None = None  # only for FLOOD_WAIT / SLOW_MODE, and only when Telegram said
    # The refusal may mean our cached (id, access hash) of the peer went stale rather than that the
    # group refuses us: the peer is resolved afresh next time.
    stale_peer: bool = False
    # The refusal says the session is not in the chat or may not write there: its membership row is
    # updated at once, so the next cycle places the group on another member session.
    membership: MembershipLoss | None = None
    # A REFUSED outcome's reason: that session never tries that chat (or topic) again.
    refusal: RefusalReason | None = None
