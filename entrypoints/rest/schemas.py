"""The JSON shapes of the REST API as pydantic models: the one source of truth.

``rendering`` builds every response body through these models and ``openapi`` describes the
API from their JSON schemas, so the documentation cannot drift from what is served.
Python names are snake_case; the JSON names (aliases) are camelCase, as in ../shared/API.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def camel(name: str) -> str:
    """``price_usd`` → ``priceUsd``, ``change_24h`` → ``change24h`` (pydantic's to_camel gives ``change24H``)."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


class ApiModel(BaseModel):
    """A JSON object of the API: camelCase on the wire, nothing undeclared."""

    model_config = ConfigDict(alias_generator=camel, populate_by_name=True, extra="forbid", frozen=True)

    def body(self) -> dict[str, Any]:
        """The JSON object, under its wire names; the sandbox marks only when set."""
        body = self.model_dump(by_alias=True)
        for mark in _SANDBOX_MARKS:
            if mark in body and body[mark] is None:
                del body[mark]
        return body


def _epoch_ms() -> Any:
    return Field(description="Epoch milliseconds.")


def _iso_time() -> Any:
    return Field(description="ISO 8601 UTC with a `Z`, millisecond precision.")


# Fields that exist only in sandbox mode (SANDBOX=true, `serve --sandbox`): absent otherwise.
_SANDBOX_MARKS = ("sandbox", "mode")


def _sandbox() -> Any:
    return Field(
        default=None,
        description="Present, and true, only in sandbox mode (`serve --sandbox`): the data is simulated, "
        "not real market data. Every response then also carries the header `X-Data-Mode: sandbox`.",
    )


# -- data envelopes --------------------------------------------------------------------------


class DataEnvelope(ApiModel):
    """What every data response carries besides ``data``."""

    success: Literal[True] = True
    timestamp: int = Field(description="When the response was made, epoch milliseconds.")
    stale: bool = Field(
        description="True only when a cached value past its TTL is served because every provider failed."
    )
    data_timestamp: int | None = Field(
        default=None,
        description="Present only when `stale` is true: when the served value was fetched, epoch milliseconds.",
    )
    sandbox: Literal[True] | None = _sandbox()


class Candle(ApiModel):
    """One OHLCV candle."""

    timestamp: int = Field(description="Open time of the candle, epoch milliseconds.")
    open: float
    high: float
    low: float
    close: float
    volume: float


class OhlcvResponse(DataEnvelope):
    """GET /api/ohlcv: candles oldest first; the newest is the one in progress."""

    data: list[Candle]
    symbol: str = Field(description="The pair, base and quote, e.g. `BTCUSDT`.", examples=["BTCUSDT"])
    interval: str = Field(examples=["1h"])
    count: int = Field(ge=0, description="Number of candles in `data`.")
    source: str = Field(description="The provider that answered.", examples=["binance"])
    live: bool = Field(
        default=False,
        description="True while a live stream is open for this market: the newest candle is the live one "
        "and the candles the stream closed are joined in (false otherwise, always present).",
    )


class OhlcvRangeResponse(OhlcvResponse):
    """GET /api/ohlcv with `start`: the candles opening in `[start, end)`, a page at a time."""

    next: int | None = Field(description="The `start` of the following page (epoch ms); null on the last one.")
    complete: bool = Field(description="True when every candle the exchange has in this page's span is in it.")
    gaps: list[tuple[int, int]] = Field(
        description="Spans of the page with no candle, `[fromMs, toMs]` half-open: the open time of the first "
        "missing candle and the one where candles resume. Never filled in."
    )


#: One indicator at one candle: a number, null where it has none, or an object keyed by TA-Lib's
#: output names for a function with several outputs.
IndicatorValue = float | None | dict[str, float | None]


class IndicatorRow(ApiModel):
    """The requested indicators at one candle, keyed as requested with `:` → `_` (`rsi:14` →
    `rsi_14`, `atr` → `atr`)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, IndicatorValue] = Field(init=False)  # type: ignore[assignment]

    timestamp: int = Field(description="Open time of the candle, epoch milliseconds.")


class IndicatorsResponse(DataEnvelope):
    """GET /api/indicators: the indicators at each of the newest `limit` candles, oldest first."""

    data: list[IndicatorRow]
    symbol: str = Field(description="The pair, base and quote, e.g. `BTCUSDT`.", examples=["BTCUSDT"])
    interval: str = Field(examples=["1h"])
    count: int = Field(ge=0, description="Number of rows in `data` (the `limit` asked for).")
    warmup: int = Field(ge=0, description="Candles before the first row that went into the computation: the "
                        "values equal TA-Lib's over the `count + warmup` candles `/api/ohlcv` serves.")  # fmt: skip
    source: str = Field(description="The provider whose candles were used.", examples=["binance"])
    live: bool = Field(description="True while a live stream is open for this market: the newest row "
                       "follows the live candle.")  # fmt: skip


class Quote(ApiModel):
    """One combined price quote (USD)."""

    symbol: str = Field(examples=["BTC"])
    name: str = Field(examples=["Bitcoin"])
    price: float
    price_usd: float
    change_24h: float | None = Field(description="Percent change over 24 hours.")
    volume_24h: float | None
    market_cap: float | None
    last_update: str | None = _iso_time()
    sources: list[str] = Field(description="Providers whose prices were combined.")
    dropped: list[str] = Field(description="Providers whose prices were left out as outliers.")
    spread: float = Field(ge=0, description="How far apart the answering providers' prices were: (max - min) "
                          "over the served price; 0 with one source.", examples=[0.0004])
    disputed: bool = Field(description="True when the providers disagreed beyond PRICE_MAX_DEVIATION with no "
                           "majority to settle it: the price is the preferred provider's alone.")


class PricesResponse(DataEnvelope):
    """GET /api/prices."""

    data: list[Quote]
    source: str = Field(description="The providers that contributed, joined by `+`.",
                        examples=["coingecko+coincap+binance"])  # fmt: skip
    count: int = Field(ge=0)
    missing: list[str] = Field(description="Requested symbols no provider could price.")


class FearGreedReading(ApiModel):
    """One Fear & Greed index reading."""

    value: int = Field(ge=0, le=100)
    classification: str = Field(examples=["Greed"])
    timestamp: str | None = _iso_time()


class OverallSentiment(ApiModel):
    """The market mood summarised."""

    sentiment: Literal["bearish", "neutral", "bullish"]
    score: int = Field(description="The latest index value, 0..100.")
    confidence: float = Field(description="Share of recent readings that agree with today's band, 0..1.")


class SentimentData(ApiModel):
    """The sentiment object."""

    fear_greed: FearGreedReading
    overall: OverallSentiment
    history: list[FearGreedReading]
    source: str


class SentimentResponse(DataEnvelope):
    """GET /api/sentiment."""

    data: SentimentData
    source: str = Field(examples=["alternative_me"])


class MarketOverviewData(ApiModel):
    """The whole market at a glance (USD)."""

    total_market_cap: float
    total_volume_24h: float
    btc_dominance: float | None = Field(description="Percent of the total market cap.")
    eth_dominance: float | None = Field(description="Percent of the total market cap.")
    active_coins: int
    markets: int | None
    market_cap_change_24h: float | None = Field(description="Percent change over 24 hours.")
    last_update: str | None = _iso_time()


class MarketOverviewResponse(DataEnvelope):
    """GET /api/market/overview."""

    data: MarketOverviewData
    source: str = Field(examples=["coingecko"])


# -- operations ------------------------------------------------------------------------------


class CacheStats(ApiModel):
    """Cache counters."""

    backend: str = Field(examples=["memory", "redis"])
    state: Literal["ok", "degraded"] = Field(
        description="`degraded` while a shared backend is unreachable and the in-process fallback serves."
    )
    size: int = Field(ge=0)
    hits: int = Field(ge=0)
    misses: int = Field(ge=0)
    hit_rate: float = Field(ge=0, le=1, description="Share of lookups answered fresh from the cache.")
    max_entries: int | None


class ProviderStatus(ApiModel):
    """One provider's health."""

    name: str = Field(examples=["binance"])
    status: Literal["online", "degraded", "offline", "disabled", "unknown"] = Field(
        description="`unknown` until the provider has been called (`lastCheck` null); counts as online."
    )
    circuit: Literal["closed", "open", "half_open"]
    latency: float | None = Field(description="Latency of the last call, milliseconds.")
    last_check: str | None = _iso_time()
    error_message: str | None
    calls: int = Field(ge=0)
    failures: int = Field(ge=0)


class StreamHealth(ApiModel):
    """One upstream WebSocket provider of live streams (STREAM_PROVIDERS)."""

    provider: str = Field(examples=["binance"])
    state: Literal["connected", "reconnecting", "down"]
    streams: int = Field(ge=0, description="Streams (market candles or tickers) held open.")
    last_message: int | None = Field(description="Last frame of any kind, pings included, epoch ms; null before the first.")
    reconnects: int = Field(ge=0, description="Connections opened after the first.")


class HealthResponse(ApiModel):
    """GET /api/health: HTTP 200 unless the service cannot serve any data (503, `unhealthy`)."""

    status: Literal["healthy", "degraded", "unhealthy"]
    uptime: float = Field(description="Seconds since start.")
    version: str
    providers: list[ProviderStatus]
    cache: CacheStats
    streams: list[StreamHealth] = Field(description="The live streams' upstream providers, in "
                                        "STREAM_PROVIDERS order; empty when live streams are off.")  # fmt: skip
    pid: int = Field(description="The worker process that answered.")
    timestamp: int = _epoch_ms()
    sandbox: Literal[True] | None = _sandbox()
    mode: Literal["sandbox"] | None = Field(
        default=None, description="`sandbox` only in sandbox mode: every provider is the built-in simulator."
    )


class CacheStatsResponse(CacheStats):
    """GET /api/cache/stats."""

    success: Literal[True] = True
    timestamp: int = _epoch_ms()
    sandbox: Literal[True] | None = _sandbox()


class CacheClearResponse(ApiModel):
    """POST /api/cache/clear."""

    success: Literal[True] = True
    message: str
    removed: int = Field(ge=0, description="Entries removed.")
    timestamp: int = _epoch_ms()
    sandbox: Literal[True] | None = _sandbox()


class ServiceIndex(ApiModel):
    """GET /: where to start."""

    name: str = Field(examples=["crypto-data-engine"])
    version: str
    docs: str = Field(description="Swagger UI.", examples=["/docs"])
    redoc: str = Field(description="ReDoc.", examples=["/redoc"])
    openapi: str = Field(description="This API's OpenAPI document.", examples=["/openapi.json"])
    health: str = Field(description="Service and provider health.", examples=["/api/health"])
    sandbox: Literal[True] | None = _sandbox()


# -- errors ----------------------------------------------------------------------------------

ErrorCode = Literal[
    "INVALID_SYMBOL",
    "INVALID_INTERVAL",
    "INVALID_PARAMETER",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "PAYLOAD_TOO_LARGE",
    "REQUEST_TIMEOUT",
    "URI_TOO_LONG",
    "HEADERS_TOO_LARGE",
    "RATE_LIMITED",
    "PROVIDER_ERROR",
    "SERVICE_UNAVAILABLE",
    "INTERNAL_ERROR",
    "NOT_IMPLEMENTED",
]


class ErrorDetail(ApiModel):
    """What went wrong."""

    code: ErrorCode
    message: str
    details: Any = Field(
        default=None,
        description="More about the error: `{field}` for a bad parameter, "
        "`{provider id: reason}` for PROVIDER_ERROR, `{limit, group}` for RATE_LIMITED.",
    )
    retry_after: int | None = Field(default=None, description="Seconds to wait before retrying.")


class ErrorResponse(ApiModel):
    """The envelope of every error."""

    success: Literal[False] = False
    error: ErrorDetail
    timestamp: int = _epoch_ms()
    sandbox: Literal[True] | None = _sandbox()


RESPONSE_MODELS: tuple[type[ApiModel], ...] = (
    OhlcvResponse,
    OhlcvRangeResponse,
    IndicatorsResponse,
    PricesResponse,
    SentimentResponse,
    MarketOverviewResponse,
    HealthResponse,
    CacheStatsResponse,
    CacheClearResponse,
    ServiceIndex,
    ErrorResponse,
)
