"""IntervalParser: the configured candle intervals, and what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInterval
from domain.interval import Interval, IntervalParser

CONFIGURED = ("1m", "5m", "15m", "1h", "4h", "1d", "1w")  # SUPPORTED_INTERVALS default: no 30m
PARSER = IntervalParser(CONFIGURED)
PROPERTY = settings(database=None, deadline=None)


@pytest.mark.parametrize("name", CONFIGURED)
def test_every_configured_interval_parses_to_itself(name: str) -> None:
    assert PARSER.parse(name) == Interval(name)
    assert str(PARSER.parse(name)) == name


@pytest.mark.parametrize(
    ("raw", "expected"), [("1H", "1h"), ("4H", "4h"), ("1D", "1d"), ("1W", "1w"), (" 1h ", "1h")]
)
def test_upper_case_hour_day_week_units_are_accepted(raw: str, expected: str) -> None:
    assert PARSER.parse(raw).name == expected


@pytest.mark.parametrize("raw", ["1M", "5M", "15M"])
def test_upper_case_m_is_refused_because_it_means_month(raw: str) -> None:
    with pytest.raises(InvalidInterval):
        PARSER.parse(raw)


@pytest.mark.parametrize("raw", [None, "", "  ", "2h", "30m", "1y", "h", "1hh", "60", "1 h", "1h1h"])
def test_unsupported_intervals_are_refused(raw: str | None) -> None:
    with pytest.raises(InvalidInterval) as caught:
        PARSER.parse(raw)
    assert caught.value.field == "interval"


def test_30m_is_served_when_configured() -> None:
    assert IntervalParser(["30m", "1h"]).parse("30m") == Interval("30m")


def test_supported_lists_the_configured_intervals_in_order() -> None:
    assert PARSER.supported == CONFIGURED


@pytest.mark.parametrize("configured", [["1h", "2h"], ["1M"], ["hourly"]])
def test_configuring_an_unknown_interval_fails_at_construction(configured: list[str]) -> None:
    with pytest.raises(ValueError):
        IntervalParser(configured)


@pytest.mark.parametrize(
    ("name", "seconds"), [("1m", 60), ("15m", 900), ("1h", 3600), ("4h", 4 * 3600), ("1d", 86400), ("1w", 7 * 86400)]
)
def test_interval_lengths(name: str, seconds: int) -> None:
    assert Interval(name).seconds == seconds
    assert Interval(name).milliseconds == seconds * 1000


@PROPERTY
@given(st.one_of(st.none(), st.text(), st.text(alphabet="0123456789mhdwMHDW \t")))
def test_arbitrary_text_only_ever_raises_invalid_interval(raw: str | None) -> None:
    try:
        interval = PARSER.parse(raw)
    except InvalidInterval:
        return
    assert interval.name in CONFIGURED
