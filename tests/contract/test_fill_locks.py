"""The FillLocks contract: who fills a cold key, for the in-process locks, the Redis locks and
the failover wrapper (Redis up, Redis out).

Where locks are shared (Redis, the failover wrapper while Redis answers) a held key is refused
to the next asker; the in-process locks, and so the wrapper during an outage, grant every ask,
as each process then fills alone behind its own single-flight.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.cache.fill_locks import LocalFillLocks, RedisFillLocks
from adapters.failover.fill_locks import FailoverFillLocks
from domain.ports import FillLocks
from tests.contract.shared_state import BACKENDS, PREFIX, redis_for, standing_guard

TTL = 30.0


@dataclass
class LocksCase:
    """Fill locks under test and whether a held key is refused to another asker."""

    locks: FillLocks
    exclusive: bool


@pytest.fixture(params=BACKENDS)
async def locks_case(request: pytest.FixtureRequest) -> AsyncIterator[LocksCase]:
    if request.param == "memory":
        yield LocksCase(LocalFillLocks(), exclusive=False)
        return
    async with redis_for(request, request.param) as client:
        if request.param == "redis":
            yield LocksCase(RedisFillLocks(client, PREFIX), exclusive=True)
        else:
            failover = FailoverFillLocks(RedisFillLocks(client, PREFIX), LocalFillLocks(), standing_guard())
            yield LocksCase(failover, exclusive=request.param == "failover")


def test_it_has_the_fill_locks_ports_methods(locks_case: LocksCase) -> None:
    for method in ("try_acquire", "release"):
        assert inspect.iscoroutinefunction(getattr(locks_case.locks, method)), method
        assert hasattr(FillLocks, method)


async def test_the_first_asker_of_a_free_key_fills_it(locks_case: LocksCase) -> None:
    assert await locks_case.locks.try_acquire("ohlcv:BTCUSDT:1h", TTL) is True


async def test_a_held_key_is_refused_to_the_next_asker_only_where_locks_are_shared(
    locks_case: LocksCase,
) -> None:
    await locks_case.locks.try_acquire("k", TTL)
    assert await locks_case.locks.try_acquire("k", TTL) is not locks_case.exclusive


async def test_a_released_key_can_be_taken_again(locks_case: LocksCase) -> None:
    assert await locks_case.locks.try_acquire("k", TTL) is True
    await locks_case.locks.release("k")
    assert await locks_case.locks.try_acquire("k", TTL) is True


async def test_releasing_a_key_never_taken_is_harmless(locks_case: LocksCase) -> None:
    await locks_case.locks.release("never-taken")
    assert await locks_case.locks.try_acquire("never-taken", TTL) is True


async def test_keys_are_independent(locks_case: LocksCase) -> None:
    assert await locks_case.locks.try_acquire("a", TTL) is True
    assert await locks_case.locks.try_acquire("b", TTL) is True
