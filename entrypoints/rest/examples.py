"""Sample answers for the OpenAPI document: what Swagger UI and ReDoc show as responses.

Each sample is rendered from domain values by the code that renders real answers
(``rendering``, ``errors.response_for``), so it is consistent the way an answer is: a fresh
answer has no ``dataTimestamp``, a stale one has it, and outside sandbox mode there is no
``sandbox`` key at all. Only the clock-dependent fields (``timestamp``, ``pid``) are fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from application.get_health import HealthReport
from application.served import Served
from domain.candle import Candle, CandleSeries
from domain.candle_page import CandlePage
from domain.candle_span import CandleSpan
from domain.client_input import quoted
from domain.errors import AllProvidersFailed, FeatureDisabled, InvalidSymbol, RateLimited
from domain.indicator_table import IndicatorRow, IndicatorTable
from domain.interval import Interval
from domain.live import StreamStatus
from domain.market import MarketOverview
from domain.ports import CacheStats
from domain.provider_health import ProviderHealth
from domain.quote import CombinedQuote, PriceBoard
from domain.sentiment import FearGreed, OverallSentiment, Sentiment
from domain.symbol import Symbol
from entrypoints import __version__
from entrypoints.edge_rules import INTERNAL_MESSAGE, STREAMS_OFF
from entrypoints.rest import rendering, schemas
from entrypoints.rest.indicator_rendering import indicators_body
from entrypoints.rest.errors import ApiError, envelope, response_for
from entrypoints.rest.stream_headers import LIVE_PATHS, STREAM_GROUPS

NOW = 1_780_000_000.0  # 2026-05-28T20:26:40Z, epoch seconds
NOW_MS = int(NOW * 1000)
HOUR = 3600.0
_OPEN = NOW - NOW % HOUR  # the hour in progress
# Routes counted in another route's limit group (routes.LIMITED_GROUPS).
_SHARED_GROUPS = {"/api/indicators": "ohlcv"}


def _served(value: Any, stale: bool) -> Served[Any]:
    # Fresh: fetched a few seconds ago. Stale: fetched two hours ago, every provider down since.
    return Served(value, stale=stale, fetched_at=NOW - (2 * HOUR if stale else 12.0))


def _stamped(body: dict[str, Any]) -> dict[str, Any]:
    body["timestamp"] = NOW_MS
    return body


def sample_candles() -> tuple[Candle, Candle]:
    """Two 1h candles: the last closed one and the one in progress."""
    return (
        Candle(int((_OPEN - HOUR) * 1000), 64990.1, 65120.0, 64880.5, 65050.2, 1234.56),
        Candle(int(_OPEN * 1000), 65050.2, 65101.7, 65002.3, 65080.9, 321.09),  # in progress
    )


def _ohlcv(stale: bool) -> dict[str, Any]:
    series = CandleSeries(Symbol("BTC"), Interval("1h"), sample_candles(), "binance")
    return rendering.ohlcv_body(_served(series, stale))


def _range_page(last: bool) -> dict[str, Any]:
    """A page of 1h candles from 2024-01-01 with an exchange outage: the first of two pages
    (``next`` set), or the last one (``next`` null)."""
    start = 1_704_067_200_000 + (4 * 3_600_000 if last else 0)  # 2024-01-01T00:00Z (+4 h: the next page)
    opens = (start, start + 3_600_000, start + 3 * 3_600_000) if not last else (start, start + 3_600_000)
    candles = tuple(
        Candle(t, 42280.0 + i, 42310.5 + i, 42250.2 + i, 42290.7 + i, 830.5) for i, t in enumerate(opens)
    )
    series = CandleSeries(Symbol("BTC"), Interval("1h"), candles, "binance")
    gaps = () if last else (CandleSpan(start + 2 * 3_600_000, start + 3 * 3_600_000),)
    page = CandlePage(series, None if last else start + 4 * 3_600_000, True, gaps)
    return _stamped(rendering.ohlcv_range_body(Served(page, stale=False, fetched_at=NOW - 1)))


def _indicators(stale: bool) -> dict[str, Any]:
    """``rsi:14,macd:12:26:9,bbands:20:2:2`` at the two sample candles (limit=2)."""
    closed, current = sample_candles()
    rows = (
        IndicatorRow(closed.timestamp, {
            "rsi_14": 58.31, "macd_12_26_9": {"macd": 112.47, "macdsignal": 98.02, "macdhist": 14.45},
            "bbands_20_2_2": {"upperband": 65391.8, "middleband": 64870.4, "lowerband": 64349.0}}),
        IndicatorRow(current.timestamp, {
            "rsi_14": 59.12, "macd_12_26_9": {"macd": 114.9, "macdsignal": 101.6, "macdhist": 13.3},
            "bbands_20_2_2": {"upperband": 65402.6, "middleband": 64893.1, "lowerband": 64383.6}}),
    )  # fmt: skip
    table = IndicatorTable(Symbol("BTC"), Interval("1h"), rows, 293, "binance")
    return indicators_body(_served(table, stale))


def _prices(stale: bool) -> dict[str, Any]:
    quote = CombinedQuote("BTC", "Bitcoin", 65080.9, 1.23, 28_500_000_000.0, 1_284_000_000_000.0, NOW - 20,
                          ("coingecko", "coincap", "binance"))  # fmt: skip
    board = PriceBoard(quotes=(quote,), sources=quote.sources, asked=quote.sources)
    return rendering.prices_body(_served(board, stale))


def _sentiment(stale: bool) -> dict[str, Any]:
    today = FearGreed(71, "Greed", NOW - NOW % 86400)
    yesterday = FearGreed(64, "Greed", today.timestamp - 86400)
    value = Sentiment(today, OverallSentiment("bullish", 71, 1.0), (today, yesterday), "alternative_me")
    return rendering.sentiment_body(_served(value, stale))


def _overview(stale: bool) -> dict[str, Any]:
    value = MarketOverview(2_310_000_000_000.0, 98_400_000_000.0, 55.6, 12.1, 17_234, 1_204, -0.8, NOW - 60,
                           "coingecko")  # fmt: skip
    return rendering.overview_body(_served(value, stale))


def _health(healthy: bool) -> dict[str, Any]:
    if healthy:
        providers = (
            ProviderHealth("binance", "online", "closed", 84.2, NOW - 12, None, calls=40, failures=0),
            ProviderHealth("kraken", "unknown", "closed", None, None, None),  # not called yet
            ProviderHealth("coingecko", "online", "closed", 120.5, NOW - 20, None, calls=12, failures=0),
            ProviderHealth("coincap", "disabled", "closed", None, None, None),  # no COINCAP_API_KEY
            ProviderHealth("alternative_me", "online", "closed", 95.0, NOW - 300, None, calls=2, failures=0),
        )
        cache = CacheStats("memory", size=6, hits=980, misses=20, max_entries=10_000)
    else:
        providers = tuple(
            ProviderHealth(name, "offline", "open", 10000.0, NOW - 5, "timed out", calls=5, failures=5)
            for name in ("binance", "kraken", "coingecko", "coincap", "alternative_me")
        )
        cache = CacheStats("memory", size=0, hits=0, misses=25, max_entries=10_000)
    report = HealthReport("healthy" if healthy else "unhealthy", 3600.5, __version__, providers, cache)
    streams = (
        StreamStatus("binance", "connected", 12, NOW - 0.4, 1) if healthy
        else StreamStatus("binance", "reconnecting", 12, NOW - 95, 7),
        StreamStatus("kraken", "connected", 0, NOW - 0.8, 0) if healthy
        else StreamStatus("kraken", "down", 0, None, 3),
    )  # fmt: skip
    body = _stamped(rendering.health(report, streams).body())
    body["pid"] = 4242
    return body


def _cache_stats() -> dict[str, Any]:
    stats = CacheStats("memory", size=6, hits=980, misses=20, max_entries=10_000)
    return _stamped(rendering.cache_stats(stats).body())


def _fresh_and_stale(render: Callable[[bool], dict[str, Any]]) -> dict[str, Any]:
    return {
        "fresh": {"summary": "Fresh", "value": _stamped(render(False))},
        "stale": {
            "summary": "Every provider failed: a cached copy past its TTL, marked stale",
            "value": _stamped(render(True)),
        },
    }


def _one(summary: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"answer": {"summary": summary, "value": value}}


def success(model: type[schemas.ApiModel]) -> dict[str, Any]:
    """The OpenAPI ``examples`` of ``model``'s 200 answer."""
    if model is schemas.OhlcvResponse:
        return _fresh_and_stale(_ohlcv)
    if model is schemas.OhlcvRangeResponse:
        return {
            "range": {"summary": "With start: a page of a range, an exchange outage reported as a gap",
                      "value": _range_page(last=False)},
            "rangeLast": {"summary": "With start: the range's last page (next is null)",
                          "value": _range_page(last=True)},
        }  # fmt: skip
    if model is schemas.IndicatorsResponse:
        return _fresh_and_stale(_indicators)
    if model is schemas.PricesResponse:
        return _fresh_and_stale(_prices)
    if model is schemas.SentimentResponse:
        return _fresh_and_stale(_sentiment)
    if model is schemas.MarketOverviewResponse:
        return _fresh_and_stale(_overview)
    if model is schemas.HealthResponse:
        return _one("Healthy: providers online, not yet called or switched off", _health(True))
    if model is schemas.CacheStatsResponse:
        return _one("Counters", _cache_stats())
    if model is schemas.CacheClearResponse:
        return _one("Cleared", _stamped(rendering.cache_cleared(6).body()))
    if model is schemas.ServiceIndex:
        return _one("Where to start", rendering.service_index().body())
    raise ValueError(f"no example for {model.__name__}")


