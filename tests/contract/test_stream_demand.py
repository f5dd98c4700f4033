"""The StreamDemand contract, for the in-process demand (this replica's announcement) and the
Redis demand (the union of every replica's announcements), expiry on the Clock port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.live.memory_demand import MemoryStreamDemand
from adapters.live.redis_demand import RedisStreamDemand
from domain.interval import Interval
from domain.live import StreamKey
from domain.ports import StreamDemand
from domain.symbol import Symbol
from tests.contract.live_state import LIVE_BACKENDS, PREFIX, redis_of
from tests.fakes import FakeClock

TTL = 5.0
BTC_1M = StreamKey.candles(Symbol("BTC", "USDT"), Interval("1m"))
ETH_1W = StreamKey.candles(Symbol("ETH", "USDC"), Interval("1w"))
SOL_TICKER = StreamKey.ticker(Symbol("SOL", "USD"))


@dataclass
class DemandCase:
    """Two replicas' demand on one clock, and whether each sees the other's announcements."""

    demand: StreamDemand
    other: StreamDemand
    clock: FakeClock
    shared: bool


@pytest.fixture(params=LIVE_BACKENDS)
async def demand_case(request: pytest.FixtureRequest) -> AsyncIterator[DemandCase]:
    clock = FakeClock()
    if request.param == "memory":
        yield DemandCase(MemoryStreamDemand(clock), MemoryStreamDemand(clock), clock, shared=False)
        return
    async with redis_of(request) as client:
        yield DemandCase(
            RedisStreamDemand(client, PREFIX, clock), RedisStreamDemand(client, PREFIX, clock), clock, True
        )


async def test_nothing_is_wanted_before_any_announcement(demand_case: DemandCase) -> None:
    assert await demand_case.demand.wanted() == frozenset()


async def test_announced_keys_are_wanted_exactly(demand_case: DemandCase) -> None:
    await demand_case.demand.announce(frozenset({BTC_1M, ETH_1W, SOL_TICKER}), TTL)
    assert await demand_case.demand.wanted() == {BTC_1M, ETH_1W, SOL_TICKER}


async def test_an_announcement_replaces_the_previous_one_of_the_replica(demand_case: DemandCase) -> None:
    await demand_case.demand.announce(frozenset({BTC_1M, ETH_1W}), TTL)
    await demand_case.demand.announce(frozenset({SOL_TICKER}), TTL)
    assert await demand_case.demand.wanted() == {SOL_TICKER}
    await demand_case.demand.announce(frozenset(), TTL)
    assert await demand_case.demand.wanted() == frozenset()


async def test_an_announcement_runs_out_after_its_ttl_unless_renewed(demand_case: DemandCase) -> None:
    await demand_case.demand.announce(frozenset({BTC_1M}), TTL)
    demand_case.clock.advance(TTL - 0.1)
    assert await demand_case.demand.wanted() == {BTC_1M}
    await demand_case.demand.announce(frozenset({BTC_1M}), TTL)
    demand_case.clock.advance(TTL - 0.1)
    assert await demand_case.demand.wanted() == {BTC_1M}
    demand_case.clock.advance(0.1)
    assert await demand_case.demand.wanted() == frozenset()


async def test_every_replicas_announcement_counts_where_demand_is_shared(demand_case: DemandCase) -> None:
    await demand_case.demand.announce(frozenset({BTC_1M}), TTL)
    await demand_case.other.announce(frozenset({BTC_1M, SOL_TICKER}), TTL)
    expected = {BTC_1M, SOL_TICKER} if demand_case.shared else {BTC_1M}
    assert await demand_case.demand.wanted() == expected
    await demand_case.other.announce(frozenset(), TTL)  # one replica's withdrawal leaves the other's
    assert await demand_case.demand.wanted() == {BTC_1M}


async def test_a_replica_that_stops_announcing_drops_out_while_the_others_stay(
    demand_case: DemandCase,
) -> None:
    await demand_case.other.announce(frozenset({SOL_TICKER}), TTL)
    demand_case.clock.advance(TTL / 2)
    await demand_case.demand.announce(frozenset({BTC_1M}), TTL)
    demand_case.clock.advance(TTL / 2)
    assert await demand_case.demand.wanted() == {BTC_1M}
