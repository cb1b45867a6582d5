"""Telegram's official apps whose API hash is public: a session made with one keeps connecting as it.

A Pyrogram / Kurigram session names the API id it was made with but never its hash, and no session can
connect as an app without the hash. For the official apps the pair is public; this table gives a
session whose file names one of these ids its app back (``pool.identity``), with the app's language
pack (Telegram's language packs belong to its official apps, ``initConnection``). A session naming any
other id without a sidecar hash takes a pool pair, and the admin is told the file's app id was not
usable without its hash.

Source for every row: opentele's built-in API templates (``thedemons/opentele``, ``src/api.py``,
``API.TelegramDesktop`` / ``TelegramAndroid`` / ``TelegramAndroidX`` / ``TelegramMacOS`` /
``TelegramWeb_Z``); 2040/"tdesktop" is also what Telegram Desktop's own builds use. Telegram for iOS
(8, 10840) is left out: public sources disagree on its hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class OfficialApp:
    name: str
    api_id: int
    api_hash: str = field(repr=False)
    lang_pack: str  # '' for the web apps, which send none


TELEGRAM_DESKTOP: Final = OfficialApp("Telegram Desktop", 2040, "b18441a1ff607e10a989891a5462e627", "tdesktop")

OFFICIAL_APPS: Final[Mapping[int, OfficialApp]] = MappingProxyType({
    app.api_id: app
    for app in (
        TELEGRAM_DESKTOP,
        OfficialApp("Telegram for Android", 6, "eb06d4abfb49dc3eeb1aeb98ae0f581e", "android"),
        OfficialApp("Telegram X for Android", 21724, "3e0cb5efcd52300aec5994fdfc5bdc16", "android"),
        OfficialApp("Telegram for macOS", 2834, "68875f756c9b437a8b916ca3de215815", "macos"),
        OfficialApp("Telegram Web", 2496, "8da85b0d5bfe62527e5b244c209159c3", ""),
    )
})
"""api_id -> the official app (its public hash and language pack)."""
