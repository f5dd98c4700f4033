"""KrakenAdapter over real HTTP against the simulator: pairs, newest bars, weeks, errors in 200s."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from adapters.providers.kraken import KrakenAdapter
from adapters.providers.upstream import UpstreamClient
from domain.candle import Candle
from domain.errors import (
    BadPayload,
    ProviderError,
    ProviderUnavailable,
    UpstreamRateLimited,
    UpstreamRejected,
)
from domain.interval import Interval
from domain.symbol import Symbol
from simulator import UpstreamSimulator
from tests.fakes import FakeClock
from tests.integration.conftest import ClientFactory
from tests.integration.support import (
    INTERVAL_MS,
    MONDAY_JUST_OPENED,
    NOW,
    SUNDAY_LAST_SECOND,
    canned,
    exact,
    fetch_raw,
    is_monday_midnight,
    period_start_ms,
    requests_to,
)

OHLC = "/0/public/OHLC"
BTC = Symbol("BTC", "USDT")
#: Kraken's interval parameter, in minutes (PROVIDERS.md).
MINUTES = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}
MAX_BARS = 720


@pytest.fixture
def kraken(client_for: ClientFactory, clock: FakeClock) -> KrakenAdapter:
    return KrakenAdapter(client_for("kraken"), clock)


async def raw_ohlc(sim: UpstreamSimulator, pair: str, minutes: int) -> dict[str, Any]:
    raw = await fetch_raw(sim.base_urls["kraken"] + OHLC, pair=pair, interval=str(minutes))
    assert raw.status == 200 and raw.body["error"] == []
    result: dict[str, Any] = raw.body["result"]
    return result


def as_candle(row: list[Any]) -> Candle:
    """A Kraken row ``[time_s, open, high, low, close, vwap, volume, count]`` read independently."""
    return Candle(row[0] * 1000, exact(row[1]), exact(row[2]), exact(row[3]), exact(row[4]), exact(row[6]))


def monday_weeks(daily: list[Candle]) -> list[Candle]:
    """Complete-from-Monday weeks of ``daily`` bars (the current week may be partial)."""
    weeks: dict[datetime, list[Candle]] = {}
    for bar in daily:
        day = datetime.fromtimestamp(bar.timestamp / 1000, tz=UTC)
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(bar)
    out = []
    for monday, days in sorted(weeks.items()):
        if days[0].timestamp != int(monday.timestamp()) * 1000:
            continue  # the week's Monday is older than Kraken's 720 bars: not a whole week
        out.append(
            Candle(
                int(monday.timestamp()) * 1000,
                days[0].open,
                max(d.high for d in days),
                min(d.low for d in days),
                days[-1].close,
                sum(d.volume for d in days),
            )
        )
    return out


# -- pairs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "sent", "result_key"),
    [
        ("BTC", "XBTUSD", "XXBTZUSD"),  # bitcoin is XBT, and the answer uses the canonical name
        ("ETH", "ETHUSD", "XETHZUSD"),
        ("SOL", "SOLUSD", "SOLUSD"),  # newer pairs keep their name
        ("MATIC", "POLUSD", "POLUSD"),  # MATIC migrated to POL
    ],
)
async def test_the_pair_is_asked_by_request_name_and_read_by_result_name(
    sim: UpstreamSimulator, kraken: KrakenAdapter, base: str, sent: str, result_key: str
) -> None:
    series = await kraken.fetch_ohlcv(Symbol(base, "USDT"), Interval("1h"), 24)

    assert [r.query for r in requests_to(sim, "kraken", OHLC)] == [{"pair": sent, "interval": "60"}]
    result = await raw_ohlc(sim, sent, 60)
    assert set(result) == {result_key, "last"}
    assert list(series.candles) == [as_candle(row) for row in result[result_key][-24:]]
    assert (series.symbol, series.interval, series.source) == (Symbol(base, "USDT"), Interval("1h"), "kraken")


@pytest.mark.parametrize("last_as_string", [False, True], ids=["last-int", "last-string"])
async def test_last_is_ignored_whether_int_or_string(
    session: aiohttp.ClientSession, last_as_string: bool
) -> None:
    async with UpstreamSimulator(now=lambda: NOW, kraken_last_as_string=last_as_string) as sim:
        adapter = KrakenAdapter(UpstreamClient(session, "kraken", sim.base_urls["kraken"]), FakeClock())
        series = await adapter.fetch_ohlcv(BTC, Interval("1h"), 10)
        result = await raw_ohlc(sim, "XBTUSD", 60)
    assert isinstance(result["last"], str if last_as_string else int)
    assert list(series.candles) == [as_candle(row) for row in result["XXBTZUSD"][-10:]]


async def test_an_unknown_pair_is_rejected(kraken: KrakenAdapter) -> None:
    # Kraken answers HTTP 200 {"error": ["EQuery:Unknown asset pair"]} for XMRUSD here.
    with pytest.raises(UpstreamRejected) as caught:
        await kraken.fetch_ohlcv(Symbol("XMR", "USDT"), Interval("1h"), 10)
    assert caught.value.provider == "kraken"


@pytest.mark.parametrize("interval", ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"])
async def test_every_interval_it_has_or_builds_is_supported(
    sim: UpstreamSimulator, kraken: KrakenAdapter, interval: str
) -> None:
    assert kraken.supports(BTC, Interval(interval)) is True
    assert kraken.supports(Symbol("ETH", "USD"), Interval(interval)) is True
    assert sim.calls("kraken") == 0  # answered without asking Kraken


async def test_a_pair_found_unknown_is_not_offered_again_for_an_hour(
    sim: UpstreamSimulator, kraken: KrakenAdapter, clock: FakeClock
) -> None:
    xmr = Symbol("XMR", "USDT")
    assert kraken.supports(xmr, Interval("1h")) is True  # not known yet: worth one call
    with pytest.raises(UpstreamRejected):
        await kraken.fetch_ohlcv(xmr, Interval("1h"), 10)
    assert kraken.supports(xmr, Interval("1h")) is False
    assert kraken.supports(xmr, Interval("1w")) is False  # the pair, whatever the interval
    assert kraken.supports(Symbol("XMR", "USD"), Interval("1h")) is False  # the same XMRUSD pair
    assert kraken.supports(BTC, Interval("1h")) is True
    assert sim.calls("kraken") == 1

    clock.advance(3599)
    assert kraken.supports(xmr, Interval("1h")) is False  # a second before the hour: still known
    clock.advance(2)
    assert kraken.supports(xmr, Interval("1h")) is True  # listings change: ask again


async def test_other_refusals_do_not_mark_the_pair_unknown(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    sim.set_fault("kraken", "kraken_error", times=1, message="EGeneral:Invalid arguments")
    with pytest.raises(UpstreamRejected):
        await kraken.fetch_ohlcv(BTC, Interval("1h"), 10)
    assert kraken.supports(BTC, Interval("1h")) is True


def bar(time_s: int, price: str, volume: str = "3.5") -> list[Any]:
    return [time_s, price, price, price, price, price, volume, 7]


async def test_a_zero_bar_price_is_a_bad_payload() -> None:
    start = int(NOW) // 60 * 60 - 120
    body = {"error": [], "result": {"XXBTZUSD": [bar(start, "1.5"), bar(start + 60, "0.0")], "last": start}}
    adapter = KrakenAdapter(canned("kraken", body), FakeClock())
    with pytest.raises(BadPayload):
        await adapter.fetch_ohlcv(BTC, Interval("1m"), 2)


@pytest.mark.parametrize(
    "result",
    [
        {"last": 0},  # no pair at all: a BadPayload, never an IndexError
        {"XXBTZUSD": [], "XETHZUSD": [], "last": 0},  # which one is ours? none is guessed
    ],
    ids=["no-pair", "two-pairs"],
)
async def test_a_result_without_exactly_one_pair_is_a_bad_payload(result: dict[str, Any]) -> None:
    adapter = KrakenAdapter(canned("kraken", {"error": [], "result": result}), FakeClock())
    with pytest.raises(BadPayload) as caught:
        await adapter.fetch_ohlcv(BTC, Interval("1m"), 2)
    assert caught.value.provider == "kraken"


@pytest.mark.parametrize("step", [0, -60], ids=["repeated", "going-back"])
async def test_bar_times_that_do_not_strictly_increase_are_a_bad_payload(step: int) -> None:
    start = int(NOW) // 60 * 60 - 180
    rows = [bar(start, "1.5"), bar(start + 60, "1.6"), bar(start + 60 + step, "1.7")]
    adapter = KrakenAdapter(canned("kraken", {"error": [], "result": {"XXBTZUSD": rows, "last": start}}), FakeClock())
    with pytest.raises(BadPayload):
        await adapter.fetch_ohlcv(BTC, Interval("1m"), 3)


async def test_a_zero_bar_volume_is_kept() -> None:
    start = int(NOW) // 60 * 60 - 120
    rows = [bar(start, "1.5", "0.00000000"), bar(start + 60, "1.6")]
    body = {"error": [], "result": {"XXBTZUSD": rows, "last": start}}
    adapter = KrakenAdapter(canned("kraken", body), FakeClock())
    series = await adapter.fetch_ohlcv(BTC, Interval("1m"), 2)
    assert [c.volume for c in series.candles] == [0.0, 3.5]


# -- newest bars -----------------------------------------------------------------------


@pytest.mark.parametrize("interval", ["1m", "5m", "15m", "30m", "1h", "4h", "1d"])
async def test_the_newest_bars_are_returned_in_milliseconds(
    sim: UpstreamSimulator, kraken: KrakenAdapter, interval: str
) -> None:
    series = await kraken.fetch_ohlcv(BTC, Interval(interval), 5)

    assert [r.query["interval"] for r in requests_to(sim, "kraken", OHLC)] == [str(MINUTES[interval])]
    rows = (await raw_ohlc(sim, "XBTUSD", MINUTES[interval]))["XXBTZUSD"]
    assert len(rows) == MAX_BARS  # Kraken answers all it keeps: the adapter must take the tail
    assert list(series.candles) == [as_candle(row) for row in rows[-5:]]
    stamps = [c.timestamp for c in series.candles]
    assert stamps == [row[0] * 1000 for row in rows[-5:]]
    assert stamps[-1] == period_start_ms(interval, NOW)  # the bar in progress
    assert all(later - earlier == INTERVAL_MS[interval] for earlier, later in itertools.pairwise(stamps))


async def test_never_more_than_the_720_bars_kraken_keeps(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    series = await kraken.fetch_ohlcv(BTC, Interval("1h"), 1000)
    rows = (await raw_ohlc(sim, "XBTUSD", 60))["XXBTZUSD"]
    assert len(series.candles) == MAX_BARS
    assert list(series.candles) == [as_candle(row) for row in rows]


async def test_candles_are_consistent(kraken: KrakenAdapter) -> None:
    series = await kraken.fetch_ohlcv(Symbol("ETH", "USDT"), Interval("15m"), 200)
    for c in series.candles:
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high and c.volume >= 0


# -- weeks -----------------------------------------------------------------------------


@pytest.fixture(
    params=[NOW, MONDAY_JUST_OPENED, SUNDAY_LAST_SECOND], ids=["friday", "monday-00:00:30", "sunday-23:59:59"]
)
async def weekly_sim(request: pytest.FixtureRequest) -> AsyncIterator[UpstreamSimulator]:
    now = request.param
    async with UpstreamSimulator(now=lambda: now, seed=7) as simulator:
        yield simulator


async def test_weekly_candles_open_on_monday_built_from_daily_bars(
    weekly_sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    now = weekly_sim.market.now()
    client = UpstreamClient(session, "kraken", weekly_sim.base_urls["kraken"])
    adapter = KrakenAdapter(client, FakeClock())
    series = await adapter.fetch_ohlcv(BTC, Interval("1w"), 1000)

    # Daily bars were asked for, not Kraken's Thursday-aligned weekly ones (10080).
    assert [r.query["interval"] for r in requests_to(weekly_sim, "kraken", OHLC)] == ["1440"]
    daily = [as_candle(row) for row in (await raw_ohlc(weekly_sim, "XBTUSD", 1440))["XXBTZUSD"]]
    expected = monday_weeks(daily)
    assert len(series.candles) == len(expected)
    for got, want in zip(series.candles, expected, strict=True):
        assert (got.timestamp, got.open, got.high, got.low, got.close) == (
            want.timestamp,
            want.open,
            want.high,
            want.low,
            want.close,
        )
        assert got.volume == pytest.approx(want.volume, rel=1e-12)
    assert all(is_monday_midnight(c.timestamp) for c in series.candles)
    assert series.candles[-1].timestamp == period_start_ms("1w", now)  # the week in progress
    assert series.interval == Interval("1w")


async def test_weekly_limit_takes_the_newest_weeks(sim: UpstreamSimulator, kraken: KrakenAdapter) -> None:
    series = await kraken.fetch_ohlcv(BTC, Interval("1w"), 3)
    daily = [as_candle(row) for row in (await raw_ohlc(sim, "XBTUSD", 1440))["XXBTZUSD"]]
    assert [c.timestamp for c in series.candles] == [w.timestamp for w in monday_weeks(daily)[-3:]]


# -- errors ----------------------------------------------------------------------------

FAULTS: list[Any] = [
    pytest.param("rate_limit", {}, UpstreamRateLimited, id="EGeneral:Too-many-requests"),
    pytest.param(
        "kraken_error", {"message": "EGeneral:Too many requests"}, UpstreamRateLimited, id="too-many"
    ),
    pytest.param(
        "kraken_error", {"message": "EQuery:Unknown asset pair"}, UpstreamRejected, id="unknown-pair"
    ),
    pytest.param(
        "kraken_error", {"message": "EGeneral:Invalid arguments"}, UpstreamRejected, id="invalid-args"
    ),
    pytest.param("kraken_error", {"message": "EService:Unavailable"}, ProviderUnavailable, id="unavailable"),
    pytest.param("kraken_error", {"message": "EService:Busy"}, ProviderUnavailable, id="busy"),
    pytest.param("http_500", {}, ProviderUnavailable, id="cloudflare-500"),
    pytest.param("http_503", {}, ProviderUnavailable, id="cloudflare-503"),
    pytest.param("html", {"status": 502}, ProviderUnavailable, id="html-502"),
    pytest.param("html", {"status": 200}, BadPayload, id="html-200"),
    pytest.param("malformed_json", {}, BadPayload, id="malformed-json"),
    pytest.param("wrong_shape", {}, BadPayload, id="wrong-shape"),
    pytest.param("empty", {}, BadPayload, id="empty"),
    pytest.param("connection_reset", {}, ProviderUnavailable, id="connection-reset"),
]


@pytest.mark.parametrize(("kind", "params", "expected"), FAULTS)
async def test_faults_become_domain_errors(
    sim: UpstreamSimulator,
    kraken: KrakenAdapter,
    kind: str,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    sim.set_fault("kraken", kind, times=None if kind == "connection_reset" else 1, **params)
    with pytest.raises(expected) as caught:
        await kraken.fetch_ohlcv(BTC, Interval("1h"), 10)
    assert type(caught.value) is expected
    assert caught.value.provider == "kraken"


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        pytest.param("empty", {}, BadPayload, id="empty"),
        pytest.param("wrong_shape", {}, BadPayload, id="wrong-shape"),
        pytest.param("rate_limit", {}, UpstreamRateLimited, id="rate-limit"),
    ],
)
async def test_weekly_requests_fail_the_same_way(
    sim: UpstreamSimulator,
    kraken: KrakenAdapter,
    kind: str,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    sim.set_fault("kraken", kind, times=1, **params)
    with pytest.raises(expected):
        await kraken.fetch_ohlcv(BTC, Interval("1w"), 10)


async def test_errors_inside_http_200_are_checked_before_the_result(
    sim: UpstreamSimulator, kraken: KrakenAdapter
) -> None:
    sim.set_fault("kraken", "rate_limit", times=1)
    raw = await fetch_raw(sim.base_urls["kraken"] + OHLC, pair="XBTUSD", interval="60")
    assert raw.status == 200 and raw.body["error"] == ["EGeneral:Too many requests"]

    sim.set_fault("kraken", "rate_limit", times=1)
    with pytest.raises(UpstreamRateLimited) as caught:
        await kraken.fetch_ohlcv(BTC, Interval("1h"), 10)
    # Kraken sends no Retry-After: a pause is still ordered, so no call follows at once.
    # Kraken sends no Retry-After: its rate-limit answer gets a 5 s pause (README, politeness).
    assert caught.value.retry_after == 5.0


async def test_a_timeout_is_provider_unavailable(
    sim: UpstreamSimulator, client_for: ClientFactory, impatient_session: aiohttp.ClientSession
) -> None:
    adapter = KrakenAdapter(client_for("kraken", http=impatient_session), FakeClock())
    sim.set_fault("kraken", "timeout")
    with pytest.raises(ProviderUnavailable) as caught:
        await adapter.fetch_ohlcv(BTC, Interval("1h"), 10)
    assert caught.value.provider == "kraken"
