"""Per-session proxies: why a proxy is refused, what setting one says, and how health shows them.

Plain text unless a function says HTML. A proxy is shown masked (``socks5://host:port``): never its
user name, password or MTProxy secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.i18n import _, n_
from core.texts.fmt import esc

# --- why a proxy cannot be used (core.proxy.parse_proxy; ProxyRefused.user_message) --------------------


def EMPTY() -> str:
    return _("no proxy given")


def NOT_A_URL() -> str:
    return _(
        "not a proxy: give socks5://user:pass@host:port, http://host:port, mtproxy://SECRET@host:port or a "
        "t.me/proxy link",
    )


def SOCKS4() -> str:
    return _("SOCKS4() proxies are not supported (no authentication, no remote DNS): use SOCKS5")


def BAD_HOST() -> str:
    return _("the proxy's host is not a host name or an IP address")


def BAD_PORT() -> str:
    return _("the proxy's port must be a number from 1 to 65535")


def BAD_CREDENTIALS() -> str:
    return _("the proxy's user name or password is too long or holds control characters")


def NO_SECRET() -> str:
    return _("an MTProxy needs its secret")


def BAD_SECRET() -> str:
    return _("the MTProxy secret must be 16 bytes (32 hex digits, optionally after 'dd')")


def FAKE_TLS() -> str:
    return _("fake-TLS MTProxy secrets ('ee…') are not supported by the Telegram library: use a 'dd' secret")


def BAD_SIDECAR_SHAPE() -> str:
    return _("the sidecar's proxy is neither a URL, a list [type, host, port, user, password] nor an object")


def unknown_type(name: str) -> str:
    return _("unknown proxy type '{name}': use socks5, http or mtproxy", name=name[:16])


def sidecar_proxy(reason: str) -> str:
    """``InvalidUpload`` reason: the sidecar names a proxy that cannot be used (the session is refused
    rather than connected from the server's own address)."""
    return _("the sidecar's proxy cannot be used: {reason}", reason=reason)


# --- checks (pool.proxies) -----------------------------------------------------------------------------


def check_failed(masked: str, reason: str) -> str:
    """A proxy an admin set did not reach Telegram: refused, nothing changed."""
    return _(
        "the proxy {masked} did not reach Telegram: {reason}. Nothing was changed.",
        masked=masked,
        reason=reason,
    )


def CHECK_TIMEOUT() -> str:
    return _("no answer in time")


def CHECK_REFUSED() -> str:
    return _("the proxy refused the connection")


def check_unreachable(detail: str) -> str:
    return _("cannot connect ({detail})", detail=detail[:80])


def proxy_refused(detail: str) -> str:
    return _("the proxy said no ({detail})", detail=detail[:80])


# --- pool errors ---------------------------------------------------------------------------------------


def proxy_required(session_id: int) -> str:
    """``ProxyMissing``: ``[pool] proxy_required`` is on and the session has no proxy."""
    return _(
        "session #{session_id} has no proxy and [pool] proxy_required is on: set one with /proxy",
        session_id=session_id,
    )


def session_dead(session_id: int) -> str:
    return _("session #{session_id} is dead: it never connects again", session_id=session_id)


# --- admin command and CLI -----------------------------------------------------------------------------


def USAGE() -> str:
    return _(
        "/proxy <session id> <url> (socks5://user:pass@host:port, http://host:port, "
        "mtproxy://SECRET@host:port, a t.me/proxy link), or /proxy <session id> off",
    )


def SESSION_ID() -> str:
    return _("The session id")


COMMAND = ("proxy", "A session's proxy: /proxy session_id url|off")
"""The admin command's menu entry (``core.texts.admin.ADMIN_COMMANDS``)."""


def message_not_deleted() -> str:
    return _("⚠ I could not delete your message with the proxy's password: delete it yourself.")


def proxy_set(session_id: int, masked: str) -> str:
    return (
        _(
            "🌐 Session #{session_id} now connects through {masked} (checked: it reaches Telegram), from its "
            "next connection.",
            session_id=session_id,
            masked=masked,
        )
    )


def proxy_cleared(session_id: int) -> str:
    return _(
        "🌐 Session #{session_id} now connects directly (no proxy), from its next connection.",
        session_id=session_id,
    )


def proxy_unchanged_off(session_id: int) -> str:
    return _("Session #{session_id} had no proxy: nothing changed.", session_id=session_id)


HELP_POOL_PROXY = "set a session's proxy (checked first: it must reach Telegram) or clear it"
HELP_POOL_PROXY_URL = (
    "socks5://user:pass@host:port, http://host:port, mtproxy://SECRET@host:port or a t.me/proxy link;"
    " - reads it from stdin (keeps the password out of the shell history)"
)
HELP_POOL_PROXY_CLEAR = "remove the session's proxy: it connects directly from its next connection"
CLI_URL_OR_CLEAR = "give the proxy URL or --clear (not both)"


def RECONNECTS() -> str:
    return _("Its customer's connection was closed: the next cycle connects the new way.")


def DIRECT() -> str:
    return _("direct")


def NOT_CHECKED() -> str:
    return _("not checked yet")


def shown(masked: str | None, check_error: str | None) -> str:
    """One session's proxy as health and the pool list show it (plain)."""
    if masked is None:
        return DIRECT()
    return masked + (_(" (⚠ failed: {check_error})", check_error=check_error) if check_error else "")


def summary(total: int, direct: int, failed: int, required: bool) -> str:
    """The count line of /health and ``adbot health`` (plain)."""
    rule = _("required") if required else _("optional")
    return _(
        "Proxies ({rule}): {value} of {total} sessions have one; {direct} direct, {failed} failed check",
        rule=rule,
        value=total - direct,
        total=total,
        direct=direct,
        failed=failed,
    )


def intake_note(masked: str, check_error: str | None) -> str:
    """Beside an accepted session whose sidecar named a proxy (plain)."""
    if check_error is None:
        return _("proxy {masked}", masked=masked)
    return _(
        "proxy {masked} stored but did not reach Telegram: {check_error}",
        masked=masked,
        check_error=check_error,
    )


class SessionProxyView(Protocol):
    @property
    def session_id(self) -> int: ...
    @property
    def masked(self) -> str | None: ...
    @property
    def check_error(self) -> str | None: ...


class ProxyView(Protocol):
    """Every session that may still connect, with its proxy (``pool.proxies.ProxyOverview``)."""

    @property
    def required(self) -> bool: ...
    @property
    def sessions(self) -> Sequence[SessionProxyView]: ...
    @property
    def direct(self) -> int: ...
    @property
    def failed(self) -> int: ...


def health_lines(view: ProxyView, *, html: bool) -> list[str]:
    """The proxies part of /health (``html``) and ``adbot health``: the counts, then each proxy (or
    'direct') with the sessions using it; a required proxy missing is marked."""
    escape = esc if html else str
    lines = [summary(len(view.sessions), view.direct, view.failed, view.required)]
    if view.required and view.direct:
        lines.append(n_(
            "⛔ {n} session without a proxy are never opened (proxy_required)",
            "⛔ {n} sessions without a proxy are never opened (proxy_required)",
            view.direct,
        ))
    by_proxy: dict[str, list[int]] = {}
    for s in view.sessions:
        by_proxy.setdefault(shown(s.masked, s.check_error), []).append(s.session_id)
    for label, ids in sorted(by_proxy.items(), key=lambda item: item[1][0]):
        lines.append(f"  {escape(label)}: " + ", ".join(f"#{i}" for i in ids))
    return lines
