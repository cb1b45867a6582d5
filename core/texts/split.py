"""Fitting text into Telegram messages, counted in Telegram's unit: UTF-16 code units; and the words for a
text's length, counted as people count characters.

Telegram refuses a message whose text is over 4,096 UTF-16 code units (an astral-plane character, like
most emoji, counts 2); entity offsets are in the same unit. The bot's texts are HTML, and the text
Telegram counts is what is left after parsing, which is never longer than the source: counting the
source is safe.

Two tools, for the two ways a long text is made to fit:

* ``split_message``: a report too long for one message goes out as several, cut at line ends;
* ``take_fitting``: a list inside one message shows the items that fit a budget (and says how many
  more there are).

People count characters, not UTF-16 units: an emoji is one character to them (even a family of four
joined into one picture), two or more units to Telegram. ``char_count`` is the one count every text
about a length shows; ``length_words`` / ``too_long_words`` are those texts, and ``too_long_words``
says once that most emoji count double, with how much to cut in Telegram's unit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from core.i18n import n_, num

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


# --- lengths as people count them ---------------------------------------------------------------------

_ZWJ = "\u200d"


def _extends(ch: str) -> bool:
    """Whether ``ch`` belongs to the character before it (a mark, a variation selector, a skin tone, an
    emoji tag): it adds nothing a reader would count."""
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (text or emoji style)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # emoji tags (subdivision flags)
        or 0xE0100 <= code <= 0xE01EF
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def clusters(text: str) -> list[str]:
    """``text`` cut into the characters a reader sees: a letter with its accents, an emoji with its skin
    tone or variation selector, emoji joined by a zero-width joiner (👨‍👩‍👧), a flag (two regional
    letters). An approximation of Unicode's grapheme clusters that needs nothing outside the standard
    library; it never splits a surrogate pair (Python strings hold code points)."""
    out: list[str] = []
    join_next = False
    for ch in text:
        if out and (join_next or ch == _ZWJ or _extends(ch)):
            out[-1] += ch
        elif out and _regional(ch) and len(out[-1]) == 1 and _regional(out[-1]):
            out[-1] += ch  # the second letter of a flag
        else:
            out.append(ch)
        join_next = ch == _ZWJ
    return out


def char_count(text: str) -> int:
    """How many characters ``text`` has as people count them (see ``clusters``): the one count every
    length text shows."""
    return len(clusters(text))


def clip(text: str, most: int) -> str:
    """``text`` cut to at most ``most`` characters as people count them, with "…" when cut; a cut never
    falls inside an emoji or between a letter and its accent."""
    parts = clusters(text)
    return text if len(parts) <= most else "".join(parts[:most]) + "…"


def over_limit(text: str, limit: int = TELEGRAM_LIMIT) -> int:
    """How many UTF-16 units ``text`` has beyond ``limit`` (0 when it fits): how much to cut, in the
    unit Telegram counts."""
    return max(0, utf16_len(text) - limit)


def length_words(text: str) -> str:
    """"12 characters": the length of ``text`` as a reader counts it."""
    return n_("{n} character", "{n} characters", char_count(text))


def too_long_words(text: str, limit: int = TELEGRAM_LIMIT) -> str:
    """Why ``text`` does not fit one message of ``limit`` UTF-16 units and how much to cut, as two whole
    sentences: its length as people count it, the limit, that most emoji count as two (said once), and
    "shorten it by about K" where K is the excess in Telegram's unit (cutting K plain characters fits)."""
    length = n_(
        "The text has {n} character, and one Telegram message holds at most {limit}; most emoji count as two.",
        "The text has {n} characters, and one Telegram message holds at most {limit}; most emoji count as two.",
        char_count(text),
        limit=num(limit),
    )
    excess = over_limit(text, limit)
    if not excess:
        return length
    cut = n_("Shorten it by about {n} character.", "Shorten it by about {n} characters.", excess)
    return f"{length} {cut}"
