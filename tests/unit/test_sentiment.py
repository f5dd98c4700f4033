"""Sentiment bands of the Fear & Greed index and the overall reading."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.sentiment import FearGreed, FearGreedHistory, band_of, summarise

T0 = 1_700_000_000.0


@pytest.mark.parametrize("value", [0, 1, 24, 25, 45, 46])
def test_0_to_46_is_bearish(value: int) -> None:
    assert band_of(value) == "bearish"


@pytest.mark.parametrize("value", [47, 50, 54])
def test_47_to_54_is_neutral(value: int) -> None:
    assert band_of(value) == "neutral"


@pytest.mark.parametrize("value", [55, 56, 75, 76, 99, 100])
def test_55_to_100_is_bullish(value: int) -> None:
    assert band_of(value) == "bullish"


@settings(database=None, deadline=None)
@given(st.integers(min_value=0, max_value=100))
def test_every_index_value_falls_in_its_documented_band(value: int) -> None:
    expected = "bearish" if value <= 46 else "neutral" if value <= 54 else "bullish"
    assert band_of(value) == expected


def history(*values: int, source: str = "alternative_me") -> FearGreedHistory:
    return FearGreedHistory(
        tuple(FearGreed(v, "label", T0 - i * 86400) for i, v in enumerate(values)), source
    )


def test_summary_reads_todays_value_and_the_share_agreeing_with_its_band() -> None:
    readings = history(60, 58, 40, 70, 65, 62, 59)  # newest first; 6 of 7 bullish
    sentiment = summarise(readings)
    assert sentiment.fear_greed == readings.readings[0]
    assert sentiment.overall.sentiment == "bullish"
    assert sentiment.overall.score == 60
    assert sentiment.overall.confidence == 0.86
    assert sentiment.history == readings.readings
    assert sentiment.source == "alternative_me"


@pytest.mark.parametrize(
    ("values", "band", "confidence"),
    [
        ((50, 20, 80, 52), "neutral", 0.5),
        ((10, 60, 60, 60), "bearish", 0.25),
        ((30,), "bearish", 1.0),
        ((54, 47, 50), "neutral", 1.0),
    ],
)
def test_confidence_is_the_share_of_readings_in_todays_band(
    values: tuple[int, ...], band: str, confidence: float
) -> None:
    overall = summarise(history(*values)).overall
    assert overall.sentiment == band
    assert overall.score == values[0]
    assert overall.confidence == confidence


def test_an_empty_history_is_not_summarised() -> None:
    with pytest.raises(ValueError):
        summarise(FearGreedHistory((), "alternative_me"))
