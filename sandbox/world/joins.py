"""Joining in the simulated Telegram: public chats by username, invite links, approval, the channel cap.

Rules, as Telegram has them:

* '@name' joins a chat with that username; an account already in it is told so (no join happens);
* an invite hash joins its chat; an unknown hash is INVITE_HASH_INVALID, an expired one
  INVITE_HASH_EXPIRED; an invite (or a public chat) whose admins approve members answers
  INVITE_REQUEST_SENT and the account is *not* a member until ``approve``;
* an account is in at most ``channels_cap`` channels and supergroups (``cap_for`` one account):
  beyond it CHANNELS_TOO_MUCH;
* flood waits on joining are the 'join' class's own (``sandbox.world.waits``; a send is not refused for
  them, as on Telegram; an invite check is of that class too): ``flood`` starts one, ``flood_after``
  makes the world answer FLOOD_WAIT after that many joins of one account in a day, and a scripted
  ``Fault`` raising ``FloodWaitError`` on method "join" counts as one. A join inside a wait is raised
  again and recorded as a ``flood_wait`` violation.

Requests are counted per method "join" and "check_invite" (``World.request_count``); faults can target
those methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telethon import errors

from core.ports import InvitePreview, JoinResult
from sandbox.world.model import SimChat
from sandbox.world.waits import start_flood

if TYPE_CHECKING:
    from sandbox.world.port import SimPort
    from sandbox.world.simulation import World

DAY = 86_400.0


@dataclass
class SimInvite:
    hash: str
    chat_id: int
    request_needed: bool = False
    expired: bool = False


@dataclass
class WorldJoins:
    """The world's joining rules and state (``World.joins``)."""

    world: World
    invites: dict[str, SimInvite] = field(default_factory=dict)
    approval: set[int] = field(default_factory=set)  # public chats whose admins approve each join
    pending: set[tuple[str, int]] = field(default_factory=set)  # (account, chat): requests not yet approved
    channels_cap: int = 500
    caps: dict[str, int] = field(default_factory=dict)
    flood_after: int | None = None
    flood_seconds: int = 3600
    joined_at: dict[str, list[float]] = field(default_factory=dict)

    # --- building ---

    def add_invite(
        self, ref: str, invite_hash: str | None = None, *, request_needed: bool = False, expired: bool = False
    ) -> str:
        """An invite link to the chat ``ref`` names; returns its hash."""
        chat = self._require(ref)
        value = invite_hash or f"inv{chat.id:x}{len(self.invites)}"
        self.invites[value] = SimInvite(value, chat.id, request_needed, expired)
        return value

    def require_approval(self, ref: str) -> None:
        """Joining this public chat sends a request its admins approve."""
        self.approval.add(self._require(ref).id)

    def approve(self, account: str, ref: str) -> None:
        """The chat's admins accept the account's join request."""
        chat = self._require(ref)
        self.pending.discard((account, chat.id))
        chat.members.add(account)

    def cap_for(self, account: str, cap: int) -> None:
        self.caps[account] = cap

    def flood(self, account: str, seconds: float) -> None:
        """A flood wait on joining for ``account``, from now."""
        start_flood(self.world.accounts[account], "join", self.world.clock.now() + seconds)

    def channels_of(self, account: str) -> int:
        """Channels and supergroups the account is in (chats every account is in do not count)."""
        return sum(
            1
            for chat in self.world.chats.values()
            if chat.kind == "channel" and (account in chat.members or account in chat.admins)
        )

    def _require(self, ref: str) -> SimChat:
        chat = self.world.chat(ref)
        if chat is None:
            raise KeyError(ref)
        return chat

    # --- the requests ---

    async def join(self, port: SimPort, target: str) -> JoinResult:
        world = self.world
        account = world._account(port.key)
        invite = None if target.startswith("@") else self.invites.get(target.removeprefix("+"))
        chat = world.chats.get(invite.chat_id) if invite is not None else world.chat(target)
        fault = await world._enter(port, account, "join", chat)  # a join inside its wait is refused there
        now = world.clock.now()
        if fault is not None:
            await fault.strike(account, world.clock, "join")
        if target.startswith("@"):
            if chat is None and world.lenient:
                chat = world._chat_for_ref(target, account.key)
            if chat is None:
                return JoinResult("invalid", error="USERNAME_NOT_OCCUPIED")
            needs_approval = chat.id in self.approval
        else:
            if invite is None or chat is None:
                return JoinResult("invalid", error="INVITE_HASH_INVALID")
            if invite.expired:
                return JoinResult("invalid", error="INVITE_HASH_EXPIRED")
            needs_approval = invite.request_needed
        if chat.is_member(account.key):
            error = None if target.startswith("@") else "USER_ALREADY_PARTICIPANT"
            return JoinResult("already", world._dialog(chat, account.key), error)
        if needs_approval:
            self.pending.add((account.key, chat.id))
            return JoinResult("pending", error="INVITE_REQUEST_SENT")
        today = [t for t in self.joined_at.get(account.key, []) if t > now - DAY]
        if self.flood_after is not None and len(today) >= self.flood_after:
            start_flood(account, "join", now + self.flood_seconds)
            raise errors.FloodWaitError(request=None, capture=self.flood_seconds)
        if chat.kind == "channel" and self.channels_of(account.key) >= self.caps.get(account.key, self.channels_cap):
            return JoinResult("too_many", error="CHANNELS_TOO_MUCH")
        chat.members.add(account.key)
        self.joined_at[account.key] = [*today, now]
        return JoinResult("joined", world._dialog(chat, account.key))

    async def check_invite(self, port: SimPort, invite_hash: str) -> InvitePreview:
        world = self.world
        account = world._account(port.key)
        invite = self.invites.get(invite_hash.removeprefix("+"))
        chat = world.chats.get(invite.chat_id) if invite is not None else None
        fault = await world._enter(port, account, "check_invite", chat)
        if fault is not None:
            await fault.strike(account, world.clock, "check_invite")
        if invite is None or chat is None:
            return InvitePreview(invalid="INVITE_HASH_INVALID")
        if invite.expired:
            return InvitePreview(invalid="INVITE_HASH_EXPIRED")
        member = chat.is_member(account.key)
        return InvitePreview(
            title=chat.title,
            broadcast=chat.broadcast,
            request_needed=invite.request_needed and not member,
            already_member=member,
            participants=len(chat.members | chat.admins),
            dialog=world._dialog(chat, account.key) if member else None,
        )
