"""The one place where a failed (or refused) send becomes an outcome the engine acts on.

Both account ports (``engine.telethon_adapter`` and the sandbox) raise Telethon's own exception
classes, so the classification is a table of those classes, most specific first, matched with
``isinstance``: never by searching error text. Rows (telethon 1.45 ``telethon.errors``):

    SENT            RandomIdDuplicateError: a retry reused the random_id of a send that already
                    went through, so Telegram dropped the copy (the post is there; its id is unknown)
    ACCOUNT_DEAD    the 401 family (AuthKeyUnregistered, SessionRevoked/Expired, UserDeactivated[Ban],
                    SessionPasswordNeeded, ...), AuthKeyDuplicated, our AccountNotAuthorizedError, and
                    the transport-level -404 (Telethon's AuthKeyNotFound, or an InvalidBufferError whose
                    code is 404 when it leaks out raw): Telegram no longer knows the key
    ACCOUNT_FROZEN  FrozenMethodInvalid (a FloodError *without* .seconds), FrozenParticipantMissing, and
                    our AccountFrozenError (the app config's ``freeze_since_date``)
    ACCOUNT_LIMITED PeerFlood, UserBannedInChannel (account-wide: not one group), UserRestricted,
                    any other seconds-less 420
    FLOOD_WAIT      FloodWait, FloodPremiumWait, any other 420 that carries .seconds; and our own
                    ``core.waits.WaitPending`` (a request held back inside its class's wait: none sent)
    SLOW_MODE       SlowModeWait (per group)
    REFUSED         the chat refuses this session's posts for good (write forbidden, plain text / media
                    forbidden, guest send forbidden, admin required, topic closed or deleted): ``refusal``
                    says which; that session never tries that chat (topic) again, no failure streak
    GROUP_FAILED    the destination cannot be addressed or refuses (private, not a member,
                    invalid/unknown peer, ...), and our PeerNotCachedError;
                    ChannelInvalid, PeerIdInvalid and ChatIdInvalid also set ``stale_peer`` (the cached
                    access hash may be outdated), but not PeerNotCachedError (nothing is cached);
                    those that say the *session* is not in the chat (ChannelPrivate, UserNotParticipant,
                    and the REFUSED ChatGuestSendForbidden: ``membership`` "left") or may not write there
                    (the REFUSED ChatWriteForbidden: "blocked") also set ``membership``: its row is
                    updated at once
    SOURCE_FAILED   the post's source: message id invalid/empty (deleted), forwards restricted; and every
                    GROUP_FAILED/REFUSED error when it was the *source* that failed (``source_failed``).
                    ChannelPrivate, ChannelInvalid and PeerIdInvalid on a forward may be either peer's:
                    ``either_peer`` says so, and the engine settles it with one read of the source
                    (``engine.sources``) before it blames the group or the source
    POST_INVALID    the post itself: empty or too long text, bad entities, media
    TRANSIENT       OSError (ConnectionError, TimeoutError), EOFError, 500s, -503 timeouts,
                    303 migrations that leaked out, MTProto-level glitches
    UNKNOWN         anything else; ``error`` is the RPC message for a bare RPC error, else the class

Telegram errors Telethon 1.45 has no class for (``TOPIC_CLOSED``) arrive as a bare
``BadRequestError``/``ForbiddenError`` carrying the message; a short table of exact messages covers
them. ``asyncio.CancelledError`` is not a failure: callers must let it propagate, not classify it.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from telethon import errors

from core.outcomes import MembershipLoss, Outcome, OutcomeKind, RefusalReason
from core.ports import AccountStatus
from core.waits import WaitPending

logger = logging.getLogger(__name__)

__all__ = [
    "AccountFrozenError",
    "AccountNotAuthorizedError",
    "PeerNotCachedError",
    "classify",
    "either_peer",
]

_MAX_ERROR_CHARS = 64


# --- errors the adapters raise themselves ------------------------------------------------------------
# Subclasses of Telethon's own classes, so that code handling Telethon errors handles these too and the
# table below classifies them with no special case. Their constructors follow Telethon's generated
# ones (set the attributes, then Exception.__init__ with the text).


class AccountNotAuthorizedError(errors.UnauthorizedError):  # type: ignore[misc]  # telethon is untyped
    """The session is not logged in, or its file is gone: the account cannot be used as it is."""

    def __init__(self, reason: str, *, message: str = "SESSION_NOT_AUTHORIZED") -> None:
        self.request = None
        self.code = 401
        self.message = message
        self.reason = reason
        Exception.__init__(self, f"{message}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.reason,), {"message": self.message}


class AccountFrozenError(errors.FloodError):  # type: ignore[misc]  # telethon is untyped
    """The account's app config says it is frozen (``freeze_since_date``): seen at connect or at the daily
    check, before any send. A FloodError without ``.seconds``, like Telegram's FROZEN_METHOD_INVALID."""

    def __init__(self, status: AccountStatus) -> None:
        self.request = None
        self.code = 420
        self.message = "ACCOUNT_FROZEN"
        self.status = status
        Exception.__init__(self, "the account is frozen by Telegram")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.status,)


