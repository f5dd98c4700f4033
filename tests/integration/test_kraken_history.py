"""KrakenAdapter.fetch_ohlcv_range over real HTTP against the simulator: only the last 720
bars are reachable, what a range covers, gaps (listing, outages), weeks, errors in HTTP 200."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.providers.kraken import KrakenAdapter
from domain.candle import Candle
from domain.candle_range import CandleRange
from domain.candle_span import CandleSpan
from domain.errors import (
    BadPayload,
    ProviderError,
    ProviderUnavailable,
    UpstreamRateLimited,
    UpstreamRejected,
)
from domain.interval import Interval
from domain.ports import OhlcvHistory
from domain.symbol import Symbol
from simulator import UpstreamSimulator
from tests.fakes import FakeClock
from tests.integration.conftest import ClientFactory
from tests.integration.support import (
    DAY_MS,
    HOUR_MS,
    NOW,
    WEEK_MS,
    exact,
    fetch_raw,
    period_start_ms,
    requests_to,
)

OHLC = "/0/public/OHLC"
BTC = Symbol("BTC", "USDT")
H1 = Interval("1h")
W1 = Interval("1w")
THIS_HOUR = period_start_ms("1h", NOW)
#: The oldest hourly bar Kraken keeps: 720 bars, the one in progress among them (PROVIDERS.md).
HOURLY_REACH = THIS_HOUR - 719 * HOUR_MS


def first_whole_week() -> int:
    """Open time of the first Monday week whose days are all among Kraken's 720 daily bars."""
    today = datetime.fromtimestamp(NOW, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    oldest_day = today - timedelta(days=719)
    monday = oldest_day + timedelta(days=(7 - oldest_day.weekday()) % 7)
    return int(monday.timestamp()) * 1000


WEEKLY_REACH = first_whole_week()


@pytest.fixture
def kraken(client_for: ClientFactory, clock: FakeClock) -> KrakenAdapter:
    return KrakenAdapter(client_for("kraken"), clock)


def hours(first: int, count: int) -> list[int]:
    """``count`` consecutive hourly open times from ``first``."""
    return [first + i * HOUR_MS for i in range(count)]


async def served(sim: UpstreamSimulator, minutes: int) -> list[Candle]:
    """Every bar Kraken keeps for ``minutes``, read without the adapter (no ``since``)."""
    raw = await fetch_raw(sim.base_urls["kraken"] + OHLC, pair="XBTUSD", interval=str(minutes))
    assert raw.status == 200 and raw.body["error"] == []
    rows: list[list[Any]] = raw.body["result"]["XXBTZUSD"]
    return [
        Candle(r[0] * 1000, exact(r[1]), exact(r[2]), exact(r[3]), exact(r[4]), exact(r[6])) for r in rows
    ]


def sent(sim: UpstreamSimulator) -> list[dict[str, str]]:
    return [r.query for r in requests_to(sim, "kraken", OHLC)]


async def test_it_is_a_history_source_a_page_of_720(kraken: KrakenAdapter) -> None:
    assert isinstance(kraken, OhlcvHistory)
    assert kraken.page_size == 720


async def test_a_reachable_range_is_answered_whole_in_one_call(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    start, end = THIS_HOUR - 48 * HOUR_MS, THIS_HOUR - 24 * HOUR_MS
    page = await kraken.fetch_ohlcv_range(BTC, H1, start, end)

    # since is exclusive at Kraken: one second before the start.
    assert sent(sim) == [{"pair": "XBTUSD", "interval": "60", "since": str(start // 1000 - 1)}]
    expected = [c for c in await served(sim, 60) if start <= c.timestamp < end]
    assert [c.timestamp for c in expected] == hours(start, 24)
    assert page == CandleRange(tuple(expected), CandleSpan(start, end))


async def test_every_kept_bar_the_one_in_progress_included(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    page = await kraken.fetch_ohlcv_range(BTC, H1, HOURLY_REACH, THIS_HOUR + HOUR_MS)
    assert list(page.candles) == await served(sim, 60)
    assert [c.timestamp for c in page.candles] == hours(HOURLY_REACH, 720)
    assert page.covering == CandleSpan(HOURLY_REACH, THIS_HOUR + HOUR_MS)


async def test_a_range_partly_before_the_reach_is_covered_from_the_reach(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    page = await kraken.fetch_ohlcv_range(BTC, H1, HOURLY_REACH - 10 * HOUR_MS, HOURLY_REACH + 5 * HOUR_MS)
    assert [c.timestamp for c in page.candles] == hours(HOURLY_REACH, 5)
    assert page.covering == CandleSpan(HOURLY_REACH, HOURLY_REACH + 5 * HOUR_MS)
    assert sent(sim)[0]["since"] == str(HOURLY_REACH // 1000 - 1)


@pytest.mark.parametrize(
    ("interval", "start", "end"),
    [
        pytest.param(H1, HOURLY_REACH - 10 * HOUR_MS, HOURLY_REACH, id="1h"),
        pytest.param(
            Interval("1d"),
            period_start_ms("1d", NOW) - 800 * DAY_MS,
            period_start_ms("1d", NOW) - 719 * DAY_MS,
            id="1d",
        ),
        pytest.param(W1, WEEKLY_REACH - 10 * WEEK_MS, WEEKLY_REACH, id="1w"),
    ],
)
async def test_a_range_wholly_before_the_reach_is_none_and_costs_no_call(
    sim: UpstreamSimulator, kraken: KrakenAdapter, interval: Interval, start: int, end: int
) -> None:
    assert await kraken.fetch_ohlcv_range(BTC, interval, start, end) == CandleRange((), None)
    assert sim.calls("kraken") == 0


async def test_the_reach_moves_with_the_clock(
    sim: UpstreamSimulator, kraken: KrakenAdapter, clock: FakeClock
) -> None:
    # One hour later by our clock, the oldest bar of now is no longer kept.
    clock.advance(3600)
    page = await kraken.fetch_ohlcv_range(BTC, H1, HOURLY_REACH, HOURLY_REACH + HOUR_MS)
    assert page == CandleRange((), None)
    assert sim.calls("kraken") == 0


async def test_a_range_before_the_listing_is_an_empty_page_covering_it_all(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    listed = THIS_HOUR - 100 * HOUR_MS + 17 * 60_000
    sim.set_listing("kraken", "XBTUSD", listed)
    start = THIS_HOUR - 300 * HOUR_MS
    before = await kraken.fetch_ohlcv_range(BTC, H1, start, start + 50 * HOUR_MS)
    assert before == CandleRange((), CandleSpan(start, start + 50 * HOUR_MS))

    start = THIS_HOUR - 110 * HOUR_MS
    across = await kraken.fetch_ohlcv_range(BTC, H1, start, start + 20 * HOUR_MS)
    assert [c.timestamp for c in across.candles] == hours(THIS_HOUR - 100 * HOUR_MS, 10)
    assert across.covering == CandleSpan(start, start + 20 * HOUR_MS)


async def test_an_outage_inside_the_range_leaves_its_bars_out_but_is_covered(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    start = THIS_HOUR - 30 * HOUR_MS
    sim.set_outage("kraken", start + 5 * HOUR_MS, start + 8 * HOUR_MS)
    page = await kraken.fetch_ohlcv_range(BTC, H1, start, start + 12 * HOUR_MS)
    assert [c.timestamp for c in page.candles] == hours(start, 5) + hours(start + 8 * HOUR_MS, 4)
    assert page.covering == CandleSpan(start, start + 12 * HOUR_MS)


def weeks_of(daily: list[Candle], mondays: list[int]) -> list[Candle]:
    """The Monday weeks opening at ``mondays``, aggregated from ``daily`` independently."""
    out = []
    for monday in mondays:
        days = [d for d in daily if monday <= d.timestamp < monday + WEEK_MS]
        out.append(
            Candle(
                monday,
                days[0].open,
                max(d.high for d in days),
                min(d.low for d in days),
                days[-1].close,
                sum(d.volume for d in days),
            )
        )
    return out


def same_weeks(got: tuple[Candle, ...], want: list[Candle]) -> bool:
    prices = [(c.timestamp, c.open, c.high, c.low, c.close) for c in got]
    return prices == [(c.timestamp, c.open, c.high, c.low, c.close) for c in want] and all(
        g.volume == pytest.approx(w.volume, rel=1e-12) for g, w in zip(got, want, strict=True)
    )


async def test_weeks_are_built_from_daily_bars_from_the_first_whole_week(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    assert datetime.fromtimestamp(WEEKLY_REACH / 1000, tz=UTC).weekday() == 0
    assert WEEKLY_REACH - 7 * DAY_MS < period_start_ms("1d", NOW) - 719 * DAY_MS <= WEEKLY_REACH

    page = await kraken.fetch_ohlcv_range(BTC, W1, WEEKLY_REACH - 2 * WEEK_MS, WEEKLY_REACH + 3 * WEEK_MS)
    assert sent(sim) == [{"pair": "XBTUSD", "interval": "1440", "since": str(WEEKLY_REACH // 1000 - 1)}]
    assert page.covering == CandleSpan(WEEKLY_REACH, WEEKLY_REACH + 3 * WEEK_MS)
    mondays = [WEEKLY_REACH + i * WEEK_MS for i in range(3)]
    assert same_weeks(page.candles, weeks_of(await served(sim, 1440), mondays))


async def test_a_week_whose_monday_had_an_outage_is_still_a_week(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    monday = WEEKLY_REACH + 5 * WEEK_MS
    sim.set_outage("kraken", monday, monday + DAY_MS)
    page = await kraken.fetch_ohlcv_range(BTC, W1, monday, monday + 2 * WEEK_MS)
    assert page.covering == CandleSpan(monday, monday + 2 * WEEK_MS)
    daily = await served(sim, 1440)
    assert [d.timestamp for d in daily if monday <= d.timestamp < monday + DAY_MS] == []
    assert same_weeks(page.candles, weeks_of(daily, [monday, monday + WEEK_MS]))
    assert page.candles[0].open == next(d.open for d in daily if d.timestamp == monday + DAY_MS)


async def test_the_week_in_progress_is_kept(sim: UpstreamSimulator, kraken: KrakenAdapter) -> None:
    this_week = period_start_ms("1w", NOW)
    page = await kraken.fetch_ohlcv_range(BTC, W1, this_week - WEEK_MS, this_week + WEEK_MS)
    assert [c.timestamp for c in page.candles] == [this_week - WEEK_MS, this_week]
    assert page.covering == CandleSpan(this_week - WEEK_MS, this_week + WEEK_MS)


async def test_an_unknown_pair_is_rejected_and_remembered(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    xmr = Symbol("XMR", "USDT")
    with pytest.raises(UpstreamRejected) as caught:
        await kraken.fetch_ohlcv_range(xmr, H1, THIS_HOUR - 10 * HOUR_MS, THIS_HOUR)
    assert caught.value.reason == "EQuery:Unknown asset pair"
    assert kraken.supports(xmr, H1) is False
    assert kraken.supports(BTC, H1) is True


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        pytest.param("rate_limit", {}, UpstreamRateLimited, id="too-many-requests"),
        pytest.param(
            "kraken_error", {"message": "EGeneral:Invalid arguments"}, UpstreamRejected, id="invalid"
        ),
        pytest.param(
            "kraken_error", {"message": "EService:Unavailable"}, ProviderUnavailable, id="unavailable"
        ),
        pytest.param("http_503", {}, ProviderUnavailable, id="cloudflare-503"),
        pytest.param("wrong_shape", {}, BadPayload, id="wrong-shape"),
    ],
)
async def test_errors_map_as_for_the_newest_bars(
    sim: UpstreamSimulator,
    kraken: KrakenAdapter,
    kind: str,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    sim.set_fault("kraken", kind, times=1, **params)
    with pytest.raises(expected) as caught:
        await kraken.fetch_ohlcv_range(BTC, H1, THIS_HOUR - 10 * HOUR_MS, THIS_HOUR)
    assert type(caught.value) is expected
    assert caught.value.provider == "kraken"
    if kind == "rate_limit":
        assert caught.value.retry_after == 5.0
    assert kraken.supports(BTC, H1) is True


async def test_an_empty_answer_in_reach_is_a_gap_not_an_error(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    sim.set_fault("kraken", "empty", times=1)
    start = THIS_HOUR - 30 * HOUR_MS
    page = await kraken.fetch_ohlcv_range(BTC, H1, start, start + 12 * HOUR_MS)
    assert page == CandleRange((), CandleSpan(start, start + 12 * HOUR_MS))
