"""Where each account's connections came from, as Telegram sees it: the proxy of every connect
(``SimAccount.routes``, recorded by ``SimPort.connect``).

A session keeps its proxy for life unless an admin changes it; the world cannot know whether an admin
did, so a change is not a violation: it is recorded, and tests assert on ``route_changes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.world.simulation import World


def route_changes(world: World) -> dict[str, list[str | None]]:
    """Accounts that connected from more than one place: their distinct routes in order (None: direct)."""
    changed: dict[str, list[str | None]] = {}
    for key, account in world.accounts.items():
        distinct = list(dict.fromkeys(account.routes))
        if len(distinct) > 1:
            changed[key] = distinct
    return changed
