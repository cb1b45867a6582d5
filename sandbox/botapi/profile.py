"""The bot's profile as Telegram keeps it: descriptions per language, and which command menu a given
person sees (scope first, then language, as Telegram resolves them)."""

from __future__ import annotations

from sandbox.botapi.models import JsonDict
from sandbox.botapi.protocol import Params, bad_request
from sandbox.botapi.state import EmulatorState

MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120


class ProfileMethods(EmulatorState):
    """set/getMyDescription, set/getMyShortDescription, and ``commands_seen_by``."""

    def _language(self, params: Params) -> str:
        code = params.get_str("language_code") or ""
        if code and not (len(code) == 2 and code.isalpha() and code.islower()):
            raise bad_request("LANG_CODE_INVALID")
        return code

    async def _set_my_description(self, params: Params) -> bool:
        text = params.get_str("description") or ""
        if len(text) > MAX_DESCRIPTION:
            raise bad_request("BOT_DESCRIPTION_INVALID")
        self._set_text(self._descriptions, self._language(params), text)
        return True

    async def _get_my_description(self, params: Params) -> JsonDict:
        return {"description": self._descriptions.get(self._language(params), "")}

    async def _set_my_short_description(self, params: Params) -> bool:
        text = params.get_str("short_description") or ""
        if len(text) > MAX_SHORT_DESCRIPTION:
            raise bad_request("BOT_SHORT_DESCRIPTION_INVALID")
        self._set_text(self._short_descriptions, self._language(params), text)
        return True

    async def _get_my_short_description(self, params: Params) -> JsonDict:
        return {"short_description": self._short_descriptions.get(self._language(params), "")}

    @staticmethod
    def _set_text(store: dict[str, str], language: str, text: str) -> None:
        if text:
            store[language] = text
        else:  # an empty text removes the one for that language
            store.pop(language, None)

    # ---- what people see (for tests) ---------------------------------------------------------------

    def description_for(self, language_code: str | None = None) -> str:
        """The description a person with this app language sees: theirs, else the default one."""
        return self._descriptions.get(language_code or "", self._descriptions.get("", ""))

    def short_description_for(self, language_code: str | None = None) -> str:
        return self._short_descriptions.get(language_code or "", self._short_descriptions.get("", ""))

    def commands_seen_by(self, user_id: int, chat_id: int | None = None) -> list[tuple[str, str]]:
        """The menu ``user_id`` sees in ``chat_id`` (default: their private chat with the bot), resolved
        like Telegram: for each scope from the narrowest (chat member, chat, all private chats, default),
        the user's language first, then no language; the first registered list wins."""
        user = self._users[user_id]
        chat_id = user_id if chat_id is None else chat_id
        chat = self._chats.get(chat_id)
        private = chat is None or chat.type == "private"
        scopes: list[JsonDict | None] = [
            {"type": "chat_member", "chat_id": chat_id, "user_id": user_id},
            {"type": "chat", "chat_id": chat_id},
        ]
        scopes.append({"type": "all_private_chats"} if private else {"type": "all_group_chats"})
        scopes.append(None)
        languages = [user.language_code[:2].lower(), ""] if user.language_code else [""]
        for scope in scopes:
            for language in languages:
                registered = self._commands.get((self._scope_key(scope), language))
                if registered is not None:
                    return [(str(c["command"]), str(c["description"])) for c in registered]
        return []
