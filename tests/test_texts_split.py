"""The one message splitter (core.texts.split): Telegram's unit is the UTF-16 code unit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.texts.split import TELEGRAM_LIMIT, split_message, take_fitting, utf16_len

# Letters, a space, an astral-plane emoji (2 units) and a BMP symbol (1 unit).
_ALPHABET = st.sampled_from(["a", "b", " ", "😀", "🎉", "é", "⏹"])


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("abc", 3), ("é⏹", 2), ("😀", 2), ("a😀b", 4), ("𝄞", 2), ("\ud800", 1)],
)
def test_utf16_len_counts_astral_characters_twice(text: str, units: int) -> None:
    assert utf16_len(text) == units


def test_a_text_that_fits_is_one_message() -> None:
    assert split_message("") == [""]
    text = "😀" * (TELEGRAM_LIMIT // 2)  # exactly 4096 units
    assert split_message(text) == [text]
    assert len(split_message(text + "a")) == 2


@given(st.lists(st.text(alphabet=_ALPHABET, max_size=80), max_size=120), st.integers(min_value=80, max_value=400))
def test_lines_are_kept_whole_when_they_fit(lines: list[str], limit: int) -> None:
    text = "\n".join(lines)
    chunks = split_message(text, limit)
    assert "\n".join(chunks) == text
    assert all(utf16_len(c) <= limit for c in chunks)
    if lines:
        for chunk in chunks:  # every chunk is whole lines of the text
            assert all(line in lines for line in chunk.split("\n"))


_MARKUP = st.sampled_from(["a", "\n", " ", "😀", "<", ">", "&", ";"])


@given(st.text(alphabet=_MARKUP, max_size=3000), st.integers(2, 300))
def test_no_chunk_is_over_the_limit_and_nothing_is_lost(text: str, limit: int) -> None:
    chunks = split_message(text, limit)
    assert all(utf16_len(c) <= limit for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_a_single_over_long_line_is_still_split() -> None:
    chunks = split_message("x" * 10_000)
    assert [len(c) for c in chunks] == [4096, 4096, 1808]
    emoji = "😀" * 3000  # 6000 units: never half a character
    parts = split_message(emoji)
    assert "".join(parts) == emoji and all(utf16_len(p) <= TELEGRAM_LIMIT for p in parts)
    assert [utf16_len(p) for p in parts] == [4096, 1904]


def test_a_long_line_is_cut_at_a_space_near_the_end() -> None:
    words = " ".join(["word"] * 100)  # 499 characters
    chunks = split_message(words, 100)
    assert "".join(chunks) == words
    assert all(c.endswith(" ") for c in chunks[:-1]) and all(utf16_len(c) <= 100 for c in chunks)


def test_a_cut_never_falls_inside_an_html_tag_or_entity() -> None:
    line = " ".join(f'<a href="https://t.me/g{i}">g{i}</a>&amp;&#128512;' for i in range(300))
    chunks = split_message(line, 97)
    assert "".join(chunks) == line
    for chunk in chunks:
        assert utf16_len(chunk) <= 97
        assert not re.search(r"<[^>]*\Z", chunk) and not re.search(r"\A[^<]*>", chunk)
        assert not re.search(r"&#?\w*\Z", chunk)


def test_paragraphs_are_merged_and_cut_between_them() -> None:
    texts = ["x" * 1500, "y" * 1500, "z" * 1500]
    chunks = split_message("\n\n".join(texts), sep="\n\n")
    assert chunks == ["x" * 1500 + "\n\n" + "y" * 1500, "z" * 1500]


def test_take_fitting_counts_units_and_separators() -> None:
    assert take_fitting(["ab", "cd", "ef"], 6) == ["ab", "cd"]
    assert take_fitting(["😀", "😀", "😀"], 6) == ["😀", "😀"]  # 2 units and a separator each
    assert take_fitting(["ab", "cd"], 5, sep_units=2) == ["ab"]
    assert take_fitting(["toolong", "a"], 3) == []  # stops at the first that does not fit
