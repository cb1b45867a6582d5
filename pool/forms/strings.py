"""Session strings (Telethon, Pyrogram / Kurigram, GramJS) and text files of them, read from bytes.

Layouts (checked against each library's writer; ``docs/SESSION_FORMS.md``):
- Telethon: ``"1"`` + urlsafe base64 of ``>B{4|16}sH256s`` (dc id, packed IPv4/IPv6, port, auth key):
  263 or 275 bytes. No user id, app id or test flag: a test-server address says test.
- GramJS: ``"1"`` + base64 of ``u8 dc | i16 BE address length | address text | i16 BE port | 256-byte
  key`` (261 + address length bytes). Its IPv4 form is as long as Telethon's IPv6 one; told apart as
  GramJS's own loader does: the length field must match. The port is read unsigned (0..65535): every
  value a string can hold is a port to judge, so none (a "negative" one) slips past the foreign-address
  note.
- Pyrogram / Kurigram: urlsafe base64 without padding, chosen by decoded length: 263 ``>B?256sI?``
  (dc, test, key, 32-bit user id, bot), 267 ``>B?256sQ?``, 271 ``>BI?256sQ?`` (dc, app id, test, key,
  user id, bot). Its first character is never ``1`` (it encodes a DC id <= 5).

Hostile input: every line is capped (``MAX_LINE``) before decoding, the file too (``MAX_TEXT_BYTES``,
``MAX_LINES``); base64 is decoded strictly and only exact lengths are read; flag bytes must be 0/1, the
DC id in range, the key not all zeros. A refusal never quotes the line.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import struct

from core import dcs
from core.errors import InvalidUpload
from core.session_forms import Extracted, Form, checked
from core.texts import intake as texts

MAX_LINE = 600
"""Characters per line (the longest known string is 377)."""
MAX_TEXT_BYTES = 256 * 1024
MAX_LINES = 500
"""Session string lines per file (blank and ``#`` lines are not counted)."""

_BASE64_RE = re.compile(r"[A-Za-z0-9+/_\-]+={0,2}")
_CANDIDATE_MIN = 300
"""A line of base64 at least this long is taken for a session string (and answered as one); a text file
without one is not a file of session strings at all."""
_SNIFF_BYTES = 64 * 1024
_PYROGRAM = {263: ">B?256sI?", 267: ">B?256sQ?", 271: ">BI?256sQ?"}
_TELETHON_V4 = 263
_TELETHON_V6 = 275
_GRAMJS_BASE = 261  # dc (1) + length (2) + port (2) + key (256)


def _decode(body: str) -> bytes:
    if not body.isascii():
        raise InvalidUpload(texts.STRING_NOT_ASCII())
    if not _BASE64_RE.fullmatch(body):
        raise InvalidUpload(texts.STRING_NOT_BASE64())
    # Both alphabets: Telethon and Pyrogram write the urlsafe one, GramJS the standard one.
    plain = body.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(plain + "=" * (-len(plain) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidUpload(texts.STRING_NOT_BASE64()) from None


def _ip_text(packed: bytes) -> str:
    return str(ipaddress.ip_address(packed))


def _gramjs_ip(text: bytes) -> str | None:
    """A GramJS string's address rebuilt from its number (never the string's own text); None for a host
    name. Anything but ASCII is no address GramJS writes: refused."""
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidUpload(texts.GRAMJS_BAD_ADDRESS()) from None
    try:
        ip = ipaddress.ip_address(decoded)
    except ValueError:
        return None
    return str(type(ip)(int(ip)))


def _telethon_or_gramjs(raw: bytes) -> Extracted:
    if len(raw) == _TELETHON_V4:
        dc_id, packed, port, key = struct.unpack(">B4sH256s", raw)
        address = _ip_text(packed)
        return checked(Form.TELETHON_STRING, dc_id, key, test=dcs.is_test_address(address), address=address, port=port)
    if len(raw) >= 3:
        length = struct.unpack(">h", raw[1:3])[0]
        if 1 <= length <= 100 and len(raw) == _GRAMJS_BASE + length:
            ip_text = _gramjs_ip(raw[3 : 3 + length])  # None: a host name (ignored, as any address is)
            port = struct.unpack(">H", raw[3 + length : 5 + length])[0]
            key = raw[5 + length :]
            test = ip_text is not None and dcs.is_test_address(ip_text)
            return checked(
                Form.GRAMJS_STRING, raw[0], key, test=test, address=ip_text, port=port, odd=ip_text is None
            )
    if len(raw) == _TELETHON_V6:
        dc_id, packed, port, key = struct.unpack(">B16sH256s", raw)
        address = _ip_text(packed)
        return checked(Form.TELETHON_STRING, dc_id, key, test=dcs.is_test_address(address), address=address, port=port)
    raise InvalidUpload(texts.string_unknown_length(len(raw)))


def _pyrogram(raw: bytes) -> Extracted:
    layout = _PYROGRAM.get(len(raw))
    if layout is None:
        raise InvalidUpload(texts.string_unknown_length(len(raw)))
    test_at = 5 if len(raw) == 271 else 1
    if raw[test_at] > 1 or raw[-1] > 1:
        raise InvalidUpload(texts.BAD_FLAG())
    fields = struct.unpack(layout, raw)
    api_id: int | None
    if len(raw) == 271:
        dc_id, api_id, test, key, user_id, bot = fields
    else:
        dc_id, test, key, user_id, bot = fields
        api_id = None
    if bot:
        raise InvalidUpload(texts.BOT_SESSION())
    return checked(Form.PYROGRAM_STRING, dc_id, key, test=bool(test), user_id=user_id, api_id=api_id)


def parse_session_string(text: str) -> Extracted:
    """One session string (surrounding spaces ignored); raises InvalidUpload with the reason."""
    line = text.strip()
    if len(line) > MAX_LINE:
        raise InvalidUpload(texts.string_too_long(MAX_LINE))
    if not line:
        raise InvalidUpload(texts.NOT_A_SESSION_STRING())
    if line[0] == "1":
        return _telethon_or_gramjs(_decode(line[1:]))
    return _pyrogram(_decode(line))


def _lines(data: bytes) -> list[tuple[int, str]]:
    """The numbered lines that are not blank or comments; raises for the whole file."""
    if len(data) > MAX_TEXT_BYTES:
        raise InvalidUpload(texts.text_too_large(len(data), MAX_TEXT_BYTES))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidUpload(texts.TEXT_NOT_UTF8()) from None
    numbered = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    return [(n, line) for n, line in numbered if line and not line.startswith("#")]


def _candidate(line: str) -> bool:
    return len(line) >= _CANDIDATE_MIN and line.isascii() and _BASE64_RE.fullmatch(line[: MAX_LINE + 1]) is not None


def holds_session_strings(data: bytes) -> bool:
    """Whether ``data`` reads as text with at least one line shaped like a session string (base64, long
    enough) in its first ``_SNIFF_BYTES``; anything else is refused as an unsupported file. Caps and
    encoding are judged afterwards, by ``parse_strings_file``, with their own reasons."""
    head = data[:_SNIFF_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
    return any(_candidate(line.strip()) for line in head.splitlines() if not line.lstrip().startswith("#"))


def parse_strings_file(data: bytes) -> list[tuple[int, Extracted | InvalidUpload]]:
    """Each session string line of a text file (line number, what it holds or why it is refused); the
    whole file is refused (InvalidUpload) when too large, not UTF-8 or over ``MAX_LINES`` lines."""
    lines = _lines(data)
    if len(lines) > MAX_LINES:
        raise InvalidUpload(texts.too_many_lines(len(lines), MAX_LINES))
    results: list[tuple[int, Extracted | InvalidUpload]] = []
    for number, line in lines:
        try:
            results.append((number, parse_session_string(line)))
        except InvalidUpload as exc:
            results.append((number, exc))
    return results
