"""Plans by admins: /grant (by id, @username or a picked user), /revoke, confirm before -> after
(issue 18 part H).

A stub registered by ``control_bot.routers`` (before the other admin routers) so part H fills it in
without editing the router list. Its handlers must carry ``IsAdmin`` (see ``routers.admin``).
"""

from __future__ import annotations

from aiogram import Router


def setup() -> Router:
    return Router(name="admin_plans")
