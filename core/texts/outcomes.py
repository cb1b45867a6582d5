"""The human wording of what happened to a send or a campaign: ``OUTCOME_TEXTS`` for each
``core.outcomes.OutcomeKind``, and ``reason_text`` for the reasons the engine and services store.

Each wording is a clause that completes "stopped: ...", "paused: ..." or "(...)".
"""

from __future__ import annotations

from core.i18n import N_
from core.outcomes import OutcomeKind, RefusalReason
from core.texts.fmt import esc, tr

OUTCOME_TEXTS: dict[OutcomeKind, str] = {
    OutcomeKind.SENT: N_("the post was sent"),
    OutcomeKind.ACCOUNT_DEAD: N_("the account no longer works"),
    OutcomeKind.ACCOUNT_LIMITED: N_("the account is limited by Telegram"),
    OutcomeKind.ACCOUNT_FROZEN: N_("the account was frozen by Telegram"),
    OutcomeKind.FLOOD_WAIT: N_("Telegram asked the account to wait before posting again"),
    OutcomeKind.SLOW_MODE: N_("the group's slow mode allows no post yet"),
    OutcomeKind.GROUP_FAILED: N_("the group refused the post"),
    OutcomeKind.POST_INVALID: N_("the post can no longer be sent"),
    OutcomeKind.SOURCE_FAILED: N_("the post's source can no longer be read or forwarded"),
    OutcomeKind.REFUSED: N_("the group does not accept posts from this account"),
    OutcomeKind.TRANSIENT: N_("a temporary network or server error"),
    OutcomeKind.UNKNOWN: N_("an unexpected error"),
}

STOP_REASON_CUSTOMER = "by_customer"
"""The stop reason stored when the customer stops the campaign (a key, not wording)."""
STOP_REASON_REVOKED = "plan revoked by an admin"
"""The stop reason stored when an admin ends a plan: stored as words, and shown as stored."""

# Machine reasons the engine and services store, said in words; a reason that names an outcome kind
# (the engine stops a campaign with ``post_invalid``) is said as that outcome. Anything else is shown
# as stored.
_STOP_REASONS = {
    "plan_expired": N_("your plan expired"),
    "no_post": N_("no post is set"),
    "restart": N_("the service restarted"),
    "shutdown": N_("the service restarted"),
    STOP_REASON_CUSTOMER: N_("stopped by you"),
    **{kind.value: words for kind, words in OUTCOME_TEXTS.items()},
}

# Telegram errors (Telethon class names, as the engine records them) a customer may meet.
_TELEGRAM_ERRORS = {
    "ChatWriteForbiddenError": N_("the account may not write there"),
    "ChatSendPlainForbiddenError": N_("text messages are not allowed there"),
    "ChatSendMediaForbiddenError": N_("media is not allowed there"),
    "ChatAdminRequiredError": N_("only admins may post there"),
    "ChannelPrivateError": N_("the group is private or the account was removed"),
    "ChatRestrictedError": N_("the group is restricted"),
    "UserNotParticipantError": N_("the account is not a member"),
    "ChannelInvalidError": N_("the group does not exist"),
    "PeerIdInvalidError": N_("the group is unknown to the account"),
    "UsernameNotOccupiedError": N_("nobody has that username"),
    "UsernameInvalidError": N_("the username is invalid"),
    "MessageIdInvalidError": N_("the post was deleted"),
    "ChatForwardsRestrictedError": N_("the source chat does not allow forwarding"),
    "PeerNotCachedError": N_("the group could not be found by the account"),
    "ChatGuestSendForbiddenError": N_("only members of the discussion group may post there"),
    "TopicDeletedError": N_("the topic was deleted"),
    "TOPIC_CLOSED": N_("the topic is closed"),
    "FrozenMethodInvalidError": N_("the account is frozen"),
    "FrozenParticipantMissingError": N_("the account is frozen"),
    "ACCOUNT_FROZEN": N_("the account is frozen"),
    "AuthKeyNotFound": N_("Telegram no longer knows the session's key"),
}

# Why a group refuses one account's posts for good (``core.outcomes.RefusalReason``), in words.
REFUSAL_TEXTS: dict[RefusalReason, str] = {
    "write_forbidden": N_("the account may not write there"),
    "plain_forbidden": N_("text messages are not allowed there"),
    "media_forbidden": N_("media is not allowed there"),
    "guest_forbidden": N_("only members of the discussion group may post there"),
    "admin_required": N_("only admins may post there"),
    "topic_closed": N_("the topic is closed"),
    "topic_deleted": N_("the topic was deleted"),
}


def reason_text(reason: str) -> str:
    """A stored stop/pause reason in words (HTML-escaped); Telegram error names in it are said in words."""
    text = tr(_STOP_REASONS.get(reason, reason))
    for name, words in _TELEGRAM_ERRORS.items():
        if name in text:
            text = text.replace(name, tr(words))
    return esc(text)
