"""The shared-state part of the object graph."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.cache.fill_locks import LocalFillLocks, RedisFillLocks
from adapters.cache.memory import MemoryCache
from adapters.cache.redis import DEFAULT_NAMESPACE, FORMAT_VERSION, RedisCache
from adapters.clock import SystemClock
from adapters.failover.breakers import FailoverBreakers
from adapters.failover.cache import FailoverCache
from adapters.failover.client_rate_limiter import FailoverClientRateLimiter
from adapters.failover.cooldowns import FailoverCooldowns
from adapters.failover.fill_locks import FailoverFillLocks
from adapters.failover.guard import SharedBackendGuard
from adapters.metrics import PrometheusMetrics
from adapters.redis_client import redis_client
from adapters.resilience.local_rate_limiter import LocalClientRateLimiter
from adapters.resilience.memory_cooldowns import MemoryCooldowns
from adapters.resilience.purgatory_breakers import PurgatoryBreakers, redis_unit_of_work
from adapters.resilience.redis_cooldowns import RedisCooldowns
from adapters.resilience.redis_rate_limiter import RedisClientRateLimiter
from domain.breaker_policy import BreakerPolicy
from entrypoints.containers.candle_store import candle_store
from entrypoints.containers.shared_or_local import shared_or_local

REDIS_PREFIX = f"{DEFAULT_NAMESPACE}:{FORMAT_VERSION}:"


class SharedState(containers.DeclarativeContainer):
    """The clock, the metrics, and every piece of state replicas share through Redis
    (CACHE_BACKEND=redis) or keep in process: cache, fill locks, circuits, cool-downs and
    client limits. A shared one falls back to its in-process twin while Redis is out. The
    candle store (CANDLE_STORE) keeps closed candles for good, in SQLite or PostgreSQL."""

    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    metrics = providers.Singleton(PrometheusMetrics)
    redis = providers.Resource(redis_client, url=config.redis_url, op_timeout=config.redis_timeout)
    guard = providers.Singleton(SharedBackendGuard, clock, op_timeout=config.redis_timeout)

    cache = shared_or_local(
        config.cache_backend, guard,
        local=providers.Singleton(MemoryCache, clock=clock, max_entries=config.cache_max_entries),
        shared=providers.Singleton(RedisCache, redis, clock, DEFAULT_NAMESPACE),
        failover=FailoverCache,
    )  # fmt: skip
    fill_locks = shared_or_local(
        config.cache_backend, guard,
        local=providers.Singleton(LocalFillLocks),
        shared=providers.Singleton(RedisFillLocks, redis, REDIS_PREFIX),
        failover=FailoverFillLocks,
        memory=providers.Object(None),  # one process: its single-flight is enough
    )  # fmt: skip
    breaker_policy = providers.Singleton(
        BreakerPolicy, config.circuit_breaker_threshold, config.circuit_breaker_timeout
    )
    breakers = shared_or_local(
        config.cache_backend, guard,
        local=providers.Singleton(PurgatoryBreakers, policy=breaker_policy, clock=clock),
        shared=providers.Singleton(
            PurgatoryBreakers,
            policy=breaker_policy,
            clock=clock,
            uow=providers.Singleton(redis_unit_of_work, redis, REDIS_PREFIX),
        ),
        failover=FailoverBreakers,
    )  # fmt: skip
    cooldowns = shared_or_local(
        config.cache_backend, guard,
        local=providers.Singleton(MemoryCooldowns),
        shared=providers.Singleton(RedisCooldowns, redis, REDIS_PREFIX, clock),
        failover=FailoverCooldowns,
    )  # fmt: skip
    client_limiter = shared_or_local(
        config.cache_backend, guard,
        local=providers.Singleton(LocalClientRateLimiter, clock),
        shared=providers.Singleton(RedisClientRateLimiter, redis, REDIS_PREFIX),
        failover=FailoverClientRateLimiter,
    )  # fmt: skip
    candle_store = candle_store(config, clock)
