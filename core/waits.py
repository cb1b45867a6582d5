"""Flood waits per method class: Telegram's waits hold one kind of request, not the whole account.

A FLOOD_WAIT answer (420, ``FloodWaitError``) tells the account to wait before asking *that method*
again; Telethon itself remembers them per request constructor. adbot groups its requests into a few
classes and keeps one wait per (session, class), persisted (``storage.waits``), so a restart honours it:

    send     messages.forwardMessages, messages.sendMessage, messages.sendMedia / sendMultiMedia
             (``forward``, ``send_text``, ``send_media``)
    upload   upload.saveFilePart / saveBigFilePart, messages.uploadMedia: a media post's files, before
             its first send by a session (``prepare_media``; the simulated world's 'upload')
    resolve  contacts.resolveUsername (``resolve``)
    dialogs  messages.getDialogs (``dialogs``: every page of one read)
    join     channels.joinChannel, messages.importChatInvite, messages.checkChatInvite (``join``,
             ``check_invite``)
    read     message and album reads, help.getAppConfig: any other request of the port
    connect  the requests made when connecting (InitConnection, users.getUsers of itself)

A wait holds only its class: a resolve wait never stops a send that needs no resolve, a send wait never
stops reading dialogs, an upload wait holds only a media post's sends that still need their files
uploaded. The 'send' class is also the session's ``cooldown_until`` / 'cooling' state
(``storage.sessions``), kept in step by ``storage.waits.record``. Never is a request moved to another
session to dodge a wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

__all__ = ["METHOD_CLASSES", "PORT_METHODS", "MethodClass", "WaitPending", "method_class"]

MethodClass = Literal["send", "upload", "resolve", "dialogs", "join", "read", "connect"]
METHOD_CLASSES: tuple[MethodClass, ...] = get_args(MethodClass)

PORT_METHODS: Mapping[str, MethodClass] = MappingProxyType(
    {
        "forward": "send",
        "send_text": "send",
        "send_media": "send",
        "prepare_media": "upload",  # the port's method
        "upload": "upload",  # the simulated world's request name for it (one per file)
        "resolve": "resolve",
        "dialogs": "dialogs",
        "join": "join",
        "check_invite": "join",
        "connect": "connect",
        # Named though 'read' is the default: the app-config read (is the account frozen?) is a 'read'.
        "account_status": "read",  # the port's method
        "app_config": "read",  # the simulated world's request name for it
    }
)
"""The ``core.ports.AccountPort`` methods (and the simulated world's request names) by class; any other
request is a 'read'."""


def method_class(method: str) -> MethodClass:
    """The class of a port method or world request name ('forward' -> 'send'); 'read' for any other."""
    return PORT_METHODS.get(method, "read")


class WaitPending(Exception):
    """Raised by our own guard, before any request: a request of ``method``'s class must wait until
    ``until`` (a flood wait Telegram gave earlier). Nothing was sent; ``seconds`` is what was left then."""

    def __init__(self, method: MethodClass, until: float, now: float) -> None:
        self.method: MethodClass = method
        self.until = until
        self.seconds = max(1, int(until - now + 0.999))
        super().__init__(f"{method} waits {self.seconds} s (flood wait)")
