"""The CircuitBreakers contract: one circuit per provider that opens after repeated provider
faults, for purgatory's circuits in memory and in Redis and the failover wrapper (Redis up,
Redis out).

Circuit timing runs on the Clock port: every adapter here shares one fake clock, so the
reset timeout passes when a test advances it, never by waiting.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest

from adapters.failover.breakers import FailoverBreakers
from adapters.resilience.purgatory_breakers import PurgatoryBreakers, redis_unit_of_work
from domain.breaker_policy import BreakerPolicy
from domain.errors import CircuitOpen, ProviderUnavailable, UpstreamRejected
from domain.ports import CircuitBreakers, CircuitState
from tests.contract.shared_state import BACKENDS, PREFIX, redis_for, standing_guard
from tests.fakes import FakeClock

POLICY = BreakerPolicy(threshold=2, reset_timeout=60.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
async def breakers(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[CircuitBreakers]:
    if request.param == "memory":
        yield PurgatoryBreakers(POLICY, clock)
        return
    async with redis_for(request, request.param) as client:
        on_redis = PurgatoryBreakers(POLICY, clock, redis_unit_of_work(client, PREFIX))
        if request.param == "redis":
            yield on_redis
        else:
            yield FailoverBreakers(on_redis, PurgatoryBreakers(POLICY, clock), standing_guard())


async def answer() -> str:
    return "answer"


async def fail(breakers: CircuitBreakers, provider: str, error: Exception) -> None:
    async def broken() -> str:
        raise error

    with pytest.raises(type(error)):
        await breakers.call(provider, broken)


def unavailable(provider: str) -> ProviderUnavailable:
    return ProviderUnavailable(provider, "HTTP 503")


def test_it_has_the_circuit_breakers_ports_methods(breakers: CircuitBreakers) -> None:
    for method in ("call", "state"):
        assert inspect.iscoroutinefunction(getattr(breakers, method)), method
        assert hasattr(CircuitBreakers, method)


async def test_a_circuit_starts_closed_and_passes_the_answer_through(breakers: CircuitBreakers) -> None:
    assert (await breakers.state("binance")).state == "closed"
    assert await breakers.call("binance", answer) == "answer"
    assert (await breakers.state("binance")).state == "closed"


async def test_threshold_provider_faults_open_it_and_calls_are_refused_unrun(
    breakers: CircuitBreakers,
) -> None:
    for _ in range(POLICY.threshold):
        await fail(breakers, "kraken", unavailable("kraken"))
    state = await breakers.state("kraken")
    assert state.state == "open"
    assert state.retry_after is not None and 0 < state.retry_after <= POLICY.reset_timeout
    ran: list[str] = []

    async def recorded() -> str:
        ran.append("kraken")
        return "answer"

    with pytest.raises(CircuitOpen) as refused:
        await breakers.call("kraken", recorded)
    assert ran == []
    assert refused.value.retry_after is not None and 0 < refused.value.retry_after <= POLICY.reset_timeout


async def test_errors_of_the_request_itself_pass_through_and_never_open_it(breakers: CircuitBreakers) -> None:
    for _ in range(POLICY.threshold + 1):
        await fail(breakers, "binance", UpstreamRejected("binance", "unknown market"))
    assert (await breakers.state("binance")).state == "closed"


async def test_an_answer_between_faults_starts_the_count_again(breakers: CircuitBreakers) -> None:
    await fail(breakers, "coingecko", unavailable("coingecko"))
    assert await breakers.call("coingecko", answer) == "answer"
    await fail(breakers, "coingecko", unavailable("coingecko"))
    assert (await breakers.state("coingecko")).state == "closed"


async def test_each_provider_has_its_own_circuit(breakers: CircuitBreakers) -> None:
    for _ in range(POLICY.threshold):
        await fail(breakers, "coincap", unavailable("coincap"))
    assert (await breakers.state("coincap")).state == "open"
    assert (await breakers.state("coingecko")).state == "closed"
    assert await breakers.call("coingecko", answer) == "answer"


async def test_after_the_reset_timeout_one_probe_goes_and_an_answer_closes_it(
    breakers: CircuitBreakers, clock: FakeClock
) -> None:
    for _ in range(POLICY.threshold):
        await fail(breakers, "binance", unavailable("binance"))
    clock.advance(POLICY.reset_timeout - 1)
    assert (await breakers.state("binance")) == CircuitState("open", 1.0)
    clock.advance(1)
    assert (await breakers.state("binance")).state == "half_open"
    assert await breakers.call("binance", answer) == "answer"
    assert (await breakers.state("binance")).state == "closed"
