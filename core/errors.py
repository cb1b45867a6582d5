"""The domain error hierarchy of adbot.

It lives in the bottom layer so that every package can raise it; the control bot maps each class to a
user message in one place (``control_bot.errors``). Every error carries ``user_message``: a short,
specific, already human-readable explanation that is safe to show (no secrets, no paths); the wording
of the messages built here is ``core.texts.errors``.

    AdbotError
    ├── ConfigError                 bad configuration file or environment override
    ├── InputError                  the user typed something we cannot accept
    │   ├── LinkError               not a usable post link / group reference
    │   ├── IntervalError           interval out of the admin's bounds
    │   └── ProxyRefused            a proxy that cannot be read or did not reach Telegram
    ├── NotFound                    the thing named does not exist (or is not yours)
    ├── AccessDenied                not a customer / not an admin / plan expired
    ├── CampaignNotReady            /run refused: post, groups or sessions missing
    ├── PoolError                   session pool and API pairs
    │   ├── NotEnoughSessions       fewer free sessions than asked (says how many are free)
    │   ├── NoPairCapacity          every API pair is full
    │   ├── PairInUse               an API pair still has sessions
    │   └── ProxyMissing            [pool] proxy_required is on and the session has no proxy
    ├── StorageBusy                 the database stayed locked; try again
    └── AlreadyRunning              another adbot holds the data dir's lock (``storage.instance_lock``)
"""

from __future__ import annotations

from core.texts import cli as cli_texts
from core.texts import errors as texts


class AdbotError(Exception):
    """Base class: ``user_message`` is what a person may be shown."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class ConfigError(AdbotError):
    """A configuration key is missing or invalid; the message names the key."""


class InputError(AdbotError):
    """Input from a user that cannot be accepted; nothing was changed."""


class LinkError(InputError):
    """A post link or group reference could not be parsed or is of the wrong kind."""


class IntervalError(InputError):
    """The requested interval is outside the allowed bounds."""


class ProxyRefused(InputError):
    """A proxy that cannot be parsed, or whose check did not reach Telegram; nothing was changed."""


class NotFound(AdbotError):
    """The referenced object does not exist or does not belong to the caller."""


class AccessDenied(AdbotError):
    """The caller may not do this."""


class CampaignNotReady(AdbotError):
    """A campaign cannot start yet; the message says what is missing."""


class PoolError(AdbotError):
    """Session pool and API pair errors."""


class NotEnoughSessions(PoolError):
    """Fewer unused sessions than requested; nothing was taken."""

    def __init__(self, wanted: int, free: int) -> None:
        super().__init__(texts.not_enough_sessions(wanted, free))
        self.wanted = wanted
        self.free = free


class NoPairCapacity(PoolError):
    """No API pair has room for another session."""


class PairInUse(PoolError):
    """An API pair that sessions still use cannot be removed."""


class ProxyMissing(PoolError):
    """``[pool] proxy_required`` is on and the session has no proxy: it is never opened."""


class StorageBusy(AdbotError):
    """The database stayed locked longer than the busy timeout."""

    def __init__(self) -> None:
        super().__init__(texts.TRY_AGAIN())


class AlreadyRunning(AdbotError):
    """Another process holds the data dir's instance lock; ``pid`` is its pid (None if unreadable)."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(cli_texts.already_running(pid))
        self.pid = pid


class InvalidUpload(Exception):
    """An uploaded session file, sidecar or archive is refused; ``reason`` says precisely why.

    Not an AdbotError: intake turns it into one result line per file (it never reaches a handler)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
