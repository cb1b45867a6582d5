"""engine.outcomes.classify: every row of the table, with real Telethon 1.45 exception instances.

Each generated error class is built the way Telethon builds it (``cls(request=...)``, plus ``capture``
for the ones with a number in their message); the ``RpcFail`` rows go through Telethon's own
``rpc_message_to_error``, i.e. exactly what a Telegram error string turns into.
"""

from __future__ import annotations

import asyncio
import inspect
import pickle

import pytest
from telethon import errors, functions, types
from telethon.errors import rpcerrorlist

from core.outcomes import MembershipLoss, Outcome, OutcomeKind, RefusalReason
from core.ports import AccountStatus
from engine.outcomes import AccountFrozenError, AccountNotAuthorizedError, PeerNotCachedError, classify, either_peer

K = OutcomeKind
REQUEST = functions.messages.ForwardMessagesRequest(
    from_peer=types.InputPeerChannel(1, 2), id=[3], to_peer=types.InputPeerChannel(4, 5), random_id=[6]
)


def rpc(code: int, message: str) -> BaseException:
    """The exception Telethon raises when Telegram answers ``rpc_error code message``."""
    error: BaseException = errors.rpc_message_to_error(types.RpcError(code, message), REQUEST)
    return error


def gen(cls: type[BaseException]) -> BaseException:
    return cls(request=REQUEST)  # type: ignore[call-arg]


