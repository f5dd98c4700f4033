"""Service settings from the environment and an optional .env file (pydantic-settings)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from limits import parse as parse_rate
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, create_model, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.fallback import fallback_order
from domain.interval import KNOWN_INTERVALS
from domain.symbol import SymbolParser
from entrypoints.registry.entry import Capability
from entrypoints.registry.providers import PROVIDERS, capable


def _secret(value: object) -> object:
    # A trailing newline from a secrets file would break every upstream call (aiohttp
    # refuses control characters in headers) or every admin call: strip the ends, refuse
    # the rest. The message never quotes the value.
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(text, str):
        text = text.strip()
        if any(ord(char) < 32 or ord(char) == 127 for char in text):
            raise ValueError("must not contain control characters")
        return text
    return value


def _rate(value: str) -> str:
    try:
        parse_rate(value)
    except ValueError:
        raise ValueError(f"not a rate such as '4800/minute' or '10/10 seconds': {value!r}") from None
    return value


CommaList = Annotated[list[str], NoDecode]
Seconds = Annotated[float, Field(gt=0)]
PerMinute = Annotated[int, Field(ge=1)]
Secret = Annotated[SecretStr, BeforeValidator(_secret)]
Rate = Annotated[str, AfterValidator(_rate)]


def _provider_fields() -> dict[str, Any]:
    """Each registry entry's settings: base URL, our budget for it, its API key if any, and
    its WebSocket URL if it streams."""
    fields: dict[str, Any] = {}
    for entry in PROVIDERS:
        fields[entry.base_url_setting] = (str, entry.base_url)
        fields[entry.budget_setting] = (Rate, entry.budget)
        if entry.api_key_setting is not None:
            fields[entry.api_key_setting] = (Secret, SecretStr(""))
        if entry.ws_url_setting is not None:
            fields[entry.ws_url_setting] = (str, entry.ws_url)
    return fields


# The provider settings come from the registry, so a new provider adds no field here.
_ProviderSettings: Any = create_model("ProviderSettings", __base__=BaseSettings, **_provider_fields())


class Settings(_ProviderSettings):
    """Every setting of ../shared/API.md, with its default. Invalid values fail at start.

    The per-provider ones (``*_BASE_URL``, ``*_API_KEY``, ``UPSTREAM_BUDGET_*``) are declared
    by the provider registry (entrypoints/registry/providers.py)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    host: str = "0.0.0.0"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    grpc_port: Annotated[int, Field(ge=0, le=65535)] = 50051
    grpc_stream_interval: Annotated[float, Field(gt=0, le=5)] = 5  # API.md: at least every 5 s
    grpc_max_streams_per_client: Annotated[int, Field(ge=1)] = 10  # open StreamPrices streams at once
    shutdown_grace: Annotated[float, Field(ge=0)] = 10
    http_keepalive_timeout: Seconds = 75  # an idle keep-alive connection is closed after this
    http_header_timeout: Seconds = 10  # a request head must be complete within this
    max_connections_per_client: Annotated[int, Field(ge=1)] = 256  # per client address: REST, WS, SSE
    # Live streams out (GET /ws and the SSE routes); see README "Live data".
    ws_max_subscriptions: Annotated[int, Field(ge=1)] = 50  # per WebSocket connection
    ws_max_messages_per_second: Annotated[int, Field(ge=1)] = 10  # client messages, per connection
    ws_max_message_size: Annotated[int, Field(ge=256, le=1 << 20)] = 4096  # bytes; larger: close 1009
    ws_heartbeat: Seconds = 30  # server ping every this many seconds; no pong within half of it: closed
    sse_keepalive: Seconds = 15  # a comment line on an idle SSE stream, so proxies keep it open
    sse_retry: Seconds = 3  # the reconnection delay an SSE stream tells EventSource (`retry:`)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    cache_backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://localhost:6379/0"
    redis_timeout: Annotated[float, Field(gt=0)] = 0.5
    # History (issue 15): where closed candles are kept for good; see README "Candle store".
    candle_store: Literal["sqlite", "postgres", "off"] = "sqlite"
    candle_store_path: str = "./data/candles.sqlite3"
    database_url: Secret = SecretStr("")  # postgresql://user:pass@host:5432/db; a secret for its password

    cache_ttl_prices: Seconds = 30
    cache_ttl_ohlcv: Seconds = 300
    cache_ttl_sentiment: Seconds = 600
    cache_ttl_market: Seconds = 300
    cache_stale_ttl: Annotated[float, Field(ge=0)] = 3600
    cache_max_entries: Annotated[int, Field(ge=1)] = 10_000

    rate_limit_enabled: bool = True
    rate_limit_prices: PerMinute = 120
    rate_limit_ohlcv: PerMinute = 60
    rate_limit_sentiment: PerMinute = 30
    rate_limit_market: PerMinute = 30
    trust_proxy: bool = False
    grpc_trust_proxy: bool = False  # gRPC callers usually connect directly: never trust by default

    circuit_breaker_threshold: Annotated[int, Field(ge=1)] = 5
    circuit_breaker_timeout: Seconds = 60
    request_timeout: Seconds = 10

    ohlcv_providers: CommaList = ["binance", "kraken"]
    price_providers: CommaList = ["coingecko", "coincap", "binance"]
    stream_providers: CommaList = ["binance", "kraken"]  # live WebSocket sources, in fallback order
    price_max_deviation: Annotated[float, Field(gt=0, lt=1)] = 0.02
    supported_symbols: CommaList = [
        "BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOT",
        "LINK", "LTC", "BCH", "MATIC", "AVAX", "XLM", "TRX",
    ]  # fmt: skip
    supported_intervals: CommaList = ["1m", "5m", "15m", "1h", "4h", "1d", "1w"]
    enable_sentiment: bool = True
    metrics_enabled: bool = True  # GET /metrics in Prometheus' text format
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"  # uvloop where installed (not on Windows)

    admin_token: Secret = SecretStr("")
    cors_origins: CommaList = ["*"]

    # Live streams (issue 14): the upstream WebSocket streams the clients watch.
    stream_enabled: bool = True
    stream_idle_timeout: Annotated[float, Field(ge=0)] = 60  # a stream nobody watches is closed after this
    stream_lease_ttl: Annotated[float, Field(ge=1)] = 5  # the replica holding the streams renews every ttl/3

    # Sandbox mode (serve --sandbox): every provider is the built-in upstream simulator on
    # loopback, whatever the *_BASE_URL settings say, and every answer is marked simulated.
    sandbox: bool = False
    sandbox_seed: int = 7

    # Live streams: updates one subscriber (a WebSocket, SSE or gRPC stream) may have waiting,
    # one per candle or asset once conflated, before it is dropped as too slow.
    stream_queue_limit: Annotated[int, Field(ge=1)] = 256

    @field_validator(
        "ohlcv_providers", "price_providers", "stream_providers", "supported_symbols", "supported_intervals",
        "cors_origins", mode="before",
    )  # fmt: skip
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("ohlcv_providers", "price_providers", "stream_providers")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [item.lower() for item in value]

    @field_validator("supported_symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        SymbolParser(value)  # raises on an empty list
        return [item.upper() for item in value]

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("supported_intervals")
    @classmethod
    def _intervals(cls, value: list[str]) -> list[str]:
        unknown = [item for item in value if item not in KNOWN_INTERVALS]
        if unknown or not value:
            raise ValueError(f"unknown interval(s) {unknown}; choose from {list(KNOWN_INTERVALS)}")
        return value

    @model_validator(mode="after")
    def _candle_store(self) -> Settings:
        if self.candle_store == "postgres" and not self.database_url.get_secret_value():
            raise ValueError("DATABASE_URL is required when CANDLE_STORE=postgres")
        if self.candle_store == "sqlite" and not self.candle_store_path.strip():
            raise ValueError("CANDLE_STORE_PATH must name a file when CANDLE_STORE=sqlite")
        return self

    @model_validator(mode="after")
    def _providers(self) -> Settings:
        ordered = (
            ("ohlcv_providers", Capability.OHLCV),
            ("price_providers", Capability.PRICES),
            ("stream_providers", Capability.STREAMS),
        )
        for field, capability in ordered:
            try:
                setattr(self, field, list(fallback_order(getattr(self, field), capable(capability))))
            except ValueError as error:
                raise ValueError(f"{field.upper()}: {error}") from None
        for field in (entry.base_url_setting for entry in PROVIDERS):
            url = getattr(self, field)
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{field.upper()} must be an http(s) URL, got {url!r}")
            setattr(self, field, url.rstrip("/"))
        for field in (entry.ws_url_setting for entry in PROVIDERS if entry.ws_url_setting):
            url = getattr(self, field)
            if not url.startswith(("ws://", "wss://")):
                raise ValueError(f"{field.upper()} must be a ws(s) URL, got {url!r}")
            setattr(self, field, url.rstrip("/"))
        return self
