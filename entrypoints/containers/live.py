"""The live-streams part of the object graph: the upstream side (which streams are open, who
holds them, no gaps). The fan-out to clients is built on ``bus`` and ``interest``."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Sequence

from dependency_injector import containers, providers

from adapters.live.memory_bus import MemoryEventBus
from adapters.live.memory_demand import MemoryStreamDemand
from adapters.live.memory_lease import MemoryStreamLease
from adapters.live.redis_bus import RedisEventBus
from adapters.live.redis_demand import RedisStreamDemand
from adapters.live.redis_lease import RedisStreamLease
from application.live.gap_filler import GapFiller
from application.live.local_interest import LocalInterest
from application.live.report import StreamStatuses
from application.live.supervisor import StreamSupervisor
from domain.ports import MarketStream
from entrypoints.containers.shared_state import REDIS_PREFIX
from entrypoints.registry.entry import Capability


async def supervised(
    supervisor: StreamSupervisor, bus: MemoryEventBus | RedisEventBus, enabled: bool
) -> AsyncIterator[StreamSupervisor]:
    """The bus started (the Redis subscription) and the supervisor running in the background
    (unless STREAM_ENABLED=false) until shutdown; then its streams stop, its lease is given
    up, and the bus's listeners end."""
    if not enabled:
        yield supervisor
        return
    await bus.start()
    running = asyncio.get_running_loop().create_task(supervisor.run(), name="stream supervisor")
    try:
        yield supervisor
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await bus.stop()


async def stop_live(live: Live) -> None:
    """Stop the live part: call it before shutting the other parts' resources down.
    dependency-injector orders shutdowns only between resources that name each other, so it
    would close the Redis client (SharedState) while the supervisor still needs it to give
    its lease up."""
    result = live.running.shutdown()
    if inspect.isawaitable(result):
        await result


class Live(containers.DeclarativeContainer):
    """The event bus, the stream lease and the stream demand (in process with
    CACHE_BACKEND=memory, on Redis with redis), this replica's ``interest`` (what the
    fan-out calls watch/unwatch on), the ``report`` of the stream providers, and the stream
    ``supervisor`` over ``streams``: the MarketStream adapters in STREAM_PROVIDERS order,
    connected by the composition root. ``running`` starts the bus and the supervisor;
    ``stop_live`` stops them (before the Redis client closes)."""

    config = providers.Configuration(strict=True)
    shared = providers.DependenciesContainer()
    upstreams = providers.DependenciesContainer()
    streams: providers.Dependency[Sequence[MarketStream]] = providers.Dependency()

    bus = providers.Selector(
        config.cache_backend,
        memory=providers.Singleton(MemoryEventBus),
        redis=providers.Singleton(RedisEventBus, shared.redis, REDIS_PREFIX),
    )
    lease = providers.Selector(
        config.cache_backend,
        memory=providers.Singleton(MemoryStreamLease),
        redis=providers.Singleton(RedisStreamLease, shared.redis, REDIS_PREFIX),
    )
    demand = providers.Selector(
        config.cache_backend,
        memory=providers.Singleton(MemoryStreamDemand, shared.clock),
        redis=providers.Singleton(RedisStreamDemand, shared.redis, REDIS_PREFIX, shared.clock),
    )
    interest = providers.Singleton(LocalInterest, shared.clock, idle_timeout=config.stream_idle_timeout)
    report = providers.Singleton(StreamStatuses, streams)
    gap_filler = providers.Singleton(
        GapFiller,
        providers=upstreams.lineup.provided.chain.call(Capability.OHLCV),
        calls=upstreams.calls,
        clock=shared.clock,
    )
    supervisor = providers.Singleton(
        StreamSupervisor,
        streams,
        bus,
        lease,
        demand,
        interest,
        gap_filler,
        shared.clock,
        lease_ttl=config.stream_lease_ttl,
        report=report,
        telemetry=shared.metrics,
    )
    running = providers.Resource(supervised, supervisor, bus, enabled=config.stream_enabled)