# (exception, kind, error name, seconds)
ROWS: list[tuple[BaseException, OutcomeKind, str, int | None]] = [
    # sent: a retry whose first attempt already went through
    (gen(errors.RandomIdDuplicateError), K.SENT, "RandomIdDuplicateError", None),
    # dead
    (gen(errors.AuthKeyUnregisteredError), K.ACCOUNT_DEAD, "AuthKeyUnregisteredError", None),
    (gen(errors.AuthKeyDuplicatedError), K.ACCOUNT_DEAD, "AuthKeyDuplicatedError", None),
    (gen(errors.AuthKeyInvalidError), K.ACCOUNT_DEAD, "AuthKeyInvalidError", None),
    (gen(errors.AuthKeyPermEmptyError), K.ACCOUNT_DEAD, "AuthKeyPermEmptyError", None),
    (gen(errors.SessionRevokedError), K.ACCOUNT_DEAD, "SessionRevokedError", None),
    (gen(errors.SessionExpiredError), K.ACCOUNT_DEAD, "SessionExpiredError", None),
    (gen(errors.SessionPasswordNeededError), K.ACCOUNT_DEAD, "SessionPasswordNeededError", None),
    (gen(errors.UserDeactivatedError), K.ACCOUNT_DEAD, "UserDeactivatedError", None),
    (gen(errors.UserDeactivatedBanError), K.ACCOUNT_DEAD, "UserDeactivatedBanError", None),
    (rpc(401, "SOME_NEW_UNAUTHORIZED"), K.ACCOUNT_DEAD, "SOME_NEW_UNAUTHORIZED", None),
    (rpc(406, "AUTH_KEY_SOMETHING_NEW"), K.ACCOUNT_DEAD, "AUTH_KEY_SOMETHING_NEW", None),
    (AccountNotAuthorizedError("not logged in"), K.ACCOUNT_DEAD, "SESSION_NOT_AUTHORIZED", None),
    (
        AccountNotAuthorizedError("gone", message="SESSION_FILE_MISSING"),
        K.ACCOUNT_DEAD,
        "SESSION_FILE_MISSING",
        None,
    ),
    # limited (account-wide)
    (gen(errors.PeerFloodError), K.ACCOUNT_LIMITED, "PeerFloodError", None),
    (gen(errors.UserBannedInChannelError), K.ACCOUNT_LIMITED, "UserBannedInChannelError", None),
    (gen(errors.UserRestrictedError), K.ACCOUNT_LIMITED, "UserRestrictedError", None),
    # frozen: distinct from limited (never sent from, admins get the appeal link)
    (gen(errors.FrozenMethodInvalidError), K.ACCOUNT_FROZEN, "FrozenMethodInvalidError", None),
    (rpc(420, "FROZEN_METHOD_INVALID"), K.ACCOUNT_FROZEN, "FrozenMethodInvalidError", None),
    (gen(errors.FrozenParticipantMissingError), K.ACCOUNT_FROZEN, "FrozenParticipantMissingError", None),
    (rpc(400, "FROZEN_PARTICIPANT_MISSING"), K.ACCOUNT_FROZEN, "FrozenParticipantMissingError", None),
    (AccountFrozenError(AccountStatus(1.0, 2.0, "https://t.me/spambot")), K.ACCOUNT_FROZEN, "ACCOUNT_FROZEN", None),
    (rpc(420, "FLOOD_SOMETHING_NEW"), K.ACCOUNT_LIMITED, "FLOOD_SOMETHING_NEW", None),
    # waits
    (errors.FloodWaitError(request=REQUEST, capture=42), K.FLOOD_WAIT, "FloodWaitError", 42),
    (rpc(420, "FLOOD_WAIT_42"), K.FLOOD_WAIT, "FloodWaitError", 42),
    (errors.FloodPremiumWaitError(request=REQUEST, capture=7), K.FLOOD_WAIT, "FloodPremiumWaitError", 7),
    (rpc(420, "FLOOD_PREMIUM_WAIT_7"), K.FLOOD_WAIT, "FloodPremiumWaitError", 7),
    (rpcerrorlist.FloodTestPhoneWaitError(request=REQUEST, capture=9), K.FLOOD_WAIT, "FloodTestPhoneWaitError", 9),
    (errors.SlowModeWaitError(request=REQUEST, capture=30), K.SLOW_MODE, "SlowModeWaitError", 30),
    (rpc(420, "SLOWMODE_WAIT_300"), K.SLOW_MODE, "SlowModeWaitError", 300),
    # group-level
    (gen(errors.ChatWriteForbiddenError), K.REFUSED, "ChatWriteForbiddenError", None),
    (rpc(403, "CHAT_WRITE_FORBIDDEN"), K.REFUSED, "ChatWriteForbiddenError", None),
    (gen(errors.ChatForbiddenError), K.REFUSED, "ChatForbiddenError", None),
    (gen(errors.ChatSendPlainForbiddenError), K.REFUSED, "ChatSendPlainForbiddenError", None),
    (gen(errors.ChatSendMediaForbiddenError), K.REFUSED, "ChatSendMediaForbiddenError", None),
    (gen(errors.ChatSendPhotosForbiddenError), K.REFUSED, "ChatSendPhotosForbiddenError", None),
    (gen(errors.ChatGuestSendForbiddenError), K.REFUSED, "ChatGuestSendForbiddenError", None),
    (gen(errors.ChatAdminRequiredError), K.REFUSED, "ChatAdminRequiredError", None),
    (gen(errors.ChatRestrictedError), K.GROUP_FAILED, "ChatRestrictedError", None),
    (gen(errors.BroadcastForbiddenError), K.REFUSED, "BroadcastForbiddenError", None),
    (gen(errors.ChannelPrivateError), K.GROUP_FAILED, "ChannelPrivateError", None),
    (gen(errors.ChannelPublicGroupNaError), K.GROUP_FAILED, "ChannelPublicGroupNaError", None),
    (gen(errors.ChannelBannedError), K.GROUP_FAILED, "ChannelBannedError", None),
    (gen(errors.ChannelInvalidError), K.GROUP_FAILED, "ChannelInvalidError", None),
    (gen(errors.ChatInvalidError), K.GROUP_FAILED, "ChatInvalidError", None),
    (gen(errors.ChatIdInvalidError), K.GROUP_FAILED, "ChatIdInvalidError", None),
    (gen(errors.ChatIdEmptyError), K.GROUP_FAILED, "ChatIdEmptyError", None),
    (gen(errors.PeerIdInvalidError), K.GROUP_FAILED, "PeerIdInvalidError", None),
    (gen(errors.PeerIdNotSupportedError), K.GROUP_FAILED, "PeerIdNotSupportedError", None),
    (gen(errors.UserNotParticipantError), K.GROUP_FAILED, "UserNotParticipantError", None),
    (gen(errors.UsernameNotOccupiedError), K.GROUP_FAILED, "UsernameNotOccupiedError", None),
    (gen(errors.UsernameInvalidError), K.GROUP_FAILED, "UsernameInvalidError", None),
    (gen(errors.TopicDeletedError), K.REFUSED, "TopicDeletedError", None),
    (rpc(400, "TOPIC_CLOSED"), K.REFUSED, "TOPIC_CLOSED", None),  # no class in telethon 1.45
    (gen(errors.InputUserDeactivatedError), K.GROUP_FAILED, "InputUserDeactivatedError", None),
    (gen(errors.UserIsBlockedError), K.GROUP_FAILED, "UserIsBlockedError", None),
    (gen(errors.YouBlockedUserError), K.GROUP_FAILED, "YouBlockedUserError", None),
    (PeerNotCachedError("-1001234567890"), K.GROUP_FAILED, "PEER_NOT_CACHED", None),
    # post-level
    (gen(errors.MessageIdInvalidError), K.SOURCE_FAILED, "MessageIdInvalidError", None),
    (gen(errors.MsgIdInvalidError), K.SOURCE_FAILED, "MsgIdInvalidError", None),
    (gen(errors.MessageIdsEmptyError), K.SOURCE_FAILED, "MessageIdsEmptyError", None),
    (gen(errors.ChatForwardsRestrictedError), K.SOURCE_FAILED, "ChatForwardsRestrictedError", None),
    (gen(errors.MessageEmptyError), K.POST_INVALID, "MessageEmptyError", None),
    (gen(errors.MessageTooLongError), K.POST_INVALID, "MessageTooLongError", None),
    (gen(errors.EntityBoundsInvalidError), K.POST_INVALID, "EntityBoundsInvalidError", None),
    (gen(errors.EntitiesTooLongError), K.POST_INVALID, "EntitiesTooLongError", None),
    (gen(errors.EntityMentionUserInvalidError), K.POST_INVALID, "EntityMentionUserInvalidError", None),
    (gen(errors.MediaEmptyError), K.POST_INVALID, "MediaEmptyError", None),
    (gen(errors.GroupedMediaInvalidError), K.POST_INVALID, "GroupedMediaInvalidError", None),
    # transient
    (OSError("network is unreachable"), K.TRANSIENT, "OSError", None),
    (ConnectionError("Cannot send requests while disconnected"), K.TRANSIENT, "ConnectionError", None),
    (ConnectionResetError(), K.TRANSIENT, "ConnectionResetError", None),
    (TimeoutError(), K.TRANSIENT, "TimeoutError", None),
    (asyncio.IncompleteReadError(b"", 8), K.TRANSIENT, "IncompleteReadError", None),
    (errors.ServerError(request=REQUEST, message="INTERNAL", code=500), K.TRANSIENT, "INTERNAL", None),
    (rpc(-500, "No workers running"), K.TRANSIENT, "No workers running", None),
    (gen(errors.RpcCallFailError), K.TRANSIENT, "RpcCallFailError", None),
    (rpc(500, "RPC_CALL_FAIL"), K.TRANSIENT, "RpcCallFailError", None),
    (gen(errors.InterdcCallErrorError), K.TRANSIENT, "InterdcCallErrorError", None),
    (errors.TimedOutError(request=REQUEST, message="Timeout", code=-503), K.TRANSIENT, "Timeout", None),
    (rpc(-503, "Timeout"), K.TRANSIENT, "TimeoutError", None),
    (errors.UserMigrateError(request=REQUEST, capture=4), K.TRANSIENT, "UserMigrateError", None),
    (errors.SecurityError("bad msg_id"), K.TRANSIENT, "SecurityError", None),
    # -404 at transport level: the server does not know the key (Telethon raises AuthKeyNotFound; a raw
    # InvalidBufferError carrying 404 means the same); other transport codes stay transient
    (errors.AuthKeyNotFound(), K.ACCOUNT_DEAD, "AuthKeyNotFound", None),
    (errors.InvalidBufferError(b"\x6c\xfe\xff\xff"), K.ACCOUNT_DEAD, "AuthKeyNotFound", None),
    (errors.InvalidBufferError(b"\x44\xfe\xff\xff"), K.TRANSIENT, "InvalidBufferError", None),
    (errors.BadMessageError(REQUEST, 32), K.TRANSIENT, "BadMessageError", None),
    # unknown: the RPC message for a bare RPC error, the class name otherwise
    (rpc(400, "SOME_NEW_ERROR"), K.UNKNOWN, "SOME_NEW_ERROR", None),
    (rpc(403, "SOME_NEW_FORBIDDEN"), K.UNKNOWN, "SOME_NEW_FORBIDDEN", None),
    (gen(errors.PremiumAccountRequiredError), K.UNKNOWN, "PremiumAccountRequiredError", None),
    (gen(errors.FilerefUpgradeNeededError), K.UNKNOWN, "FilerefUpgradeNeededError", None),  # a 406, not dead
    (errors.TypeNotFoundError(0x12345678, b""), K.UNKNOWN, "TypeNotFoundError", None),
    (ValueError("something odd"), K.UNKNOWN, "ValueError", None),
    (RuntimeError("closed"), K.UNKNOWN, "RuntimeError", None),
]


