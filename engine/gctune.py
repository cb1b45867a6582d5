"""Garbage-collector thresholds for a process whose hot path is the engine.

Every send allocates a few dozen objects (a task, futures, handles, rows) that stay alive for the few
milliseconds the send is in flight, while thousands of other sends wait. With CPython's default
generation-0 threshold (700 allocations) the collector runs every few sends, finds most of those objects
still alive, promotes them, and so keeps triggering the older, larger collections: measured at a
quarter of the engine's CPU per post (docs/PERFORMANCE.md). A larger first threshold lets short-lived
objects die before they are ever scanned; cycles are still collected, only in larger steps.
"""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "tune_gc"]

GEN0_THRESHOLD = 10_000


def tune_gc() -> None:
    """Raise the generation-0 threshold to ``GEN0_THRESHOLD`` (never lowers a larger one set by the host)
    and freeze what exists at start-up (modules, configuration, the bot): a full collection, which stops
    the event loop while it runs, then scans only what was made since, not the whole start-up heap."""
    gen0, gen1, gen2 = gc.get_threshold()
    if 0 < gen0 < GEN0_THRESHOLD:
        gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
    gc.freeze()
