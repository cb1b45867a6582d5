"""Frozen accounts in the simulated Telegram, as Telegram has them.

* A frozen account (``SimAccount.frozen_since`` set, e.g. by ``freeze``) still connects (``users.getUsers``
  of itself answers) and reads its app config; every other request (sends, resolves, dialogs, joins)
  answers FROZEN_METHOD_INVALID (``FrozenMethodInvalidError``: a 420 *without* seconds).
* Its app config (``app_config``, method "app_config", counted like any request) carries
  ``freeze_since_date``, ``freeze_until_date`` and ``freeze_appeal_url``; an account that is not frozen
  gets none of them.
* Being told once is how a client may learn it; asking again after FROZEN_METHOD_INVALID is the breach
  (a ``Violation("frozen", ...)``): a frozen account is never sent from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telethon import errors

from core.ports import AccountStatus
from sandbox.world.model import SimAccount, Violation

if TYPE_CHECKING:
    from sandbox.world.port import SimPort
    from sandbox.world.simulation import World

ALLOWED = frozenset({"connect", "app_config"})
"""What a frozen account may still do."""

APPEAL_URL = "https://t.me/spambot"


def freeze(account: SimAccount, since: float, *, until: float | None = None, appeal_url: str = APPEAL_URL) -> None:
    """Telegram freezes the account from ``since`` on (``until``: when it would be deleted)."""
    account.frozen_since = since
    account.frozen_until = until
    account.appeal_url = appeal_url


def unfreeze(account: SimAccount) -> None:
    """Telegram lifts the freeze (an appeal succeeded)."""
    account.frozen_since = account.frozen_until = account.appeal_url = None
    account.frozen_told = False


def check(world: World, account: SimAccount, method: str, now: float) -> None:
    """Raise FROZEN_METHOD_INVALID for a request a frozen account may not make (a repeat is a violation)."""
    if account.frozen_since is None or account.frozen_since > now or method in ALLOWED:
        return
    if account.frozen_told:
        world.violations.append(Violation("frozen", account.key, now, f"{method} from a frozen account"))
    account.frozen_told = True
    raise errors.FrozenMethodInvalidError(request=None)


async def app_config(world: World, port: SimPort) -> AccountStatus:
    """``help.getAppConfig`` as the account sees it: its freeze fields, when it is frozen."""
    account = world._account(port.key)
    fault = await world._enter(port, account, "app_config", None)
    if fault is not None:
        await fault.strike(account, world.clock, "app_config")  # a flood wait holds the read class
    if account.frozen_since is None or account.frozen_since > world.clock.now():
        return AccountStatus()
    return AccountStatus(account.frozen_since, account.frozen_until, account.appeal_url)
