"""The PriceProvider contract, for CoinGecko, CoinCap, Binance and the fake."""

from __future__ import annotations

import math

import pytest

from domain.errors import ProviderError
from domain.ports import PriceProvider
from simulator import UpstreamSimulator
from tests.contract.conftest import Subject

#: Assets every subject lists (the fake's table included).
LISTED = ["BTC", "ETH", "SOL", "BNB", "MATIC", "AVAX"]


def test_it_is_a_price_provider(price_subject: Subject) -> None:
    assert isinstance(price_subject.impl, PriceProvider)
    assert price_subject.impl.name == price_subject.name
    assert price_subject.impl.enabled is True


def test_every_listed_base_is_listed_without_a_call(price_subject: Subject, sim: UpstreamSimulator) -> None:
    assert all(price_subject.impl.lists(base) is True for base in LISTED)
    assert sum(sim.call_counts().values()) == 0  # a pure check: no I/O


@pytest.mark.parametrize("bases", [LISTED, ["BTC"], ["ETH", "MATIC"]], ids=["many", "one", "two"])
async def test_quotes_honour_the_contract(price_subject: Subject, bases: list[str]) -> None:
    quotes = await price_subject.impl.fetch_quotes(bases)

    assert quotes, "every base asked for is listed: an empty answer is no answer"
    assert set(quotes) <= set(bases)
    for base, quote in quotes.items():
        assert quote.symbol == base
        assert quote.price_usd > 0 and math.isfinite(quote.price_usd)
        assert quote.source == price_subject.name
        assert isinstance(quote.name, str) and quote.name
        assert 0 < quote.last_update < 10**11  # epoch seconds, not milliseconds
        assert quote.market_cap is None or quote.market_cap > 0  # absent, never a made-up zero


async def test_every_listed_base_is_quoted(price_subject: Subject) -> None:
    assert set(await price_subject.impl.fetch_quotes(LISTED)) == set(LISTED)


async def test_a_base_the_provider_does_not_list_is_just_absent(price_subject: Subject) -> None:
    # The port: "Bases it does not list are absent from the result." XMR is listed by none.
    quotes = await price_subject.impl.fetch_quotes(["BTC", "XMR", "ETH"])
    assert set(quotes) == {"BTC", "ETH"}


async def test_a_failing_provider_raises_a_provider_error(price_subject: Subject) -> None:
    price_subject.fail()
    with pytest.raises(ProviderError) as caught:
        await price_subject.impl.fetch_quotes(["BTC", "ETH"])
    assert caught.value.provider == price_subject.name
