"""The port the engine talks to for one Telegram account, and what it gets back.

Two implementations: ``engine.telethon_adapter`` (real Telegram through Telethon) and
``sandbox.world`` (the simulated Telegram). Both raise Telethon's own exception classes
(``telethon.errors``), so ``engine.outcomes.classify`` is the one place that turns failures into
outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

PeerKind = Literal["user", "chat", "channel"]

# A text post's formatting, as Bot API MessageEntity dicts:
# {"type": "bold", "offset": 0, "length": 4} (+ "url", "language", "custom_emoji_id", "user": {"id":..}).
# Offsets and lengths are UTF-16 code units, as in both the Bot API and MTProto.
EntityDict = Mapping[str, Any]


@dataclass(frozen=True)
class AccountInfo:
    """Who the account is (the answer to connect/check)."""

    user_id: int
    username: str | None = None
    phone: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Peer:
    """A resolved peer: enough to address it without another request (id + access hash)."""

    kind: PeerKind
    id: int  # bare id as MTProto has it (channel 123, not -100123)
    access_hash: int | None = None


@dataclass(frozen=True)
class SessionCredentials:
    """What is needed to open one account: its session file and the API pair/device it uses."""

    session_id: int
    path: Path
    api_id: int
    api_hash: str = field(repr=False)
    device: Mapping[str, str] = field(default_factory=dict)  # device_model, system_version, app_version,
    # lang_code, system_lang_code (from the seller's sidecar, when there was one)


class AccountPort(Protocol):
    """One Telegram account, connected once and reused across cycles."""

    async def connect(self) -> AccountInfo:
        """Connect (if needed) and check the account is authorised; returns who it is."""
        ...

    async def resolve(self, peer: str) -> Peer:
        """Resolve '@username' or '-100<id>' once; callers cache the answer."""
        ...

    async def forward(
        self,
        *,
        source: Peer,
        msg_id: int,
        dest: Peer,
        topic_id: int | None,
        random_id: int,
        drop_author: bool,
    ) -> int:
        """Forward one message in one request; returns the new message's id in ``dest``."""
        ...

    async def send_text(
        self,
        *,
        dest: Peer,
        topic_id: int | None,
        text: str,
        entities: Sequence[EntityDict],
        random_id: int,
    ) -> int:
        """Send a text post with its formatting in one request; returns the new message id."""
        ...

    async def close(self) -> None:
        """Disconnect and release the session file."""
        ...


class AccountFactory(Protocol):
    """Makes the port for one session (does not connect yet)."""

    def open(self, credentials: SessionCredentials) -> AccountPort: ...