class PeerNotCachedError(errors.PeerIdInvalidError):  # type: ignore[misc]  # telethon is untyped
    """A numeric peer whose access hash this session has never seen: it cannot be addressed by id.

    Telegram needs (id, access_hash) for channels and users; the hash comes from resolving the
    @username, or from an earlier answer that mentioned the chat. Without it there is nothing to
    send, so the group fails (or, for the source, the post).
    """

    def __init__(self, peer: str) -> None:
        self.request = None
        self.code = 400
        self.message = "PEER_NOT_CACHED"
        self.peer = peer
        Exception.__init__(self, f"no access hash cached for {peer}; resolve it by @username first")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.peer,)


# --- the table ----------------------------------------------------------------------------------------

_E = errors  # short alias to keep the table readable

# Why each REFUSED error refuses (most specific first, matched with isinstance; bare messages by text).
_REFUSALS: tuple[tuple[tuple[type[BaseException], ...], RefusalReason], ...] = (
    ((_E.ChatWriteForbiddenError, _E.ChatForbiddenError), "write_forbidden"),
    ((_E.ChatSendPlainForbiddenError,), "plain_forbidden"),
    (
        (
            _E.ChatSendMediaForbiddenError,
            _E.ChatSendPhotosForbiddenError,
            _E.ChatSendVideosForbiddenError,
            _E.ChatSendGifsForbiddenError,
            _E.ChatSendStickersForbiddenError,
            _E.ChatSendVoicesForbiddenError,
            _E.ChatSendPollForbiddenError,
            _E.ChatSendGameForbiddenError,
            _E.ChatSendInlineForbiddenError,
        ),
        "media_forbidden",
    ),
    ((_E.ChatGuestSendForbiddenError,), "guest_forbidden"),
    ((_E.ChatAdminRequiredError, _E.BroadcastForbiddenError), "admin_required"),
    ((_E.TopicDeletedError,), "topic_deleted"),
)
_BARE_REFUSALS: dict[str, RefusalReason] = {"TOPIC_CLOSED": "topic_closed"}
_REFUSED: tuple[type[BaseException], ...] = tuple(cls for classes, _ in _REFUSALS for cls in classes)


