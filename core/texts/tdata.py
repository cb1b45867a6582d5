"""Why a Telegram Desktop ``tdata`` folder (in a zip) is refused, and the passcode exchange in the bot.

Plain text after the account's or archive's name in the upload summary (which escapes it). A reason never
quotes text from inside the files: only counts, indexes and cost numbers. The passcode is never echoed.
"""

from __future__ import annotations

from core.i18n import _


def NO_KEY_FILE() -> str:
    return _("no readable key_datas file in the tdata folder (damaged, or not a tdata folder)")


def DAMAGED_FILE() -> str:
    return _("a tdata file is damaged (its checksum does not match)")


def TRUNCATED() -> str:
    return _("a tdata file is truncated or malformed")


def WRONG_KEY() -> str:
    return _("the tdata is damaged: its data does not open with its own key")


def PASSCODE_REQUIRED() -> str:
    return _("protected by a local passcode (Telegram Desktop's app lock): the passcode is needed to open it")


def WRONG_PASSCODE() -> str:
    return _("the passcode does not open this tdata")


def UNKNOWN_KDF() -> str:
    return _("the tdata's passcode uses a key derivation this version does not know")


def NEWER_KEY_FORMAT() -> str:
    return _("a key file from a newer Telegram Desktop than this version reads")


def UNKNOWN_BLOCK() -> str:
    return _("an account's data is in a layout this version does not read (Telegram Desktop older than 2.2?)")


def NOT_LOGGED_IN() -> str:
    return _("the account is not logged in (no user id or no key for its data centre)")


def BAD_ACCOUNT_COUNT() -> str:
    return _("the tdata lists an impossible number of accounts")


def BAD_KEY_COUNT() -> str:
    return _("an account lists an impossible number of keys")


def BAD_DC() -> str:
    return _("the account's data centre is not a Telegram data centre")


def ALL_ZERO_KEY() -> str:
    return _("the account's auth key is empty (all zeros)")


def ACCOUNT_MISSING() -> str:
    return _("an account listed in the tdata has no data file")


def SAME_ACCOUNT() -> str:
    return _("the same account appears twice in this tdata")


def too_many_roots(count: int, limit: int) -> str:
    return _(
        "the archive holds {count} tdata folders; at most {limit} are read per archive",
        count=count,
        limit=limit,
    )


def too_many_names(count: int, limit: int) -> str:
    return _(
        "the archive lists {count} entries; at most {limit} are read for a tdata archive",
        count=count,
        limit=limit,
    )


def member_too_big(limit: int) -> str:
    """A file the reader needs (key_datas, an account's data or config) unpacks beyond the cap."""
    return _("a tdata file it needs unpacks to more than {value} KiB (a real one is a few KiB)", value=limit // 1024)


def member_unreadable(kind: str) -> str:
    """A needed member could not be read (encrypted, an unknown compression, a CRC error)."""
    return _("a tdata file could not be read from the archive ({kind})", kind=kind)


def cost_too_high(kind: str) -> str:
    """The passcode wrap asks for more memory or time than Telegram Desktop itself accepts."""
    return _("the tdata's passcode wrap asks for an excessive {kind} cost: refused", kind=kind)


def account_shown(root: str, index: int) -> str:
    """The name of one account of a tdata folder in the upload summary (``archive.zip/tdata account 2``)."""
    return _("{root} account {value}", root=root, value=index + 1)


# --- the bot's passcode exchange (control_bot.routers.admin_upload) ------------------------------------


def ASK_MARK() -> str:
    """In every passcode request: a reply to a bot message holding it is a passcode (even after a restart)."""
    return _("Reply to this message with the passcode")


def ask_passcode(shown: str) -> str:
    return (
        _(
            "🔒 {shown}: its tdata is protected by a local passcode. {ask_mark} to import it. I delete your "
            "reply at once; the passcode is neither logged nor stored.",
            shown=shown,
            ask_mark=ASK_MARK(),
        )
    )


def ask_again(shown: str) -> str:
    return _("🔒 {shown}: that passcode does not open it. {ask_mark} to try again.", shown=shown, ask_mark=ASK_MARK())


def PASSCODE_EXPIRED() -> str:
    return _("This passcode request has expired: send the archive again. (I deleted your message.)")


def PASSCODE_DOWNLOAD_FAILED() -> str:
    return _("Telegram did not let me download the archive again: send it again.")


def PASSCODE_EMPTY() -> str:
    return _("The passcode cannot be empty: reply to my message with the passcode.")

# --- the command line ----------------------------------------------------------------------------------


CLI_PASSCODE_PROMPT = "Telegram Desktop passcode (not shown): "
CLI_PASSCODE_HINT = "A tdata is protected by a local passcode: run again with --passcode (asks) or --passcode-stdin."
HELP_PASSCODE = "ask for a Telegram Desktop local passcode (not echoed) to open passcode-locked tdata"
HELP_PASSCODE_STDIN = "read the Telegram Desktop local passcode from the first line of standard input"
