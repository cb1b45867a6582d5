"""The human wording of what happened to a send or a campaign: ``outcome_text`` for each
``core.outcomes.OutcomeKind``, ``reason_text`` for the reasons the engine and services store, and
``error_words`` for an error's short name.

Each wording is a clause that completes "stopped: ...", "paused: ..." or "(...)". Nothing here ever
shows an error's name: a Telethon class name (``ChatWriteForbiddenError``) or Telegram's own
(``CHAT_WRITE_FORBIDDEN``) is said in words when we know it, else as what its outcome means, else as
"an unexpected error" (``tests/test_no_exception_name.py`` holds it for every name Telethon knows).
"""

from __future__ import annotations

import re

from core.i18n import N_, n_
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
"""The wording of each outcome (English message ids: say them with ``outcome_text``)."""

STOP_REASON_CUSTOMER = "by_customer"
"""The stop reason stored when the customer stops the campaign (a key, not wording)."""
STOP_REASON_SERVICE = "by_service"
"""The stop reason stored when the integration API (the shop's service) stops the campaign: not the customer."""
STOP_REASON_REVOKED = "revoked"
"""The stop reason stored when an admin ends a plan (a key, not wording)."""
_LEGACY_REVOKED = "plan revoked by an admin"  # what was stored before it was a key

# Machine reasons the engine and services store, said in words; a reason that names an outcome kind
# (the engine stops a campaign with ``post_invalid``) is said as that outcome.
_STOP_REASONS: dict[str, str] = {
    "plan_expired": N_("your plan expired"),
    "no_post": N_("no post is set"),
    "no_groups": N_("no group is set"),
    "restart": N_("the service restarted"),
    "shutdown": N_("the service restarted"),
    STOP_REASON_CUSTOMER: N_("stopped by you"),
    STOP_REASON_SERVICE: N_("stopped by the service"),
    STOP_REASON_REVOKED: N_("the plan was ended by an admin"),
    _LEGACY_REVOKED: N_("the plan was ended by an admin"),
    "no_session": N_("no session could post"),
    "session_retired": N_("the session was set aside"),
    "session_unavailable": N_("the session could not be opened"),
    "not_member": N_("the account is not a member"),
    "source_not_member": N_("the account cannot read the post's channel"),
    "daily_cap": N_("the session has posted enough for today"),
    "post_unusable": N_("this post can no longer be sent, your other posts go on"),
    "timeout": N_("Telegram did not answer in time"),
    "no_new_message": N_("Telegram named no new message"),
    "interrupted": N_("the service restarted"),
    # Why no session could be given (``core.errors.NO_FREE_SESSIONS`` / ``NO_PAIR_ROOM``: NO_REPLACEMENT,
    # SESSIONS_SHORT); the keys are spelt out here, ``core.errors`` imports the texts.
    "no_sessions": N_("the pool has no free session"),
    "no_pair": N_("the free sessions wait for an API pair"),
    **{kind.value: words for kind, words in OUTCOME_TEXTS.items()},
}

