from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetOhlcvRequest(_message.Message):
    __slots__ = ("symbol", "interval", "limit", "start", "end")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    interval: str
    limit: int
    start: int
    end: int
    def __init__(self, symbol: _Optional[str] = ..., interval: _Optional[str] = ..., limit: _Optional[int] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class Gap(_message.Message):
    __slots__ = ("from_ms", "to_ms")
    FROM_MS_FIELD_NUMBER: _ClassVar[int]
    TO_MS_FIELD_NUMBER: _ClassVar[int]
    from_ms: int
    to_ms: int
    def __init__(self, from_ms: _Optional[int] = ..., to_ms: _Optional[int] = ...) -> None: ...

class Candle(_message.Message):
    __slots__ = ("timestamp", "open", "high", "low", "close", "volume")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    def __init__(self, timestamp: _Optional[int] = ..., open: _Optional[float] = ..., high: _Optional[float] = ..., low: _Optional[float] = ..., close: _Optional[float] = ..., volume: _Optional[float] = ...) -> None: ...

class GetOhlcvResponse(_message.Message):
    __slots__ = ("candles", "source", "symbol", "interval", "count", "stale", "timestamp", "data_timestamp", "next", "complete", "gaps")
    CANDLES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DATA_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    GAPS_FIELD_NUMBER: _ClassVar[int]
    candles: _containers.RepeatedCompositeFieldContainer[Candle]
    source: str
    symbol: str
    interval: str
    count: int
    stale: bool
    timestamp: int
    data_timestamp: int
    next: int
    complete: bool
    gaps: _containers.RepeatedCompositeFieldContainer[Gap]
    def __init__(self, candles: _Optional[_Iterable[_Union[Candle, _Mapping]]] = ..., source: _Optional[str] = ..., symbol: _Optional[str] = ..., interval: _Optional[str] = ..., count: _Optional[int] = ..., stale: _Optional[bool] = ..., timestamp: _Optional[int] = ..., data_timestamp: _Optional[int] = ..., next: _Optional[int] = ..., complete: _Optional[bool] = ..., gaps: _Optional[_Iterable[_Union[Gap, _Mapping]]] = ...) -> None: ...

class GetPricesRequest(_message.Message):
    __slots__ = ("symbols",)
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamPricesRequest(_message.Message):
    __slots__ = ("symbols",)
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamCandlesRequest(_message.Message):
    __slots__ = ("symbol", "interval")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    interval: str
    def __init__(self, symbol: _Optional[str] = ..., interval: _Optional[str] = ...) -> None: ...

class LiveCandle(_message.Message):
    __slots__ = ("timestamp", "open", "high", "low", "close", "volume", "closed")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool
    def __init__(self, timestamp: _Optional[int] = ..., open: _Optional[float] = ..., high: _Optional[float] = ..., low: _Optional[float] = ..., close: _Optional[float] = ..., volume: _Optional[float] = ..., closed: _Optional[bool] = ...) -> None: ...

class CandleUpdate(_message.Message):
    __slots__ = ("type", "symbol", "interval", "source", "candles", "timestamp", "event_time")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CANDLES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    type: str
    symbol: str
    interval: str
    source: str
    candles: _containers.RepeatedCompositeFieldContainer[LiveCandle]
    timestamp: int
    event_time: int
    def __init__(self, type: _Optional[str] = ..., symbol: _Optional[str] = ..., interval: _Optional[str] = ..., source: _Optional[str] = ..., candles: _Optional[_Iterable[_Union[LiveCandle, _Mapping]]] = ..., timestamp: _Optional[int] = ..., event_time: _Optional[int] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("symbol", "name", "price", "price_usd", "change_24h", "volume_24h", "market_cap", "last_update", "sources", "dropped", "spread", "disputed")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    PRICE_USD_FIELD_NUMBER: _ClassVar[int]
    CHANGE_24H_FIELD_NUMBER: _ClassVar[int]
    VOLUME_24H_FIELD_NUMBER: _ClassVar[int]
    MARKET_CAP_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SPREAD_FIELD_NUMBER: _ClassVar[int]
    DISPUTED_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    name: str
    price: float
    price_usd: float
    change_24h: float
    volume_24h: float
    market_cap: float
    last_update: int
    sources: _containers.RepeatedScalarFieldContainer[str]
    dropped: _containers.RepeatedScalarFieldContainer[str]
    spread: float
    disputed: bool
    def __init__(self, symbol: _Optional[str] = ..., name: _Optional[str] = ..., price: _Optional[float] = ..., price_usd: _Optional[float] = ..., change_24h: _Optional[float] = ..., volume_24h: _Optional[float] = ..., market_cap: _Optional[float] = ..., last_update: _Optional[int] = ..., sources: _Optional[_Iterable[str]] = ..., dropped: _Optional[_Iterable[str]] = ..., spread: _Optional[float] = ..., disputed: _Optional[bool] = ...) -> None: ...

class GetPricesResponse(_message.Message):
    __slots__ = ("quotes", "source", "missing", "stale", "timestamp", "count", "data_timestamp")
    QUOTES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    DATA_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    quotes: _containers.RepeatedCompositeFieldContainer[Quote]
    source: str
    missing: _containers.RepeatedScalarFieldContainer[str]
    stale: bool
    timestamp: int
    count: int
    data_timestamp: int
    def __init__(self, quotes: _Optional[_Iterable[_Union[Quote, _Mapping]]] = ..., source: _Optional[str] = ..., missing: _Optional[_Iterable[str]] = ..., stale: _Optional[bool] = ..., timestamp: _Optional[int] = ..., count: _Optional[int] = ..., data_timestamp: _Optional[int] = ...) -> None: ...

class GetSentimentRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FearGreed(_message.Message):
    __slots__ = ("value", "classification", "timestamp")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    value: int
    classification: str
    timestamp: int
    def __init__(self, value: _Optional[int] = ..., classification: _Optional[str] = ..., timestamp: _Optional[int] = ...) -> None: ...

class OverallSentiment(_message.Message):
    __slots__ = ("sentiment", "score", "confidence")
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    sentiment: str
    score: int
    confidence: float
    def __init__(self, sentiment: _Optional[str] = ..., score: _Optional[int] = ..., confidence: _Optional[float] = ...) -> None: ...

class GetSentimentResponse(_message.Message):
    __slots__ = ("fear_greed", "overall", "history", "source", "stale", "timestamp", "data_timestamp")
    FEAR_GREED_FIELD_NUMBER: _ClassVar[int]
    OVERALL_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DATA_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    fear_greed: FearGreed
    overall: OverallSentiment
    history: _containers.RepeatedCompositeFieldContainer[FearGreed]
    source: str
    stale: bool
    timestamp: int
    data_timestamp: int
    def __init__(self, fear_greed: _Optional[_Union[FearGreed, _Mapping]] = ..., overall: _Optional[_Union[OverallSentiment, _Mapping]] = ..., history: _Optional[_Iterable[_Union[FearGreed, _Mapping]]] = ..., source: _Optional[str] = ..., stale: _Optional[bool] = ..., timestamp: _Optional[int] = ..., data_timestamp: _Optional[int] = ...) -> None: ...

class GetMarketOverviewRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMarketOverviewResponse(_message.Message):
    __slots__ = ("total_market_cap", "total_volume_24h", "btc_dominance", "eth_dominance", "active_coins", "markets", "market_cap_change_24h", "last_update", "source", "stale", "timestamp", "data_timestamp")
    TOTAL_MARKET_CAP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_VOLUME_24H_FIELD_NUMBER: _ClassVar[int]
    BTC_DOMINANCE_FIELD_NUMBER: _ClassVar[int]
    ETH_DOMINANCE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_COINS_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    MARKET_CAP_CHANGE_24H_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DATA_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    total_market_cap: float
    total_volume_24h: float
    btc_dominance: float
    eth_dominance: float
    active_coins: int
    markets: int
    market_cap_change_24h: float
    last_update: int
    source: str
    stale: bool
    timestamp: int
    data_timestamp: int
    def __init__(self, total_market_cap: _Optional[float] = ..., total_volume_24h: _Optional[float] = ..., btc_dominance: _Optional[float] = ..., eth_dominance: _Optional[float] = ..., active_coins: _Optional[int] = ..., markets: _Optional[int] = ..., market_cap_change_24h: _Optional[float] = ..., last_update: _Optional[int] = ..., source: _Optional[str] = ..., stale: _Optional[bool] = ..., timestamp: _Optional[int] = ..., data_timestamp: _Optional[int] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProviderHealth(_message.Message):
    __slots__ = ("name", "status", "circuit", "latency", "last_check", "error_message", "calls", "failures")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECK_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: str
    circuit: str
    latency: float
    last_check: int
    error_message: str
    calls: int
    failures: int
    def __init__(self, name: _Optional[str] = ..., status: _Optional[str] = ..., circuit: _Optional[str] = ..., latency: _Optional[float] = ..., last_check: _Optional[int] = ..., error_message: _Optional[str] = ..., calls: _Optional[int] = ..., failures: _Optional[int] = ...) -> None: ...

class CacheStats(_message.Message):
    __slots__ = ("backend", "size", "hits", "misses", "hit_rate", "max_entries")
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    HIT_RATE_FIELD_NUMBER: _ClassVar[int]
    MAX_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    backend: str
    size: int
    hits: int
    misses: int
    hit_rate: float
    max_entries: int
    def __init__(self, backend: _Optional[str] = ..., size: _Optional[int] = ..., hits: _Optional[int] = ..., misses: _Optional[int] = ..., hit_rate: _Optional[float] = ..., max_entries: _Optional[int] = ...) -> None: ...

class StreamHealth(_message.Message):
    __slots__ = ("provider", "state", "streams", "last_message", "reconnects")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RECONNECTS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    state: str
    streams: int
    last_message: int
    reconnects: int
    def __init__(self, provider: _Optional[str] = ..., state: _Optional[str] = ..., streams: _Optional[int] = ..., last_message: _Optional[int] = ..., reconnects: _Optional[int] = ...) -> None: ...

class GetHealthResponse(_message.Message):
    __slots__ = ("status", "uptime", "version", "providers", "cache", "timestamp", "sandbox", "streams")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SANDBOX_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    status: str
    uptime: float
    version: str
    providers: _containers.RepeatedCompositeFieldContainer[ProviderHealth]
    cache: CacheStats
    timestamp: int
    sandbox: bool
    streams: _containers.RepeatedCompositeFieldContainer[StreamHealth]
    def __init__(self, status: _Optional[str] = ..., uptime: _Optional[float] = ..., version: _Optional[str] = ..., providers: _Optional[_Iterable[_Union[ProviderHealth, _Mapping]]] = ..., cache: _Optional[_Union[CacheStats, _Mapping]] = ..., timestamp: _Optional[int] = ..., sandbox: _Optional[bool] = ..., streams: _Optional[_Iterable[_Union[StreamHealth, _Mapping]]] = ...) -> None: ...

class GetIndicatorsRequest(_message.Message):
    __slots__ = ("symbol", "interval", "limit", "indicators")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    interval: str
    limit: int
    indicators: str
    def __init__(self, symbol: _Optional[str] = ..., interval: _Optional[str] = ..., limit: _Optional[int] = ..., indicators: _Optional[str] = ...) -> None: ...

class IndicatorOutput(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: float
    def __init__(self, value: _Optional[float] = ...) -> None: ...

class IndicatorValue(_message.Message):
    __slots__ = ("value", "outputs")
    class OutputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: IndicatorOutput
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[IndicatorOutput, _Mapping]] = ...) -> None: ...
    VALUE_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    value: float
    outputs: _containers.MessageMap[str, IndicatorOutput]
    def __init__(self, value: _Optional[float] = ..., outputs: _Optional[_Mapping[str, IndicatorOutput]] = ...) -> None: ...

class IndicatorRow(_message.Message):
    __slots__ = ("timestamp", "values")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: IndicatorValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[IndicatorValue, _Mapping]] = ...) -> None: ...
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    timestamp: int
    values: _containers.MessageMap[str, IndicatorValue]
    def __init__(self, timestamp: _Optional[int] = ..., values: _Optional[_Mapping[str, IndicatorValue]] = ...) -> None: ...

class GetIndicatorsResponse(_message.Message):
    __slots__ = ("rows", "symbol", "interval", "warmup", "source", "live", "count", "stale", "timestamp", "data_timestamp")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    WARMUP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DATA_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[IndicatorRow]
    symbol: str
    interval: str
    warmup: int
    source: str
    live: bool
    count: int
    stale: bool
    timestamp: int
    data_timestamp: int
    def __init__(self, rows: _Optional[_Iterable[_Union[IndicatorRow, _Mapping]]] = ..., symbol: _Optional[str] = ..., interval: _Optional[str] = ..., warmup: _Optional[int] = ..., source: _Optional[str] = ..., live: _Optional[bool] = ..., count: _Optional[int] = ..., stale: _Optional[bool] = ..., timestamp: _Optional[int] = ..., data_timestamp: _Optional[int] = ...) -> None: ...
