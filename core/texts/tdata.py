"""Why a Telegram Desktop ``tdata`` folder (in a zip) is refused, and the passcode exchange in the bot.

Plain text after the account's or archive's name in the upload summary (which escapes it). A reason never
quotes text from inside the files: only counts, indexes and cost numbers. The passcode is never echoed.
"""

from __future__ import annotations

NO_KEY_FILE = "no readable key_datas file in the tdata folder (damaged, or not a tdata folder)"
DAMAGED_FILE = "a tdata file is damaged (its checksum does not match)"
TRUNCATED = "a tdata file is truncated or malformed"
WRONG_KEY = "the tdata is damaged: its data does not open with its own key"
PASSCODE_REQUIRED = "protected by a local passcode (Telegram Desktop's app lock): the passcode is needed to open it"
WRONG_PASSCODE = "the passcode does not open this tdata"
UNKNOWN_KDF = "the tdata's passcode uses a key derivation this version does not know"
NEWER_KEY_FORMAT = "a key file from a newer Telegram Desktop than this version reads"
UNKNOWN_BLOCK = "an account's data is in a layout this version does not read (Telegram Desktop older than 2.2?)"
NOT_LOGGED_IN = "the account is not logged in (no user id or no key for its data centre)"
BAD_ACCOUNT_COUNT = "the tdata lists an impossible number of accounts"
BAD_KEY_COUNT = "an account lists an impossible number of keys"
BAD_DC = "the account's data centre is not a Telegram data centre"
ALL_ZERO_KEY = "the account's auth key is empty (all zeros)"
ACCOUNT_MISSING = "an account listed in the tdata has no data file"
SAME_ACCOUNT = "the same account appears twice in this tdata"


def too_many_roots(count: int, limit: int) -> str:
    return f"the archive holds {count} tdata folders; at most {limit} are read per archive"


def too_many_names(count: int, limit: int) -> str:
    return f"the archive lists {count} entries; at most {limit} are read for a tdata archive"


def member_too_big(limit: int) -> str:
    """A file the reader needs (key_datas, an account's data or config) unpacks beyond the cap."""
    return f"a tdata file it needs unpacks to more than {limit // 1024} KiB (a real one is a few KiB)"


def member_unreadable(kind: str) -> str:
    """A needed member could not be read (encrypted, an unknown compression, a CRC error)."""
    return f"a tdata file could not be read from the archive ({kind})"


def cost_too_high(kind: str) -> str:
    """The passcode wrap asks for more memory or time than Telegram Desktop itself accepts."""
    return f"the tdata's passcode wrap asks for an excessive {kind} cost: refused"


def account_shown(root: str, index: int) -> str:
    """The name of one account of a tdata folder in the upload summary (``archive.zip/tdata account 2``)."""
    return f"{root} account {index + 1}"


# --- the bot's passcode exchange (control_bot.routers.admin_upload) ------------------------------------

ASK_MARK = "Reply to this message with the passcode"
"""In every passcode request: a reply to a bot message holding it is a passcode (even after a restart)."""


def ask_passcode(shown: str) -> str:
    return (
        f"🔒 {shown}: its tdata is protected by a local passcode. {ASK_MARK} to import it."
        " I delete your reply at once; the passcode is neither logged nor stored."
    )


def ask_again(shown: str) -> str:
    return f"🔒 {shown}: that passcode does not open it. {ASK_MARK} to try again."


PASSCODE_EXPIRED = "This passcode request has expired: send the archive again. (I deleted your message.)"
PASSCODE_DOWNLOAD_FAILED = "Telegram did not let me download the archive again: send it again."
PASSCODE_EMPTY = "The passcode cannot be empty: reply to my message with the passcode."

# --- the command line ----------------------------------------------------------------------------------

CLI_PASSCODE_PROMPT = "Telegram Desktop passcode (not shown): "
CLI_PASSCODE_HINT = "A tdata is protected by a local passcode: run again with --passcode (asks) or --passcode-stdin."
HELP_PASSCODE = "ask for a Telegram Desktop local passcode (not echoed) to open passcode-locked tdata"
HELP_PASSCODE_STDIN = "read the Telegram Desktop local passcode from the first line of standard input"
