"""/api/prices says each quote's spread, and when its sources are disputed (two that disagree
beyond PRICE_MAX_DEVIATION have no majority: the price is the preferred one's word)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from simulator import UpstreamSimulator
from tests.e2e.test_rest_support import provider_prices


async def quoted_by(simulator: UpstreamSimulator) -> tuple[float, float]:
    """BTC as coingecko and binance quote it themselves."""
    gecko = (await provider_prices(simulator, "coingecko", ("BTC",)))["BTC"]
    binance = (await provider_prices(simulator, "binance", ("BTC",)))["BTC"]
    return gecko, binance


async def test_two_sources_far_apart_make_a_disputed_quote(
    make_service: Callable[..., Any], simulator: UpstreamSimulator
) -> None:
    client = await make_service(price_providers="coingecko,binance")
    simulator.set_fault("binance", "skew", factor=1.10)
    body = await (await client.get("/api/prices?symbols=BTC")).json()
    gecko, binance = await quoted_by(simulator)
    (btc,) = body["data"]
    assert (btc["price"], btc["sources"], btc["dropped"], btc["disputed"]) == (gecko, ["coingecko"], ["binance"], True)
    assert btc["spread"] == pytest.approx((binance - gecko) / gecko, rel=1e-12)


async def test_sources_that_agree_are_not_disputed_and_say_their_spread(
    make_service: Callable[..., Any], simulator: UpstreamSimulator
) -> None:
    client = await make_service(price_providers="coingecko,binance")
    simulator.set_fault("binance", "skew", factor=1.01)
    body = await (await client.get("/api/prices?symbols=BTC")).json()
    gecko, binance = await quoted_by(simulator)
    (btc,) = body["data"]
    assert (btc["sources"], btc["dropped"], btc["disputed"]) == (["coingecko", "binance"], [], False)
    assert btc["price"] == pytest.approx((gecko + binance) / 2, rel=1e-12)
    assert btc["spread"] == pytest.approx(abs(binance - gecko) / btc["price"], rel=1e-12)
