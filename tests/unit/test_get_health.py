"""GetHealth: healthy, degraded or unhealthy from provider health, plus uptime and cache counters.

The rules (application/get_health.py, API.md): healthy when every provider is online, not yet
called ("unknown") or switched off and every capability has a provider to serve it; unhealthy only when no
capability can be served at all and the cache holds nothing to serve; degraded in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from application.get_health import GetHealth
from application.provider_calls import ProviderCalls
from domain.errors import ProviderUnavailable
from tests.unit.resilience_fakes import FakeBreakers
from tests.unit.world import Infrastructure, infrastructure

PROVIDERS = ("binance", "kraken", "coingecko", "coincap", "alternative_me")
CAPABILITIES = {
    "ohlcv": ["binance", "kraken"],
    "prices": ["coingecko", "coincap", "binance"],
    "sentiment": ["alternative_me"],
    "market": ["coingecko"],
}


@dataclass
class Setup:
    use_case: GetHealth
    infra: Infrastructure


def setup(disabled: tuple[str, ...] = ()) -> Setup:
    infra = infrastructure(PROVIDERS, disabled)
    return Setup(GetHealth(infra.calls, infra.cache, infra.clock, CAPABILITIES, "1.2.3"), infra)


async def fail(s: Setup, name: str, times: int) -> None:
    async def broken() -> None:
        raise ProviderUnavailable(name, "HTTP 503")

    for _ in range(times):
        with pytest.raises(ProviderUnavailable):
            await s.infra.calls.run(name, broken)


async def test_a_fresh_service_is_healthy_with_every_provider_unknown() -> None:
    """Issue 13: a provider never called is "unknown" (it was "online"); it counts as online."""
    s = setup()
    report = await s.use_case.execute()
    assert report.status == "healthy"
    assert [p.name for p in report.providers] == list(PROVIDERS)
    assert [p.status for p in report.providers] == ["unknown"] * len(PROVIDERS)
    assert report.version == "1.2.3"


async def test_providers_online_and_not_yet_called_are_healthy() -> None:
    s = setup()
    await s.infra.calls.run("binance", _answer)
    report = await s.use_case.execute()
    assert {p.name: p.status for p in report.providers} == {
        "binance": "online", "kraken": "unknown", "coingecko": "unknown", "coincap": "unknown",
        "alternative_me": "unknown",
    }  # fmt: skip
    assert report.status == "healthy"


async def test_a_failing_provider_with_the_others_not_yet_called_is_degraded() -> None:
    s = setup()
    await fail(s, "binance", 1)
    report = await s.use_case.execute()
    assert next(p for p in report.providers if p.name == "binance").status == "degraded"
    assert report.status == "degraded"


async def _answer() -> str:
    return "answer"


async def test_a_provider_switched_off_by_configuration_keeps_the_service_healthy() -> None:
    s = setup(disabled=("coincap",))
    report = await s.use_case.execute()
    assert report.status == "healthy"
    assert next(p for p in report.providers if p.name == "coincap").status == "disabled"


async def test_a_degraded_provider_makes_the_service_degraded() -> None:
    s = setup()
    await fail(s, "binance", 1)
    assert (await s.use_case.execute()).status == "degraded"


async def test_an_offline_provider_with_a_backup_makes_the_service_degraded() -> None:
    s = setup()
    await fail(s, "kraken", 3)
    report = await s.use_case.execute()
    assert next(p for p in report.providers if p.name == "kraken").status == "offline"
    assert report.status == "degraded"


async def test_a_capability_without_any_usable_provider_makes_the_service_degraded() -> None:
    s = setup()
    await fail(s, "alternative_me", 3)  # nobody else serves sentiment
    assert (await s.use_case.execute()).status == "degraded"


async def test_one_capability_still_served_keeps_the_service_degraded_not_unhealthy() -> None:
    s = setup()
    for name in ("binance", "kraken", "coingecko", "coincap"):
        await fail(s, name, 3)
    assert (await s.use_case.execute()).status == "degraded"  # sentiment still works


async def test_a_degraded_provider_still_serves_its_capability() -> None:
    s = setup()
    for name in ("binance", "kraken", "coingecko", "coincap"):
        await fail(s, name, 3)
    await fail(s, "alternative_me", 1)
    assert (await s.use_case.execute()).status == "degraded"


async def test_every_provider_offline_is_unhealthy() -> None:
    s = setup()
    for name in PROVIDERS:
        await fail(s, name, 3)
    assert (await s.use_case.execute()).status == "unhealthy"


async def test_offline_or_switched_off_everywhere_is_unhealthy() -> None:
    # a provider switched off serves no data either (API.md: 503 when no data can be served)
    s = setup(disabled=("coincap", "alternative_me"))
    for name in ("binance", "kraken", "coingecko"):
        await fail(s, name, 3)
    assert (await s.use_case.execute()).status == "unhealthy"


async def test_open_circuits_everywhere_are_unhealthy() -> None:
    infra = infrastructure(PROVIDERS)
    breakers = FakeBreakers()
    for name in PROVIDERS:
        breakers.set_state(name, "open", retry_after=30)
    calls = ProviderCalls(infra.clock, request_timeout=5, breakers=breakers)
    for name in PROVIDERS:
        calls.register(name)
    report = await GetHealth(calls, infra.cache, infra.clock, CAPABILITIES, "x").execute()
    assert report.status == "unhealthy"
    assert all(p.circuit == "open" for p in report.providers)
    assert breakers.calls == []  # health never calls a provider


async def test_every_provider_offline_with_cached_data_is_degraded_not_unhealthy() -> None:
    s = setup()
    for name in PROVIDERS:
        await fail(s, name, 3)
    await s.infra.cache.set("ohlcv:BTCUSDT:1h", "candles", ttl=1, stale_ttl=3600)
    s.infra.clock.advance(10)  # stale, but still servable
    assert (await s.use_case.execute()).status == "degraded"


async def test_once_the_cache_is_empty_again_it_is_unhealthy() -> None:
    s = setup()
    for name in PROVIDERS:
        await fail(s, name, 3)
    await s.infra.cache.set("ohlcv:BTCUSDT:1h", "candles", ttl=1, stale_ttl=0)
    assert (await s.use_case.execute()).status == "degraded"
    await s.infra.cache.clear()
    assert (await s.use_case.execute()).status == "unhealthy"


async def test_a_capability_switched_off_does_not_count_as_served() -> None:
    # ENABLE_SENTIMENT=false: alternative_me is never called, so it never looks offline;
    # without sentiment among the capabilities it cannot keep the service from unhealthy.
    without_sentiment = {cap: names for cap, names in CAPABILITIES.items() if cap != "sentiment"}
    infra = infrastructure(PROVIDERS)
    use_case = GetHealth(infra.calls, infra.cache, infra.clock, without_sentiment, "x")
    s = Setup(use_case, infra)
    for name in ("binance", "kraken", "coingecko", "coincap"):
        await fail(s, name, 3)
    report = await use_case.execute()
    assert next(p for p in report.providers if p.name == "alternative_me").status == "unknown"  # never called
    assert report.status == "unhealthy"


async def test_uptime_counts_from_construction() -> None:
    s = setup()
    s.infra.clock.advance(42.5)
    assert (await s.use_case.execute()).uptime == 42.5


async def test_the_report_carries_the_cache_counters() -> None:
    s = setup()
    await s.infra.cache.set("k", 1, ttl=10, stale_ttl=0)
    await s.infra.cache.get("k")
    await s.infra.cache.get("missing")
    cache = (await s.use_case.execute()).cache
    assert cache.backend == "memory"
    assert (cache.size, cache.hits, cache.misses) == (1, 1, 1)
    assert cache.hit_rate == 0.5
