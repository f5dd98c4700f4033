"""BinanceAdapter over real HTTP against the simulator: klines, batched tickers, errors, weight."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
from typing import Any

import aiohttp
import pytest

from adapters.providers.binance import BinanceAdapter
from adapters.providers.upstream import BLOCKED_PAUSE, UpstreamClient
from adapters.resilience.memory_cooldowns import MemoryCooldowns
from application.provider_calls import ProviderCalls
from domain.errors import (
    BadPayload,
    CircuitOpen,
    ProviderError,
    ProviderUnavailable,
    UpstreamBlocked,
    UpstreamRateLimited,
    UpstreamRejected,
)
from domain.interval import Interval
from domain.symbol import Symbol
from simulator import UpstreamSimulator
from simulator.coingecko import COINS
from tests.fakes import FakeClock
from tests.integration.conftest import ClientFactory
from tests.integration.support import (
    INTERVAL_MS,
    NOW,
    WEEK_MS,
    canned,
    exact,
    fetch_raw,
    is_monday_midnight,
    period_start_ms,
    requests_to,
)

KLINES = "/api/v3/klines"
TICKER = "/api/v3/ticker/24hr"
BTC = Symbol("BTC", "USDT")
#: Display names as the simulator's CoinGecko lists them (Binance publishes none).
NAMES = {coin.asset: coin.name for coin in COINS if coin.id != "polygon-ecosystem-token"}


class RecordingBudgets:
    """The one thing Binance needs of our budgets: ``pause_until``; it records the calls."""

    def __init__(self) -> None:
        self.pauses: list[tuple[str, float]] = []

    def pause_until(self, provider: str, until: float) -> None:
        self.pauses.append((provider, until))


@pytest.fixture
def binance(client_for: ClientFactory, clock: FakeClock) -> BinanceAdapter:
    return BinanceAdapter(client_for("binance"), clock)


async def raw_klines(sim: UpstreamSimulator, market: str, interval: str, limit: int) -> list[list[Any]]:
    raw = await fetch_raw(
        sim.base_urls["binance"] + KLINES, symbol=market, interval=interval, limit=str(limit)
    )
    assert raw.status == 200
    return raw.body


# -- klines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "limit"),
    [("1m", 1), ("5m", 7), ("15m", 100), ("1h", 24), ("4h", 50), ("1d", 1000), ("1w", 10)],
)
async def test_klines_are_parsed_exactly_as_served(
    sim: UpstreamSimulator, binance: BinanceAdapter, interval: str, limit: int
) -> None:
    series = await binance.fetch_ohlcv(BTC, Interval(interval), limit)

    sent = requests_to(sim, "binance", KLINES)
    assert [r.query for r in sent] == [{"symbol": "BTCUSDT", "interval": interval, "limit": str(limit)}]
    rows = await raw_klines(sim, "BTCUSDT", interval, limit)
    assert len(series.candles) == limit == len(rows)
    for candle, row in zip(series.candles, rows, strict=True):
        assert candle.timestamp == row[0]
        assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == tuple(
            exact(x) for x in row[1:6]
        )
    assert (series.symbol, series.interval, series.source) == (BTC, Interval(interval), "binance")


@pytest.mark.parametrize("interval", ["1m", "15m", "1h", "4h", "1d", "1w"])
async def test_klines_are_oldest_first_aligned_and_end_with_the_current_period(
    binance: BinanceAdapter, interval: str
) -> None:
    series = await binance.fetch_ohlcv(BTC, Interval(interval), 30)
    stamps = [c.timestamp for c in series.candles]
    step = INTERVAL_MS[interval]

    assert all(later - earlier == step for earlier, later in itertools.pairwise(stamps))
    assert stamps[-1] == period_start_ms(interval, NOW)  # the candle in progress
    assert all(stamp > 10**12 for stamp in stamps)  # milliseconds, not seconds
    if interval == "1w":
        assert all(is_monday_midnight(s) for s in stamps)
    else:
        assert all(s % step == 0 for s in stamps)
    for c in series.candles:
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert c.volume >= 0


async def test_the_last_kline_closes_at_the_current_price(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    sim.set_price("BTC", 70_000)
    series = await binance.fetch_ohlcv(BTC, Interval("1h"), 3)
    assert series.candles[-1].close == pytest.approx(70_000, rel=1e-6)


async def test_weekly_klines_open_on_monday(binance: BinanceAdapter) -> None:
    series = await binance.fetch_ohlcv(BTC, Interval("1w"), 5)
    stamps = [c.timestamp for c in series.candles]
    assert all(is_monday_midnight(s) for s in stamps)
    assert stamps[-1] == period_start_ms("1w", NOW) and stamps[0] == stamps[-1] - 4 * WEEK_MS


async def test_matic_is_asked_for_as_pol(sim: UpstreamSimulator, binance: BinanceAdapter) -> None:
    series = await binance.fetch_ohlcv(Symbol("MATIC", "USDT"), Interval("1h"), 3)

    assert [r.query["symbol"] for r in requests_to(sim, "binance", KLINES)] == ["POLUSDT"]
    assert series.symbol == Symbol("MATIC", "USDT")
    rows = await raw_klines(sim, "POLUSDT", "1h", 3)
    assert [c.close for c in series.candles] == [exact(r[4]) for r in rows]


async def test_usdc_markets_are_asked_as_such(sim: UpstreamSimulator, binance: BinanceAdapter) -> None:
    await binance.fetch_ohlcv(Symbol("ETH", "USDC"), Interval("1h"), 2)
    assert [r.query["symbol"] for r in requests_to(sim, "binance", KLINES)] == ["ETHUSDC"]


async def test_a_usd_quote_is_rejected_without_a_call(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await binance.fetch_ohlcv(Symbol("BTC", "USD"), Interval("1h"), 10)
    assert caught.value.provider == "binance"
    assert sim.calls("binance") == 0


async def test_an_invalid_symbol_is_rejected(sim: UpstreamSimulator, binance: BinanceAdapter) -> None:
    # XMR is not listed: Binance answers 400 {"code": -1121, "msg": "Invalid symbol."}.
    raw = await fetch_raw(sim.base_urls["binance"] + KLINES, symbol="XMRUSDT", interval="1h")
    assert (raw.status, raw.body["code"]) == (400, -1121)

    with pytest.raises(UpstreamRejected) as caught:
        await binance.fetch_ohlcv(Symbol("XMR", "USDT"), Interval("1h"), 10)
    assert caught.value.provider == "binance"
    # Binance's own message and code, as it sent them.
    assert caught.value.reason == f"{raw.body['msg']} ({raw.body['code']})"


async def test_only_usdt_and_usdc_markets_are_supported(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    assert binance.supports(Symbol("BTC", "USDT"), Interval("1h")) is True
    assert binance.supports(Symbol("BTC", "USDC"), Interval("1w")) is True
    assert binance.supports(Symbol("BTC", "USD"), Interval("1h")) is False
    assert binance.lists("BTC") is True
    assert sim.calls("binance") == 0  # answered without asking Binance


async def test_a_market_found_unlisted_is_not_offered_again_for_an_hour(
    sim: UpstreamSimulator, binance: BinanceAdapter, clock: FakeClock
) -> None:
    xmr = Symbol("XMR", "USDT")
    assert binance.supports(xmr, Interval("1h")) is True  # not known yet: worth one call
    with pytest.raises(UpstreamRejected):
        await binance.fetch_ohlcv(xmr, Interval("1h"), 10)
    assert binance.supports(xmr, Interval("1h")) is False
    assert binance.supports(xmr, Interval("1d")) is False  # the market, whatever the interval
    assert binance.lists("XMR") is False  # nor is it put in ticker batches
    assert binance.supports(BTC, Interval("1h")) is True and binance.lists("BTC") is True
    assert sim.calls("binance") == 1

    clock.advance(3599)
    assert binance.supports(xmr, Interval("1h")) is False  # a second before the hour: still known
    assert binance.lists("XMR") is False
    clock.advance(2)
    assert binance.supports(xmr, Interval("1h")) is True  # listings change: ask again
    assert binance.lists("XMR") is True


async def test_an_invalid_interval_is_rejected_without_forgetting_the_market(
    binance: BinanceAdapter,
) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await binance.fetch_ohlcv(BTC, Interval("7m"), 10)  # -1120 Invalid interval.
    assert "-1120" in caught.value.reason
    assert binance.supports(BTC, Interval("1h")) is True


@pytest.mark.parametrize(
    ("symbol", "limit", "code"),
    [(Symbol("BTC", "USDT"), 1001, "-1130"), (Symbol("btc", "USDT"), 10, "-1100")],
    ids=["bad-limit", "illegal-characters"],
)
async def test_any_other_400_is_our_fault_not_the_markets(
    binance: BinanceAdapter, symbol: Symbol, limit: int, code: str
) -> None:
    # Binance calls it a bad request, but the market exists: we ask wrongly (a bug or a
    # misconfigured base URL), which counts for the circuit, unlike -1121 / -1120.
    with pytest.raises(BadPayload) as caught:
        await binance.fetch_ohlcv(symbol, Interval("1h"), limit)
    assert not isinstance(caught.value, UpstreamRejected)
    assert code in caught.value.reason


async def test_a_400_with_an_unknown_code_in_a_canned_answer_is_a_bad_payload() -> None:
    refusal = {"code": -1104, "msg": "Not all sent parameters were read."}
    adapter = BinanceAdapter(canned("binance", refusal, 400), FakeClock())
    for fetch in (adapter.fetch_ohlcv(BTC, Interval("1h"), 10), adapter.fetch_quotes(["BTC", "ETH"])):
        with pytest.raises(BadPayload) as caught:
            await fetch
        assert "-1104" in caught.value.reason
    assert adapter.supports(BTC, Interval("1h")) is True and adapter.lists("ETH") is True


# -- tickers ---------------------------------------------------------------------------


async def test_tickers_are_fetched_in_one_batched_call(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    bases = ["BTC", "ETH", "SOL", "MATIC", "AVAX", "BNB"]
    quotes = await binance.fetch_quotes(bases)

    sent = requests_to(sim, "binance")
    assert len(sent) == 1 and sent[0].path == TICKER
    assert "symbol" not in sent[0].query and "symbols" in sent[0].query  # never the all-symbols call
    markets = json.loads(sent[0].query["symbols"])
    assert sorted(markets) == sorted(["BTCUSDT", "ETHUSDT", "SOLUSDT", "POLUSDT", "AVAXUSDT", "BNBUSDT"])
    assert set(quotes) == set(bases)


async def test_ticker_fields_are_mapped(sim: UpstreamSimulator, binance: BinanceAdapter) -> None:
    bases = ["BTC", "ETH", "MATIC"]
    quotes = await binance.fetch_quotes(bases)
    markets = {"BTC": "BTCUSDT", "ETH": "ETHUSDT", "MATIC": "POLUSDT"}
    raw = await fetch_raw(
        sim.base_urls["binance"] + TICKER, symbols=json.dumps(list(markets.values()), separators=(",", ":"))
    )
    tickers = {t["symbol"]: t for t in raw.body}

    for base, market in markets.items():
        quote, ticker = quotes[base], tickers[market]
        assert quote.symbol == base and quote.source == "binance"
        assert quote.price_usd == exact(ticker["lastPrice"])
        assert quote.change_24h == exact(ticker["priceChangePercent"])
        assert quote.volume_24h == exact(ticker["quoteVolume"])  # USD turnover, not base units
        assert quote.volume_24h != exact(ticker["volume"])
        assert quote.market_cap is None  # Binance publishes none: never made up
        assert quote.last_update == ticker["closeTime"] / 1000  # ms on the wire, seconds in the domain
        assert quote.name == NAMES[base]


# -- errors ----------------------------------------------------------------------------

FAULTS: list[Any] = [
    pytest.param("rate_limit", {"retry_after": 17}, UpstreamRateLimited, id="429"),
    pytest.param("ban_418", {"retry_after": 300}, UpstreamRateLimited, id="418"),
    pytest.param("geo_451", {}, UpstreamBlocked, id="451"),
    pytest.param("waf_403", {}, UpstreamBlocked, id="403"),
    pytest.param("http_500", {}, ProviderUnavailable, id="500"),
    pytest.param("http_503", {}, ProviderUnavailable, id="503"),
    pytest.param("html", {"status": 502}, ProviderUnavailable, id="html-502"),
    pytest.param("html", {"status": 200}, BadPayload, id="html-200"),
    pytest.param("malformed_json", {}, BadPayload, id="malformed-json"),
    pytest.param("wrong_shape", {}, BadPayload, id="wrong-shape"),
    pytest.param("connection_reset", {}, ProviderUnavailable, id="connection-reset"),
]


async def fetch_with(binance: BinanceAdapter, operation: str) -> object:
    if operation == "klines":
        return await binance.fetch_ohlcv(BTC, Interval("1h"), 10)
    return await binance.fetch_quotes(["BTC", "ETH"])


@pytest.mark.parametrize("operation", ["klines", "tickers"])
@pytest.mark.parametrize(("kind", "params", "expected"), FAULTS)
async def test_faults_become_domain_errors(
    sim: UpstreamSimulator,
    binance: BinanceAdapter,
    operation: str,
    kind: str,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    sim.set_fault("binance", kind, times=None if kind == "connection_reset" else 1, **params)
    with pytest.raises(expected) as caught:
        await fetch_with(binance, operation)
    assert type(caught.value) is expected
    assert caught.value.provider == "binance"
    if "retry_after" in params:
        assert caught.value.retry_after == params["retry_after"]


@pytest.mark.parametrize("operation", ["klines", "tickers"])
async def test_an_empty_answer_is_a_bad_payload(
    sim: UpstreamSimulator, binance: BinanceAdapter, operation: str
) -> None:
    # Trap 8: a 200 with nothing in it is a failure, not data (Binance never answers [] for
    # symbols it lists: it refuses the whole request with -1121).
    sim.set_fault("binance", "empty")
    with pytest.raises(BadPayload):
        await fetch_with(binance, operation)


async def test_the_geo_block_points_at_the_vision_host(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    sim.set_fault("binance", "geo_451")
    with pytest.raises(UpstreamBlocked) as caught:
        await binance.fetch_ohlcv(BTC, Interval("1h"), 10)
    assert "data-api.binance.vision" in str(caught.value)


async def test_the_geo_block_pauses_binance_for_an_hour(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    # A 451 does not lift by itself (behaviour 6: 451 carries BLOCKED_PAUSE): no call for an
    # hour, whatever the circuit says, then one to see.
    clock = FakeClock(1_800_000_000.0)
    calls = ProviderCalls(clock, 5.0, cooldowns=MemoryCooldowns())
    sim.set_fault("binance", "geo_451", times=1)
    with pytest.raises(UpstreamBlocked) as caught:
        await calls.run("binance", lambda: binance.fetch_ohlcv(BTC, Interval("1h"), 10))
    assert "data-api.binance.vision" in caught.value.reason
    assert caught.value.retry_after == BLOCKED_PAUSE

    clock.advance(BLOCKED_PAUSE - 1)
    with pytest.raises(CircuitOpen):
        await calls.run("binance", lambda: binance.fetch_ohlcv(BTC, Interval("1h"), 10))
    assert sim.calls("binance") == 1


async def test_a_429_for_spent_weight_carries_binances_retry_after() -> None:
    # Not an injected fault: the simulator's own weight limit (klines cost 2 each).
    async with (
        UpstreamSimulator(now=lambda: NOW, binance_weight_limit=4) as sim,
        aiohttp.ClientSession() as http,
    ):
        adapter = BinanceAdapter(UpstreamClient(http, "binance", sim.base_urls["binance"]), FakeClock())
        await adapter.fetch_ohlcv(BTC, Interval("1m"), 1)
        await adapter.fetch_ohlcv(BTC, Interval("1m"), 1)
        with pytest.raises(UpstreamRateLimited) as caught:
            await adapter.fetch_ohlcv(BTC, Interval("1m"), 1)
    seconds_to_next_minute = math.ceil((math.floor(NOW / 60) + 1) * 60 - NOW)
    assert caught.value.retry_after == seconds_to_next_minute


async def test_a_timeout_is_provider_unavailable(
    sim: UpstreamSimulator, client_for: ClientFactory, impatient_session: aiohttp.ClientSession
) -> None:
    adapter = BinanceAdapter(client_for("binance", http=impatient_session), FakeClock())
    sim.set_fault("binance", "timeout")
    with pytest.raises(ProviderUnavailable) as caught:
        await adapter.fetch_ohlcv(BTC, Interval("1h"), 10)
    assert caught.value.provider == "binance"


# -- used weight -----------------------------------------------------------------------


async def spend_weight(sim: UpstreamSimulator, calls: int) -> int:
    """Spend weight as another client of this IP would, with the all-symbols ticker (weight 80
    each); its answers are cut short (an empty-body fault) only to keep the suite fast, since
    Binance counts the weight of a request whatever it answers."""
    sim.set_fault("binance", "empty", path=TICKER, times=calls)
    async with aiohttp.ClientSession() as http:

        async def one() -> int:
            async with http.get(sim.base_urls["binance"] + TICKER) as response:
                await response.read()
                return int(response.headers["X-MBX-USED-WEIGHT-1M"])

        used = await asyncio.gather(*(one() for _ in range(calls)))
    assert sim.faults("binance") == []
    return max(used)


async def test_low_used_weight_does_not_pause(
    sim: UpstreamSimulator, client_for: ClientFactory, clock: FakeClock
) -> None:
    budgets = RecordingBudgets()
    adapter = BinanceAdapter(client_for("binance"), clock, budgets)
    await adapter.fetch_ohlcv(BTC, Interval("1h"), 10)
    await adapter.fetch_quotes(["BTC"])
    assert budgets.pauses == []


@pytest.mark.parametrize("operation", ["klines", "tickers"])
async def test_used_weight_near_the_limit_pauses_binance_until_the_next_minute(
    sim: UpstreamSimulator, client_for: ClientFactory, clock: FakeClock, operation: str
) -> None:
    used = await spend_weight(sim, 68)
    assert 5_400 <= used < 6_000  # 90% of Binance's 6000 per minute, still under it
    budgets = RecordingBudgets()
    adapter = BinanceAdapter(client_for("binance"), clock, budgets)

    before = clock.now()
    await fetch_with(adapter, operation)  # still answered
    after = clock.now()

    assert len(budgets.pauses) == 1
    provider, until = budgets.pauses[0]
    assert provider == "binance"
    assert until % 60 == 0 and before < until <= after + 60


async def test_a_refusal_for_spent_weight_also_pauses(
    sim: UpstreamSimulator, client_for: ClientFactory, clock: FakeClock
) -> None:
    assert await spend_weight(sim, 76) > 6_000
    budgets = RecordingBudgets()
    adapter = BinanceAdapter(client_for("binance"), clock, budgets)
    with pytest.raises(UpstreamRateLimited):
        await adapter.fetch_ohlcv(BTC, Interval("1h"), 10)
    assert [provider for provider, _ in budgets.pauses] == ["binance"]


async def test_an_unlisted_market_is_found_once_then_left_out_of_batches(
    sim: UpstreamSimulator, binance: BinanceAdapter
) -> None:
    first = await binance.fetch_quotes(["BTC", "XMR", "ETH", "SOL"])
    assert set(first) == {"BTC", "ETH", "SOL"}
    sim.reset_calls()
    second = await binance.fetch_quotes(["BTC", "XMR", "ETH", "SOL"])
    assert set(second) == {"BTC", "ETH", "SOL"}
    assert sim.calls("binance", "/api/v3/ticker/24hr") == 1  # one batch, without XMRUSDT
    asked = json.loads(sim.requests[-1].query["symbols"])
    assert "XMRUSDT" not in asked and set(asked) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    # Known unlisted for klines too, so GetPrices and GetOhlcv skip it without a call.
    assert binance.lists("XMR") is False and binance.lists("BTC") is True
    assert binance.supports(Symbol("XMR", "USDT"), Interval("1h")) is False


# -- zeros -----------------------------------------------------------------------------


def ticker(symbol: str, last: str, volume: str = "1000.5") -> dict[str, Any]:
    return {"symbol": symbol, "lastPrice": last, "priceChangePercent": "-1.250", "quoteVolume": volume,
            "closeTime": int(NOW * 1000)}  # fmt: skip


async def test_a_zero_last_price_is_no_quote_but_a_zero_volume_is_a_volume() -> None:
    tickers = [ticker("BTCUSDT", "0.00000000"), ticker("ETHUSDT", "3500.10", volume="0.00000000")]
    adapter = BinanceAdapter(canned("binance", tickers), FakeClock())
    quotes = await adapter.fetch_quotes(["BTC", "ETH"])
    assert set(quotes) == {"ETH"}
    assert quotes["ETH"].price_usd == 3500.10 and quotes["ETH"].volume_24h == 0.0


async def test_only_zero_prices_is_a_bad_payload() -> None:
    adapter = BinanceAdapter(canned("binance", [ticker("BTCUSDT", "0.00000000")]), FakeClock())
    with pytest.raises(BadPayload):
        await adapter.fetch_quotes(["BTC"])


def kline(open_ms: int, price: str, volume: str = "12.5") -> list[Any]:
    return [open_ms, price, price, price, price, volume, open_ms + 59_999, "0", 0, "0", "0", "0"]


async def test_a_zero_kline_price_is_a_bad_payload() -> None:
    start = int(NOW) // 60 * 60_000 - 120_000
    rows = [kline(start, "1.5"), kline(start + 60_000, "0.00000000")]
    adapter = BinanceAdapter(canned("binance", rows), FakeClock())
    with pytest.raises(BadPayload):
        await adapter.fetch_ohlcv(BTC, Interval("1m"), 2)


async def test_a_zero_kline_volume_is_kept() -> None:
    start = int(NOW) // 60 * 60_000 - 120_000
    rows = [kline(start, "1.5", "0"), kline(start + 60_000, "1.6")]
    adapter = BinanceAdapter(canned("binance", rows), FakeClock())
    series = await adapter.fetch_ohlcv(BTC, Interval("1m"), 2)
    assert [c.volume for c in series.candles] == [0.0, 12.5]


async def test_only_unlisted_markets_give_an_empty_answer_not_a_failure(binance: BinanceAdapter) -> None:
    assert await binance.fetch_quotes(["XMR"]) == {}