_TABLE: tuple[tuple[tuple[type[BaseException], ...], OutcomeKind], ...] = (
    # A ServerError subclass, so it must come before the 500 family.
    ((_E.RandomIdDuplicateError,), OutcomeKind.SENT),
    (
        (
            _E.AuthKeyUnregisteredError,
            _E.AuthKeyDuplicatedError,
            _E.AuthKeyInvalidError,
            _E.AuthKeyPermEmptyError,
            _E.SessionRevokedError,
            _E.SessionExpiredError,
            _E.SessionPasswordNeededError,
            _E.UserDeactivatedError,
            _E.UserDeactivatedBanError,
            # Every 401 means "this authorisation is no good". The 406 family is *not* listed as a whole:
            # it also holds harmless errors (FilerefUpgradeNeeded, PremiumCurrentlyUnavailable, ...).
            _E.UnauthorizedError,
            _E.AuthKeyNotFound,  # transport -404: the server does not know the key (any more)
        ),
        OutcomeKind.ACCOUNT_DEAD,
    ),
    (
        (_E.FrozenMethodInvalidError, _E.FrozenParticipantMissingError, AccountFrozenError),
        OutcomeKind.ACCOUNT_FROZEN,
    ),
    (
        (
            _E.PeerFloodError,
            _E.UserBannedInChannelError,
            _E.UserRestrictedError,
        ),
        OutcomeKind.ACCOUNT_LIMITED,
    ),
    ((_E.FloodWaitError, _E.FloodPremiumWaitError), OutcomeKind.FLOOD_WAIT),
    ((_E.SlowModeWaitError,), OutcomeKind.SLOW_MODE),
    (_REFUSED, OutcomeKind.REFUSED),  # the classes of ``_REFUSALS`` above
    (
        (
            _E.ChatRestrictedError,
            _E.ChannelPrivateError,
            _E.ChannelPublicGroupNaError,
            _E.ChannelBannedError,
            _E.ChannelInvalidError,
            _E.ChatInvalidError,
            _E.ChatIdInvalidError,
            _E.ChatIdEmptyError,
            _E.PeerIdInvalidError,  # includes PeerNotCachedError
            _E.PeerIdNotSupportedError,
            _E.UserNotParticipantError,
            _E.UsernameNotOccupiedError,
            _E.UsernameInvalidError,
            _E.InputUserDeactivatedError,
            _E.UserIsBlockedError,
            _E.YouBlockedUserError,
        ),
        OutcomeKind.GROUP_FAILED,
    ),
    (
        (
            _E.MessageIdInvalidError,
            _E.MsgIdInvalidError,
            _E.MessageIdsEmptyError,
            _E.ChatForwardsRestrictedError,
        ),
        OutcomeKind.SOURCE_FAILED,
    ),
    (
        (
            _E.MessageEmptyError,
            _E.MessageTooLongError,
            _E.EntityBoundsInvalidError,
            _E.EntitiesTooLongError,
            _E.EntityMentionUserInvalidError,
            _E.MediaEmptyError,
            _E.GroupedMediaInvalidError,
            # the customer's own media post (engine.telethon_media): Telegram refuses the post itself
            _E.MediaInvalidError,
            _E.MediaCaptionTooLongError,
            _E.MultiMediaTooLongError,
            _E.PhotoInvalidError,
            _E.PhotoInvalidDimensionsError,
            _E.PhotoExtInvalidError,
            _E.FilePartsInvalidError,
        ),
        OutcomeKind.POST_INVALID,
    ),
    # 406 AUTH_KEY_* without a class of its own (a bare AuthKeyError) is handled in _classify_bare.
    (
        (
            OSError,  # ConnectionError, TimeoutError (= asyncio.TimeoutError), socket errors
            EOFError,  # asyncio.IncompleteReadError: the connection closed mid-answer
            _E.ServerError,  # 500 family: RpcCallFail, InterdcCallError, ...
            _E.TimedOutError,  # -503 "Timeout"
            _E.InvalidDCError,  # 303 migrations Telethon did not finish by itself
            _E.SecurityError,
            _E.InvalidBufferError,
            _E.InvalidChecksumError,
            _E.BadMessageError,
        ),
        OutcomeKind.TRANSIENT,
    ),
)

# Errors Telegram sends that Telethon 1.45 has no class for: they arrive as a bare base-class error
# (BadRequestError, ForbiddenError, ...) holding the exact message. Exact matches only.
_BARE_MESSAGES: dict[str, OutcomeKind] = {
    "TOPIC_CLOSED": OutcomeKind.REFUSED,
}


# Refusals of a forward that may be about either peer: the source (the session cannot read it) or the
# destination (the session is not in it). Only a read of the source tells which (``engine.sources``).
_EITHER_PEER: tuple[type[BaseException], ...] = (
    _E.ChannelPrivateError,
    _E.ChannelInvalidError,
    _E.PeerIdInvalidError,
)


# Refusals that can mean our cached (id, access hash) went stale rather than that the group refuses us.
# Telethon's own classes exactly: a subclass (our PeerNotCachedError: no hash was cached) is not one.
_STALE_PEER: frozenset[type[BaseException]] = frozenset(
    {_E.ChannelInvalidError, _E.PeerIdInvalidError, _E.ChatIdInvalidError}
)


# Refusals of a destination that speak about the sending session's place in it, not about the group:
# it is not (or no longer) a member, or it may not write there. (UserBannedInChannel is account-wide:
# ACCOUNT_LIMITED above, never one chat's.)
_MEMBERSHIP: tuple[tuple[tuple[type[BaseException], ...], MembershipLoss], ...] = (
    ((_E.ChannelPrivateError, _E.UserNotParticipantError, _E.ChatGuestSendForbiddenError), "left"),
    ((_E.ChatWriteForbiddenError,), "blocked"),
)


