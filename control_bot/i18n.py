"""Who reads each update: the catalogs (``AdbotI18n``) and the middleware that picks the reader's language
and time zone and enters ``core.i18n.reading`` for the handler (``UserLocale``).

The locale of a person: the one chosen in /settings, else Telegram's ``language_code`` negotiated against
the catalogs (``ru``, ``ru-RU`` -> ``ru``; ``pt-br`` -> ``pt_BR``, then ``pt``), else ``[bot]
default_locale``. Their row in ``users`` is written when they are new or Telegram tells something new
about them (username, first name, language); a profile cache keeps the usual update free of writes.
"""

from __future__ import annotations

import asyncio
import gettext
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from core.catalogs import LOCALES_DIR, load_catalogs
from core.clock import Clock
from core.i18n import SOURCE_LOCALE, reading
from storage import users
from storage.db import Database
from storage.users import UserRow

logger = logging.getLogger(__name__)

CACHE_SIZE = 10_000

OnNewProfile = Callable[[int, str], Awaitable[None]]
"""Called with (user id, their locale) when someone is new or Telegram told something new about them."""


class AdbotI18n(I18n):
    """aiogram's ``I18n`` over our catalogs: every ``.po`` of a locale folder, compiled in memory; the
    source language (English, the msgids) is always available without a catalog."""

    def __init__(self, *, path: str | Path = LOCALES_DIR, default_locale: str = SOURCE_LOCALE) -> None:
        super().__init__(path=path, default_locale=default_locale, domain="adbot")

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return dict(load_catalogs(self.path))

    @property
    def available_locales(self) -> tuple[str, ...]:
        """The source language first, then every catalog, sorted."""
        return (SOURCE_LOCALE, *sorted(code for code in self.locales if code != SOURCE_LOCALE))

    def negotiate(self, language_code: str | None) -> str:
        """The available locale for a Telegram language code (or a stored choice), else the default."""
        return negotiate(language_code, self.available_locales, self.default_locale)


def negotiate(language_code: str | None, available: Iterable[str], default: str) -> str:
    if not language_code:
        return default
    by_lower = {code.lower(): code for code in available}
    wanted = language_code.strip().replace("-", "_").lower()
    if wanted in by_lower:
        return by_lower[wanted]
    base = wanted.split("_", 1)[0]
    return by_lower.get(base, default)


@dataclass(frozen=True)
class Profile:
    """What the middleware knows about one person: what Telegram said last, and what they chose."""

    username: str | None
    first_name: str | None
    language_code: str | None
    locale: str | None
    time_zone: str | None

    @classmethod
    def of(cls, row: UserRow) -> Profile:
        return cls(row.username, row.first_name, row.language_code, row.locale, row.time_zone)

    def same_telegram_as(self, other: Profile) -> bool:
        return (self.username, self.first_name, self.language_code) == (
            other.username,
            other.first_name,
            other.language_code,
        )

    def same_telegram(self, user: User) -> bool:
        return (self.username, self.first_name, self.language_code) == (
            users.normalize_username(user.username),
            user.first_name,
            user.language_code,
        )


class UserLocale(I18nMiddleware):
    """Outer middleware on every observer (``.setup(dp)``; errors too): the reader of the update."""

    def __init__(
        self,
        i18n: AdbotI18n,
        db: Database,
        clock: Clock,
        *,
        cache_size: int = CACHE_SIZE,
        on_new_profile: OnNewProfile | None = None,
    ) -> None:
        super().__init__(i18n)
        self.adbot_i18n = i18n
        self.db = db
        self.clock = clock
        self.cache_size = cache_size
        self.on_new_profile = on_new_profile
        self._writes: set[asyncio.Task[None]] = set()
        self._profiles: OrderedDict[int, Profile] = OrderedDict()

    # --- the profile cache ------------------------------------------------------------------------

    def remember(self, user_id: int, profile: Profile) -> None:
        self._profiles[user_id] = profile
        self._profiles.move_to_end(user_id)
        while len(self._profiles) > self.cache_size:
            self._profiles.popitem(last=False)

    def forget(self, user_id: int) -> None:
        self._profiles.pop(user_id, None)

    async def reload(self, user_id: int) -> Profile | None:
        """Read the person's row again (after /settings changed it); None when they have none."""
        async with self.db.read() as conn:
            row = await users.get(conn, user_id)
        if row is None:
            self.forget(user_id)
            return None
        profile = Profile.of(row)
        self.remember(user_id, profile)
        return profile

    async def profile(self, user: User) -> Profile:
        """What we know of ``user``. Never waits for the writer: the row is read (the reader connection),
        and a new person or new Telegram details are written by a task of their own (``drain`` waits for
        those), so an update is never held up behind a long write."""
        cached = self._profiles.get(user.id)
        if cached is not None and cached.same_telegram(user):
            self._profiles.move_to_end(user.id)
            return cached
        username = users.normalize_username(user.username)
        try:
            async with self.db.read() as conn:
                row = await users.get(conn, user.id)
        except Exception:
            # The reader's language is never a reason to drop an update: Telegram's word for now.
            logger.warning("could not read user %d; using Telegram's language", user.id, exc_info=True)
            row = None
        if row is not None:
            locale, zone = row.locale, row.time_zone
        elif cached is not None:
            locale, zone = cached.locale, cached.time_zone
        else:
            locale, zone = None, None
        profile = Profile(username, user.first_name, user.language_code, locale, zone)
        self.remember(user.id, profile)
        if row is None or not profile.same_telegram_as(Profile.of(row)):
            self._start_write(user)
            if self.on_new_profile is not None:
                try:
                    await self.on_new_profile(user.id, self.locale_of(profile))
                except Exception:
                    logger.warning("updating user %d's profile failed", user.id, exc_info=True)
        return profile

    def _start_write(self, user: User) -> None:
        task = asyncio.create_task(self._write(user), name=f"user-{user.id}")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, user: User) -> None:
        try:
            async with self.db.tx() as conn:
                await users.touch(conn, user.id, user.username, user.first_name, user.language_code, self.clock.now())
        except Exception:
            self.forget(user.id)  # written again at their next update
            logger.warning("could not record user %d", user.id, exc_info=True)

    async def drain(self) -> None:
        """Wait for the profile writes under way (shutdown, tests)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    # --- the reader -------------------------------------------------------------------------------

    def locale_of(self, profile: Profile | None) -> str:
        if profile is None:
            return self.adbot_i18n.default_locale
        if profile.locale and profile.locale in self.adbot_i18n.available_locales:
            return profile.locale
        return self.adbot_i18n.negotiate(profile.language_code)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user = data.get("event_from_user")
        if not isinstance(user, User) or user.is_bot:
            return self.adbot_i18n.default_locale
        return self.locale_of(await self.profile(user))

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        profile = await self.profile(user) if isinstance(user, User) and not user.is_bot else None
        locale = self.locale_of(profile)
        data[self.i18n_key or "i18n"] = self.i18n
        data[self.middleware_key] = self
        with (
            self.i18n.context(),
            self.i18n.use_locale(locale),
            reading(locale, profile.time_zone if profile else None, translator=self.i18n),
        ):
            return await handler(event, data)
