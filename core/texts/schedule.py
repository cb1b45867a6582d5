"""/schedule: the days and hours a campaign's cycles may start in, in the customer's time zone
(``control_bot.routers.customer_schedule``). Day names come from Babel in the reader's language."""

from __future__ import annotations

from babel.dates import get_day_names

from core.i18n import _, locale
from core.schedule import EVERY_DAY, hhmm
from core.texts.fmt import esc, fmt_time, in_or_now


def day_name(weekday: int) -> str:
    """Monday = 0, abbreviated in the reader's language ("Mon", "пн")."""
    name = str(get_day_names("abbreviated", context="stand-alone", locale=locale())[weekday])
    return name[:1].upper() + name[1:]


def days_text(days: int) -> str:
    """"every day", "Mon–Fri", "Mon–Wed, Sat": runs of three or more days as a range."""
    if days == EVERY_DAY:
        return _("every day")
    on = [d for d in range(7) if days >> d & 1]
    parts: list[str] = []
    run: list[int] = []
    for day in [*on, -1]:
        if run and day == run[-1] + 1:
            run.append(day)
            continue
        if run:
            if len(run) >= 3:
                parts.append(f"{day_name(run[0])}–{day_name(run[-1])}")
            else:
                parts.extend(day_name(d) for d in run)
        run = [day]
    return ", ".join(parts)


def hours_text(start: int, end: int) -> str:
    if start == end:
        return _("all day")
    if end < start:
        return _("{start}–{end} (to the next day)", start=hhmm(start), end=hhmm(end))
    return f"{hhmm(start)}–{hhmm(end)}"


def schedule_line(days: int, start: int, end: int) -> str:
    """One line for /status; empty when the campaign has no quiet time."""
    if days == EVERY_DAY and start == end:
        return ""
    return _("Schedule: {days}, {hours}", days=days_text(days), hours=hours_text(start, end))


def screen(days: int, start: int, end: int, zone: str, running: bool, next_run_at: float | None, now: float) -> str:
    lines = [_("<b>Schedule</b>")]
    if days == EVERY_DAY and start == end:
        lines.append(_("Cycles run at any time: every day, all day."))
    else:
        lines.append(_("Cycles start on {days}, {hours} ({zone}). Outside these hours the next cycle waits "
                       "for them; a cycle already started finishes.",
                       days=days_text(days), hours=hours_text(start, end), zone=esc(zone)))
    if running and next_run_at is not None:
        lines.append(_("Next cycle: {when} ({due})", when=fmt_time(next_run_at), due=in_or_now(next_run_at, now)))
    lines.append("")
    lines.append(_("Tap days to switch them on or off, pick the hours, or send them like <code>09:00-21:00</code>. "
                   "The time zone is the one in /settings."))
    return "\n".join(lines)


def BTN_ALL_DAY() -> str:
    return _("All day")


def BTN_OTHER_HOURS() -> str:
    return _("Other hours…")


def BTN_EVERY_DAY() -> str:
    return _("Every day")


def BTN_WEEKDAYS() -> str:
    return f"{day_name(0)}–{day_name(4)}"


def BTN_DONE() -> str:
    return _("Done")


def btn_day(weekday: int, on: bool) -> str:
    return ("✅ " if on else "▫️ ") + day_name(weekday)


def btn_hours(start: int, end: int) -> str:
    return f"{hhmm(start)}–{hhmm(end)}"


def ASK_HOURS() -> str:
    return _("Send the hours cycles may start in, in your time zone, like <code>09:00-21:00</code> "
             "(<code>22:00-06:00</code> runs across midnight; <code>00:00-24:00</code> is all day).")


def bad_hours(text: str) -> str:
    """Plain text (an error reply: escaped where it is sent)."""
    return _("“{text}” is not a time window. Send it like 09:00-21:00.", text=text[:40])


def NO_DAYS() -> str:
    return _("At least one day must stay on: switch another day on first.")


def saved(days: int, start: int, end: int, running: bool) -> str:
    if days == EVERY_DAY and start == end:
        return _("Schedule off: cycles run at any time.")
    text = _("Schedule saved: {days}, {hours}.", days=days_text(days), hours=hours_text(start, end))
    return text + (" " + _("The next cycle follows it.") if running else "")

