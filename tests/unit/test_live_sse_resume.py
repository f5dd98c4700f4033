"""Resuming an SSE candles stream: which candles a client with a Last-Event-ID has missed."""

from __future__ import annotations

import pytest

from application.live.updates import LiveCandle
from entrypoints.rest.live.sse_resume import candle_event_id, missed_candles, parse_candle_event_id
from tests.fake_live_feed import MINUTE_MS, T0, candle

SNAPSHOT = (
    LiveCandle(candle(T0 - 2 * MINUTE_MS, 1.0), True),
    LiveCandle(candle(T0 - MINUTE_MS, 2.0), True),
    LiveCandle(candle(T0, 3.0), False),
)


def times(candles: tuple[LiveCandle, ...] | None) -> list[int] | None:
    return None if candles is None else [c.candle.timestamp for c in candles]


def test_ids_name_the_newest_candle_and_its_state() -> None:
    assert candle_event_id(T0, True) == f"{T0}-closed"
    assert candle_event_id(T0, False) == f"{T0}-live"
    assert parse_candle_event_id(f"{T0}-closed") == (T0, True)
    assert parse_candle_event_id(f" {T0}-live ") == (T0, False)
    for raw in (None, "", "42", f"{T0}-open", f"-{T0}-live", "x-live", "1" * 16 + "-live", "17", "7"):
        assert parse_candle_event_id(raw) is None


@pytest.mark.parametrize(
    ("last", "missed"),
    [
        (f"{T0 - 2 * MINUTE_MS}-closed", [T0 - MINUTE_MS, T0]),
        (f"{T0 - 2 * MINUTE_MS}-live", [T0 - 2 * MINUTE_MS, T0 - MINUTE_MS, T0]),  # it closed since
        (f"{T0 - MINUTE_MS}-closed", [T0]),
        (f"{T0}-live", [T0]),  # in progress: its current state
        (f"{T0}-closed", []),  # nothing missed
        (f"{T0 - MINUTE_MS + 1}-closed", [T0]),  # not on the grid: what comes after it
    ],
)
def test_what_a_resuming_client_missed(last: str, missed: list[int]) -> None:
    assert times(missed_candles(SNAPSHOT, last)) == missed


@pytest.mark.parametrize(
    "last", [None, "garbage", f"{T0 - 3 * MINUTE_MS}-closed", f"{T0 + MINUTE_MS}-live", "17-live"]
)
def test_the_whole_snapshot_when_the_gap_cannot_be_bridged(last: str | None) -> None:
    assert missed_candles(SNAPSHOT, last) is None


def test_an_empty_snapshot_is_sent_whole() -> None:
    assert missed_candles((), f"{T0}-live") is None