# The refusals after which the cached (id, access hash) of the group is dropped and resolved afresh.
STALE_PEER = (errors.ChannelInvalidError, errors.PeerIdInvalidError, errors.ChatIdInvalidError)
# The refusals that speak about the sending session's membership of the chat (its row is updated).
MEMBERSHIP: dict[type[BaseException], MembershipLoss] = {
    errors.ChannelPrivateError: "left",
    errors.UserNotParticipantError: "left",
    errors.ChatGuestSendForbiddenError: "left",
    errors.ChatWriteForbiddenError: "blocked",
}


# Why each permanent refusal refuses (a REFUSED outcome's ``refusal``); TOPIC_CLOSED has no class.
REFUSAL: dict[str, RefusalReason] = {
    "ChatWriteForbiddenError": "write_forbidden",
    "ChatForbiddenError": "write_forbidden",
    "ChatSendPlainForbiddenError": "plain_forbidden",
    "ChatSendMediaForbiddenError": "media_forbidden",
    "ChatSendPhotosForbiddenError": "media_forbidden",
    "ChatGuestSendForbiddenError": "guest_forbidden",
    "ChatAdminRequiredError": "admin_required",
    "BroadcastForbiddenError": "admin_required",
    "TopicDeletedError": "topic_deleted",
    "TOPIC_CLOSED": "topic_closed",
}


