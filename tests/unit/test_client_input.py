"""Quoting client input in messages: at most 64 of its characters, and its length."""

from __future__ import annotations

from domain.client_input import QUOTE_LIMIT, clipped, quoted


def test_short_input_is_quoted_whole() -> None:
    assert quoted("BTC") == "'BTC'"
    assert quoted("x" * 64) == repr("x" * 64)


def test_long_input_is_cut_to_its_first_64_characters_and_says_how_long_it_was() -> None:
    assert QUOTE_LIMIT == 64
    assert quoted("A" * 17000) == "'" + "A" * 64 + "…' (17000 characters)"
    assert quoted("x" * 65) == "'" + "x" * 64 + "…' (65 characters)"


def test_what_repr_escapes_stays_escaped() -> None:
    assert quoted("a'\n\udcff") == repr("a'\n\udcff")
    assert quoted("\x00" * 100).startswith("'" + "\\x00" * 64 + "…'")


def test_clipped_keeps_64_characters() -> None:
    assert clipped("n" * 100) == "n" * 64
    assert clipped("limit") == "limit"
