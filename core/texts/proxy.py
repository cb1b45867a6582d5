"""Per-session proxies: why a proxy is refused, what setting one says, and how health shows them.

Plain text unless a function says HTML. A proxy is shown masked (``socks5://host:port``): never its
user name, password or MTProxy secret. The terminal prints the refusals, the settings' replies and the
health lines too: their English is what it always printed. ``HELP_*`` and ``CLI_*`` are the terminal's
own: not translated.
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
        "not a proxy: give socks5://user:pass@host:port, http://host:port, mtproxy://SECRET@host:port"
        " or a t.me/proxy link"
    )


def SOCKS4() -> str:
    return _("SOCKS4 proxies are not supported (no authentication, no remote DNS): use SOCKS5")


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
# A failed check is stored as a key (``pool.proxies.CHECK_*``: 'timeout', 'refused:<detail>',
# 'unreachable:<detail>'), worded here for whoever reads it; words an older version stored show as they are.


def check_error_text(error: str) -> str:
    """A stored check failure in words."""
    key, _sep, detail = error.partition(":")
    if key == "timeout" and not detail:
        return _("no answer in time")
    if key == "refused" and detail:
        return _said_no(detail.lower())
    if key == "unreachable" and detail:
        return _no_connection(detail.lower())
    return error


# The detail is the proxy library's or the OS's English (logged as is for the operator); people read what it
# means in their language, never the library's words or an exception name.


def _said_no(detail: str) -> str:
    if any(word in detail for word in ("auth", "credential", "407")):
        return _("the proxy refused the login and password")
    if any(word in detail for word in ("version", "invalid", "malformed", "unexpected", "status", "empty")):
        return _("it does not answer as a proxy of that type")
    if any(word in detail for word in ("unreachable", "refused", "not allowed", "ttl")):
        return _("the proxy could not connect to Telegram")
    return _("the proxy refused the connection")


def _no_connection(detail: str) -> str:
    if "refused" in detail:
        return _("nothing answers at that address and port")
    if any(word in detail for word in ("resolve", "name", "not known", "nodename")):
        return _("the proxy's host name is not known")
    if any(word in detail for word in ("unreachable", "route")):
        return _("that address cannot be reached")
    return _("the connection to the proxy failed")


def check_failed(masked: str, error: str) -> str:
    """A proxy an admin set did not reach Telegram: refused, nothing changed. ``error``: the check's key."""
    return _("the proxy {proxy} did not reach Telegram: {reason}. Nothing was changed.", proxy=masked,
             reason=check_error_text(error))


# --- pool errors ---------------------------------------------------------------------------------------


def proxy_required(session_id: int) -> str:
    """``ProxyMissing``: ``[pool] proxy_required`` is on and the session has no proxy."""
    return _("session #{session} has no proxy and [pool] proxy_required is on: set one with /proxy",
             session=session_id)


def session_dead(session_id: int) -> str:
    return _("session #{session} is dead: it never connects again", session=session_id)


# --- admin command and CLI -----------------------------------------------------------------------------


def USAGE() -> str:
    """How to call /proxy, without "Usage:" (``admin.usage`` says it)."""
    return _(
        "/proxy <session id> <url> (socks5://user:pass@host:port, http://host:port, mtproxy://SECRET@host:port,"
        " a t.me/proxy link), or /proxy <session id> off"
    )


def message_not_deleted() -> str:
    return _("⚠ I could not delete your message with the proxy's password: delete it yourself.")


def proxy_set(session_id: int, masked: str) -> str:
    return _(
        "🌐 Session #{session} now connects through {proxy} (checked: it reaches Telegram), from its next"
        " connection.",
        session=session_id,
        proxy=masked,
    )


def proxy_cleared(session_id: int) -> str:
    return _("🌐 Session #{session} now connects directly (no proxy), from its next connection.", session=session_id)


def proxy_unchanged_off(session_id: int) -> str:
    return _("Session #{session} had no proxy: nothing changed.", session=session_id)


def RECONNECTS() -> str:
    return _("Its customer's connection was closed: the next cycle connects the new way.")


HELP_POOL_PROXY = "set a session's proxy (checked first: it must reach Telegram) or clear it"
HELP_POOL_PROXY_URL = (
    "socks5://user:pass@host:port, http://host:port, mtproxy://SECRET@host:port or a t.me/proxy link;"
    " - reads it from stdin (keeps the password out of the shell history)"
)
HELP_POOL_PROXY_CLEAR = "remove the session's proxy: it connects directly from its next connection"
CLI_URL_OR_CLEAR = "give the proxy URL or --clear (not both)"


# --- health and the upload summary ---------------------------------------------------------------------


def DIRECT() -> str:
    return _("direct")


def NOT_CHECKED() -> str:
    return _("not checked yet")


def shown(masked: str | None, check_error: str | None) -> str:
    """One session's proxy as health and the pool list show it (plain)."""
    if masked is None:
        return DIRECT()
    if check_error:
        return _("{proxy} (⚠ failed: {reason})", proxy=masked, reason=check_error_text(check_error))
    return masked


def summary(total: int, direct: int, failed: int, required: bool) -> str:
    """The count line of /health and ``adbot health`` (plain)."""
    if required:
        return _("Proxies (required): {with_proxy} of {total} sessions have one; {direct} direct, {failed} failed"
                 " check", with_proxy=total - direct, total=total, direct=direct, failed=failed)
    return _("Proxies (optional): {with_proxy} of {total} sessions have one; {direct} direct, {failed} failed check",
             with_proxy=total - direct, total=total, direct=direct, failed=failed)


def intake_note(masked: str, check_error: str | None) -> str:
    """Beside an accepted session whose sidecar named a proxy (plain)."""
    if check_error is None:
        return _("proxy {proxy}", proxy=masked)
    return _("proxy {proxy} stored but did not reach Telegram: {reason}", proxy=masked,
             reason=check_error_text(check_error))


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
            "⛔ {n} session without a proxy is never opened (proxy_required)",
            "⛔ {n} sessions without a proxy are never opened (proxy_required)",
            view.direct,
        ))
    by_proxy: dict[str, list[int]] = {}
    for s in view.sessions:
        by_proxy.setdefault(shown(s.masked, s.check_error), []).append(s.session_id)
    for label, ids in sorted(by_proxy.items(), key=lambda item: item[1][0]):
        lines.append(f"  {escape(label)}: " + ", ".join(f"#{i}" for i in ids))
    return lines
