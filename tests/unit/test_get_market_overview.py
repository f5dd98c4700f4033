"""GetMarketOverview: market totals from the first overview provider that answers."""

from __future__ import annotations

import pytest

from application.get_market_overview import GetMarketOverview
from domain.errors import AllProvidersFailed, ProviderUnavailable, UpstreamRateLimited
from tests.fakes import FakeOverviewProvider
from tests.unit.world import T0, infrastructure

TTL = 300.0


async def test_serves_the_providers_overview() -> None:
    provider = FakeOverviewProvider()
    infra = infrastructure([provider.name])
    served = await GetMarketOverview([provider], infra.calls, infra.read_through, TTL).execute()
    overview = served.value
    assert served.stale is False
    assert overview.source == "coingecko"
    assert overview.total_market_cap == 2.5e12
    assert overview.btc_dominance == 52.1
    assert overview.active_coins == 12000
    assert provider.calls == 1


async def test_a_second_request_is_served_from_cache() -> None:
    provider = FakeOverviewProvider()
    infra = infrastructure([provider.name])
    use_case = GetMarketOverview([provider], infra.calls, infra.read_through, TTL)
    await use_case.execute()
    await use_case.execute()
    assert provider.calls == 1


async def test_when_the_provider_fails_its_reason_is_reported() -> None:
    provider = FakeOverviewProvider(error=UpstreamRateLimited("coingecko", "HTTP 429", retry_after=20))
    infra = infrastructure([provider.name])
    with pytest.raises(AllProvidersFailed) as caught:
        await GetMarketOverview([provider], infra.calls, infra.read_through, TTL).execute()
    assert caught.value.failures == {"coingecko": "HTTP 429"}
    assert caught.value.retry_after == 20


async def test_falls_back_to_a_second_overview_provider() -> None:
    first = FakeOverviewProvider(error=ProviderUnavailable("coingecko", "HTTP 503"))
    second = FakeOverviewProvider(name="coincap")
    infra = infrastructure([first.name, second.name])
    served = await GetMarketOverview([first, second], infra.calls, infra.read_through, TTL).execute()
    assert served.value.source == "coincap"
    assert (first.calls, second.calls) == (1, 1)


async def test_after_the_ttl_a_stale_overview_is_served_when_the_provider_fails() -> None:
    provider = FakeOverviewProvider()
    infra = infrastructure([provider.name])
    use_case = GetMarketOverview([provider], infra.calls, infra.read_through, TTL)
    first = await use_case.execute()
    infra.clock.advance(TTL + 1)
    provider.error = ProviderUnavailable("coingecko", "HTTP 503")
    served = await use_case.execute()
    assert served.stale is True
    assert served.value == first.value
    assert served.fetched_at == T0