def classify(exc: BaseException, *, source_failed: bool = False) -> Outcome:
    """Turn a failure of forward/send_text/resolve/connect/read_post into an outcome.

    ``source_failed`` says the failing peer was the post's source (resolving or reading the source
    channel, or a forward's error settled as the source's): then a peer that cannot be reached or
    refuses means the post cannot be used, not that one group failed, so GROUP_FAILED and REFUSED
    become SOURCE_FAILED.
    """
    outcome = _classify(exc)
    if type(exc) in _STALE_PEER:
        outcome = dataclasses.replace(outcome, stale_peer=True)
    if source_failed and outcome.kind in (OutcomeKind.GROUP_FAILED, OutcomeKind.REFUSED):
        return dataclasses.replace(outcome, kind=OutcomeKind.SOURCE_FAILED)
    if outcome.kind in (OutcomeKind.GROUP_FAILED, OutcomeKind.REFUSED):
        loss = next((loss for classes, loss in _MEMBERSHIP if isinstance(exc, classes)), None)
        if loss is not None:
            outcome = dataclasses.replace(outcome, membership=loss)
    if outcome.kind is OutcomeKind.REFUSED:
        outcome = dataclasses.replace(outcome, refusal=_refusal(exc))
    return outcome


def either_peer(exc: BaseException) -> bool:
    """Whether a forward's failure may be the source's as well as the destination's (see _EITHER_PEER)."""
    return isinstance(exc, _EITHER_PEER)


def _refusal(exc: BaseException) -> RefusalReason:
    found = next((reason for classes, reason in _REFUSALS if isinstance(exc, classes)), None)
    if found is not None:
        return found
    message = _own_message(exc) if isinstance(exc, errors.RPCError) else None
    return _BARE_REFUSALS.get(message or "", "write_forbidden")


def _classify(exc: BaseException) -> Outcome:
    name = _error_name(exc)
    if isinstance(exc, WaitPending):
        return Outcome(OutcomeKind.FLOOD_WAIT, name, exc.seconds)
    if isinstance(exc, errors.InvalidBufferError) and getattr(exc, "code", None) in (404, -404):
        # Telethon turns a -404 into AuthKeyNotFound itself; a raw one means the same (else TRANSIENT below).
        return Outcome(OutcomeKind.ACCOUNT_DEAD, "AuthKeyNotFound")
    for classes, kind in _TABLE:
        if isinstance(exc, classes):
            if kind in (OutcomeKind.FLOOD_WAIT, OutcomeKind.SLOW_MODE):
                return Outcome(kind, name, _seconds(exc))
            return Outcome(kind, name)
    if isinstance(exc, errors.FloodError):
        # A 420 without a row of its own. Telethon gives .seconds to the waits it knows; one without it
        # (like FROZEN_METHOD_INVALID) has no end Telegram told us, so the account rests until checked.
        seconds = _seconds(exc)
        if seconds is None:
            return Outcome(OutcomeKind.ACCOUNT_LIMITED, name)
        return Outcome(OutcomeKind.FLOOD_WAIT, name, seconds)
    if isinstance(exc, errors.RPCError):
        bare = _classify_bare(exc, name)
        if bare is not None:
            return bare
    return Outcome(OutcomeKind.UNKNOWN, name)


def _classify_bare(exc: Any, name: str) -> Outcome | None:
    message = _own_message(exc)
    if message is None:
        return None
    kind = _BARE_MESSAGES.get(message)
    if kind is not None:
        return Outcome(kind, name)
    if isinstance(exc, errors.AuthKeyError) and message.startswith("AUTH_KEY_"):
        return Outcome(OutcomeKind.ACCOUNT_DEAD, name)
    return None


def _seconds(exc: BaseException) -> int | None:
    """``.seconds`` when the error really carries a non-negative whole number of them."""
    value = getattr(exc, "seconds", None)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _own_message(exc: Any) -> str | None:
    """The RPC message a bare RPC error was built with (Telethon's generated classes only inherit one)."""
    message = vars(exc).get("message")
    return message if isinstance(message, str) and message else None


def _error_name(exc: BaseException) -> str:
    # Generated classes say more by their name (their ``.message`` is the base class's, e.g. "FORBIDDEN");
    # a bare RPC error says it by the message Telegram sent. Neither can hold a secret.
    message = _own_message(exc) if isinstance(exc, errors.RPCError) else None
    return (message or type(exc).__name__)[:_MAX_ERROR_CHARS]
