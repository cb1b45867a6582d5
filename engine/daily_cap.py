"""The daily send cap inside a cycle: how many posts each session may still make (``core.pacing``).

A cap is ours, not Telegram's, so a group may move to another session for it (unlike a flood wait,
which keeps its groups on the session that got it): when a cycle is set up, each session's room (its
cap today, warm-up included, less its post requests of the last 24 hours) goes to placement, which
gives a session no more groups than its room while another session that may write there has some
(``engine.placement``). What no session with room can take stays on a full session, whose worker stops
at its cap: its remaining groups are recorded 'skipped' with the reason ``daily_cap`` (tried again in a
later cycle) and no request goes out beyond the cap. The room is counted once per cycle; within the
cycle the worker counts each request it makes (a retry after a flood wait counts again: it errs on the
quiet side).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.config import EngineSettings
from core.pacing import CAP_WINDOW, cap_today
from storage import post_counts
from storage.db import Connection
from storage.sessions import SessionRow

__all__ = ["DAILY_CAP", "room_left"]

DAILY_CAP = "daily_cap"
"""The ledger's reason for a group a session at its cap did not send to."""


async def room_left(
    conn: Connection, config: EngineSettings, sessions: Sequence[SessionRow], now: float
) -> dict[int, int] | None:
    """Per session, the post requests it may still make now (None: the cap is off)."""
    if config.daily_send_cap <= 0 or not sessions:
        return None
    used = await post_counts.posts_since(conn, [s.id for s in sessions], now - CAP_WINDOW)
    room: dict[int, int] = {}
    for s in sessions:
        cap = cap_today(config.daily_send_cap, config.warmup_days, s.added_at, now)
        assert cap is not None  # the cap is on
        room[s.id] = max(0, cap - used[s.id])
    return room
