"""What ``messages.getDialogs`` shows one account of the simulated world: its chats, page by page.

Telegram answers at most 100 dialogs per request, and Telethon's ``iter_dialogs`` (what the real adapter
reads with) asks again until a page comes back short: the main list (folder 0), then the archive
(folder 1). A folder of n dialogs therefore costs n // 100 + 1 requests, an empty archive one. The world
counts one "dialogs" request per page the same way, so discovery's cost measured against the world is
its cost on Telegram (tests/test_telethon_dialogs.py measures the adapter's against the contract fake).

A chat is in an account's dialogs while the account is a member, and also after a ban: Telegram keeps
the chat there as ``channelForbidden`` (no username, no rights: ``why_not='kicked'``). A member removed
without a ban is simply gone from the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.ports import Dialog, DialogKind, Peer, WriteBlock
from sandbox.world.model import SimChat

PAGE_SIZE = 100


def folders(chats: Iterable[SimChat], account: str) -> tuple[list[SimChat], list[SimChat]]:
    """The account's main list and its archive folder, in the world's order of chats."""
    main: list[SimChat] = []
    archive: list[SimChat] = []
    for chat in chats:
        if chat.is_member(account) or account in chat.banned:
            (archive if account in chat.archived else main).append(chat)
    return main, archive


def pages(folder: Sequence[SimChat]) -> list[Sequence[SimChat]]:
    """The pages a client reads one folder in: full pages, then a short one (empty when the folder
    holds a multiple of 100, or nothing: that request still goes out)."""
    return [folder[start : start + PAGE_SIZE] for start in range(0, len(folder) + 1, PAGE_SIZE)]


def dialog_of(chat: SimChat, account: str, peer: Peer, *, archived: bool) -> Dialog:
    """The chat as the account's dialog: the kind, and whether the account may write there and why not."""
    if account in chat.banned:
        kicked_kind: DialogKind = "channel" if chat.broadcast else "group"
        return Dialog(peer, kicked_kind, chat.title, can_write=False, why_not="kicked", archived=archived)
    kind: DialogKind = "channel" if chat.broadcast else "forum" if chat.forum else "group"
    why_not: WriteBlock | None = None
    if chat.broadcast and account not in chat.admins:
        why_not = "broadcast"
    elif account in chat.forbidden:
        why_not = "banned"
    elif chat.read_only and account not in chat.admins:
        why_not = "read_only"
    return Dialog(
        peer=peer,
        kind=kind,
        title=chat.title,
        username=chat.username,
        can_write=why_not is None,
        why_not=why_not,
        slow_mode=chat.slow_mode,
        archived=archived,
    )
