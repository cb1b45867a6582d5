"""The Telegram the engine talks to, chosen by ``[engine] backend``: the real one through Telethon's
client, or the offline sandbox world ("simulated"). Each is imported only when chosen: a service
talking to Telegram never loads the simulator."""

from __future__ import annotations

from core.clock import Clock
from core.config import Settings
from core.ports import AccountFactory


def make_factory(settings: Settings, clock: Clock) -> AccountFactory:
    """The account factory of ``[engine] backend``."""
    if settings.engine.backend == "simulated":
        from sandbox.world import World

        # Every delivery is appended here, so posts can be audited across restarts (and crashes).
        log_path = settings.paths.data_dir / "world_deliveries.jsonl"
        world_file = settings.engine.world_file
        if world_file is not None:
            return World.from_file(world_file, clock, log_path=log_path)
        return World(clock, lenient=True, log_path=log_path)
    from engine.telethon_adapter import ClientSettings, TelethonFactory

    return TelethonFactory(ClientSettings(flood_sleep_threshold=settings.engine.flood_sleep_threshold))
