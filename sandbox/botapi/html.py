"""Telegram's parse_mode HTML and entity offsets, as the emulator applies them to the bot's texts.

The parser follows tdlib's parse_html (the parser behind the Bot API) closely enough that what fails
here fails on Telegram: unknown tags, unbalanced tags, a bare "<" in user text. Entity offsets and
lengths are in UTF-16 code units, as on Telegram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.texts.split import utf16_len as utf16_len  # the one count of Telegram's unit (re-exported here)
from sandbox.botapi.models import JsonDict

_BOT_COMMAND_IN_TEXT_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


class HtmlParseError(Exception):
    """The text is not valid Telegram HTML; str(error) is Telegram's own wording."""


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: tuple[JsonDict, ...] = ()


_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}
_SPACES = " \t\r\n\v\f"
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``pos`` the way Telegram does (only lt/gt/amp/quot and numeric references;
    the ``;`` is optional). None means "not an entity": the ``&`` is then literal text."""
    n = len(source)
    end = pos + 1
    if end < n and source[end] == "#":
        end += 1
        code = 0
        hexadecimal = end < n and source[end] == "x"
        if hexadecimal:
            end += 1
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < n and source[end] in digits:
            code = code * (16 if hexadecimal else 10) + int(source[end], 16)
            end += 1
            if code >= 0x10FFFF:
                return None
        if code == 0 or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < n and source[end].isascii() and source[end].isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(source[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and source[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the plain text where the tag's content starts
    language: str = ""


def parse_html(source: str) -> FormattedText:
    """Parse Telegram HTML into plain text + entities; raise HtmlParseError like the real server."""
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[JsonDict] = []
    n = len(source)

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    def skip_spaces(index: int) -> int:
        while index < n and source[index] in _SPACES:
            index += 1
        return index

    i = 0
    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_html_entity(source, i)
            if decoded is not None:
                out.append(decoded[0])
                offset += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if char != "<":
            out.append(char)
            offset += utf16_len(char)
            i += 1
            continue

        begin = i
        at = byte_offset(begin)
        i += 1
        if i < n and source[i] == "/":
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {at}")
            i += 1
            name_start = i
            while i < n and source[i] not in _SPACES and source[i] != ">":
                i += 1
            end_name = source[name_start:i].lower()
            i = skip_spaces(i)
            if i >= n or source[i] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {at}")
            i += 1
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag.name}>", found "</{end_name}>"'
                )
            _close_tag(tag, offset, "".join(out), stack, entities)
            continue

        while i < n and source[i] not in _SPACES and source[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {at}")
        tag_name = source[begin + 1 : i].lower()
        if tag_name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag_name}" at byte offset {at}')
        argument = ""
        while True:
            i = skip_spaces(i)
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {at}")
            if source[i] == ">":
                break
            attr_start = i
            while i < n and source[i] not in _SPACES and source[i] not in "=>":
                i += 1
            attr_name = source[attr_start:i].lower()
            if not attr_name:
                raise HtmlParseError(f'Empty attribute name in the tag "{tag_name}" at byte offset {at}')
            i = skip_spaces(i)
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag_name}" at byte offset {at}')
            if source[i] != "=":
                if tag_name == "blockquote" and attr_name == "expandable":
                    argument = "1"
                continue
            i = skip_spaces(i + 1)
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag_name}" at byte offset {at}')
            if source[i] in "'\"":
                quote = source[i]
                i += 1
                value_chars: list[str] = []
                while i < n and source[i] != quote:
                    if source[i] == "&":
                        decoded = _decode_html_entity(source, i)
                        if decoded is not None:
                            value_chars.append(decoded[0])
                            i = decoded[1]
                            continue
                    value_chars.append(source[i])
                    i += 1
                if i < n:
                    i += 1
                value = "".join(value_chars)
            else:
                token_start = i
                while i < n and source[i].isascii() and (source[i].isalnum() or source[i] in ".-"):
                    i += 1
                value = source[token_start:i].lower()
                if i < n and source[i] not in _SPACES and source[i] != ">":
                    raise HtmlParseError(f"Unexpected end of name token at byte offset {byte_offset(token_start)}")
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {at}")
            if tag_name == "a" and attr_name == "href":
                argument = value
            elif tag_name == "code" and attr_name == "class" and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif tag_name == "span" and attr_name == "class" and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
            elif tag_name == "tg-emoji" and attr_name == "emoji-id":
                argument = value
        if tag_name == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        if tag_name == "tg-emoji" and not argument.isdigit():
            raise HtmlParseError("Invalid custom emoji identifier specified")
        i += 1
        stack.append(_OpenTag(tag_name, argument, offset))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return FormattedText("".join(out), tuple(entities))


def _close_tag(tag: _OpenTag, offset: int, text: str, stack: list[_OpenTag], entities: list[JsonDict]) -> None:
    length = offset - tag.offset
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, as on Telegram.
        stack[-1].language = tag.argument
        return
    if length <= 0:
        return
    entity: JsonDict = {"offset": tag.offset, "length": length}
    if tag.name in _SIMPLE_TAG_ENTITY:
        entity["type"] = _SIMPLE_TAG_ENTITY[tag.name]
    elif tag.name == "a":
        entity["type"] = "text_link"
        entity["url"] = tag.argument or _utf16_slice(text, tag.offset, length)
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
    else:  # tg-emoji
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.argument
    entities.append(entity)


def _utf16_slice(text: str, offset: int, length: int) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le")


def command_entities(text: str) -> list[JsonDict]:
    """bot_command entities the Telegram client attaches to /commands in a user's text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _BOT_COMMAND_IN_TEXT_RE.finditer(text)
    ]
