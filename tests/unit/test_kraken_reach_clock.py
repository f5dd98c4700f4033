"""Kraken's 720 bars follow Kraken's clock: a bar it dropped since we worked its reach out is
never claimed as a gap (found by review: a candle stored as missing for good, a week built
from six days)."""

from __future__ import annotations

import json
from typing import Any

from adapters.providers.kraken import KrakenAdapter
from adapters.providers.upstream import UpstreamResponse
from domain.candle_resampling import monday_week_start
from domain.candle_span import CandleSpan, open_time_in_progress
from domain.interval import Interval
from domain.symbol import Symbol
from tests.fakes import FakeClock

MIN = 60_000
DAY = 86_400_000
WEEK = 7 * DAY
BTC = Symbol("BTC", "USDT")


class KrakenAhead:
    """An UpstreamClient answering Kraken's 720 newest bars of ``step`` by a clock ``ahead_ms``
    ahead of ours; the oldest bar opens at 9, the others at 1."""

    def __init__(self, clock: FakeClock, step: int, ahead_ms: int) -> None:
        self.clock, self.step, self.ahead_ms = clock, step, ahead_ms

    async def get(self, path: str, params: dict[str, str]) -> UpstreamResponse:
        theirs = (int(self.clock.now() * 1000) + self.ahead_ms) // self.step * self.step
        rows: list[list[Any]] = [
            [(theirs - i * self.step) // 1000, "1", "2", "0.5", "1.5", "1", "3", 5] for i in range(719, -1, -1)
        ]
        rows[0][1] = "9"
        body = json.dumps({"error": [], "result": {"XXBTZUSD": rows, "last": rows[-1][0]}}).encode()
        return UpstreamResponse(200, {}, body)


async def test_a_bar_kraken_dropped_during_the_call_is_not_covered() -> None:
    clock = FakeClock(1_700_000_099.9)  # 100 ms before a minute turns, by our clock
    kraken = KrakenAdapter(KrakenAhead(clock, MIN, ahead_ms=200), clock)  # type: ignore[arg-type]
    m = Interval("1m")
    reach = kraken.reach(m)
    answer = await kraken.fetch_ohlcv_range(BTC, m, reach - 10 * MIN, reach + 5 * MIN)
    assert answer.covering == CandleSpan(reach + MIN, reach + 5 * MIN)
    assert [c.timestamp for c in answer.candles] == [reach + i * MIN for i in range(1, 5)]


async def test_no_week_is_built_from_part_of_its_days_when_the_day_turns_during_the_call() -> None:
    day = 1_700_000_000_000 // DAY * DAY
    while monday_week_start(day - 719 * DAY) != day - 719 * DAY:  # a reach starting on a Monday
        day += DAY
    clock = FakeClock((day + DAY - 100) / 1000)
    kraken = KrakenAdapter(KrakenAhead(clock, DAY, ahead_ms=200), clock)  # type: ignore[arg-type]
    w = Interval("1w")
    reach = kraken.reach(w)
    assert reach == day - 719 * DAY
    answer = await kraken.fetch_ohlcv_range(BTC, w, reach, reach + 3 * WEEK)
    assert answer.covering == CandleSpan(reach + WEEK, reach + 3 * WEEK)
    assert [c.timestamp for c in answer.candles] == [reach + WEEK, reach + 2 * WEEK]
    assert answer.candles[0].open == 1.0


async def test_kraken_on_our_clock_covers_from_the_reach() -> None:
    clock = FakeClock(1_700_000_099.9)
    kraken = KrakenAdapter(KrakenAhead(clock, MIN, ahead_ms=0), clock)  # type: ignore[arg-type]
    m = Interval("1m")
    reach = kraken.reach(m)
    assert reach == open_time_in_progress(m, 1_700_000_099_900) - 719 * MIN
    answer = await kraken.fetch_ohlcv_range(BTC, m, reach - 10 * MIN, reach + 5 * MIN)
    assert answer.covering == CandleSpan(reach, reach + 5 * MIN)
    assert answer.candles[0].open == 9.0
