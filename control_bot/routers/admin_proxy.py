"""``/proxy <session id> <url|off>``: an admin sets a session's proxy (checked first) or clears it.

The admin's message may hold the proxy's password or MTProxy secret: it is deleted first, whether or
not the proxy is accepted (as ``/addpair`` does with an API hash). Behind ``IsAdmin`` like every admin
router (``control_bot.routers.admin``)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from control_bot.services import proxies
from core.clock import Clock
from core.config import Settings
from core.texts import proxy as texts
from engine.engine import Engine
from storage import proxies as proxy_rows
from storage.db import Database

logger = logging.getLogger(__name__)


def _holds_secret(args: str) -> bool:
    """A password or secret in any accepted form: 'user:pass@', 'SECRET@' (MTProxy), a link's parameters."""
    return "@" in args or any(key in args.lower() for key in ("secret=", "pass=", "user="))


async def on_proxy(
    message: Message, command: CommandObject, db: Database, clock: Clock, engine: Engine, settings: Settings
) -> None:
    deleted = True
    if _holds_secret(command.args or ""):
        try:
            await message.delete()
        except TelegramBadRequest as exc:
            logger.warning("could not delete a message holding a proxy's credentials: %s", exc.message)
            deleted = False
    session_id, spec = proxies.parse_args(command.args)
    admin_id = message.from_user.id if message.from_user else 0
    result = await proxies.change(
        db, session_id, spec, set_by=proxy_rows.by_admin(admin_id), now=clock.now(), engine=engine,
        ipv6=settings.pool.ipv6,
    )
    await message.answer(result.reply() + ("" if deleted else "\n" + texts.message_not_deleted()))


def setup() -> Router:
    router = Router(name="admin_proxy")
    router.message.register(on_proxy, Command("proxy"))
    return router
