"""What a configuration problem says (``core.config``): one line naming the key, plain text.

An operator reads it on the terminal (``adbot`` commands, the bot's start-up); ``ConfigError`` carries it.
"""

from __future__ import annotations

UNKNOWN_KEY = "unknown key"
TOKEN_MISSING = "missing (set it in the config or ADBOT_BOT__TOKEN)"  # noqa: S105 - wording, not a secret
TOKEN_BLANK = "only spaces (set the bot's token, or leave it empty until you have one)"  # noqa: S105 - wording
NOT_A_TABLE = "must be a table"
FILE_NOT_FOUND = "file not found (copy config.example.toml)"
INTERVAL_BOUNDS = "max_cycle_interval must be >= min_cycle_interval"
"""Raised as a ``ValueError`` in the model: pydantic reports it as "Value error, <this>"."""
BAD_LOCALE = "must be a language code such as \"en\", \"ru\" or \"pt_BR\""
# issue 20 part C: [api] and the webhook keys of [bot]
API_KEY_SHAPE = "each key must be 16 to 256 printable ASCII characters without spaces"
API_NO_KEYS = "enabled without keys: add at least one to [api] keys (every call needs X-API-Key)"
API_BASE = ("must be empty (Telegram's own) or the URL of a Bot API server:"
            " http:// or https://, a host, a port up to 65535")
WEBHOOK_URL = "mode = \"webhook\" needs webhook_url, the URL Telegram posts updates to"
WEBHOOK_SECRET = "mode = \"webhook\" needs webhook_secret: 1 to 256 of A-Z, a-z, 0-9, _ and -"  # noqa: S105


def config_error(key: str, problem: str) -> str:
    """``key``: ``section.key`` (or the file's path, or ``config``); ``problem``: what is wrong with it."""
    return f"config error: {key}: {problem}"


def more_problems(count: int) -> str:
    """Appended to the first problem when the file has ``count`` more."""
    return f" (and {count} more problem(s))"


def cannot_read(reason: str) -> str:
    """``reason``: the operating system's explanation (``strerror``)."""
    return f"cannot read ({reason})"


def not_toml(error: str) -> str:
    """``error``: the TOML parser's message (line and column)."""
    return f"not valid TOML ({error})"


def out_of_range(low: float, high: float, *, low_open: bool, high_open: bool) -> str:
    """A number outside its allowed range, or not finite (``inf``, ``nan``): the range, both ends."""
    return f"must be a finite number, {low} {'<' if low_open else '<='} value {'<' if high_open else '<='} {high}"
