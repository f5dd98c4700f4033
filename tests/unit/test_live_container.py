"""The live-streams part of the object graph (entrypoints/containers/live.py): what it builds
for each CACHE_BACKEND, the supervisor started and stopped as a resource, STREAM_ENABLED."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from dependency_injector import providers

from adapters.live.memory_bus import MemoryEventBus
from adapters.live.redis_bus import RedisEventBus
from adapters.live.redis_lease import RedisStreamLease
from domain.live import StreamKey, StreamStatus
from entrypoints.container import Container, build_container, stop
from entrypoints.containers.live import Live, stop_live
from entrypoints.settings import Settings
from tests.fake_streams import BTC, M1, FakeMarketStream

CANDLES = StreamKey.candles(BTC, M1)


def live_part(**overrides: Any) -> tuple[Container, Live, FakeMarketStream]:
    container = build_container(Settings(_env_file=None, **overrides))  # type: ignore[call-arg]
    stream = FakeMarketStream("binance")
    live = Live(
        config=container.config,
        shared=container.shared,
        upstreams=container.upstreams,
        streams=providers.Object([stream]),
    )
    return container, live, stream


async def resolved(provider: Callable[[], Any]) -> Any:
    value = provider()
    return await value if inspect.isawaitable(value) else value


async def shut(container: Container, live: Live) -> None:
    await stop_live(live)
    result = live.shutdown_resources()
    if inspect.isawaitable(result):
        await result
    await stop(container)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.01)


async def test_in_memory_the_supervisor_runs_the_streams_the_interest_asks_for_and_stops_with_the_container() -> (
    None
):
    container, live, stream = live_part(stream_idle_timeout=30)
    supervisor = await resolved(live.running)
    assert isinstance(await resolved(live.bus), MemoryEventBus)
    live.interest().watch(CANDLES)
    await until(lambda: stream.wanted == {CANDLES})
    assert supervisor.report is live.report()
    assert live.report().statuses() == (StreamStatus("binance", "connected", 1, None, 0),)
    assert live.interest()._idle_timeout == 30
    await shut(container, live)
    assert not stream.running


async def test_stream_enabled_false_starts_nothing() -> None:
    container, live, stream = live_part(stream_enabled=False)
    await resolved(live.running)
    live.interest().watch(CANDLES)
    await asyncio.sleep(0.1)
    assert stream.runs == 0 and stream.wants == []
    await shut(container, live)


async def test_with_redis_the_bus_lease_and_demand_are_shared_and_the_lease_given_up_at_the_end(
    redis_server: Any,
) -> None:
    container, live, stream = live_part(cache_backend="redis", redis_url=redis_server.url, stream_lease_ttl=2)
    await resolved(live.running)
    bus, lease = await resolved(live.bus), await resolved(live.lease)
    assert isinstance(bus, RedisEventBus) and isinstance(lease, RedisStreamLease)
    live.interest().watch(CANDLES)
    await until(lambda: stream.wanted == {CANDLES})
    redis = await resolved(container.shared.redis)
    assert await redis.get(lease.key) == lease.token.encode()
    assert 0 < await redis.pttl(lease.key) <= 2000
    await shut(container, live)
    assert not stream.running
    async with asyncio.timeout(2):
        from redis.asyncio import Redis

        check = Redis.from_url(redis_server.url)
        assert await check.get(lease.key) is None
        await check.aclose()
