"""A session's proxy: what it is, parsed from the forms admins and sellers write, shown masked.

A session connects through one proxy for life (unless an admin changes it), so Telegram sees it from
one address. Three kinds: SOCKS5 and HTTP CONNECT (Telethon hands them to python-socks) and MTProxy
(Telethon's own obfuscated transport). Accepted forms::

    socks5://user:pass@host:port      (socks5h:// too: we always resolve names at the proxy)
    http://user:pass@host:port
    mtproxy://SECRET@host:port
    tg://proxy?server=H&port=P&secret=S     https://t.me/proxy?server=...   (MTProxy links)
    tg://socks?server=H&port=P&user=U&pass=W https://t.me/socks?server=...  (SOCKS5 links)

``ProxySpec.url()`` is the stored form (with its secrets: stored like an API hash, never logged);
``masked()`` / ``str()`` is the only form shown (``socks5://host:port``).

MTProxy secrets: 16 bytes, hex (optionally prefixed 'dd': random padding) or base64 as links carry
them. Fake-TLS secrets ('ee' + secret + domain) are refused: Telethon 1.45 strips the 'ee' and the
domain and speaks plain obfuscated2, which a fake-TLS proxy closes.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

from core.errors import ProxyRefused
from core.texts import proxy as texts

ProxyScheme = Literal["socks5", "http", "mtproxy"]
PROXY_SCHEMES: tuple[ProxyScheme, ...] = ("socks5", "http", "mtproxy")

_MAX_TEXT = 255  # SOCKS5 carries user name and password in one byte of length each
_MAX_INPUT = 2048
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
_HOST_RE = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")
_HEX_RE = re.compile(r"(dd)?[0-9a-f]{32}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME_ALIASES: dict[str, ProxyScheme] = {
    "socks5": "socks5",
    "socks5h": "socks5",
    "socks": "socks5",
    "http": "http",
    "mtproxy": "mtproxy",
    "mtproto": "mtproxy",
    "mtp": "mtproxy",
}
_LINK_HOSTS = ("t.me", "telegram.me", "www.t.me")


@dataclass(frozen=True)
class ProxySpec:
    """One proxy. ``secret`` (MTProxy) is normalised hex; ``username``/``password`` only for SOCKS5/HTTP."""

    scheme: ProxyScheme
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)

    def _netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def masked(self) -> str:
        """What may be shown and logged: the kind, host and port, never a credential."""
        return f"{self.scheme}://{self._netloc()}"

    def __str__(self) -> str:
        return self.masked()

    def url(self) -> str:
        """The full form, credentials included (what ``parse_proxy`` reads back): a secret."""
        if self.scheme == "mtproxy":
            return f"mtproxy://{self.secret}@{self._netloc()}"
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        return f"{self.scheme}://{auth}{self._netloc()}"


def _host(raw: str | None) -> str:
    host = (raw or "").strip().strip("[]")
    if not host:
        raise ProxyRefused(texts.BAD_HOST())
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST_RE.fullmatch(host) or host.replace(".", "").isdigit():
        raise ProxyRefused(texts.BAD_HOST())
    return host.lower()


def _port(raw: object) -> int:
    if isinstance(raw, str):
        text = raw.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 5):
            raise ProxyRefused(texts.BAD_PORT())
        raw = int(text)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 65536:
        raise ProxyRefused(texts.BAD_PORT())
    return raw


def _credential(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ProxyRefused(texts.BAD_CREDENTIALS())
    text = str(raw)
    if len(text.encode()) > _MAX_TEXT or _CONTROL_RE.search(text):
        raise ProxyRefused(texts.BAD_CREDENTIALS())
    return text


def normalise_secret(raw: object) -> str:
    """An MTProxy secret as lower-case hex (16 bytes, or 'dd' + 16 bytes); refuses fake-TLS secrets."""
    if not isinstance(raw, str) or not raw.strip():
        raise ProxyRefused(texts.NO_SECRET())
    text = raw.strip()
    lower = text.lower()
    if _HEX_RE.fullmatch(lower):
        return lower
    if lower.startswith("ee") and re.fullmatch(r"[0-9a-f]+", lower):
        raise ProxyRefused(texts.FAKE_TLS())
    try:
        data = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ProxyRefused(texts.BAD_SECRET()) from None
    if data[:1] == b"\xee":
        raise ProxyRefused(texts.FAKE_TLS())
    if len(data) == 17 and data[0] == 0xDD:
        return data.hex()
    if len(data) != 16:
        raise ProxyRefused(texts.BAD_SECRET())
    return data.hex()


def scheme_of(raw: object) -> ProxyScheme:
    """A proxy type as sellers write it: 'socks5', 'SOCKS5', 'http', 'mtproto', PySocks' numbers 2/3."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        numbered: dict[int, ProxyScheme] = {2: "socks5", 3: "http"}
        if raw == 1:
            raise ProxyRefused(texts.SOCKS4())
        if raw not in numbered:
            raise ProxyRefused(texts.unknown_type(str(raw)))
        return numbered[raw]
    name = str(raw).strip().lower() if isinstance(raw, str) else ""
    if name in ("socks4", "socks4a"):
        raise ProxyRefused(texts.SOCKS4())
    scheme = _SCHEME_ALIASES.get(name)
    if scheme is None:
        raise ProxyRefused(texts.unknown_type(name or "?"))
    return scheme


