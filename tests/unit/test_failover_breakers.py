"""FailoverBreakers: circuits in Redis with in-process ones behind, and the two moments an
outage can hit a call (reading the circuit before it, the bookkeeping after it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.failover.breakers import FailoverBreakers
from adapters.failover.guard import SharedBackendGuard
from domain.errors import ProviderUnavailable
from domain.ports import CircuitState
from tests.fakes import FakeClock
from tests.unit.resilience_fakes import FakeBreakers

T = TypeVar("T")
RETRY_INTERVAL = 2.0


@dataclass
class StoreBreakers(FakeBreakers):
    """Closed circuits in a store that can be out before a call or fail its bookkeeping after."""

    out: str | None = None  # "before" or "after"

    async def call(self, provider: str, operation: Callable[[], Awaitable[T]]) -> T:
        self.calls.append(provider)
        if self.out == "before":
            raise RedisConnectionError("Connection refused")
        try:
            result = await operation()
        except BaseException as error:
            if self.out == "after":
                raise RedisConnectionError("Connection lost") from error
            raise
        if self.out == "after":
            raise RedisConnectionError("Connection lost")
        return result

    async def state(self, provider: str) -> CircuitState:
        if self.out is not None:
            raise RedisConnectionError("Connection refused")
        return CircuitState("closed")


@dataclass
class Case:
    breakers: FailoverBreakers
    store: StoreBreakers
    local: FakeBreakers
    guard: SharedBackendGuard
    clock: FakeClock


def case(out: str | None) -> Case:
    clock = FakeClock()
    store, local = StoreBreakers(out=out), FakeBreakers()
    guard = SharedBackendGuard(clock, retry_interval=RETRY_INTERVAL)
    return Case(FailoverBreakers(store, local, guard), store, local, guard, clock)


class Provider:
    """An operation that records how often it ran."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.runs = 0
        self.error = error

    async def __call__(self) -> str:
        self.runs += 1
        if self.error is not None:
            raise self.error
        return "answer"


async def test_while_the_store_answers_its_circuits_decide() -> None:
    subject, provider = case(out=None), Provider()
    assert await subject.breakers.call("binance", provider) == "answer"
    assert (provider.runs, subject.store.calls, subject.local.calls) == (1, ["binance"], [])
    assert subject.guard.healthy


async def test_a_store_that_cannot_be_read_hands_the_call_to_the_local_circuits() -> None:
    subject, provider = case(out="before"), Provider()
    assert await subject.breakers.call("binance", provider) == "answer"
    assert (provider.runs, subject.local.calls) == (1, ["binance"])
    assert not subject.guard.healthy

    await subject.breakers.call("binance", provider)  # within the retry interval: not asked
    assert subject.store.calls == ["binance"]
    subject.clock.advance(RETRY_INTERVAL)
    await subject.breakers.call("binance", provider)  # then asked again
    assert subject.store.calls == ["binance", "binance"]


async def test_when_only_the_bookkeeping_fails_the_providers_answer_stands() -> None:
    subject, provider = case(out="after"), Provider()
    assert await subject.breakers.call("kraken", provider) == "answer"
    assert (provider.runs, subject.local.calls) == (1, [])  # never called twice
    assert not subject.guard.healthy


async def test_when_only_the_bookkeeping_fails_the_providers_error_stands() -> None:
    subject, provider = case(out="after"), Provider(ProviderUnavailable("kraken", "HTTP 503"))
    with pytest.raises(ProviderUnavailable):
        await subject.breakers.call("kraken", provider)
    assert (provider.runs, subject.local.calls) == (1, [])
    assert not subject.guard.healthy


async def test_a_providers_own_timeout_is_not_taken_for_an_outage() -> None:
    subject, provider = case(out=None), Provider(TimeoutError())
    with pytest.raises(TimeoutError):
        await subject.breakers.call("coingecko", provider)
    assert (provider.runs, subject.local.calls) == (1, [])
    assert subject.guard.healthy


async def test_state_is_the_local_circuits_while_the_store_is_out() -> None:
    subject = case(out="before")
    subject.local.set_state("binance", "open", 12.0)
    assert await subject.breakers.state("binance") == CircuitState("open", 12.0)
    assert not subject.guard.healthy
    subject.store.out = None
    assert await subject.breakers.state("binance") == CircuitState("open", 12.0)  # still out: not asked
    subject.clock.advance(RETRY_INTERVAL)
    assert await subject.breakers.state("binance") == CircuitState("closed")
