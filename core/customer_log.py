"""The lines of a customer's own log (``/logs`` and the daily file): a key and values, never wording.

The engine and the services write ``(key, values)`` (``engine.customer_log``); the customer's file stores
each line as its time, its level and one JSON object (``encode``), and ``/logs`` renders it in the
reader's language (``core.texts.customer_log``). A line written before this format (plain English) is
read back as ``LogLine.plain`` and shown as it is. Values are numbers, short strings (a group's
reference, an error's short name, a state) or lists of strings: the texts decide what a reader sees, so
an error's name in ``values`` is turned into words there, never shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["LogKey", "LogLine", "encode", "parse"]


class LogKey(StrEnum):
    """What a customer log line says; its values are named in the comment."""

    CAMPAIGN_STARTED = "campaign_started"  # sessions, groups
    CAMPAIGN_STOPPED = "campaign_stopped"  # reason
    SESSION_RELEASED = "session_released"  # session
    CYCLE_STARTED = "cycle_started"  # cycle, groups, sessions, unreachable
    CYCLE_RESUMED = "cycle_resumed"  # cycle, groups, sessions, unreachable
    CYCLE_DONE = "cycle_done"  # cycle, sent, failed, waiting, skipped, in_doubt
    CYCLE_INTERRUPTED = "cycle_interrupted"  # cycle
    IN_DOUBT_NOT_REPEATED = "in_doubt_not_repeated"  # cycle, n, groups
    SESSIONS_SHORT = "sessions_short"  # have, wanted
    NO_SESSION = "no_session"  # n
    ALREADY_DONE = "already_done"  # group, cycle
    NO_ANSWER = "no_answer"  # group, why ('timeout' | 'no_new_message' | 'shutdown')
    UNSETTLED = "unsettled"  # group, kind, error
    SENT = "sent"  # group, message, session
    FLOOD_WAIT = "flood_wait"  # session, seconds, error
    SLOW_MODE = "slow_mode"  # group, window, left
    SEND_FAILED = "send_failed"  # group, attempts, kind, error
    SESSION_RESTS = "session_rests"  # session, n, until, waits
    DAILY_CAP = "daily_cap"  # session, n
    SESSION_UNAVAILABLE = "session_unavailable"  # session
    SESSION_WAIT = "session_wait"  # session, seconds, doing ('resolving' | 'connecting'), error
    SESSION_UNUSABLE = "session_unusable"  # session, kind, error
    SESSION_RETIRED = "session_retired"  # session, state ('dead' | 'limited' | 'frozen'), error, replacement
    NOT_MEMBER = "not_member"  # group, session, error
    MAY_NOT_WRITE = "may_not_write"  # group, session, error
    POST_FAILED = "post_failed"  # group, kind, error
    GROUP_PAUSED = "group_paused"  # group, failures, kind, error
    REFUSED = "refused"  # group, session, refusal, error
    INTERVAL_SET = "interval_set"  # seconds
    SESSION_SWAPPED = "session_swapped"  # session (given to the customer), returned (back to the pool)
    POST_SET_TEXT = "post_set_text"  # characters (as people count them)
    POST_SET_LINK = "post_set_link"  # link, checked (bool)
    POST_SET_MEDIA = "post_set_media"  # kinds (list of 'photo' | 'video' | 'animation' | 'document')
    POST_SOURCE_NOT_MEMBER = "post_source_not_member"  # link
    GROUPS_ADDED = "groups_added"  # n, groups (the first 20)
    GROUPS_REFUSED = "groups_refused"  # n
    GROUP_REMOVED = "group_removed"  # group
    GROUP_RESUMED = "group_resumed"  # group


@dataclass(frozen=True)
class LogLine:
    """One line of the file: ``key`` and ``values``, or ``plain`` for a line of the old format."""

    day: str  # YYYY-MM-DD (UTC), '' when the line has no time
    time: str  # HH:MM:SS (UTC)
    level: str  # INFO, WARNING, ...
    key: LogKey | None = None
    values: dict[str, Any] = field(default_factory=dict)
    plain: str | None = None


# Made once: json.dumps with options builds a new encoder per call (a line per post is encoded).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(key: LogKey, values: dict[str, Any]) -> str:
    """The line's body: one JSON object with ``key`` first (the file handler adds time and level)."""
    return _ENCODER.encode({"key": str(key), **values})


def parse(line: str) -> LogLine:
    """A line of the file as written by ``control_bot.logfiles`` (``DAY TIME LEVEL BODY``)."""
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 4 or len(parts[0]) != 10 or len(parts[1]) != 8:
        return LogLine("", "", "", plain=line.rstrip("\n"))
    day, time, level, body = parts
    if body.startswith("{"):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            try:
                key = LogKey(str(data.pop("key", "")))
            except ValueError:
                key = None
            if key is not None:
                return LogLine(day, time, level, key, data)
    return LogLine(day, time, level, plain=body)
