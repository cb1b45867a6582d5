"""One account's connection to the simulated Telegram: the world's ``core.ports.AccountPort``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.ports import (
    AccountInfo,
    AccountStatus,
    Dialog,
    EntityDict,
    InvitePreview,
    JoinResult,
    MediaItem,
    Peer,
    PostInfo,
)
from sandbox.world import frozen, media, posts, texts
from sandbox.world.identity import SeenIdentity

if TYPE_CHECKING:
    from sandbox.world.simulation import World


class SimPort:
    """One account's connection to the world (an ``AccountPort``)."""

    def __init__(
        self, world: World, key: str, session_id: int, proxy: str | None = None, identity: SeenIdentity | None = None
    ) -> None:
        self.world = world
        self.key = key
        self.session_id = session_id
        self.proxy = proxy  # the proxy (masked) the credentials named: where Telegram sees it come from
        self.identity = identity  # what its InitConnection says (api id, device); None: not modelled
        self.connected = False
        self.closed = False
        self.uploaded: set[str] = set()  # files this connection uploaded (sha256): named again, never re-sent

    async def connect(self) -> AccountInfo:
        if self.closed:
            raise ConnectionError("port is closed")
        if self.identity is not None:
            self.world.identities.connect(self.key, self.identity, self.world.clock.now(), self.world.violations)
        info = await self.world._connect(self)
        self.world.accounts[self.key].routes.append(self.proxy)
        self.connected = True
        return info

    def _require(self) -> None:
        if not self.connected or self.closed:
            raise ConnectionError("not connected")

    async def resolve(self, peer: str) -> Peer:
        self._require()
        return await self.world._resolve(self, peer)

    async def forward(
        self,
        *,
        source: Peer,
        msg_id: int,
        dest: Peer,
        topic_id: int | None,
        random_id: int,
        drop_author: bool,
        album: Sequence[int] = (),
        drop_media_captions: bool = False,
    ) -> int | None:
        self._require()
        return await self.world._send(
            self, "forward", dest, topic_id, random_id, source_peer=source, msg_ids=list(album) or [msg_id],
            drop_author=drop_author, shown=texts.forwarded(drop_author, drop_media_captions),
        )

    async def read_post(self, source: Peer, msg_id: int) -> PostInfo:
        self._require()
        return await posts.read_post(self.world, self, source, msg_id)

    async def send_text(
        self,
        *,
        dest: Peer,
        topic_id: int | None,
        text: str,
        entities: Sequence[EntityDict],
        random_id: int,
        no_webpage: bool = False,
    ) -> int | None:
        self._require()
        shown = texts.own(self.world.accounts[self.key], entities, no_webpage=no_webpage)
        return await self.world._send(self, "send_text", dest, topic_id, random_id, text=text, shown=shown)

    async def prepare_media(self, items: Sequence[MediaItem]) -> int:
        self._require()
        return await media.upload_all(self, items)

    async def send_media(
        self,
        *,
        dest: Peer,
        topic_id: int | None,
        items: Sequence[MediaItem],
        random_id: int,
    ) -> int | None:
        self._require()
        media.check_items(items)
        await media.upload_all(self, items)  # files not prepared: uploaded inside the send, as a client would
        caption = next((item for item in items if item.caption), None)
        shown = texts.own(self.world.accounts[self.key], caption.entities if caption is not None else ())
        return await self.world._send(
            self, "send_media", dest, topic_id, random_id, text=caption.caption if caption is not None else None,
            media=tuple(item.kind for item in items), shown=shown,
        )

    async def dialogs(self) -> Sequence[Dialog]:
        self._require()
        return await self.world._dialogs(self)

    async def join(self, target: str) -> JoinResult:
        self._require()
        return await self.world.joins.join(self, target)

    async def check_invite(self, invite_hash: str) -> InvitePreview:
        self._require()
        return await self.world.joins.check_invite(self, invite_hash)

    async def account_status(self) -> AccountStatus:
        self._require()
        return await frozen.app_config(self.world, self)

    async def close(self) -> None:
        self.closed = True
        self.connected = False
        if self.world._live.get(self.key) is self:
            del self.world._live[self.key]
