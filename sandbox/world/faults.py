"""Scripted failures: which requests a fault hits, and the Telegram error it raises there."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import Literal

from telethon import errors

from core.clock import Clock
from sandbox.world.model import SimAccount, SimChat
from sandbox.world.waits import start_flood

SEND_METHODS = ("forward", "send_text", "send_media")

FaultKind = Literal[
    "flood_wait",  # FloodWaitError(seconds); the method's class (core.waits) is under the wait afterwards
    "peer_flood",  # PeerFloodError; the account stays spam-limited
    "banned_in_channel",  # UserBannedInChannelError; the account stays limited
    "dead",  # AuthKeyUnregisteredError; the account stays dead
    "key_not_found",  # the transport-level -404 (Telethon's AuthKeyNotFound); the account stays dead
    "frozen",  # FrozenMethodInvalidError; the account stays frozen (its app config says so)
    "timeout",  # the request hangs for ``seconds`` (0: forever) then raises TimeoutError
    "transient",  # ConnectionError
    "error",  # any telethon.errors class named by ``error``, or a bare 400 with that message
    # ("TOPIC_CLOSED": Telegram errors Telethon 1.45 has no class for arrive as a bare BadRequestError)
    "dropped",  # a send is taken and answered without a new message: nothing arrives (in doubt)
]


@dataclass
class Fault:
    """A scripted failure: hits the matching requests after ``after`` of them went through.

    ``deliver=True`` (timeout/transient) delivers the post first and loses the answer: the case a
    retry with the same random_id must not turn into a double post.
    """

    kind: FaultKind
    account: str | None = None  # account key; None: any account
    session: int | None = None  # or the engine's session id (handy in a JSON world file)
    group: str | None = None  # '@name' or '-100<id>' of the destination; None: any
    method: str = "send"  # 'send' (forward/send_text/send_media), 'forward', 'send_text', 'send_media', 'upload'
    # (one file of a media post), 'resolve', 'connect', 'read',
    # 'dialogs' (each page of a dialogs read), 'app_config', 'any'
    after: int = 0
    times: int = 1  # 0: every matching request from then on
    seconds: float = 0
    error: str | None = None
    deliver: bool = False
    seen: int = 0
    fired: int = 0

    def matches(self, account: str, session_id: int, method: str, chat: SimChat | None) -> bool:
        if self.account is not None and self.account != account:
            return False
        if self.session is not None and self.session != session_id:
            return False
        if self.method == "send":
            if method not in SEND_METHODS:
                return False
        elif self.method not in ("any", method):
            return False
        return self.group is None or (chat is not None and chat.matches(self.group))

    async def strike(self, account: SimAccount, clock: Clock, method: str | None = None) -> None:
        """Raise what the fault stands for at a request of ``method``, leaving ``account`` in the state it
        implies (a flood wait holds the method's class: ``sandbox.world.waits``; without ``method``, the
        class of the fault's own, a send for 'send' and 'any')."""
        now = clock.now()
        if method is None:
            method = "forward" if self.method in ("send", "any") else self.method
        if self.kind == "flood_wait":
            start_flood(account, method, now + self.seconds)
            raise errors.FloodWaitError(request=None, capture=int(self.seconds))
        if self.kind == "peer_flood":
            account.limited = "PeerFloodError"
            raise errors.PeerFloodError(request=None)
        if self.kind == "banned_in_channel":
            account.limited = "UserBannedInChannelError"
            raise errors.UserBannedInChannelError(request=None)
        if self.kind == "dead":
            account.dead = True
            raise errors.AuthKeyUnregisteredError(request=None)
        if self.kind == "key_not_found":
            account.dead = True
            raise errors.AuthKeyNotFound()
        if self.kind == "frozen":
            account.frozen_since, account.frozen_told = now, True
            account.appeal_url = account.appeal_url or "https://t.me/spambot"
            raise errors.FrozenMethodInvalidError(request=None)
        if self.kind == "timeout":
            if self.seconds > 0:
                await clock.sleep(self.seconds)
            else:
                await asyncio.get_running_loop().create_future()  # hangs until cancelled
            raise TimeoutError
        if self.kind == "transient":
            raise ConnectionError("simulated connection reset")
        if self.kind == "dropped":
            return  # the request goes through; the world answers it without a new message
        if self.kind == "error":
            cls = getattr(errors, self.error or "", None)
            if cls is None and self.error and self.error.isupper():
                raise errors.BadRequestError(request=None, message=self.error, code=400)
            if not (isinstance(cls, type) and issubclass(cls, errors.RPCError)):
                raise ValueError(f"unknown telethon error {self.error!r}")
            if "capture" in inspect.signature(cls).parameters:
                if issubclass(cls, (errors.FloodWaitError, errors.FloodPremiumWaitError)):
                    start_flood(account, method, now + int(self.seconds))  # not slow mode: that is per chat
                raise cls(request=None, capture=int(self.seconds))
            raise cls(request=None)
        raise ValueError(f"unknown fault kind {self.kind!r}")
