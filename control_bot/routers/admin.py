"""The admin side of the control bot: the panel and commands, and session uploads.

Every admin router carries ``IsAdmin`` on its messages and button presses (ids from the config,
private chat only, never the anonymous group admin). For anybody else nothing here matches, so the
customer routers and their fallback answer exactly as they would to any unknown command or file.
"""

from __future__ import annotations

from aiogram import Router

from control_bot.filters import IsAdmin
from control_bot.middlewares import ClearStateOnNewAction
from control_bot.routers import admin_commands, admin_group, admin_joins, admin_proxy, admin_reach, admin_upload


def setup(*, upload_debounce: float | None = None) -> Router:
    """``upload_debounce``: seconds of quiet before an upload batch is imported (default
    ``admin_upload.DEBOUNCE``)."""
    router = Router(name="admin")
    # An admin command or panel button abandons a pending customer-side question too. Inner
    # middleware: it runs only for an update an admin handler took, so the customer side still sees
    # (and reports through ``state_cleared``) every state it owns.
    router.message.middleware(ClearStateOnNewAction())
    router.callback_query.middleware(ClearStateOnNewAction())
    children = (
        admin_commands.setup(),
        admin_reach.setup(),
        admin_joins.setup(),
        admin_proxy.setup(),
        admin_upload.setup(upload_debounce),
    )
    for sub in (router, *children):
        sub.message.filter(IsAdmin())
        sub.callback_query.filter(IsAdmin())
    router.include_routers(*children)
    # Before the admin filter (private chats only): an /addpair sent in a group still has its hash removed.
    root = Router(name="admin_root")
    root.include_routers(admin_group.setup(), router)
    return root
