"""The Telegram the engine talks to, chosen by ``[engine] backend``: the real one through Telethon's
client, or the offline sandbox world ("simulated"). Each is imported only when chosen: a service
talking to Telegram never loads the simulator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.clock import Clock
from core.config import Settings
from core.ports import (
    AccountFactory,
    AccountInfo,
    AccountPort,
    AccountStatus,
    Dialog,
    EntityDict,
    InvitePreview,
    JoinResult,
    MediaItem,
    Peer,
    PostInfo,
    SessionCredentials,
)
from storage import groups
from storage.db import Database

if TYPE_CHECKING:
    from sandbox.world import World


def make_factory(settings: Settings, clock: Clock, db: Database) -> AccountFactory:
    """The account factory of ``[engine] backend``."""
    if settings.engine.backend == "simulated":
        from sandbox.world import World

        # Every delivery is appended here, so posts can be audited across restarts (and crashes).
        log_path = settings.paths.data_dir / "world_deliveries.jsonl"
        world_file = settings.engine.world_file
        if world_file is not None:
            return World.from_file(world_file, clock, log_path=log_path)
        return Playground(World(clock, lenient=True, log_path=log_path), db)
    from engine.telethon_adapter import ClientSettings, TelethonFactory

    return TelethonFactory(
        ClientSettings(flood_sleep_threshold=settings.engine.flood_sleep_threshold, ipv6=settings.pool.ipv6)
    )


class Playground:
    """The simulated backend without a world file: a lenient world where every group the service stores
    (customers' and default groups) exists with every account a member. A lenient world makes a chat up
    when a request first names it, but the engine names a group only once a session's dialogs list it,
    so the stored groups are opened in the world before each account's dialogs are read."""

    def __init__(self, world: World, db: Database) -> None:
        self.world = world
        self.db = db

    def open(self, credentials: SessionCredentials) -> AccountPort:
        return _PlaygroundPort(self, self.world.open(credentials))

    async def open_stored_groups(self) -> None:
        async with self.db.read() as conn:
            refs = await groups.all_refs(conn)
        self.world.open_groups(refs)

    def close(self) -> None:
        self.world.close()


class _PlaygroundPort:
    """One account of the playground: the world's port, with the stored groups opened before a read of
    its dialogs."""

    def __init__(self, playground: Playground, port: AccountPort) -> None:
        self.playground = playground
        self.port = port

    async def connect(self) -> AccountInfo:
        return await self.port.connect()

    async def resolve(self, peer: str) -> Peer:
        return await self.port.resolve(peer)

    async def forward(
        self, *, source: Peer, msg_id: int, dest: Peer, topic_id: int | None, random_id: int, drop_author: bool,
        album: Sequence[int] = (), drop_media_captions: bool = False,
    ) -> int | None:
        return await self.port.forward(
            source=source, msg_id=msg_id, dest=dest, topic_id=topic_id, random_id=random_id, drop_author=drop_author,
            album=album, drop_media_captions=drop_media_captions,
        )

    async def read_post(self, source: Peer, msg_id: int) -> PostInfo:
        return await self.port.read_post(source, msg_id)

    async def prepare_media(self, items: Sequence[MediaItem]) -> int:
        return await self.port.prepare_media(items)

    async def send_media(
        self, *, dest: Peer, topic_id: int | None, items: Sequence[MediaItem], random_id: int
    ) -> int | None:
        return await self.port.send_media(dest=dest, topic_id=topic_id, items=items, random_id=random_id)

    async def send_text(
        self, *, dest: Peer, topic_id: int | None, text: str, entities: Sequence[EntityDict], random_id: int,
        no_webpage: bool = False,
    ) -> int | None:
        return await self.port.send_text(dest=dest, topic_id=topic_id, text=text, entities=entities,
                                         random_id=random_id, no_webpage=no_webpage)

    async def dialogs(self) -> Sequence[Dialog]:
        await self.playground.open_stored_groups()
        return await self.port.dialogs()

    async def join(self, target: str) -> JoinResult:
        return await self.port.join(target)

    async def check_invite(self, invite_hash: str) -> InvitePreview:
        return await self.port.check_invite(invite_hash)

    async def account_status(self) -> AccountStatus:
        return await self.port.account_status()

    async def close(self) -> None:
        await self.port.close()