@pytest.mark.parametrize(("exc", "kind", "error", "seconds"), ROWS, ids=[f"{type(r[0]).__name__}-{r[2]}" for r in ROWS])
def test_every_row_classifies(exc: BaseException, kind: OutcomeKind, error: str, seconds: int | None) -> None:
    assert classify(exc) == Outcome(
        kind,
        error,
        seconds,
        stale_peer=type(exc) in STALE_PEER,
        membership=MEMBERSHIP.get(type(exc)),
        refusal=REFUSAL.get(error),
    )
    assert (kind is K.REFUSED) == (error in REFUSAL)


def test_membership_refusals_name_the_loss_and_only_for_a_destination() -> None:
    for cls, loss in MEMBERSHIP.items():
        outcome = classify(gen(cls))
        expected = K.REFUSED if cls.__name__ in REFUSAL else K.GROUP_FAILED
        assert (outcome.kind, outcome.membership) == (expected, loss), cls.__name__
        assert classify(gen(cls), source_failed=True).membership is None  # the post's source: not a group's row
    # Account-wide, not one chat's: the account is limited, no row changes.
    banned = classify(gen(errors.UserBannedInChannelError))
    assert (banned.kind, banned.membership) == (K.ACCOUNT_LIMITED, None)
    for other in (errors.ChatAdminRequiredError, errors.TopicDeletedError, errors.ChannelInvalidError):
        assert classify(gen(other)).membership is None, other.__name__


def test_stale_peer_is_set_by_the_three_invalid_peer_classes_only() -> None:
    for cls in STALE_PEER:
        outcome = classify(gen(cls))
        assert (outcome.kind, outcome.stale_peer) == (K.GROUP_FAILED, True), cls.__name__
    # Nothing was cached for a peer we never resolved: there is nothing stale to drop.
    assert classify(PeerNotCachedError("-1001234567890")) == Outcome(K.GROUP_FAILED, "PEER_NOT_CACHED")
    for other in (gen(errors.ChannelPrivateError), gen(errors.ChatInvalidError), rpc(400, "CHANNEL_INVALID_X")):
        assert not classify(other).stale_peer


def test_every_chat_send_forbidden_class_in_telethon_is_a_permanent_refusal() -> None:
    # Telegram keeps adding per-media ChatSend*Forbidden errors; a new one must not fall to UNKNOWN.
    found: list[type[BaseException]] = []
    for name, cls in vars(rpcerrorlist).items():
        named = name.startswith("ChatSend") and name.endswith("ForbiddenError")
        if named and inspect.isclass(cls) and issubclass(cls, BaseException):
            found.append(cls)
    assert len(found) >= 10
    for cls in found:
        outcome = classify(gen(cls))
        assert outcome.kind is K.REFUSED, cls.__name__
        assert outcome.refusal in ("plain_forbidden", "media_forbidden"), cls.__name__


