"""The human wording of what happened to a send or a campaign: ``OUTCOME_TEXTS`` for each
``core.outcomes.OutcomeKind``, and ``reason_text`` for the reasons the engine and services store.

Each wording is a clause that completes "stopped: ...", "paused: ..." or "(...)".
"""

from __future__ import annotations

from core.outcomes import OutcomeKind, RefusalReason
from core.texts.fmt import esc

OUTCOME_TEXTS: dict[OutcomeKind, str] = {
    OutcomeKind.SENT: "the post was sent",
    OutcomeKind.ACCOUNT_DEAD: "the account no longer works",
    OutcomeKind.ACCOUNT_LIMITED: "the account is limited by Telegram",
    OutcomeKind.ACCOUNT_FROZEN: "the account was frozen by Telegram",
    OutcomeKind.FLOOD_WAIT: "Telegram asked the account to wait before posting again",
    OutcomeKind.SLOW_MODE: "the group's slow mode allows no post yet",
    OutcomeKind.GROUP_FAILED: "the group refused the post",
    OutcomeKind.POST_INVALID: "the post can no longer be sent",
    OutcomeKind.SOURCE_FAILED: "the post's source can no longer be read or forwarded",
    OutcomeKind.REFUSED: "the group does not accept posts from this account",
    OutcomeKind.TRANSIENT: "a temporary network or server error",
    OutcomeKind.UNKNOWN: "an unexpected error",
}

STOP_REASON_CUSTOMER = "by_customer"
"""The stop reason stored when the customer stops the campaign (a key, not wording)."""
STOP_REASON_REVOKED = "plan revoked by an admin"
"""The stop reason stored when an admin ends a plan: stored as words, and shown as stored."""

# Machine reasons the engine and services store, said in words; a reason that names an outcome kind
# (the engine stops a campaign with ``post_invalid``) is said as that outcome. Anything else is shown
# as stored.
_STOP_REASONS = {
    "plan_expired": "your plan expired",
    "no_post": "no post is set",
    "restart": "the service restarted",
    "shutdown": "the service restarted",
    STOP_REASON_CUSTOMER: "stopped by you",
    **{kind.value: words for kind, words in OUTCOME_TEXTS.items()},
}

# Telegram errors (Telethon class names, as the engine records them) a customer may meet.
_TELEGRAM_ERRORS = {
    "ChatWriteForbiddenError": "the account may not write there",
    "ChatSendPlainForbiddenError": "text messages are not allowed there",
    "ChatSendMediaForbiddenError": "media is not allowed there",
    "ChatAdminRequiredError": "only admins may post there",
    "ChannelPrivateError": "the group is private or the account was removed",
    "ChatRestrictedError": "the group is restricted",
    "UserNotParticipantError": "the account is not a member",
    "ChannelInvalidError": "the group does not exist",
    "PeerIdInvalidError": "the group is unknown to the account",
    "UsernameNotOccupiedError": "nobody has that username",
    "UsernameInvalidError": "the username is invalid",
    "MessageIdInvalidError": "the post was deleted",
    "ChatForwardsRestrictedError": "the source chat does not allow forwarding",
    "PeerNotCachedError": "the group could not be found by the account",
    "ChatGuestSendForbiddenError": "only members of the discussion group may post there",
    "TopicDeletedError": "the topic was deleted",
    "TOPIC_CLOSED": "the topic is closed",
    "FrozenMethodInvalidError": "the account is frozen",
    "FrozenParticipantMissingError": "the account is frozen",
    "ACCOUNT_FROZEN": "the account is frozen",
    "AuthKeyNotFound": "Telegram no longer knows the session's key",
}

# Why a group refuses one account's posts for good (``core.outcomes.RefusalReason``), in words.
REFUSAL_TEXTS: dict[RefusalReason, str] = {
    "write_forbidden": "the account may not write there",
    "plain_forbidden": "text messages are not allowed there",
    "media_forbidden": "media is not allowed there",
    "guest_forbidden": "only members of the discussion group may post there",
    "admin_required": "only admins may post there",
    "topic_closed": "the topic is closed",
    "topic_deleted": "the topic was deleted",
}


def reason_text(reason: str) -> str:
    """A stored stop/pause reason in words (HTML-escaped); Telegram error names in it are said in words."""
    text = _STOP_REASONS.get(reason, reason)
    for name, words in _TELEGRAM_ERRORS.items():
        if name in text:
            text = text.replace(name, words)
    return esc(text)
