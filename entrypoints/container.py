"""The composition root: the one place that builds the object graph (dependency-injector)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from dependency_injector import containers, providers

from adapters.cache.failover import FailoverCache
from adapters.cache.fill_locks import LocalFillLocks, RedisFillLocks
from adapters.cache.memory import MemoryCache
from adapters.cache.redis import DEFAULT_NAMESPACE, FORMAT_VERSION, RedisCache
from adapters.clock import SystemClock
from adapters.http_session import client_session
from adapters.metrics import PrometheusMetrics
from adapters.providers.alternative_me import AlternativeMeAdapter
from adapters.providers.binance import BinanceAdapter
from adapters.providers.coincap import CoinCapAdapter
from adapters.providers.coingecko import CoinGeckoAdapter, key_header
from adapters.providers.kraken import KrakenAdapter
from adapters.providers.upstream import UpstreamClient
from adapters.redis_client import redis_client
from adapters.resilience.local_rate_limiter import LocalClientRateLimiter
from adapters.resilience.memory_cooldowns import MemoryCooldowns
from adapters.resilience.purgatory_breakers import PurgatoryBreakers, redis_unit_of_work
from adapters.resilience.redis_cooldowns import RedisCooldowns, SharedCooldowns
from adapters.resilience.redis_rate_limiter import RedisClientRateLimiter
from adapters.resilience.upstream_budget import MovingWindowBudgets
from adapters.shared_backend import Failover, SharedBackendGuard
from application.cache_admin import CacheAdmin
from application.client_limits import ClientLimits
from application.get_health import GetHealth
from application.get_market_overview import GetMarketOverview
from application.get_ohlcv import GetOhlcv
from application.get_prices import GetPrices
from application.get_sentiment import GetSentiment
from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough
from domain.breaker_policy import BreakerPolicy
from domain.interval import IntervalParser
from domain.symbol import SymbolParser
from entrypoints import __version__
from entrypoints.settings import Settings


@dataclass(frozen=True, slots=True)
class UseCases:
    """Everything the transports call, resolved once at start-up."""

    get_ohlcv: GetOhlcv
    get_prices: GetPrices
    get_sentiment: GetSentiment
    get_market_overview: GetMarketOverview
    get_health: GetHealth
    cache_admin: CacheAdmin
    client_limits: ClientLimits
    metrics: PrometheusMetrics


def _in_order(order: list[str], **available: Any) -> list[Any]:
    return [available[name] for name in order]


REDIS_PREFIX = f"{DEFAULT_NAMESPACE}:{FORMAT_VERSION}:"


def _fill_wait(request_timeout: float, ohlcv_providers: list[str]) -> float:
    # Long enough for a filler to walk the whole fallback chain.
    return request_timeout * len(ohlcv_providers) + 1.0


def _capabilities(ohlcv: list[str], prices: list[str], sentiment: bool) -> dict[str, list[str]]:
    served = {"ohlcv": ohlcv, "prices": prices, "market": ["coingecko"]}
    if sentiment:
        served["sentiment"] = ["alternative_me"]
    return served


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _provider_calls(clock: SystemClock, request_timeout: float, *adapters: Any, **guards: Any) -> ProviderCalls:
    calls = ProviderCalls(clock, request_timeout, **guards)
    for adapter in adapters:
        calls.register(adapter.name, enabled=getattr(adapter, "enabled", True))
    return calls


class Container(containers.DeclarativeContainer):
    """Reads like a wiring diagram: settings → adapters → use cases."""

    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    metrics = providers.Singleton(PrometheusMetrics)
    http_session = providers.Resource(
        client_session, request_timeout=config.request_timeout, user_agent=f"crypto-data-engine/{__version__}"
    )

    # Shared state: CACHE_BACKEND=redis shares cache, circuits, cool-downs, fill locks and
    # client limits across replicas; each falls back to its in-process twin while Redis is out.
    redis = providers.Resource(redis_client, url=config.redis_url, op_timeout=config.redis_timeout)
    shared_guard = providers.Singleton(SharedBackendGuard, clock, op_timeout=config.redis_timeout)

    # Politeness and circuits, per provider
    breaker_policy = providers.Singleton(
        BreakerPolicy, config.circuit_breaker_threshold, config.circuit_breaker_timeout
    )
    local_breakers = providers.Singleton(PurgatoryBreakers, policy=breaker_policy, clock=clock)
    breakers = providers.Selector(
        config.cache_backend,
        memory=local_breakers,
        redis=providers.Singleton(
            PurgatoryBreakers,
            policy=breaker_policy,
            clock=clock,
            uow=providers.Singleton(redis_unit_of_work, redis, REDIS_PREFIX),
            fallback=local_breakers,
            guard=shared_guard,
        ),
    )
    local_cooldowns = providers.Singleton(MemoryCooldowns)
    cooldowns = providers.Selector(
        config.cache_backend,
        memory=local_cooldowns,
        redis=providers.Singleton(
            SharedCooldowns,
            providers.Singleton(RedisCooldowns, redis, REDIS_PREFIX, clock),
            local_cooldowns,
            shared_guard,
        ),
    )
    budgets = providers.Singleton(
        MovingWindowBudgets,
        clock=clock,
        budgets=providers.Dict(
            binance=config.upstream_budget_binance,
            kraken=config.upstream_budget_kraken,
            coingecko=config.upstream_budget_coingecko,
            coincap=config.upstream_budget_coincap,
            alternative_me=config.upstream_budget_alternative_me,
        ),
        costs={"binance": 2},  # request weight of a klines or a ticker call (≤20 symbols)
    )

    binance = providers.Singleton(
        BinanceAdapter,
        client=providers.Singleton(UpstreamClient, http_session, "binance", config.binance_base_url),
        budgets=budgets,
        clock=clock,
    )
    kraken = providers.Singleton(
        KrakenAdapter,
        client=providers.Singleton(UpstreamClient, http_session, "kraken", config.kraken_base_url),
        clock=clock,
    )
    coingecko = providers.Singleton(
        CoinGeckoAdapter,
        client=providers.Singleton(
            UpstreamClient,
            http_session,
            "coingecko",
            config.coingecko_base_url,
            providers.Callable(key_header, config.coingecko_base_url, config.coingecko_api_key),
        ),
    )
    coincap = providers.Singleton(
        CoinCapAdapter,
        client=providers.Singleton(
            UpstreamClient,
            http_session,
            "coincap",
            config.coincap_base_url,
            providers.Callable(_bearer, config.coincap_api_key),
        ),
        api_key=config.coincap_api_key,
    )
    alternative_me = providers.Singleton(
        AlternativeMeAdapter,
        client=providers.Singleton(
            UpstreamClient, http_session, "alternative_me", config.alternative_me_base_url
        ),
    )

    local_cache = providers.Singleton(MemoryCache, clock=clock, max_entries=config.cache_max_entries)
    cache = providers.Selector(
        config.cache_backend,
        memory=local_cache,
        redis=providers.Singleton(
            FailoverCache,
            primary=providers.Singleton(RedisCache, redis, clock, DEFAULT_NAMESPACE),
            fallback=local_cache,
            guard=shared_guard,
        ),
    )
    local_fill_locks = providers.Singleton(LocalFillLocks)
    fill_locks = providers.Selector(
        config.cache_backend,
        memory=providers.Object(None),
        redis=providers.Singleton(
            Failover, providers.Singleton(RedisFillLocks, redis, REDIS_PREFIX), local_fill_locks, shared_guard
        ),
    )
    provider_calls = providers.Singleton(
        _provider_calls,
        clock,
        config.request_timeout,
        binance,
        kraken,
        coingecko,
        coincap,
        alternative_me,
        breakers=breakers,
        cooldowns=cooldowns,
        budgets=budgets,
        telemetry=metrics,
    )
    read_through = providers.Singleton(
        ReadThrough,
        cache=cache,
        clock=clock,
        telemetry=metrics,
        stale_ttl=config.cache_stale_ttl,
        fill_locks=fill_locks,
        fill_wait=providers.Callable(_fill_wait, config.request_timeout, config.ohlcv_providers),
    )
    symbols = providers.Singleton(SymbolParser, config.supported_symbols)
    intervals = providers.Singleton(IntervalParser, config.supported_intervals)

    get_ohlcv = providers.Singleton(
        GetOhlcv,
        symbols=symbols,
        intervals=intervals,
        providers=providers.Callable(_in_order, config.ohlcv_providers, binance=binance, kraken=kraken),
        calls=provider_calls,
        read_through=read_through,
        ttl=config.cache_ttl_ohlcv,
    )
    get_prices = providers.Singleton(
        GetPrices,
        symbols=symbols,
        providers=providers.Callable(
            _in_order, config.price_providers, coingecko=coingecko, coincap=coincap, binance=binance
        ),
        calls=provider_calls,
        read_through=read_through,
        ttl=config.cache_ttl_prices,
        max_deviation=config.price_max_deviation,
    )
    get_sentiment = providers.Singleton(
        GetSentiment,
        providers=providers.List(alternative_me),
        calls=provider_calls,
        read_through=read_through,
        ttl=config.cache_ttl_sentiment,
        enabled=config.enable_sentiment,
    )
    get_market_overview = providers.Singleton(
        GetMarketOverview,
        providers=providers.List(coingecko),
        calls=provider_calls,
        read_through=read_through,
        ttl=config.cache_ttl_market,
    )
    get_health = providers.Singleton(
        GetHealth,
        calls=provider_calls,
        cache=cache,
        clock=clock,
        capabilities=providers.Callable(
            _capabilities, config.ohlcv_providers, config.price_providers, config.enable_sentiment
        ),
        version=__version__,
    )
    cache_admin = providers.Singleton(CacheAdmin, cache=cache)
    client_limits = providers.Singleton(
        ClientLimits,
        limiter=providers.Selector(
            config.cache_backend,
            memory=providers.Singleton(LocalClientRateLimiter, clock),
            redis=providers.Singleton(
                Failover,
                providers.Singleton(RedisClientRateLimiter, redis, REDIS_PREFIX),
                providers.Singleton(LocalClientRateLimiter, clock),
                shared_guard,
            ),
        ),
        per_minute=providers.Dict(
            prices=config.rate_limit_prices,
            ohlcv=config.rate_limit_ohlcv,
            sentiment=config.rate_limit_sentiment,
            market=config.rate_limit_market,
        ),
        enabled=config.rate_limit_enabled,
        telemetry=metrics,
    )

    use_cases = providers.Singleton(
        UseCases,
        get_ohlcv=get_ohlcv,
        get_prices=get_prices,
        get_sentiment=get_sentiment,
        get_market_overview=get_market_overview,
        get_health=get_health,
        cache_admin=cache_admin,
        client_limits=client_limits,
        metrics=metrics,
    )


def build_container(settings: Settings) -> Container:
    """A container configured from ``settings`` (secrets unwrapped for the adapters)."""
    container = Container()
    values = settings.model_dump()
    for name in ("coingecko_api_key", "coincap_api_key", "admin_token"):
        values[name] = getattr(settings, name).get_secret_value()
    container.config.from_dict(values)
    return container


async def start(container: Container) -> UseCases:
    """Resolve the use cases, starting only the resources they need."""
    resolved = container.use_cases()
    return await resolved if inspect.isawaitable(resolved) else resolved


async def stop(container: Container) -> None:
    """Close every resource that was started (the HTTP session, later Redis)."""
    result = container.shutdown_resources()
    if inspect.isawaitable(result):
        await result
