"""Fitting text into Telegram messages, counted in Telegram's unit: UTF-16 code units.

Telegram refuses a message whose text is over 4,096 UTF-16 code units (an astral-plane character, like
most emoji, counts 2); entity offsets are in the same unit. The bot's texts are HTML, and the text
Telegram counts is what is left after parsing, which is never longer than the source: counting the
source is safe.

Two tools, for the two ways a long text is made to fit:

* ``split_message``: a report too long for one message goes out as several, cut at line ends;
* ``take_fitting``: a list inside one message shows the items that fit a budget (and says how many
  more there are).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TELEGRAM_LIMIT = 4096
"""Telegram's limit for one message's text, in UTF-16 code units."""

# An HTML tag or character reference that is still open at the end of a piece: a cut there would leave
# half a tag in one message and half in the next, and Telegram would refuse both.
_OPEN_TAG_RE = re.compile(r"<[^<>]*\Z")
_OPEN_ENTITY_RE = re.compile(r"&#?[A-Za-z0-9]*\Z")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's limits and entity offsets.

    A lone surrogate (JSON can carry one) counts as the one unit it is, instead of failing."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_message(text: str, limit: int = TELEGRAM_LIMIT, *, sep: str = "\n") -> list[str]:
    """``text`` cut into messages of at most ``limit`` UTF-16 units each.

    The cuts fall on ``sep`` (a line end by default; ``"\\n\\n"`` cuts between paragraphs), which is
    dropped there, so ``sep.join(chunks) == text`` whenever every piece between two separators fits:
    those pieces are never cut. A piece longer than ``limit`` on its own is cut too, at a space where
    one is near the end, never inside an HTML tag or character reference. The texts open and close
    every element on one line, so a cut between lines never parts a tag from its closing tag (a cut
    inside one over-long line can: no text of ours has such a line)."""
    if utf16_len(text) <= limit:
        return [text]
    sep_units = utf16_len(sep)
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in text.split(sep):
        units = utf16_len(piece)
        if units > limit:
            if current:
                chunks.append(sep.join(current))
            *whole, piece = _cut_long(piece, limit)
            chunks += whole
            current, size = [piece], utf16_len(piece)
            continue
        extra = units + (sep_units if current else 0)
        if current and size + extra > limit:
            chunks.append(sep.join(current))
            current, size = [piece], units
        else:
            current.append(piece)
            size += extra
    chunks.append(sep.join(current))
    return chunks


def _cut_long(piece: str, limit: int) -> list[str]:
    """One over-long piece (no separator in it) cut into parts of at most ``limit`` units."""
    parts: list[str] = []
    start = 0
    while utf16_len(piece[start:]) > limit:
        end = _longest_prefix(piece, start, limit)
        opened = _open_markup(piece[start:end])
        # Before a tag left open at the end; a tag longer than a whole message is cut anyway.
        cut = start + opened if opened else end
        # A space in the second half is a nicer place (it ends this part: nothing is lost), unless it is
        # inside a tag itself (<a href=...>).
        space = piece.rfind(" ", start, cut)
        while space > start + (cut - start) // 2 and _open_markup(piece[start : space + 1]) is not None:
            space = piece.rfind(" ", start, space)
        if space > start + (cut - start) // 2:
            cut = space + 1
        parts.append(piece[start:cut])
        start = cut
    parts.append(piece[start:])
    return parts


def _open_markup(text: str) -> int | None:
    """Where an HTML tag or character reference still open at the end of ``text`` starts, if any."""
    starts = [m.start() for m in (_OPEN_TAG_RE.search(text), _OPEN_ENTITY_RE.search(text)) if m is not None]
    return min(starts) if starts else None


def _longest_prefix(piece: str, start: int, limit: int) -> int:
    """The end of the longest ``piece[start:end]`` of at most ``limit`` units (at least one character)."""
    units = 0
    for end in range(start, len(piece)):
        units += 2 if ord(piece[end]) > 0xFFFF else 1
        if units > limit:
            return max(end, start + 1)
    return len(piece)


def take_fitting(items: Iterable[str], budget: int, *, sep_units: int = 1) -> list[str]:
    """The first ``items`` that fit ``budget`` UTF-16 units, each counted with ``sep_units`` for the
    separator that goes with it; stops at the first that does not fit (the order is the reader's)."""
    kept: list[str] = []
    for item in items:
        budget -= utf16_len(item) + sep_units
        if budget < 0:
            break
        kept.append(item)
    return kept
