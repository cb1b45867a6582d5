"""control_bot.services.ids: ids an admin types, refused without ever showing storage's bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from control_bot.services.ids import MAX_ID, is_id, parse_id, shown
from core.errors import InputError


def refused(typed: str) -> str:
    return f"“{typed}” is not an id I know."


@pytest.mark.parametrize("raw", ["1", " 42 ", "9223372036854775807", "007"])
def test_ids_are_read(raw: str) -> None:
    assert parse_id(raw, refused) == int(raw)


@pytest.mark.parametrize(
    "raw", ["0", "-5", "abc", "", "1.5", "9223372036854775808", "99999999999999999999999", "١٢", "12 3"]
)
def test_anything_else_is_refused_quoting_it_and_no_bound(raw: str) -> None:
    with pytest.raises(InputError) as info:
        parse_id(raw, refused)
    assert info.value.user_message == refused(shown(raw))
    assert str(MAX_ID) not in info.value.user_message and "2^63" not in info.value.user_message


def test_a_long_input_is_quoted_shortened() -> None:
    assert shown("x" * 100) == "x" * 23 + "…"


@given(st.integers())
def test_is_id_is_the_positive_signed_64_bit_range(value: int) -> None:
    assert is_id(value) == (0 < value < 2**63)