def unhealthy() -> dict[str, Any]:
    """The OpenAPI ``examples`` of health's 503: nothing can be served."""
    return _one("Unhealthy: every provider down and nothing cached", _health(False))


def failure(status: int, path: str) -> dict[str, Any]:
    """The OpenAPI ``examples`` of the error answer ``status`` of the route ``path``."""
    body = orjson.loads(_error_response(status, path).body)  # type: ignore[arg-type]
    return _one(body["error"]["code"], _stamped(body))


def _error_response(status: int, path: str) -> Any:
    field = "symbols" if path in ("/api/prices", "/api/stream/prices") else "symbol"
    live = path in LIVE_PATHS
    errors: dict[int, Exception] = {
        400: InvalidSymbol(f"unknown symbol {quoted('DOGE')}; supported bases: BTC, ETH, SOL", field=field),
        401: ApiError(401, "UNAUTHORIZED", "send Authorization: Bearer <ADMIN_TOKEN>"),
        403: ApiError(403, "FORBIDDEN", "wrong admin token"),
        404: FeatureDisabled(STREAMS_OFF if live else "sentiment is switched off on this service (ENABLE_SENTIMENT=false)"),
        503: AllProvidersFailed(
            {"binance": "timed out", "kraken": "our request budget (10 per 10 second) is spent"},
            retry_after=9.2,
        ),
    }
    if status == 400 and path == "/ws":
        return response_for(ApiError(400, "INVALID_PARAMETER", "GET /ws upgrades to a WebSocket: send the "
                                     "WebSocket handshake (Upgrade: websocket)", {"field": "Upgrade"}))  # fmt: skip
    if status == 429:
        if path == "/api/cache/clear":
            message = "too many failed admin attempts: at most 5 a minute per client"
            return envelope(429, "RATE_LIMITED", message, {"limit": 5, "group": "admin"}, 42)
        group = STREAM_GROUPS.get(path) or _SHARED_GROUPS.get(path) or path.removeprefix("/api/").split("/")[0]
        limited = RateLimited(60, 41.5)
        return envelope(429, "RATE_LIMITED", str(limited), {"limit": 60, "group": group}, 42)
    if status == 500:
        return envelope(500, "INTERNAL_ERROR", INTERNAL_MESSAGE)
    return response_for(errors[status])
