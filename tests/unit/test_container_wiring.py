"""The container's seams: overrides of a part reach the use cases; memory mode needs no Redis."""

from __future__ import annotations

from dependency_injector import providers

from entrypoints.container import build_container, start, stop
from entrypoints.registry.providers import PROVIDERS
from entrypoints.settings import Settings
from tests.fakes import FakeClock, FakeOhlcvProvider


def _settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


async def test_overridden_clock_and_adapters_reach_the_use_cases() -> None:
    container = build_container(_settings(ohlcv_providers="kraken,binance"))
    clock = FakeClock()
    fakes = {entry.id: FakeOhlcvProvider(entry.id, enabled=entry.id != "kraken") for entry in PROVIDERS}
    container.shared.clock.override(providers.Object(clock))
    container.upstreams.adapters.override(providers.Object(fakes))
    try:
        use_cases = await start(container)
        clock.advance(42)
        report = await use_cases.get_health.execute()
        served = await use_cases.get_ohlcv.execute("BTCUSDT", "1h", 3)
    finally:
        await stop(container)
    assert report.uptime == 42  # the overridden clock
    assert [provider.name for provider in report.providers] == [entry.id for entry in PROVIDERS]
    assert next(p for p in report.providers if p.name == "kraken").status == "disabled"
    assert report.status == "healthy"  # switched off by configuration is not a failure
    assert served.value.source == "binance"  # kraken, first in OHLCV_PROVIDERS, is off
    assert fakes["kraken"].calls == []


async def test_memory_mode_starts_no_redis() -> None:
    container = build_container(_settings(cache_backend="memory"))
    try:
        await start(container)
        assert not container.shared.redis.initialized
        assert container.upstreams.http_session.initialized
    finally:
        await stop(container)
    assert not container.upstreams.http_session.initialized


async def test_the_lineup_carries_the_stream_adapters_in_stream_providers_order() -> None:
    settings = _settings(stream_providers="kraken,binance", binance_ws_url="ws://127.0.0.1:1/binance")
    container = build_container(settings)
    try:
        await start(container)
        lineup = await container.upstreams.lineup()
        session = await container.upstreams.http_session()
    finally:
        await stop(container)
    kraken, binance = lineup.streams
    assert (kraken.name, binance.name) == ("kraken", "binance")
    assert kraken.url == "wss://ws.kraken.com/v2"  # type: ignore[attr-defined]
    assert binance.url == "ws://127.0.0.1:1/binance/stream"  # type: ignore[attr-defined]
    assert kraken._session is session is binance._session  # the one shared ClientSession