def make_spec(
    scheme: object,
    host: object,
    port: object,
    username: object = None,
    password: object = None,
    secret: object = None,
) -> ProxySpec:
    """A checked ``ProxySpec`` from its parts (each validated; raises ProxyRefused with the reason)."""
    kind = scheme_of(scheme)
    clean_host = _host(host if isinstance(host, str) else None)
    clean_port = _port(port)
    if kind == "mtproxy":
        return ProxySpec(kind, clean_host, clean_port, secret=normalise_secret(secret))
    user, pwd = _credential(username), _credential(password)
    if user is None and pwd is not None:
        raise ProxyRefused(texts.BAD_CREDENTIALS())
    return ProxySpec(kind, clean_host, clean_port, username=user, password=pwd)


def _link(query: str, socks: bool) -> ProxySpec:
    params = {k.lower(): v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if socks:
        return make_spec("socks5", params.get("server"), params.get("port", ""), params.get("user"), params.get("pass"))
    return make_spec("mtproxy", params.get("server"), params.get("port", ""), secret=params.get("secret"))


def parse_proxy(text: str) -> ProxySpec:
    """Read a proxy URL or Telegram proxy link; raises ProxyRefused with a specific reason."""
    raw = (text or "").strip()
    if not raw:
        raise ProxyRefused(texts.EMPTY())
    if len(raw) > _MAX_INPUT or _CONTROL_RE.search(raw):
        raise ProxyRefused(texts.NOT_A_URL())
    try:
        parts = urlsplit(raw if "://" in raw or raw.startswith("tg:") else "https://" + raw)
    except ValueError:
        raise ProxyRefused(texts.NOT_A_URL()) from None
    scheme = parts.scheme.lower()
    if scheme == "tg":
        kind = (parts.netloc or parts.path).lower().strip("/")
        if kind not in ("proxy", "socks"):
            raise ProxyRefused(texts.NOT_A_URL())
        return _link(parts.query, kind == "socks")
    if scheme in ("https", "http") and (parts.hostname or "").lower() in _LINK_HOSTS:
        kind = parts.path.strip("/").lower()
        if kind not in ("proxy", "socks"):
            raise ProxyRefused(texts.NOT_A_URL())
        return _link(parts.query, kind == "socks")
    if "://" not in raw or not scheme:
        raise ProxyRefused(texts.NOT_A_URL())
    kind_name = scheme_of(scheme)
    try:
        port = parts.port  # ValueError when out of range or not a number
    except ValueError:
        raise ProxyRefused(texts.BAD_PORT()) from None
    if port is None:
        raise ProxyRefused(texts.BAD_PORT())
    user = unquote(parts.username) if parts.username is not None else None
    pwd = unquote(parts.password) if parts.password is not None else None
    if kind_name == "mtproxy":
        return make_spec("mtproxy", parts.hostname, port, secret=user)
    return make_spec(kind_name, parts.hostname, port, user, pwd)
