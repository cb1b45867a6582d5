"""The wording of domain errors raised below the bot, and of the bot's replies to failures.

Plain text: these become ``AdbotError.user_message``, which the bot's error handler escapes. The link
texts take ``shown``: the user's input as ``core.links`` quotes it (shortened, unprintable characters
replaced, see ``echo``), never the raw text.
"""

from __future__ import annotations

from core.i18n import _, n_

# --- failures the bot answers --------------------------------------------------------------------------


def GENERIC_ERROR() -> str:
    return _("Sorry, something went wrong on our side. Please try again in a moment.")


def TRY_AGAIN() -> str:
    """Also ``StorageBusy.user_message``: the database stayed locked."""
    return _("The service is busy right now, please try again in a few seconds.")


# --- pool ----------------------------------------------------------------------------------------------


def not_enough_sessions(wanted: int, free: int) -> str:
    return n_(
        "{n} session needed but only {free} free in the pool",
        "{n} sessions needed but only {free} free in the pool",
        wanted,
        free=free,
    )


def waits_for_pair(session_id: int) -> str:
    """``NoPairCapacity``: the session was stored without an API id (no pair had room); it is never opened."""
    return (
        _(
            "Session #{session_id} waits for an API pair (none had room when it arrived): add one with "
            "'adbot pairs add' or /addpair.",
            session_id=session_id,
        )
    )


def pending_sessions(count: int, pairs: int) -> str:
    """``NoPairCapacity`` when sessions are handed out and some of the unused ones wait for an API pair."""
    why = n_("all {n} pair are full", "all {n} pairs are full", pairs) if pairs else _("no API pair is configured")
    return (
        n_(
            "{n} unused session wait for an API pair ({why}): add an API pair with 'adbot pairs add' to use them.",
            "{n} unused sessions wait for an API pair ({why}): add an API pair with 'adbot pairs add' to use them.",
            count,
            why=why,
        )
    )


def no_session(session_id: int) -> str:
    return _("There is no session #{session_id}.", session_id=session_id)


def session_file_missing(session_id: int, folder: str) -> str:
    """``folder``: the pool folder the session's row names (``unused``, ``limited``, ...)."""
    return _("The file of session #{session_id} is missing from {folder}/.", session_id=session_id, folder=folder)


def no_customer(customer_id: int) -> str:
    return _("There is no customer with id {customer_id}.", customer_id=customer_id)
