"""The Cooldowns contract: the later of the known cool-downs holds, for the in-process and the
Redis cool-downs and the failover wrapper (Redis up, Redis out).

Cool-downs are epoch seconds in the future: Redis keeps one only until it ends.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest

from adapters.failover.cooldowns import FailoverCooldowns
from adapters.resilience.memory_cooldowns import MemoryCooldowns
from adapters.resilience.redis_cooldowns import RedisCooldowns
from domain.ports import Cooldowns
from tests.contract.shared_state import BACKENDS, PREFIX, redis_for, standing_guard
from tests.fakes import FakeClock

NOW = 1_700_000_000.0  # the clock every adapter here reads


@pytest.fixture(params=BACKENDS)
async def cooldowns(request: pytest.FixtureRequest) -> AsyncIterator[Cooldowns]:
    if request.param == "memory":
        yield MemoryCooldowns()
        return
    async with redis_for(request, request.param) as client:
        if request.param == "redis":
            yield RedisCooldowns(client, PREFIX, FakeClock(NOW))
        else:
            yield FailoverCooldowns(RedisCooldowns(client, PREFIX, FakeClock(NOW)), MemoryCooldowns(), standing_guard())


def test_it_has_the_cooldowns_ports_methods(cooldowns: Cooldowns) -> None:
    for method in ("until", "hold"):
        assert inspect.iscoroutinefunction(getattr(cooldowns, method)), method
        assert hasattr(Cooldowns, method)


async def test_a_provider_never_held_has_no_cool_down(cooldowns: Cooldowns) -> None:
    assert await cooldowns.until("binance") is None


async def test_a_hold_is_told_back_exactly(cooldowns: Cooldowns) -> None:
    until = NOW + 120.125
    await cooldowns.hold("binance", until)
    assert await cooldowns.until("binance") == until


async def test_a_later_hold_extends_an_earlier_one(cooldowns: Cooldowns) -> None:
    short, long = NOW + 30, NOW + 600
    await cooldowns.hold("kraken", short)
    await cooldowns.hold("kraken", long)
    assert await cooldowns.until("kraken") == long


async def test_a_shorter_hold_never_cuts_a_longer_one(cooldowns: Cooldowns) -> None:
    long, short = NOW + 600, NOW + 30  # a 418 ban, then a 429
    await cooldowns.hold("binance", long)
    await cooldowns.hold("binance", short)
    assert await cooldowns.until("binance") == long


async def test_providers_are_independent(cooldowns: Cooldowns) -> None:
    until = NOW + 60
    await cooldowns.hold("coingecko", until)
    assert await cooldowns.until("coincap") is None
    assert await cooldowns.until("coingecko") == until
