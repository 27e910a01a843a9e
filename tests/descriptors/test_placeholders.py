"""What counts as filled in: one rule for the mismatch rules and the readiness score."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mlrails.descriptors.placeholders import PLACEHOLDERS, TO_FILL, filled


@given(
    word=st.sampled_from(sorted(PLACEHOLDERS)),
    pad=st.sampled_from(["", " ", "  ", "\t", "\n"]),
    case=st.sampled_from([str.lower, str.upper, str.title]),
)
def test_placeholders_in_any_case_and_padding_are_not_filled(
    word: str, pad: str, case: object
) -> None:
    assert not filled(pad + case(word) + pad)  # type: ignore[operator]


@given(hint=st.text(max_size=30))
def test_what_describe_writes_is_not_filled(hint: str) -> None:
    assert not filled(TO_FILL)
    assert not filled(f"{TO_FILL}: {hint}")
    assert not filled(f"  {TO_FILL.lower()} {hint}")


@given(value=st.one_of(st.integers(), st.floats(), st.booleans(), st.lists(st.integers())))
def test_any_non_text_value_is_an_answer(value: object) -> None:
    assert filled(value)  # a number, even 0 or NaN, is what the team wrote


@given(text=st.text(max_size=40))
def test_text_that_starts_with_a_word_is_an_answer(text: str) -> None:
    assert filled("x" + text)  # no placeholder starts with "x"
    assert filled("accuracy " + text)


def test_none_and_examples() -> None:
    assert not filled(None)
    assert filled("accuracy") and filled("0.9") and filled("TO FILLING STATION"[3:])
    assert not filled("TBD") and not filled(" n/a ") and not filled("?")
