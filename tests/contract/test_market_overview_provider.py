"""The MarketOverviewProvider contract, for CoinGecko and the fake."""

from __future__ import annotations

import pytest

from domain.errors import ProviderError
from domain.market import MarketOverview
from domain.ports import MarketOverviewProvider
from tests.contract.conftest import Subject


def test_it_is_a_market_overview_provider(overview_subject: Subject) -> None:
    assert isinstance(overview_subject.impl, MarketOverviewProvider)
    assert overview_subject.impl.name == overview_subject.name


async def test_the_overview_honours_the_contract(overview_subject: Subject) -> None:
    overview = await overview_subject.impl.fetch_overview()

    assert isinstance(overview, MarketOverview)
    assert overview.total_market_cap > 0 and overview.total_volume_24h > 0
    shares = [s for s in (overview.btc_dominance, overview.eth_dominance) if s is not None]
    assert all(0 < share < 100 for share in shares) and sum(shares) <= 100  # percent, not a ratio
    assert overview.active_coins > 0
    assert overview.markets is None or overview.markets > 0
    assert 0 < overview.updated_at < 10**11  # epoch seconds
    assert overview.source == overview_subject.name


async def test_a_failing_provider_raises_a_provider_error(overview_subject: Subject) -> None:
    overview_subject.fail()
    with pytest.raises(ProviderError) as caught:
        await overview_subject.impl.fetch_overview()
    assert caught.value.provider == overview_subject.name
