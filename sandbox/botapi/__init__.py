"""Sandbox Telegram Bot API server: enough of the real API for aiogram long polling, offline.

The bot talks to it over HTTP exactly as to api.telegram.org (aiogram's
``TelegramAPIServer.from_base(emulator.base_url)``): ``POST /bot<token>/<method>`` with form data and
``GET /file/bot<token>/<file_path>`` for downloads. Replies use the real envelope
(``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": N, "description": ...}``) and the
real error texts where they matter to a bot (HTML parse errors, length limits, "message is not
modified", 429 with ``retry_after``), so the bot's error handling is exercised, not bypassed.

One object, ``BotApiEmulator``, holds the world state (users, chats, messages, files, the update queue)
and the primitives that play users; ``sandbox.botuser`` wraps those in a friendlier per-user API.
Modules: ``models`` (what the state is made of), ``html`` (parse_mode HTML, UTF-16 offsets),
``protocol`` (parameters and the error envelope), ``state``, ``methods`` and ``messages`` (the Bot API
methods), ``emulator`` (the HTTP server, test controls, playing users).
"""

from sandbox.botapi.emulator import BotApiEmulator

__all__ = ["BotApiEmulator"]
