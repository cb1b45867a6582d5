"""What of an own message's formatting arrives, and how a forward shows, as Telegram does it.

* Custom emoji (``MessageEntityCustomEmoji``) are a Telegram Premium feature: a message from an account
  without Premium is taken, with its text and other formatting, and the custom emoji entities dropped
  (people see the plain emoji the text holds). Telegram raises no error for it (Telethon issue #3975:
  "the output message does not have any entities"; TDLib's ``textEntityTypeCustomEmoji``: "only premium
  users can use premium custom emoji").
* ``no_webpage`` sends a text without its link preview.
* ``drop_media_captions`` strips media captions from a forward sent without its author header
  (``drop_author``); a forward that keeps its header is a forward as the channel posted it, captions too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.world.model import SimAccount

__all__ = ["CUSTOM_EMOJI", "forwarded", "own"]

CUSTOM_EMOJI = "custom_emoji"


def own(account: SimAccount, entities: Sequence[Mapping[str, Any]], *, no_webpage: bool = False) -> dict[str, Any]:
    """The delivery's fields for an own text or caption sent by ``account``."""
    kept = tuple(str(e["type"]) for e in entities if e.get("type") != CUSTOM_EMOJI or account.premium)
    return {"entities": kept, "no_webpage": no_webpage}


def forwarded(drop_author: bool, drop_media_captions: bool) -> dict[str, Any]:
    """The delivery's fields for a forward."""
    return {"captions_dropped": drop_author and drop_media_captions}
