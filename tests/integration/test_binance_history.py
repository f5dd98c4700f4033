"""BinanceAdapter.fetch_ohlcv_range over real HTTP against the simulator: one page of a range,
what it covers, gaps (listing, outages) and errors as for the newest klines."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.providers.binance import BinanceAdapter
from domain.candle import Candle
from domain.candle_range import CandleRange
from domain.candle_span import CandleSpan
from domain.errors import BadPayload, ProviderError, UpstreamRateLimited, UpstreamRejected
from domain.interval import Interval
from domain.ports import OhlcvHistory
from domain.symbol import Symbol
from simulator import UpstreamSimulator
from tests.fakes import FakeClock
from tests.integration.conftest import ClientFactory
from tests.integration.support import (
    HOUR_MS,
    NOW,
    WEEK_MS,
    canned,
    exact,
    fetch_raw,
    period_start_ms,
    requests_to,
)

KLINES = "/api/v3/klines"
BTC = Symbol("BTC", "USDT")
H1 = Interval("1h")
#: Open time of the hour in progress at the simulator's clock.
THIS_HOUR = period_start_ms("1h", NOW)


@pytest.fixture
def binance(client_for: ClientFactory, clock: FakeClock) -> BinanceAdapter:
    return BinanceAdapter(client_for("binance"), clock)


def hours(first: int, count: int) -> list[int]:
    """``count`` consecutive hourly open times from ``first``."""
    return [first + i * HOUR_MS for i in range(count)]


async def served(sim: UpstreamSimulator, interval: str, opens: list[int]) -> list[Candle]:
    """The klines opening at ``opens`` as the simulator serves them, read without the adapter
    (no ``startTime``: the newest 1000 up to the last of each thousand wanted)."""
    by_open: dict[int, list[Any]] = {}
    for chunk in range(0, len(opens), 1000):
        raw = await fetch_raw(
            sim.base_urls["binance"] + KLINES,
            symbol="BTCUSDT",
            interval=interval,
            endTime=str(opens[chunk : chunk + 1000][-1]),
            limit="1000",
        )
        assert raw.status == 200
        by_open.update((row[0], row) for row in raw.body)
    rows = [by_open[t] for t in opens]
    return [Candle(r[0], exact(r[1]), exact(r[2]), exact(r[3]), exact(r[4]), exact(r[5])) for r in rows]


def sent(sim: UpstreamSimulator) -> list[dict[str, str]]:
    return [r.query for r in requests_to(sim, "binance", KLINES)]


async def test_it_is_a_history_source_a_page_of_1000(binance: BinanceAdapter) -> None:
    assert isinstance(binance, OhlcvHistory)
    assert binance.page_size == 1000


async def test_a_range_inside_one_page_is_answered_whole_in_one_call(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    start, end = THIS_HOUR - 48 * HOUR_MS, THIS_HOUR - 24 * HOUR_MS
    page = await binance.fetch_ohlcv_range(BTC, H1, start, end)

    # endTime is inclusive at Binance, our ranges are half-open: end - 1 is sent.
    assert sent(sim) == [
        {
            "symbol": "BTCUSDT",
            "interval": "1h",
            "startTime": str(start),
            "endTime": str(end - 1),
            "limit": "1000",
        }
    ]
    assert page == CandleRange(tuple(await served(sim, "1h", hours(start, 24))), CandleSpan(start, end))


async def test_a_candle_opening_exactly_at_the_end_is_not_included(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    start = THIS_HOUR - 10 * HOUR_MS
    page = await binance.fetch_ohlcv_range(BTC, H1, start, start + 3 * HOUR_MS)
    assert [c.timestamp for c in page.candles] == hours(start, 3)
    assert page.covering == CandleSpan(start, start + 3 * HOUR_MS)


async def test_a_full_page_covers_up_to_past_its_last_candle_and_the_next_call_continues(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    start = THIS_HOUR - 2000 * HOUR_MS
    end = start + 1500 * HOUR_MS
    first = await binance.fetch_ohlcv_range(BTC, H1, start, end)
    assert [c.timestamp for c in first.candles] == hours(start, 1000)
    assert first.covering == CandleSpan(start, start + 1000 * HOUR_MS)

    assert first.covering is not None
    second = await binance.fetch_ohlcv_range(BTC, H1, first.covering.end_ms, end)
    assert [c.timestamp for c in second.candles] == hours(start + 1000 * HOUR_MS, 500)
    assert second.covering == CandleSpan(start + 1000 * HOUR_MS, end)
    assert [q["startTime"] for q in sent(sim)] == [str(start), str(start + 1000 * HOUR_MS)]
    assert list(first.candles + second.candles) == await served(sim, "1h", hours(start, 1500))


async def test_a_full_page_that_ends_the_range_covers_all_of_it(binance: BinanceAdapter) -> None:
    start = THIS_HOUR - 1500 * HOUR_MS
    page = await binance.fetch_ohlcv_range(BTC, H1, start, start + 1000 * HOUR_MS)
    assert len(page.candles) == 1000
    assert page.covering == CandleSpan(start, start + 1000 * HOUR_MS)


async def test_a_page_short_of_1000_covers_the_whole_range_even_a_gap_at_its_end(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    start = THIS_HOUR - 1500 * HOUR_MS
    end = start + 1001 * HOUR_MS
    sim.set_outage("binance", start + 999 * HOUR_MS, end)
    page = await binance.fetch_ohlcv_range(BTC, H1, start, end)
    assert [c.timestamp for c in page.candles] == hours(start, 999)
    assert page.covering == CandleSpan(start, end)  # the last two hours are a gap Binance has


async def test_a_range_before_the_listing_is_an_empty_page_covering_it_all(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    listed = THIS_HOUR - 100 * HOUR_MS + 17 * 60_000  # 17 minutes into that hour
    sim.set_listing("binance", "BTCUSDT", listed)

    before = await binance.fetch_ohlcv_range(BTC, H1, listed - 300 * HOUR_MS, listed - 200 * HOUR_MS)
    assert before == CandleRange((), CandleSpan(listed - 300 * HOUR_MS, listed - 200 * HOUR_MS))

    # Across the listing: from the hour that contains it on.
    start = THIS_HOUR - 110 * HOUR_MS
    across = await binance.fetch_ohlcv_range(BTC, H1, start, start + 20 * HOUR_MS)
    assert [c.timestamp for c in across.candles] == hours(THIS_HOUR - 100 * HOUR_MS, 10)
    assert across.covering == CandleSpan(start, start + 20 * HOUR_MS)


async def test_an_outage_inside_the_range_leaves_its_candles_out_but_is_covered(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    start = THIS_HOUR - 30 * HOUR_MS
    sim.set_outage("binance", start + 5 * HOUR_MS, start + 8 * HOUR_MS)
    page = await binance.fetch_ohlcv_range(BTC, H1, start, start + 12 * HOUR_MS)
    assert [c.timestamp for c in page.candles] == hours(start, 5) + hours(start + 8 * HOUR_MS, 4)
    assert page.covering == CandleSpan(start, start + 12 * HOUR_MS)


async def test_an_empty_answer_is_a_gap_not_an_error(sim: UpstreamSimulator, binance: BinanceAdapter) -> None:
    sim.set_fault("binance", "empty", path=KLINES, times=1)
    start = THIS_HOUR - 30 * HOUR_MS
    page = await binance.fetch_ohlcv_range(BTC, H1, start, start + 12 * HOUR_MS)
    assert page == CandleRange((), CandleSpan(start, start + 12 * HOUR_MS))


async def test_the_candle_in_progress_is_kept(sim: UpstreamSimulator, binance: BinanceAdapter) -> None:
    start = THIS_HOUR - 2 * HOUR_MS
    page = await binance.fetch_ohlcv_range(BTC, H1, start, THIS_HOUR + 2 * HOUR_MS)
    assert [c.timestamp for c in page.candles] == hours(start, 3)
    assert page.covering == CandleSpan(start, THIS_HOUR + 2 * HOUR_MS)


async def test_weeks_open_on_monday(sim: UpstreamSimulator, binance: BinanceAdapter) -> None:
    this_week = period_start_ms("1w", NOW)
    start, end = this_week - 10 * WEEK_MS, this_week - 5 * WEEK_MS
    page = await binance.fetch_ohlcv_range(BTC, Interval("1w"), start, end)
    opens = [start + i * WEEK_MS for i in range(5)]
    assert list(page.candles) == await served(sim, "1w", opens)
    assert page.covering == CandleSpan(start, end)
    assert sent(sim)[0]["endTime"] == str(end - 1)


async def test_an_unlisted_market_is_rejected_and_remembered(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    xmr = Symbol("XMR", "USDT")
    with pytest.raises(UpstreamRejected) as caught:
        await binance.fetch_ohlcv_range(xmr, H1, THIS_HOUR - 10 * HOUR_MS, THIS_HOUR)
    assert caught.value.reason == "Invalid symbol. (-1121)"
    assert binance.supports(xmr, H1) is False
    assert binance.supports(BTC, H1) is True


async def test_an_illegal_parameter_is_our_fault(binance: BinanceAdapter) -> None:
    with pytest.raises(BadPayload) as caught:
        await binance.fetch_ohlcv_range(Symbol("btc", "USDT"), H1, THIS_HOUR - 10 * HOUR_MS, THIS_HOUR)
    assert type(caught.value) is BadPayload
    assert caught.value.reason.endswith("(-1100)")
    assert binance.supports(BTC, H1) is True


@pytest.mark.parametrize(
    ("kind", "params", "expected", "retry_after"),
    [
        pytest.param("rate_limit", {"retry_after": 17}, UpstreamRateLimited, 17.0, id="429"),
        pytest.param("ban_418", {"retry_after": 120}, UpstreamRateLimited, 120.0, id="418"),
    ],
)
async def test_rate_limits_carry_the_retry_after(
    sim: UpstreamSimulator,
    binance: BinanceAdapter,
    kind: str,
    params: dict[str, Any],
    expected: type[ProviderError],
    retry_after: float,
) -> None:
    sim.set_fault("binance", kind, times=1, **params)
    with pytest.raises(expected) as caught:
        await binance.fetch_ohlcv_range(BTC, H1, THIS_HOUR - 10 * HOUR_MS, THIS_HOUR)
    assert type(caught.value) is expected
    assert caught.value.retry_after == retry_after


def kline(open_ms: int) -> list[Any]:
    return [open_ms, "1.0", "2.0", "0.5", "1.5", "10.0", open_ms + HOUR_MS - 1, "15.0", 3, "5.0", "7.5", "0"]


@pytest.mark.parametrize("offset", [-HOUR_MS, 3 * HOUR_MS], ids=["before-start", "at-end"])
async def test_klines_outside_the_range_are_a_bad_payload(offset: int) -> None:
    start = THIS_HOUR - 10 * HOUR_MS
    rows = sorted([kline(start + HOUR_MS), kline(start + offset)])
    adapter = BinanceAdapter(canned("binance", rows), FakeClock(NOW))
    with pytest.raises(BadPayload) as caught:
        await adapter.fetch_ohlcv_range(BTC, H1, start, start + 3 * HOUR_MS)
    assert "outside" in caught.value.reason


async def test_klines_out_of_order_are_a_bad_payload() -> None:
    start = THIS_HOUR - 10 * HOUR_MS
    rows = [kline(start + HOUR_MS), kline(start)]
    adapter = BinanceAdapter(canned("binance", rows), FakeClock(NOW))
    with pytest.raises(BadPayload) as caught:
        await adapter.fetch_ohlcv_range(BTC, H1, start, start + 3 * HOUR_MS)
    assert "inconsistent" in caught.value.reason
