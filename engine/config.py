"""The engine's knobs, as a plain dataclass so the engine never imports the control bot's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OnRestart = Literal["stop", "resume"]


@dataclass(frozen=True)
class EngineConfig:
    send_spacing: float = 5.0
    """Seconds between two sends of one session (each session sends its groups one after another)."""
    spacing_jitter: float = 0.2
    """Each spacing is multiplied by a random factor in [1 - jitter, 1 + jitter]."""
    cycle_interval: int = 300
    """Default interval of a new campaign (customers.interval_s is what a cycle uses)."""
    on_restart: OnRestart = "stop"
    """What a start-up does with campaigns that were running: stop them, or resume them."""
    max_in_flight: int = 200
    """Global bound on sends in flight across every campaign and session."""
    send_timeout: float = 30.0
    """A send without an answer after this long is recorded 'in_doubt' and never retried in its cycle."""
    shutdown_timeout: float = 20.0
    """How long a graceful shutdown lets in-flight sends finish before abandoning their requests."""
    group_failure_limit: int = 3
    """A group is paused after this many failures in a row."""
    transient_retries: int = 2
    """Retries of a send that failed with a network error (same random_id, so Telegram de-duplicates)."""
    transient_backoff: float = 2.0
    """First retry delay in seconds; doubled for each further retry."""
    low_pool_threshold: int = 3
    """Passed to the pool when a session dies: admins hear when fewer unused sessions are left."""
    connect_timeout: float = 30.0
    """Connecting one account (first use of its session)."""

    def __post_init__(self) -> None:
        if self.send_spacing < 0 or not 0 <= self.spacing_jitter <= 1:
            raise ValueError("send_spacing must be >= 0 and spacing_jitter within [0, 1]")
        if self.max_in_flight < 1 or self.send_timeout <= 0 or self.group_failure_limit < 1:
            raise ValueError("max_in_flight, send_timeout and group_failure_limit must be positive")
        if self.transient_retries < 0 or self.shutdown_timeout < 0 or self.cycle_interval < 1:
            raise ValueError("transient_retries, shutdown_timeout must be >= 0 and cycle_interval >= 1")
        if self.on_restart not in ("stop", "resume"):
            raise ValueError("on_restart must be 'stop' or 'resume'")