def test_frozen_method_invalid_is_a_flood_error_without_seconds() -> None:
    exc = rpc(420, "FROZEN_METHOD_INVALID")
    assert isinstance(exc, errors.FloodError)
    assert not hasattr(exc, "seconds")  # code reading e.seconds blindly would crash here
    outcome = classify(exc)
    assert outcome.kind is K.ACCOUNT_FROZEN
    assert outcome.seconds is None


def test_a_wait_with_a_bogus_seconds_value_carries_no_seconds() -> None:
    exc = errors.FloodWaitError(request=REQUEST, capture=5)
    exc.seconds = "soon"
    assert classify(exc) == Outcome(K.FLOOD_WAIT, "FloodWaitError", None)


def test_source_failure_makes_a_group_error_a_source_failure() -> None:
    private = gen(errors.ChannelPrivateError)
    assert classify(private).kind is K.GROUP_FAILED
    assert classify(private, source_failed=True) == Outcome(K.SOURCE_FAILED, "ChannelPrivateError")
    assert classify(PeerNotCachedError("-1001"), source_failed=True).kind is K.SOURCE_FAILED
    assert classify(rpc(400, "USERNAME_NOT_OCCUPIED"), source_failed=True).kind is K.SOURCE_FAILED
    # a refusal by the source is no refusal of a group: nothing is stored against a (session, group)
    assert classify(gen(errors.ChatAdminRequiredError), source_failed=True) == Outcome(
        K.SOURCE_FAILED, "ChatAdminRequiredError"
    )
    # the post's own content stays POST_INVALID
    assert classify(gen(errors.MessageTooLongError), source_failed=True).kind is K.POST_INVALID
    # only "cannot reach that peer" changes meaning; account-level outcomes stay what they are
    assert classify(rpc(420, "FLOOD_WAIT_9"), source_failed=True) == Outcome(K.FLOOD_WAIT, "FloodWaitError", 9)
    assert classify(gen(errors.AuthKeyUnregisteredError), source_failed=True).kind is K.ACCOUNT_DEAD


def test_either_peer_names_the_refusals_a_forward_cannot_place_by_itself() -> None:
    # A forward names two peers; these three may be about either, so a read of the source settles them.
    for cls in (errors.ChannelPrivateError, errors.ChannelInvalidError, errors.PeerIdInvalidError):
        assert either_peer(gen(cls)), cls.__name__
    for cls in (errors.ChatWriteForbiddenError, errors.MessageIdInvalidError, errors.UserNotParticipantError):
        assert not either_peer(gen(cls)), cls.__name__
    assert not either_peer(ConnectionError())


def test_error_names_never_carry_exception_text() -> None:
    secret = "api_hash=0123456789abcdef0123456789abcdef"
    for exc in (ConnectionError(secret), ValueError(secret), OSError(5, secret)):
        outcome = classify(exc)
        assert secret not in outcome.error
        assert outcome.error == type(exc).__name__


def test_a_long_rpc_message_is_cut_short() -> None:
    outcome = classify(rpc(400, "X" * 500))
    assert outcome.kind is K.UNKNOWN
    assert outcome.error == "X" * 64


def test_own_errors_are_telethon_errors_and_survive_pickling() -> None:
    not_authorised = AccountNotAuthorizedError("gone", message="SESSION_FILE_MISSING")
    not_cached = PeerNotCachedError("-1001234567890")
    assert isinstance(not_authorised, errors.UnauthorizedError)
    assert isinstance(not_cached, errors.PeerIdInvalidError)
    assert "SESSION_FILE_MISSING" in str(not_authorised)
    assert "-1001234567890" in str(not_cached)
    for exc in (not_authorised, not_cached):
        copy = pickle.loads(pickle.dumps(exc))
        assert classify(copy) == classify(exc)


def test_outcome_kinds_are_stable_strings_for_the_ledger() -> None:
    assert [k.value for k in OutcomeKind] == [
        "sent",
        "account_dead",
        "account_limited",
        "account_frozen",
        "flood_wait",
        "slow_mode",
        "group_failed",
        "post_invalid",
        "source_failed",
        "refused",
        "transient",
        "unknown",
    ]
