"""The JSON sidecar sellers ship beside a ``.session``: the app (api id/hash) the account was made with
and the device it claimed. A session keeps that app and device for life (``pool.identity``).

Shops spell the keys differently; the first key present from each list below wins. The proxy the
account was used through (``proxy``: a URL, a list ``[type, host, port, (rdns,) user, password]`` as
Telethon/PySocks take it, or an object ``{type, host, port, username, password}`` / an MTProxy's
``secret``) is kept, so the session goes on connecting from that address; a proxy that cannot be read
refuses the sidecar (the session would otherwise connect from the server's own address). Everything else
in the file (names, 2FA passwords) is ignored and never stored.

Device keys are read with or without an app: a sidecar without one still describes the device the
account was made on, and looking like that device is what keeps it unremarkable. ``lang_pack`` is its
own key (the official app's language pack: "tdesktop", "android", ...), never ``lang_code``; it is kept
only with the sidecar's own app (Telegram's language packs are for its official apps; on a pool pair the
session connects with ``lang_pack=''``). A ``lang_pack`` that is a language code (some shops write "en"
there) is read as ``lang_code`` when the sidecar names none; any other value is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidUpload, ProxyRefused
from core.proxy import ProxySpec, make_spec, parse_proxy
from core.texts import intake as texts
from core.texts import proxy as proxy_texts

MAX_SIDECAR_BYTES = 64 * 1024
_MAX_VALUE = 64

_API_ID_KEYS = ("app_id", "api_id", "appId", "apiId", "appid", "apiid")
_API_HASH_KEYS = ("app_hash", "api_hash", "appHash", "apiHash", "apphash", "apihash")
_PHONE_KEYS = ("phone", "phone_number", "phoneNumber", "number")
_DEVICE_KEYS: dict[str, tuple[str, ...]] = {
    "device_model": ("device_model", "device", "deviceModel", "model"),
    "system_version": ("system_version", "sdk", "systemVersion", "system", "os"),
    "app_version": ("app_version", "appVersion", "application_version"),
    "lang_code": ("lang_code", "langCode", "lang"),
    "system_lang_code": ("system_lang_code", "systemLangCode", "system_lang_pack", "systemLangPack", "system_lang"),
}
_PROXY_KEYS = ("proxy", "Proxy", "proxy_settings", "proxySettings")
_PROXY_FIELDS: dict[str, tuple[str, ...]] = {
    "scheme": ("type", "scheme", "proxy_type", "protocol", "kind"),
    "host": ("host", "addr", "address", "hostname", "server", "ip"),
    "port": ("port",),
    "username": ("username", "user", "login"),
    "password": ("password", "pass", "pwd"),
    "secret": ("secret",),
}
_LANG_PACK_KEYS = ("lang_pack", "langPack")
_LANG_RE = re.compile(r"[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?")
_LANG_PACKS = frozenset({"tdesktop", "android", "android_x", "ios", "macos", "webk", "weba"})
"""The official apps' language packs; anything else under ``lang_pack`` is not one."""

_HASH_RE = re.compile(r"[0-9a-fA-F]{32}")
_PHONE_RE = re.compile(r"\+?[0-9]{5,20}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Sidecar:
    api_id: int | None
    api_hash: str | None = field(repr=False)
    device: dict[str, str]
    phone: str | None
    proxy: ProxySpec | None = None

    @property
    def has_app(self) -> bool:
        return self.api_id is not None


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = data.get(key)
        if value is not None and value != "":
            return value
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = _CONTROL_RE.sub("", str(value)).strip()[:_MAX_VALUE]
    return text or None


def _api_id(value: Any) -> int:
    if isinstance(value, str):
        text = value.strip()
        # isascii: str.isdigit() also passes "²", which int() refuses; the length bounds int()'s work.
        if text.isascii() and text.isdigit() and len(text) <= 10:
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise InvalidUpload(texts.BAD_APP_ID())
    return value


def _proxy_from_list(items: list[Any]) -> ProxySpec:
    # [type, host, port, user, pass] or Telethon/PySocks' (type, host, port, rdns, user, pass)
    if len(items) < 3:
        raise ProxyRefused(proxy_texts.BAD_SIDECAR_SHAPE())
    rest = items[3:]
    if rest and isinstance(rest[0], bool):
        rest = rest[1:]
    scheme, host, port = items[:3]
    if isinstance(scheme, str) and scheme.strip().lower() in ("mtproxy", "mtproto"):
        return make_spec(scheme, host, port, secret=rest[0] if rest else None)
    return make_spec(scheme, host, port, *(rest[:2]))


def _proxy(value: Any) -> ProxySpec | None:
    """The sidecar's proxy in any of the shapes shops use; None when it names none."""
    if value is None or value is False or value in ("", [], {}):
        return None
    if isinstance(value, str):
        return parse_proxy(value)
    if isinstance(value, list):
        return _proxy_from_list(value)
    if isinstance(value, dict):
        if value.get("enabled") is False or value.get("enable") is False:
            return None
        parts = {name: _first(value, keys) for name, keys in _PROXY_FIELDS.items()}
        if parts["scheme"] is None and parts["secret"] is not None:
            parts["scheme"] = "mtproxy"
        return make_spec(**parts)
    raise ProxyRefused(proxy_texts.BAD_SIDECAR_SHAPE())


def parse_sidecar(data: bytes) -> Sidecar:
    """Read a sidecar's bytes; raises InvalidUpload with the reason."""
    if len(data) > MAX_SIDECAR_BYTES:
        raise InvalidUpload(texts.sidecar_too_big(MAX_SIDECAR_BYTES // 1024))
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidUpload(texts.SIDECAR_NOT_JSON()) from None
    if not isinstance(obj, dict):
        raise InvalidUpload(texts.SIDECAR_NOT_OBJECT())
    raw_id, raw_hash = _first(obj, _API_ID_KEYS), _first(obj, _API_HASH_KEYS)
    if (raw_id is None) != (raw_hash is None):
        raise InvalidUpload(texts.SIDECAR_HALF_APP())
    api_id = api_hash = None
    device: dict[str, str] = {}
    if raw_id is not None:
        api_id = _api_id(raw_id)
        if not isinstance(raw_hash, str) or not _HASH_RE.fullmatch(raw_hash.strip()):
            raise InvalidUpload(texts.BAD_APP_HASH())
        api_hash = raw_hash.strip().lower()
    for name, keys in _DEVICE_KEYS.items():
        text = _text(_first(obj, keys))
        if text is None or (name.endswith("lang_code") and not _LANG_RE.fullmatch(text)):
            continue
        device[name] = text
    pack = _text(_first(obj, _LANG_PACK_KEYS))
    if pack is not None and pack.lower() in _LANG_PACKS:
        if api_id is not None:
            device["lang_pack"] = pack.lower()
    elif pack is not None and _LANG_RE.fullmatch(pack):
        device.setdefault("lang_code", pack)  # a language code written under lang_pack
    phone = _text(_first(obj, _PHONE_KEYS))
    if phone is not None:
        phone = phone.replace(" ", "")
        phone = phone if _PHONE_RE.fullmatch(phone) else None
    try:
        proxy = _proxy(_first(obj, _PROXY_KEYS))
    except ProxyRefused as exc:
        raise InvalidUpload(proxy_texts.sidecar_proxy(exc.user_message)) from None
    return Sidecar(api_id=api_id, api_hash=api_hash, device=device, phone=phone, proxy=proxy)
