"""The wording of domain errors raised below the bot, and of the bot's replies to failures.

Plain text: these become ``AdbotError.user_message``, which the bot's error handler escapes. The link
texts take ``shown``: the user's input as ``core.links`` quotes it (shortened, unprintable characters
replaced, see ``echo``), never the raw text.
"""

from __future__ import annotations

# --- failures the bot answers --------------------------------------------------------------------------

GENERIC_ERROR = "Sorry, something went wrong on our side. Please try again in a moment."
TRY_AGAIN = "The service is busy right now, please try again in a few seconds."
"""Also ``StorageBusy.user_message``: the database stayed locked."""


# --- pool ----------------------------------------------------------------------------------------------


def not_enough_sessions(wanted: int, free: int) -> str:
    return f"{wanted} session(s) needed but only {free} free in the pool"


def waits_for_pair(session_id: int) -> str:
    """``NoPairCapacity``: the session was stored without an API id (no pair had room); it is never opened."""
    return (
        f"Session #{session_id} waits for an API pair (none had room when it arrived): add one with"
        " 'adbot pairs add' or /addpair."
    )


def pending_sessions(count: int, pairs: int) -> str:
    """``NoPairCapacity`` when sessions are handed out and some of the unused ones wait for an API pair."""
    why = f"all {pairs} pair(s) are full" if pairs else "no API pair is configured"
    return (
        f"{count} unused session(s) wait for an API pair ({why}): add an API pair with 'adbot pairs add'"
        " to use them."
    )


def no_session(session_id: int) -> str:
    return f"There is no session #{session_id}."


def session_file_missing(session_id: int, folder: str) -> str:
    """``folder``: the pool folder the session's row names (``unused``, ``limited``, ...)."""
    return f"The file of session #{session_id} is missing from {folder}/."


def no_customer(customer_id: int) -> str:
    return f"There is no customer with id {customer_id}."
