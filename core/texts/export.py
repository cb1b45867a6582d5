"""/export: the customer's send attempts of a period as a CSV document (HTML)."""

from __future__ import annotations

from core.i18n import _, n_, num
from core.texts.stats import period_name

__all__ = ["BUSY", "EMPTY", "PREPARING", "PROMPT", "TOO_LARGE", "caption", "file_name"]


def PROMPT() -> str:
    return _(
        "<b>Export</b>\n"
        "A CSV file of your send attempts, one row each: the time (UTC), the group, the session, the outcome "
        "(<code>delivered</code>, <code>failed</code>, <code>in_doubt</code>: no new message seen, "
        "<code>waiting</code>, <code>skipped</code>) and, for a public group, the link to the message.\n"
        "Choose the period:"
    )


def PREPARING() -> str:
    return _("Preparing your file…")


def BUSY() -> str:
    return _("Your previous export is still being prepared: it arrives in a moment.")


def EMPTY() -> str:
    return _("Nothing was sent in this period: there is nothing to export.")


def TOO_LARGE() -> str:
    return _("This export is larger than Telegram lets a bot send, even compressed: choose a shorter period.")


def caption(period: str, rows: int, compressed: bool, kept_days: int = 0) -> str:
    """``kept_days``: the retention period (``[retention] days``) when the period reaches back past it,
    else 0: the older attempts are no rows any more, only the daily totals /stats counts."""
    text = n_("Your send attempts: {period}, {n} row (times in UTC).",
              "Your send attempts: {period}, {n} rows (times in UTC).", rows, period=period_name(period), n=num(rows))
    if kept_days > 0:
        text += "\n" + n_("Attempts older than {n} day are kept as daily totals only: see /stats.",
                          "Attempts older than {n} days are kept as daily totals only: see /stats.",
                          kept_days, n=num(kept_days))
    if compressed:
        text += "\n" + _("The file was larger than Telegram allows (50 MB), so it is compressed with gzip: "
                         "open it with any archive tool (7-Zip, The Unarchiver, gunzip).")
    return text


def file_name(period: str, day: str, compressed: bool) -> str:
    """The document's name: ``adbot-sends-7d-2026-12-07.csv`` (``.csv.gz`` compressed)."""
    return f"adbot-sends-{period}-{day}.csv" + (".gz" if compressed else "")
