"""The API pairs as the admin manages them (/pairs, /addpair, /delpair): usage lines, refused input, reports.

HTML unless a text says it is plain (usage lines and refused input become ``InputError.user_message``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.i18n import _, n_
from core.texts.fmt import esc


class Pair(Protocol):
    """An API pair (``storage.pairs.ApiPair``)."""

    @property
    def api_id(self) -> int: ...
    @property
    def api_hash(self) -> str: ...
    @property
    def used(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def full(self) -> bool: ...


# Usage lines: plain text (they become InputError.user_message, which the error handler escapes).
def USAGE_ADDPAIR() -> str:
    return _("Usage: /addpair <api_id> <api_hash> (both from my.telegram.org)")


def USAGE_DELPAIR() -> str:
    return _("Usage: /delpair <api_id> [move]  (move: its sessions go to other pairs with room)")


def API_ID_INVALID() -> str:
    return _("The API id must be a positive whole number, as shown on my.telegram.org.")


def API_HASH_INVALID() -> str:
    return _("The API hash must be exactly 32 hexadecimal characters (0-9, a-f).")


def api_id_exists(api_id: int) -> str:
    return _("The API id {api_id} is already in the pool.", api_id=api_id)


def no_pair(api_id: int) -> str:
    return _("There is no API pair with id {api_id}.", api_id=api_id)


def pair_in_use(api_id: int, sessions: int) -> str:
    return (
        n_(
            "The API pair {api_id} is used by {n} session; each keeps its API id for life, so it is not "
            "removed. To move them to other pairs with room (their API id changes once): /delpair {api_id} "
            "move, or 'adbot pairs remove {api_id} --move'.",
            "The API pair {api_id} is used by {n} sessions; each keeps its API id for life, so it is not "
            "removed. To move them to other pairs with room (their API id changes once): /delpair {api_id} "
            "move, or 'adbot pairs remove {api_id} --move'.",
            sessions,
            api_id=api_id,
        )
    )


def no_room_to_move(api_id: int, sessions: int, room: int) -> str:
    return (
        n_(
            "The API pair {api_id} is used by {n} session, but the other pairs have room for only {room}: "
            "nothing was moved or removed. Add an API pair first.",
            "The API pair {api_id} is used by {n} sessions, but the other pairs have room for only {room}: "
            "nothing was moved or removed. Add an API pair first.",
            sessions,
            api_id=api_id,
            room=room,
        )
    )


def _mask_hash(api_hash: str) -> str:
    return f"{api_hash[:4]}…{api_hash[-2:]}" if len(api_hash) > 8 else "…"


def pairs_list(pairs: Sequence[Pair]) -> str:
    if not pairs:
        return _("🔑 No API pairs yet. Add one with /addpair <code>api_id api_hash</code>.")
    lines = [_("🔑 <b>API pairs</b> ({count})", count=len(pairs))]
    lines += [
        _(
            "• <code>{api_id}</code> hash <code>{mask_hash}</code>: {used}/{capacity} sessions",
            api_id=p.api_id,
            mask_hash=esc(_mask_hash(p.api_hash)),
            used=p.used,
            capacity=p.capacity,
        )
        + (_(" (full)") if p.full else "")
        for p in pairs
    ]
    return "\n".join(lines)


def addpair_in_group(message_deleted: bool) -> str:
    """/addpair sent outside a private chat: never added, the hash is treated as seen by the group."""
    done = (
        _("I deleted it there")
        if message_deleted
        else _("⚠ I could not delete it there (I need the right to delete messages): delete it yourself")
    )
    return _(
        "🔒 /addpair works only in a private chat with me, so I did not add that pair. Your message in "
        "the group contained the API hash: {done}, and treat the hash as seen by the group.",
        done=done,
    )


def pair_added(pair: Pair, message_deleted: bool) -> str:
    note = (
        _("I deleted your message because it contained the hash.")
        if message_deleted
        else _("⚠ I could not delete your message: delete it yourself, it contains the hash.")
    )
    using = n_(
        "\n{n} session connect with its API id now (waiting ones got it, for life).",
        "\n{n} sessions connect with its API id now (waiting ones got it, for life).",
        pair.used,
    )
    using = using if pair.used else ""
    return _(
        "✅ API pair <code>{api_id}</code> added (hash <code>{mask_hash}</code>, up to {capacity} "
        "sessions).{using}\n"
        "{note}",
        api_id=pair.api_id,
        mask_hash=esc(_mask_hash(pair.api_hash)),
        capacity=pair.capacity,
        using=using,
        note=note,
    )


def pair_removed(api_id: int, moved: Sequence[tuple[int, int]] = ()) -> str:
    """``moved``: (session id, the API id it connects with from now on) for each session moved off it."""
    lines = [_("✅ API pair <code>{api_id}</code> removed.", api_id=api_id)]
    if moved:
        lines.append(
            n_(
                "{n} session moved to other pairs (their API id changed once, as you chose):",
                "{n} sessions moved to other pairs (their API id changed once, as you chose):",
                len(moved),
            )
        )
        lines += [_("• session #{sid} → API id <code>{new}</code>", sid=sid, new=new) for sid, new in moved]
    return "\n".join(lines)
