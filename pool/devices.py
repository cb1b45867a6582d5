"""Device profiles for sessions whose seller shipped none: one consistent, plausible profile per session,
generated once (at intake, or at start-up for rows older than profiles) and stored with the session.

Without a stored profile Telethon fills ``InitConnection`` from the host (``platform.uname()``) and its
own version: every server move or library upgrade would change what the account claims to be. A profile
is a real desktop / Android / iOS combination (device, OS, a matching app version) with a language;
it is picked with an RNG seeded by the session's auth key hash, so the same session always gets the same
one (even if the stored one were lost) and different sessions spread over the table.

``lang_pack`` is left out: Telegram's language packs belong to its official apps, and a session on a pool
pair (our own api_id) connects with Telethon's ``lang_pack=''``, as a third-party app does. Only a
session's own official app brings its ``lang_pack`` (a sidecar's, ``pool.sidecar``, or the one its form
names, ``core.official_apps``); Telegram Desktop's sessions get a desktop profile (``tdesktop_profile``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

DEVICE_KEYS = ("device_model", "system_version", "app_version", "lang_code", "system_lang_code", "lang_pack")
"""What a stored device profile may hold: the fields of ``InitConnection`` a client chooses."""

# (device_model, system_version, app_version): real devices with an OS they ship or update to and an
# app version of that platform's Telegram client from the same period.
_DESKTOP: tuple[tuple[str, str, str], ...] = (
    ("Desktop", "Windows 10", "5.2.3 x64"),
    ("Desktop", "Windows 11", "5.3.1 x64"),
    ("Desktop", "Windows 11", "5.5.5 x64"),
    ("MS-7C02", "Windows 10", "4.16.8 x64"),
    ("B450M DS3H", "Windows 10", "5.1.7 x64"),
    ("Z690 AORUS ELITE", "Windows 11", "5.4.1 x64"),
    ("MacBookPro18,3", "macOS 14.4", "10.10 arm64"),
    ("MacBookAir10,1", "macOS 13.6", "10.8.1 arm64"),
    ("iMac21,1", "macOS 14.2", "10.9 arm64"),
    ("PC 64bit", "Linux Ubuntu 22.04", "5.2.3 x64"),
)
_ANDROID: tuple[tuple[str, str, str], ...] = (
    ("Samsung SM-G991B", "SDK 33", "10.14.5 (4775)"),
    ("Samsung SM-S911B", "SDK 34", "10.14.5 (4775)"),
    ("Samsung SM-A525F", "SDK 33", "10.12.0 (4710)"),
    ("Samsung SM-A536B", "SDK 34", "10.13.2 (4756)"),
    ("Xiaomi 2201117TG", "SDK 33", "10.12.0 (4710)"),
    ("Xiaomi 23021RAAEG", "SDK 33", "10.14.5 (4775)"),
    ("Google Pixel 7", "SDK 34", "10.14.5 (4775)"),
    ("Google Pixel 6a", "SDK 34", "10.13.2 (4756)"),
    ("OnePlus CPH2449", "SDK 34", "10.14.5 (4775)"),
    ("HUAWEI ELS-NX9", "SDK 29", "10.9.1 (4550)"),
)
_IOS: tuple[tuple[str, str, str], ...] = (
    ("iPhone 12", "17.4.1", "10.9 (28069)"),
    ("iPhone 13", "17.5.1", "10.14 (29367)"),
    ("iPhone 13 Pro", "17.3.1", "10.8 (27853)"),
    ("iPhone 14", "17.5.1", "10.14 (29367)"),
    ("iPhone 14 Pro Max", "17.4.1", "10.10 (28264)"),
    ("iPhone 15", "17.5.1", "10.14 (29367)"),
    ("iPhone 15 Pro", "17.6", "10.14.1 (29408)"),
    ("iPhone 11", "16.7.8", "10.9 (28069)"),
)
_PLATFORMS = (("desktop", _DESKTOP, 5), ("android", _ANDROID, 4), ("ios", _IOS, 2))
_TDESKTOP = tuple(row for row in _DESKTOP if row[2].endswith("x64"))
"""Telegram Desktop's own builds (Windows, Linux); the macOS rows are the separate macOS app."""

# (lang_code, system_lang_code per platform): the app's language and the OS locale as each platform's
# client reports it (desktop "en-US", Android "en-us", iOS "en").
_LANGS: tuple[tuple[str, str, int], ...] = (
    ("en", "US", 6),
    ("en", "GB", 1),
    ("ru", "RU", 3),
    ("es", "ES", 1),
    ("de", "DE", 1),
    ("pt-br", "BR", 1),
    ("uk", "UA", 1),
    ("tr", "TR", 1),
)


def _system_lang(platform: str, lang: str, region: str) -> str:
    base = lang.split("-")[0]
    if platform == "desktop":
        return f"{base}-{region}"
    if platform == "android":
        return f"{base}-{region.lower()}"
    return base


def _profile(rng: random.Random, platform: str, table: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    device_model, system_version, app_version = rng.choice(table)
    lang, region, _w = rng.choices(_LANGS, weights=[w for *_, w in _LANGS])[0]
    return {
        "device_model": device_model,
        "system_version": system_version,
        "app_version": app_version,
        "lang_code": lang,
        "system_lang_code": _system_lang(platform, lang, region),
    }


def profile_for(auth_key_sha: str) -> dict[str, str]:
    """The generated profile of the session whose auth key hashes to ``auth_key_sha`` (always the same)."""
    rng = random.Random(f"adbot-device:{auth_key_sha}")  # a str seed is hashed (sha512): same in every process
    platform, table, _weight = rng.choices(_PLATFORMS, weights=[w for *_, w in _PLATFORMS])[0]
    return _profile(rng, platform, table)


def tdesktop_profile(auth_key_sha: str) -> dict[str, str]:
    """A Telegram Desktop profile (Windows or Linux, a tdesktop version) for a session whose app is
    Telegram Desktop (a tdata account; ``pool.intake``): a phone's or the macOS app's would not match."""
    rng = random.Random(f"adbot-tdesktop:{auth_key_sha}")
    return _profile(rng, "desktop", _TDESKTOP)


def complete(given: Mapping[str, str], auth_key_sha: str) -> dict[str, str]:
    """The profile to store: the sidecar's fields as given, any field it does not name from the generated
    profile, so nothing is left for Telethon to take from the host (stable beats a perfect match; a
    sidecar naming no device at all gets the whole generated profile)."""
    kept = {key: given[key] for key in DEVICE_KEYS if given.get(key)}
    return {**profile_for(auth_key_sha), **kept}
