"""The Bot API methods that are not about messages: identity, updates and webhook, commands, chats,
files, answers to button presses."""

from __future__ import annotations

import copy
import re

from sandbox.botapi.models import MAX_BOT_DOWNLOAD_BYTES, MAX_UPDATES_PER_CALL, AnsweredCallback, JsonDict
from sandbox.botapi.protocol import ApiError, Params, bad_request
from sandbox.botapi.state import EmulatorState

# What getUpdates delivers when allowed_updates is empty or never set (as on the real server).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class BotMethods(EmulatorState):
    """Handlers of getMe, getUpdates, deleteWebhook, getWebhookInfo, set/get/deleteMyCommands,
    sendChatAction, getChat, answerCallbackQuery and getFile."""

    async def _get_me(self, params: Params) -> JsonDict:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        offset = params.get_int("offset")
        limit = min(max(params.get_int("limit") or MAX_UPDATES_PER_CALL, 1), MAX_UPDATES_PER_CALL)
        timeout = max(params.get_int("timeout") or 0, 0)
        allowed = params.get_json("allowed_updates", "can't parse allowed_updates JSON object")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise bad_request("allowed_updates must be an array of strings")
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._confirm(offset)
        self._polls_seen += 1
        # Like Telegram, a newer getUpdates ends an older one still waiting (409 to the older).
        self._poll_generation += 1
        generation = self._poll_generation
        self.notify_changed()

        def ready() -> list[JsonDict] | None:
            refused = self._poll_refused()
            if refused is not None:
                raise refused
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            batch = self._deliverable(limit)
            return batch if batch or self._stopping else None

        try:
            return await self.wait_for(ready, float(timeout), "updates")
        except TimeoutError:
            return []

    def _poll_refused(self) -> ApiError | None:
        """Why getUpdates may not answer now (a webhook is set: ``sandbox.botapi.webhook``); None: it may."""
        return None

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        before = len(self._updates)
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if len(self._updates) != before:
            self.notify_changed()

    def _deliverable(self, limit: int) -> list[JsonDict]:
        def wanted(update: JsonDict) -> bool:
            kind = next(k for k in update if k != "update_id")
            if self._allowed_updates is None:
                return kind not in _DEFAULT_EXCLUDED_UPDATES
            return kind in self._allowed_updates

        # Updates of unwanted types are never delivered; drop them so they don't count as pending.
        kept = [u for u in self._updates if wanted(u)]
        if len(kept) != len(self._updates):
            self._updates = kept
            self.notify_changed()
        return kept[:limit]

    async def _delete_webhook(self, params: Params) -> bool:
        if params.get_bool("drop_pending_updates") and self._updates:
            self._updates.clear()
            self.notify_changed()
        return True

    async def _get_webhook_info(self, params: Params) -> JsonDict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.get_json("scope", "can't parse BotCommandScope JSON object")
        if scope is not None and not (isinstance(scope, dict) and isinstance(scope.get("type"), str)):
            raise bad_request("can't parse BotCommandScope JSON object")
        return self._scope_key(scope), params.get_str("language_code") or ""

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.get_json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JsonDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        self._commands[self._commands_key(params)] = cleaned
        return True

    async def _get_my_commands(self, params: Params) -> list[JsonDict]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        self._target_chat(params)
        return True

    async def _get_chat(self, params: Params) -> JsonDict:
        chat = self._target_chat(params, for_sending=False)
        return {**chat.to_json(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.get_str("callback_query_id") or ""
        sent = self._callbacks.get(query_id)
        if sent is None or sent.answer is not None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        answer = AnsweredCallback(
            query_id=query_id,
            user_id=sent.user_id,
            data=sent.data,
            text=text,
            show_alert=params.get_bool("show_alert"),
            url=params.get_str("url"),
            cache_time=params.get_int("cache_time"),
        )
        sent.answer = answer
        self.answered_callbacks.append(answer)
        self._record(sent.chat_id, self.bot_name, "callback_answer", text or "", message_id=sent.message_id)
        self.notify_changed()
        return True

    async def _get_file(self, params: Params) -> JsonDict:
        stored = self._files.get(params.get_str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_BOT_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
