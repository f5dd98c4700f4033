"""Circuits on purgatory, in memory, timed by the Clock port (never by purgatory's own reads).

The fake clock stands years away from the real one, so a circuit that followed purgatory's
``time.time()`` would be half-open (or open) at the wrong moments here.
"""

from __future__ import annotations

import asyncio

import pytest

from adapters.resilience.purgatory_breakers import PurgatoryBreakers
from domain.breaker_policy import BreakerPolicy
from domain.errors import CircuitOpen, ProviderUnavailable
from domain.ports import CircuitState
from tests.fakes import FakeClock


async def broken() -> str:
    raise ProviderUnavailable("binance", "HTTP 503")


async def answer() -> str:
    return "answer"


async def fail(breakers: PurgatoryBreakers, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(ProviderUnavailable):
            await breakers.call("binance", broken)


@pytest.mark.parametrize("far", [-1e9, 1e9], ids=["clock-in-the-past", "clock-in-the-future"])
async def test_an_open_circuit_lets_a_probe_through_after_the_timeout_on_the_clock(far: float) -> None:
    clock = FakeClock(now=1_780_000_000.0 + far)
    breakers = PurgatoryBreakers(BreakerPolicy(threshold=2, reset_timeout=30), clock)
    await fail(breakers, times=2)
    assert await breakers.state("binance") == CircuitState("open", 30.0)

    clock.advance(29)
    assert await breakers.state("binance") == CircuitState("open", 1.0)
    with pytest.raises(CircuitOpen) as caught:
        await breakers.call("binance", answer)
    assert caught.value.retry_after == 1.0

    clock.advance(1)
    assert await breakers.state("binance") == CircuitState("half_open")
    assert await breakers.call("binance", answer) == "answer"
    assert await breakers.state("binance") == CircuitState("closed")


async def test_a_failed_probe_reopens_the_circuit_from_the_clocks_now() -> None:
    clock = FakeClock()
    breakers = PurgatoryBreakers(BreakerPolicy(threshold=1, reset_timeout=10), clock)
    await fail(breakers)
    clock.advance(15)
    await fail(breakers)  # the probe
    assert await breakers.state("binance") == CircuitState("open", 10.0)  # opened again just now
    clock.advance(10)
    assert await breakers.call("binance", answer) == "answer"


async def test_half_open_lets_one_probe_at_a_time() -> None:
    clock = FakeClock()
    breakers = PurgatoryBreakers(BreakerPolicy(threshold=1, reset_timeout=10), clock)
    await fail(breakers)
    clock.advance(10)
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "answer"

    probe = asyncio.ensure_future(breakers.call("binance", slow))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen):
        await breakers.call("binance", answer)
    release.set()
    assert await probe == "answer"
