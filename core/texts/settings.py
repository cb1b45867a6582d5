"""/settings: language, time zone and how much the bot tells you (``control_bot.routers.settings``).

Written with ``_()`` from the start: every function renders in the reader's language.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from core.i18n import _
from core.states import NotifyLevel
from core.texts.fmt import esc


def language_name(code: str) -> str:
    """A language in its own words ("English", "Русский"): the same in every reader's language, so
    anyone can find theirs."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def level_name(level: NotifyLevel) -> str:
    if level is NotifyLevel.ALL:
        return _("Everything")
    if level is NotifyLevel.OFF:
        return _("Only plan changes")
    return _("Only problems")


def level_hint(level: NotifyLevel) -> str:
    if level is NotifyLevel.ALL:
        return _("a short summary after every cycle, and every problem")
    if level is NotifyLevel.OFF:
        return _("only when your plan is granted, changes or ends")
    return _("what needs you: failures, stops, plan changes")


def zone_label(name: str, offset: str) -> str:
    """``name``: IANA name or "UTC"; ``offset``: "UTC+3" (now). Plain text, a button label."""
    return name if name == offset else f"{name} ({offset})"


def settings_screen(language: str, zone: str, offset: str, level: NotifyLevel) -> str:
    """``language``: its name (``language_name``); ``zone``: IANA name; ``offset``: "UTC+3"."""
    return _(
        "<b>⚙ Settings</b>\n\n"
        "Language: {language}\n"
        "Time zone: {zone}\n"
        "Notifications: {level} ({hint})\n\n"
        "Times the bot shows are in your time zone.",
        language=esc(language),
        zone=esc(zone_label(zone, offset)),
        level=esc(level_name(level)),
        hint=esc(level_hint(level)),
    )


def BTN_LANGUAGE() -> str:
    return _("🌐 Language")


def BTN_ZONE() -> str:
    return _("🕒 Time zone")


def BTN_NOTIFICATIONS() -> str:
    return _("🔔 Notifications")


def BTN_ZONE_OTHER() -> str:
    return _("✏ Another zone")


def BTN_BACK() -> str:
    return _("⬅ Back")


def BTN_CLOSE() -> str:
    return _("✖ Close")


def PICK_LANGUAGE() -> str:
    return _("Choose the bot's language:")


def PICK_ZONE() -> str:
    return _(
        "Choose your time zone, or press <b>{other}</b> and send its name (<code>Europe/Berlin</code>) "
        "or its offset from UTC (<code>UTC+3</code>, <code>-5</code>).",
        other=esc(BTN_ZONE_OTHER()),
    )


def ASK_ZONE() -> str:
    return _(
        "Send your time zone: a name such as <code>Europe/Berlin</code> or <code>America/New_York</code>, "
        "or an offset from UTC such as <code>UTC+3</code> or <code>-5</code>. /cancel to keep the current one."
    )


def bad_zone(text: str) -> str:
    return _(
        "I do not know the time zone <code>{zone}</code>. Send a name such as <code>Europe/Berlin</code> "
        "or an offset such as <code>UTC+3</code> (from -12 to +14).",
        zone=esc(text[:64]),
    )


def PICK_LEVEL() -> str:
    return _("What should the bot tell you about your campaign?")


def level_button(level: NotifyLevel) -> str:
    return level_name(level)


def language_set(language: str) -> str:
    return _("Language: {language}.", language=esc(language))


def zone_set(zone: str, offset: str) -> str:
    return _("Time zone: {zone}.", zone=esc(zone_label(zone, offset)))


def level_set(level: NotifyLevel) -> str:
    return _("Notifications: {level}.", level=esc(level_name(level)))


def SETTINGS_CLOSED() -> str:
    return _("Settings closed.")


def STALE_CHOICE() -> str:
    return _("That choice is no longer offered. Open /settings again.")
