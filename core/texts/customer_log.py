"""The lines of a customer's own log (``/logs``, the daily file) in the reader's language.

The file stores a key and values per line (``core.customer_log``); each key has one renderer here. A
line is plain text (``core.texts.status.logs`` escapes it). An error's short name among the values (a
Telethon class name, Telegram's error name) is said in words (``core.texts.outcomes.error_words``),
never shown. A line of the old format (plain English) is shown as it was written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from core.customer_log import LogKey, LogLine
from core.i18n import _, n_, num, tz
from core.proof import message_link
from core.texts.fmt import fmt_duration
from core.texts.outcomes import error_words, reason_words, refusal_words

logger = logging.getLogger(__name__)

Values = Mapping[str, Any]


def _int(v: Values, name: str) -> int:
    value = v.get(name)
    return int(value) if isinstance(value, int | float) else 0


def _why(v: Values) -> str:
    return error_words(str(v.get("kind") or ""), str(v.get("error") or ""))


def _wait(v: Values) -> str:
    seconds = v.get("seconds")
    return fmt_duration(float(seconds)) if isinstance(seconds, int | float) else _("a while")


def _campaign_started(v: Values) -> str:
    return _("Campaign started. Sessions: {sessions}, active groups: {groups}.",
             sessions=num(_int(v, "sessions")), groups=num(_int(v, "groups")))


def _session_released(v: Values) -> str:
    return _("Session #{session} went back to the pool.", session=v.get("session", "?"))


def _campaign_stopped(v: Values) -> str:
    return _("Campaign stopped: {reason}.", reason=reason_words(str(v.get("reason") or "")))


def _cycle_started(v: Values) -> str:
    text = _("Cycle {cycle} started. Groups: {groups}, sessions: {sessions}.", cycle=num(_int(v, "cycle")),
             groups=num(_int(v, "groups")), sessions=num(_int(v, "sessions")))
    return text + _unreachable(v)


def _cycle_resumed(v: Values) -> str:
    text = _("Cycle {cycle} resumed. Groups: {groups}, sessions: {sessions}.", cycle=num(_int(v, "cycle")),
             groups=num(_int(v, "groups")), sessions=num(_int(v, "sessions")))
    return text + _unreachable(v)


def _unreachable(v: Values) -> str:
    n = _int(v, "unreachable")
    if not n:
        return ""
    return " " + n_("{n} group cannot be reached by your sessions.",
                    "{n} groups cannot be reached by your sessions.", n)


def _cycle_done(v: Values) -> str:
    return _(
        "Cycle {cycle} done: sent {sent}, failed {failed}, waiting {waiting}, skipped {skipped}, "
        "unconfirmed {in_doubt}.",
        cycle=num(_int(v, "cycle")), sent=num(_int(v, "sent")), failed=num(_int(v, "failed")),
        waiting=num(_int(v, "waiting")), skipped=num(_int(v, "skipped")), in_doubt=num(_int(v, "in_doubt")),
    )


def _cycle_interrupted(v: Values) -> str:
    return _("Cycle {cycle} was interrupted by a restart of the service: it goes on after the restart.",
             cycle=num(_int(v, "cycle")))


def _in_doubt(v: Values) -> str:
    groups = v.get("groups")
    shown = ", ".join(str(g) for g in groups) if isinstance(groups, list) else ""
    return n_(
        "Cycle {cycle} resumed: {n} post whose outcome is unknown is not repeated ({groups}).",
        "Cycle {cycle} resumed: {n} posts whose outcome is unknown are not repeated ({groups}).",
        _int(v, "n"), cycle=num(_int(v, "cycle")), groups=shown,
    )


def _sessions_short(v: Values) -> str:
    return _("Not enough sessions for your plan: {have} of {wanted}. The admin adds more.",
             have=num(_int(v, "have")), wanted=num(_int(v, "wanted")))


def _no_session(v: Values) -> str:
    return n_("No session to post with: {n} group skipped.", "No session to post with: {n} groups skipped.",
              _int(v, "n"))


def _already_done(v: Values) -> str:
    return _("{group} already has an outcome in cycle {cycle}: not sent again.", group=v.get("group", "?"),
             cycle=num(_int(v, "cycle")))


def _no_answer(v: Values) -> str:
    group = v.get("group", "?")
    why = v.get("why")
    if why == "no_new_message":
        return _("Telegram took the post to {group} but named no new message: not repeated in this cycle.",
                 group=group)
    if why == "shutdown":
        return _("The post to {group} was cut short by a restart of the service: not repeated in this cycle.",
                 group=group)
    return _("No answer from Telegram for the post to {group}: not repeated in this cycle.", group=group)


def _unsettled(v: Values) -> str:
    return _("The post to {group} was refused by the post's source or by the group ({why}): tried again next cycle.",
             group=v.get("group", "?"), why=_why(v))


def _sent(v: Values) -> str:
    message = v.get("message")
    link = message_link(str(v.get("group", "")), message if isinstance(message, int) else None)
    if link is not None:  # proof of posting: a public group's message opens for anyone
        return _("✅ Session #{session} posted to {group}: {link}", session=v.get("session", "?"),
                 group=v.get("group", "?"), link=link)
    return _("✅ Session #{session} posted to {group} (message {message}).", session=v.get("session", "?"),
             group=v.get("group", "?"), message=v.get("message", "?"))


def _flood_wait(v: Values) -> str:
    return _("Session #{session} must wait {wait} before posting again (Telegram's limit).",
             session=v.get("session", "?"), wait=_wait(v))


def _slow_mode(v: Values) -> str:
    window = v.get("window")
    return _("{group} has slow mode (one post every {window}, {left} left): skipped this cycle.",
             group=v.get("group", "?"), window=fmt_duration(float(window)) if isinstance(window, int | float) else "?",
             left=fmt_duration(float(_int(v, "left"))))


def _send_failed(v: Values) -> str:
    return n_("The post to {group} failed after {n} attempt: {why}.",
              "The post to {group} failed after {n} attempts: {why}.", _int(v, "attempts"),
              group=v.get("group", "?"), why=_why(v))


def _session_rests(v: Values) -> str:
    return n_(
        "Session #{session} waits out Telegram's limit until after this cycle: {n} group waits for it.",
        "Session #{session} waits out Telegram's limit until after this cycle: {n} groups wait for it.",
        _int(v, "n"), session=v.get("session", "?"),
    )


def _daily_cap(v: Values) -> str:
    return n_(
        "Session #{session} has posted enough for today: {n} group is left for a later cycle.",
        "Session #{session} has posted enough for today: {n} groups are left for a later cycle.",
        _int(v, "n"), session=v.get("session", "?"),
    )


def _session_unavailable(v: Values) -> str:
    return _("Session #{session} could not be opened: its groups are skipped this cycle.",
             session=v.get("session", "?"))


def _session_wait(v: Values) -> str:
    if v.get("doing") == "resolving":
        return _("Session #{session} must wait {wait} before looking up the post's source (Telegram's limit).",
                 session=v.get("session", "?"), wait=_wait(v))
    return _("Session #{session} must wait {wait} before connecting (Telegram's limit).",
             session=v.get("session", "?"), wait=_wait(v))


def _session_unusable(v: Values) -> str:
    return _("Session #{session} cannot be used this cycle: {why}.", session=v.get("session", "?"), why=_why(v))


def _session_retired(v: Values) -> str:
    session = v.get("session", "?")
    state = v.get("state")
    if state == "limited":
        text = _("Session #{session} is limited by Telegram and was set aside.", session=session)
    elif state == "frozen":
        text = _("Session #{session} was frozen by Telegram and was set aside.", session=session)
    else:
        text = _("Session #{session} no longer works and was set aside.", session=session)
    replacement = v.get("replacement")
    if replacement is None:
        return text + " " + _("No free session can replace it yet.")
    return text + " " + _("Session #{replacement} replaces it.", replacement=replacement)


def _not_member(v: Values) -> str:
    return _("The post to {group} was refused: session #{session} is not in that group. The next cycle tries "
             "another session.", group=v.get("group", "?"), session=v.get("session", "?"))


def _may_not_write(v: Values) -> str:
    return _("The post to {group} was refused: session #{session} may not write there. The next cycle tries "
             "another session.", group=v.get("group", "?"), session=v.get("session", "?"))


def _post_failed(v: Values) -> str:
    return _("The post to {group} failed: {why}.", group=v.get("group", "?"), why=_why(v))


def _group_paused(v: Values) -> str:
    return n_(
        "{group} was paused after {n} failure in a row (the last: {why}). Resume it in /groups once fixed.",
        "{group} was paused after {n} failures in a row (the last: {why}). Resume it in /groups once fixed.",
        _int(v, "failures"), group=v.get("group", "?"), why=_why(v),
    )


def _refused(v: Values) -> str:
    return _("{group} refuses posts from session #{session} ({why}): that session does not try it again.",
             group=v.get("group", "?"), session=v.get("session", "?"), why=refusal_words(str(v.get("refusal") or "")))


def _interval_set(v: Values) -> str:
    return _("Interval set to {interval}.", interval=fmt_duration(float(_int(v, "seconds"))))


def _session_swapped(v: Values) -> str:
    return _("An admin gave you session #{session} in place of #{returned}, which went back to the pool.",
             session=v.get("session", "?"), returned=v.get("returned", "?"))
def _post_set_text(v: Values) -> str:
    return n_("Post set: a text of {n} character.", "Post set: a text of {n} characters.", _int(v, "characters"))


def _post_set_link(v: Values) -> str:
    if v.get("checked"):
        return _("Post set: a forward of {link} (a session of yours read it).", link=v.get("link", "?"))
    return _("Post set: a forward of {link} (checked at the first cycle).", link=v.get("link", "?"))


def _post_set_media(v: Values) -> str:
    kinds = v.get("kinds")
    n = len(kinds) if isinstance(kinds, list) else 0
    if n > 1:
        return n_("Post set: an album of {n} item.", "Post set: an album of {n} items.", n)
    kind = kinds[0] if isinstance(kinds, list) and kinds else ""
    if kind == "photo":
        return _("Post set: a photo.")
    if kind == "video":
        return _("Post set: a video.")
    if kind == "animation":
        return _("Post set: a GIF.")
    return _("Post set: a file.")


def _post_source_not_member(v: Values) -> str:
    return _("None of your sessions is in the private channel of {link}: it cannot be forwarded yet.",
             link=v.get("link", "?"))


def _groups_added(v: Values) -> str:
    groups = v.get("groups")
    shown = ", ".join(str(g) for g in groups) if isinstance(groups, list) else ""
    n = _int(v, "n")
    if isinstance(groups, list) and len(groups) < n:
        return n_("{n} group added, the first: {groups}.", "{n} groups added, the first: {groups}.", n, groups=shown)
    return n_("{n} group added: {groups}.", "{n} groups added: {groups}.", n, groups=shown)


def _groups_refused(v: Values) -> str:
    return n_("{n} group was not added: it cannot be posted to.",
              "{n} groups were not added: they cannot be posted to.", _int(v, "n"))


def _group_removed(v: Values) -> str:
    return _("{group} removed.", group=v.get("group", "?"))


def _group_resumed(v: Values) -> str:
    return _("{group} resumed.", group=v.get("group", "?"))


_LINES: dict[LogKey, Callable[[Values], str]] = {
    LogKey.CAMPAIGN_STARTED: _campaign_started,
    LogKey.CAMPAIGN_STOPPED: _campaign_stopped,
    LogKey.SESSION_RELEASED: _session_released,
    LogKey.CYCLE_STARTED: _cycle_started,
    LogKey.CYCLE_RESUMED: _cycle_resumed,
    LogKey.CYCLE_DONE: _cycle_done,
    LogKey.CYCLE_INTERRUPTED: _cycle_interrupted,
    LogKey.IN_DOUBT_NOT_REPEATED: _in_doubt,
    LogKey.SESSIONS_SHORT: _sessions_short,
    LogKey.NO_SESSION: _no_session,
    LogKey.ALREADY_DONE: _already_done,
    LogKey.NO_ANSWER: _no_answer,
    LogKey.UNSETTLED: _unsettled,
    LogKey.SENT: _sent,
    LogKey.FLOOD_WAIT: _flood_wait,
    LogKey.SLOW_MODE: _slow_mode,
    LogKey.SEND_FAILED: _send_failed,
    LogKey.SESSION_RESTS: _session_rests,
    LogKey.DAILY_CAP: _daily_cap,
    LogKey.SESSION_UNAVAILABLE: _session_unavailable,
    LogKey.SESSION_WAIT: _session_wait,
    LogKey.SESSION_UNUSABLE: _session_unusable,
    LogKey.SESSION_RETIRED: _session_retired,
    LogKey.NOT_MEMBER: _not_member,
    LogKey.MAY_NOT_WRITE: _may_not_write,
    LogKey.POST_FAILED: _post_failed,
    LogKey.GROUP_PAUSED: _group_paused,
    LogKey.REFUSED: _refused,
    LogKey.INTERVAL_SET: _interval_set,
    LogKey.SESSION_SWAPPED: _session_swapped,
    LogKey.POST_SET_TEXT: _post_set_text,
    LogKey.POST_SET_LINK: _post_set_link,
    LogKey.POST_SET_MEDIA: _post_set_media,
    LogKey.POST_SOURCE_NOT_MEMBER: _post_source_not_member,
    LogKey.GROUPS_ADDED: _groups_added,
    LogKey.GROUPS_REFUSED: _groups_refused,
    LogKey.GROUP_REMOVED: _group_removed,
    LogKey.GROUP_RESUMED: _group_resumed,
}


def line_text(key: str, values: Values) -> str:
    """What one line says (plain text), in the reader's language (``key``: a ``LogKey``)."""
    try:
        return _LINES[LogKey(key)](values)
    except (KeyError, TypeError, ValueError, IndexError):
        logger.warning("customer log line %s with values %r cannot be shown", key, values)
        return _("(a line this version cannot show)")


def _when(line: LogLine) -> str:
    """The line's time in the reader's zone (the file keeps UTC)."""
    try:
        at = datetime.strptime(f"{line.day} {line.time}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return f"{line.day} {line.time}".strip()
    return at.astimezone(tz()).strftime("%Y-%m-%d %H:%M:%S")


def render_line(line: LogLine) -> str:
    """One line of the file as the reader sees it: time, a ⚠ for a warning, what happened. A line of the
    old format is shown as it was written."""
    if line.key is None:
        return " ".join(part for part in (line.day, line.time, line.level, line.plain or "") if part)
    mark = "⚠ " if line.level in ("WARNING", "ERROR", "CRITICAL") else ""
    return f"{_when(line)} {mark}{line_text(line.key, line.values)}"