# Telegram errors (Telethon class names, as the engine records them) a customer may meet.
_TELEGRAM_ERRORS: dict[str, str] = {
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
    "TopicClosedError": N_("the topic is closed"),
    "FrozenMethodInvalidError": N_("the account is frozen"),
    "FrozenParticipantMissingError": N_("the account is frozen"),
    "AccountFrozenError": N_("the account is frozen"),
    "AuthKeyNotFound": N_("Telegram no longer knows the session's key"),
    "AuthKeyUnregisteredError": N_("Telegram no longer knows the session's key"),
    "AuthKeyDuplicatedError": N_("the session was used from two places at once"),
    "AuthKeyInvalidError": N_("Telegram no longer knows the session's key"),
    "SessionRevokedError": N_("the session was logged out"),
    "SessionExpiredError": N_("the session expired"),
    "UserDeactivatedError": N_("the account was deleted"),
    "UserDeactivatedBanError": N_("the account was banned by Telegram"),
    "PhoneNumberBannedError": N_("the account was banned by Telegram"),
    "FloodWaitError": N_("Telegram asked the account to wait"),
    "FloodPremiumWaitError": N_("Telegram asked the account to wait"),
    "SlowModeWaitError": N_("the group's slow mode allows no post yet"),
    "PeerFloodError": N_("the account is limited by Telegram"),
    "UserBannedInChannelError": N_("the account may not write in groups"),
    "ChannelsTooMuchError": N_("the account is in too many groups"),
    "TimeoutError": N_("Telegram did not answer in time"),
    "ConnectionError": N_("a temporary network or server error"),
    "WaitPending": N_("Telegram asked the account to wait"),
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

# A token that is a name, not words: ``ChatWriteForbiddenError``, ``CHAT_WRITE_FORBIDDEN``,
# ``AuthKeyNotFound``, ``WaitPending``.
_NAME = re.compile(r"\b(?:[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[A-Z][A-Z0-9]*_[A-Z0-9_]+)\b")
_KEY = re.compile(r"[A-Za-z0-9_.]+")
_FAILURES = re.compile(r"failures:(\d+):(.*)|(\d+) failures in a row, last: (.*)", re.DOTALL)
_PREFIXED = re.compile(r"(source_failed|unsettled):(.*)", re.DOTALL)


def outcome_text(kind: OutcomeKind) -> str:
    """What an outcome kind means, in the reader's language."""
    return tr(OUTCOME_TEXTS[kind])


def refusal_words(refusal: str) -> str:
    """Why a group refuses a session's posts (``RefusalReason``), in words (plain text)."""
    words = REFUSAL_TEXTS.get(refusal, REFUSAL_TEXTS["write_forbidden"])  # type: ignore[call-overload]
    return tr(words)


def _camel(name: str) -> str:
    """Telegram's ``CHAT_WRITE_FORBIDDEN`` as Telethon's class name ``ChatWriteForbiddenError``."""
    return "".join(part.capitalize() for part in name.split("_") if part) + "Error"


def error_words(kind: str, error: str) -> str:
    """An error's short name in words (plain text): the Telegram errors we know by name, else what its
    outcome ``kind`` means, else "an unexpected error". Never the name itself."""
    name = error.strip()
    words = _TELEGRAM_ERRORS.get(name) or _TELEGRAM_ERRORS.get(_camel(name)) if name else None
    if words is None and name in _STOP_REASONS:
        words = _STOP_REASONS[name]
    if words is None:
        try:
            words = OUTCOME_TEXTS[OutcomeKind(kind)]
        except ValueError:
            words = OUTCOME_TEXTS[OutcomeKind.UNKNOWN]
    return tr(words)


def reason_words(reason: str) -> str:
    """A stored stop/pause reason in words (plain text); an error's name in it is said in words."""
    text = reason.strip()
    if text in _STOP_REASONS:
        return tr(_STOP_REASONS[text])
    failures = _FAILURES.fullmatch(text)
    if failures is not None:
        count = int(failures.group(1) or failures.group(3))
        last = failures.group(2) if failures.group(1) is not None else failures.group(4)
        return n_("{n} failure in a row, last: {why}", "{n} failures in a row, last: {why}", count,
                  why=error_words("", last or ""))
    prefixed = _PREFIXED.fullmatch(text)
    if prefixed is not None:
        return error_words(prefixed.group(1), prefixed.group(2))
    if _KEY.fullmatch(text):
        return error_words("", text)  # a key or a name we do not know: never shown as it is
    # Words stored by an older version: shown, with any error name in them said in words.
    return _NAME.sub(lambda m: error_words("", m.group(0)), text)


def reason_text(reason: str) -> str:
    """A stored stop/pause reason in words (HTML-escaped)."""
    return esc(reason_words(reason))
